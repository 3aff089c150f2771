import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  KEY_ID_METADATA,
  PayloadDecryptionError,
  formatEncryptionKeys,
  parseEncryptionKeys,
  type EncryptionKey,
} from '../../src/temporal/encryption.js';

const key = (id: string): EncryptionKey => ({ id, key: randomBytes(32) });
const k1 = key('k1');
const k2 = key('k2');
const secretInput = { chatId: 424242, caption: 'a secret caption about the sea' };
const toPayload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const fromPayload = (payload: Payload): unknown => defaultPayloadConverter.fromPayload(payload);
const meta = (payload: Payload, name: string) => Buffer.from(payload.metadata![name]!).toString();

describe('EncryptionCodec', () => {
  it('round-trips payloads, metadata included, and hides their content', async () => {
    const codec = new EncryptionCodec([k1]);
    const plain = [toPayload(secretInput), toPayload(undefined), toPayload(new Uint8Array([1, 2, 3]))];
    const encoded = await codec.encode(plain);
    for (const payload of encoded) {
      expect(Object.keys(payload.metadata!).sort()).toEqual([KEY_ID_METADATA, METADATA_ENCODING_KEY].sort());
      expect(meta(payload, METADATA_ENCODING_KEY)).toBe(ENCRYPTED_ENCODING);
      expect(meta(payload, KEY_ID_METADATA)).toBe('k1');
      expect(Buffer.from(payload.data!).toString('latin1')).not.toMatch(/secret|424242|json/);
    }
    const decoded = await codec.decode(encoded);
    expect(decoded.map(fromPayload)).toEqual([secretInput, undefined, new Uint8Array([1, 2, 3])]);
  });

  it('uses a fresh IV for every payload', async () => {
    const codec = new EncryptionCodec([k1]);
    const [a, b] = await codec.encode([toPayload('same'), toPayload('same')]);
    expect(Buffer.from(a!.data!).subarray(0, 12)).not.toEqual(Buffer.from(b!.data!).subarray(0, 12));
    expect(Buffer.from(a!.data!)).not.toEqual(Buffer.from(b!.data!));
  });

  it('rejects a tampered payload', async () => {
    const codec = new EncryptionCodec([k1]);
    const [payload] = await codec.encode([toPayload(secretInput)]);
    const data = Buffer.from(payload!.data!);
    data[20] = data[20]! ^ 0x01;
    await expect(codec.decode([{ ...payload!, data }])).rejects.toThrow(PayloadDecryptionError);
    await expect(codec.decode([{ ...payload!, data }])).rejects.toThrow(/failed authentication/);
  });

  it('rejects a payload whose key id was swapped for another known key', async () => {
    const writer = new EncryptionCodec([k1, k2]);
    const [payload] = await writer.encode([toPayload(secretInput)]);
    const relabelled = { ...payload!, metadata: { ...payload!.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
    await expect(writer.decode([relabelled])).rejects.toThrow(/key "k2"/);
  });

  it('names an unknown key id and how to fix it', async () => {
    const [payload] = await new EncryptionCodec([k1]).encode([toPayload(secretInput)]);
    const err = await new EncryptionCodec([k2]).decode([payload!]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadDecryptionError);
    expect((err as PayloadDecryptionError).keyId).toBe('k1');
    expect((err as Error).message).toMatch(/encrypted with key "k1", which is not configured \(known: k2\).*PAYLOAD_ENCRYPTION_KEYS/);
  });

  it('after rotation encodes with the new key and still decodes the old key’s payloads', async () => {
    const before = new EncryptionCodec([k1]);
    const [old] = await before.encode([toPayload(secretInput)]);
    const after = new EncryptionCodec([k2, k1]);
    expect(after.activeKeyId).toBe('k2');
    const [fresh] = await after.encode([toPayload('new')]);
    expect(meta(fresh!, KEY_ID_METADATA)).toBe('k2');
    expect((await after.decode([old!, fresh!])).map(fromPayload)).toEqual([secretInput, 'new']);
    // Dropping k1 too early is an error, not silent garbage.
    await expect(new EncryptionCodec([k2]).decode([old!])).rejects.toThrow(/"k1"/);
  });

  it('passes payloads written before encryption through unchanged', async () => {
    const codec = new EncryptionCodec([k1]);
    const plain = toPayload(secretInput);
    const [decoded] = await codec.decode([plain]);
    expect(decoded).toBe(plain);
    expect(fromPayload(decoded!)).toEqual(secretInput);
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => new EncryptionCodec([{ id: 'short', key: randomBytes(16) }])).toThrow(/"short" is 16 bytes/);
    expect(() => new EncryptionCodec([])).toThrow(/at least one key/);
  });
});

describe('PAYLOAD_ENCRYPTION_KEYS', () => {
  const b64 = (n: number) => randomBytes(n).toString('base64');
  const base = { TELEGRAM_BOT_TOKEN: '1:abc', TELEGRAM_WEBHOOK_SECRET: 'secret', WAVESPEED_API_KEY: 'key' };

  it('parses id:base64 entries, the first being active', () => {
    const keys = parseEncryptionKeys(` k2:${b64(32)} , k1:${b64(32)} `);
    expect(keys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(parseEncryptionKeys(formatEncryptionKeys(keys))).toEqual(keys);
  });

  it.each([
    ['k1:' + b64(16), /key "k1" is 16 bytes; it must be 32/],
    ['k1:not base64!', /key "k1" is not base64/],
    [b64(32), /entry 1 has no valid key id/],
    [`k1:${b64(32)},k1:${b64(32)}`, /"k1" appears twice/],
    [',', /lists no key/],
  ])('rejects %s, naming the variable', (value, message) => {
    expect(() => parseConfig({ ...base, PAYLOAD_ENCRYPTION_KEYS: value })).toThrow(new RegExp(`PAYLOAD_ENCRYPTION_KEYS: .*${message.source}`));
  });

  it('is required outside the sandbox: the service does not start without it', () => {
    expect(() => parseConfig(base)).toThrow(/PAYLOAD_ENCRYPTION_KEYS: is not set/);
  });

  it('never echoes key material in its errors', () => {
    const material = b64(20);
    expect(() => parseConfig({ ...base, PAYLOAD_ENCRYPTION_KEYS: `k1:${material}` })).toThrow(expect.objectContaining({ message: expect.not.stringContaining(material) }));
  });
});
