import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTemporalBinary, TOOLS_DIR } from '../../sandbox/dev/binaries.js';

function fakeBinary(dir: string, name: string): string {
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, 0o755);
  return path;
}

describe('findTemporalBinary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'telewan-bin-'));
  const onPath = mkdtempSync(join(tmpdir(), 'telewan-path-'));

  it('prefers the explicit variable, then PATH, then the tools folder', () => {
    const explicit = fakeBinary(dir, 'my-temporal');
    const pathBinary = fakeBinary(onPath, 'temporal');
    expect(findTemporalBinary('cli', { TEMPORAL_CLI_PATH: explicit, PATH: onPath })).toBe(explicit);
    expect(findTemporalBinary('cli', { PATH: onPath })).toBe(pathBinary);
    expect(findTemporalBinary('cli', { PATH: '/nonexistent' })).toBe(join(TOOLS_DIR, 'temporal'));
    expect(findTemporalBinary('test-server', { PATH: '/nonexistent' })).toBe(join(TOOLS_DIR, 'temporal-test-server'));
  });

  it('refuses an explicit path that is not an executable', () => {
    expect(() => findTemporalBinary('test-server', { TEMPORAL_TEST_SERVER_PATH: join(dir, 'missing') })).toThrow(/TEMPORAL_TEST_SERVER_PATH/);
  });
});
