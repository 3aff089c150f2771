import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateDevKeys } from '../../sandbox/dev/encryption-key.js';
import { parseEncryptionKeys } from '../../src/temporal/encryption.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the dev key of npm run dev', () => {
  it('is generated once, kept private, and read back on the next start', () => {
    dir = mkdtempSync(join(tmpdir(), 'telewan-devkey-'));
    const file = join(dir, 'nested', 'payload-encryption-keys');
    const first = loadOrCreateDevKeys(file);
    expect(first.created).toBe(true);
    expect(parseEncryptionKeys(first.keys)).toHaveLength(1);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = loadOrCreateDevKeys(file);
    expect(second).toEqual({ keys: first.keys, created: false });
    expect(readFileSync(file, 'utf8').trim()).toBe(first.keys);
  });

  it('refuses a damaged key file instead of replacing it', () => {
    dir = mkdtempSync(join(tmpdir(), 'telewan-devkey-'));
    const file = join(dir, 'keys');
    writeFileSync(file, 'dev:tooshort');
    expect(() => loadOrCreateDevKeys(file)).toThrow(/keys: key "dev" is \d+ bytes.*delete it/);
  });
});
