import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateEncryptionKeyEntry, parseEncryptionKeys } from '../../src/temporal/encryption.js';

/**
 * `PAYLOAD_ENCRYPTION_KEYS` for `npm run dev` when none is given: read from
 * `file`, or generated once and written there (mode 0600), so the workflows kept
 * in the dev server's SQLite file still decode after a restart.
 */
export function loadOrCreateDevKeys(file: string): { keys: string; created: boolean } {
  if (existsSync(file)) {
    const keys = readFileSync(file, 'utf8').trim();
    try {
      parseEncryptionKeys(keys);
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}; delete it to generate a new dev key`, { cause: err });
    }
    return { keys, created: false };
  }
  mkdirSync(dirname(file), { recursive: true });
  const keys = generateEncryptionKeyEntry('dev');
  writeFileSync(file, `${keys}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { keys, created: true };
}
