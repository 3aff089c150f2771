import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TEST_PAYLOAD_ENCRYPTION_KEYS } from '../helpers/encryption.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

/** Runs an entry point in an empty folder; resolves to its exit code and stderr. */
async function boot(entry: string, env: Record<string, string | undefined>): Promise<{ code: number; stderr: string; created: string[] }> {
  const cwd = await mkdtemp(join(tmpdir(), 'telewan-boot-'));
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TELEGRAM|WAVESPEED|ADMIN|DATABASE|TEMPORAL|GATEWAY|VIDEO|BROADCAST|PUBLIC|PAYLOAD|CODEC|USER|WORKER)_/.test(k)));
  try {
    const outcome = await promisify(execFile)(TSX, [join(ROOT, entry)], { cwd, env: { ...clean, ...env }, timeout: 30_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    return { ...outcome, created: await readdir(cwd) };
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

const VALID = { TELEGRAM_BOT_TOKEN: '1:x', TELEGRAM_WEBHOOK_SECRET: 'secret', WAVESPEED_API_KEY: 'key', PAYLOAD_ENCRYPTION_KEYS: TEST_PAYLOAD_ENCRYPTION_KEYS };

describe('a bad variable stops every entry point at boot, named, without a stack trace', () => {
  it.each([
    ['src/worker.ts', { ...VALID, BROADCAST_RATE_PER_SECOND: '5000' }, 'BROADCAST_RATE_PER_SECOND'],
    ['src/worker.ts', { TELEGRAM_WEBHOOK_SECRET: 'secret', WAVESPEED_API_KEY: 'key', PAYLOAD_ENCRYPTION_KEYS: TEST_PAYLOAD_ENCRYPTION_KEYS }, 'TELEGRAM_BOT_TOKEN'],
    ['src/gateway/server.ts', { TELEGRAM_BOT_TOKEN: '1:x', TELEGRAM_WEBHOOK_SECRET: 'secret', WAVESPEED_API_KEY: 'key' }, 'PAYLOAD_ENCRYPTION_KEYS'],
    ['src/gateway/server.ts', { ...VALID, GATEWAY_PORT: 'eighty' }, 'GATEWAY_PORT'],
    ['src/gateway/server.ts', { ...VALID, ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN'],
    // In the sandbox: before the database, Temporal or anything else is started (nothing written to .data).
    ['scripts/dev.ts', { VIDEO_POLL_MAX_MS: 'soon' }, 'VIDEO_POLL_MAX_MS'],
  ])('%s with %j names %s', async (entry, env, variable) => {
    const { code, stderr, created } = await boot(entry, env);
    expect(code).toBe(1);
    expect(stderr).toContain('Invalid configuration:');
    expect(stderr).toMatch(new RegExp(`^\\s+${variable}: `, 'm'));
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(created).toEqual([]);
  }, 40_000);
});
