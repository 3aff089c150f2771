/**
 * `npm run history:export -- <workflowId> [--run <runId>] [--name <file>.json]`:
 * writes a finished workflow's history from the configured Temporal server
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE) to test/replay/<file>, where the replay
 * tests pick it up. Payloads encrypted with the server's keys are re-encrypted with
 * the test key when PAYLOAD_ENCRYPTION_KEYS holds those keys. Such a history holds
 * that run's data (chat ids, prompts) readable to anyone with the repository:
 * export runs made with test data, not real users' (see CONTRIBUTING.md).
 */
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { configSchema } from '../src/config.js';
import { EncryptionCodec, parseEncryptionKeys } from '../src/temporal/encryption.js';
import { TEST_PAYLOAD_ENCRYPTION_KEYS } from '../test/helpers/encryption.js';
import { exportHistory } from './lib/history-export.js';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { run: { type: 'string' }, name: { type: 'string' }, overwrite: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  const [workflowId, ...extra] = positionals;
  if (!workflowId || extra.length) throw new Error('Usage: npm run history:export -- <workflowId> [--run <runId>] [--name <file>.json]');
  const env = configSchema.pick({ TEMPORAL_ADDRESS: true, TEMPORAL_NAMESPACE: true }).parse(Object.fromEntries(Object.entries(process.env).filter(([, v]) => v)));
  const testKeys = parseEncryptionKeys(TEST_PAYLOAD_ENCRYPTION_KEYS);
  const serverKeys = process.env.PAYLOAD_ENCRYPTION_KEYS ? parseEncryptionKeys(process.env.PAYLOAD_ENCRYPTION_KEYS) : undefined;

  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
  try {
    const result = await exportHistory({
      client: new Client({ connection, namespace: env.TEMPORAL_NAMESPACE }),
      workflowId,
      runId: values.run,
      name: values.name,
      overwrite: values.overwrite,
      dir: 'test/replay',
      replayKeyId: testKeys[0]!.id,
      reencrypt: serverKeys && { replay: new EncryptionCodec(testKeys), source: new EncryptionCodec(serverKeys) },
    });
    console.log(`${result.path}: ${result.events} events${result.reencrypted ? `, ${result.reencrypted} payloads re-encrypted with the test key` : ''}`);
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
