import type { DataConverter } from '@temporalio/common';
import { encryptedDataConverter, parseEncryptionKeys } from '../../src/temporal/encryption.js';

/**
 * The payload key of every test system and of the committed encrypted replay
 * histories (test/replay/encrypted). A TEST KEY, public in this repository: it
 * protects nothing and must never be configured on a real deployment.
 */
export const TEST_PAYLOAD_ENCRYPTION_KEYS = `test-only:${Buffer.from('telewan-test-key-not-a-secret!!!').toString('base64')}`;

/** The data converter of test clients, workers and replayers: the codec with the test key. */
export const testDataConverter = (): DataConverter => encryptedDataConverter(parseEncryptionKeys(TEST_PAYLOAD_ENCRYPTION_KEYS));
