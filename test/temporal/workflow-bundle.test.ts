import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleHere } from '../../src/temporal/worker/workflow-bundle.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let code: string;
beforeAll(async () => {
  ({ code } = await bundleHere({ log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never));
}, 120_000);

/** Telewan's own modules in the bundle, as `./src/…` paths. */
function ownModules(): string[] {
  return [...new Set([...code.matchAll(/"\.\/(src\/[^"]+\.ts)"/g)].map((m) => m[1]!))];
}

/** Top-level statements that would hold state shared by every workflow of a thread once the module is preloaded. */
const MODULE_STATE = [/^(export\s+)?(let|var)\s/m, /^(export\s+)?const\s+\w+\s*(:[^=]+)?=\s*new\s+(Map|Set|WeakMap|WeakSet|Array)\b/m];

describe('workflow bundle', () => {
  it("preloads Telewan's workflow modules, shared by every workflow of a thread", () => {
    const preload = /exports\.preloadModules = function preloadModules\(\) \{([^}]*)\}/.exec(code)?.[1] ?? '';
    expect(preload).toContain('./src/workflows/index.ts');
    expect(preload).toContain('./src/temporal/failure-converter.ts');
  });

  it('bundles only modules without module-level state', () => {
    const modules = ownModules();
    expect(modules).toContain('src/workflows/video/workflow.ts');
    const stateful = modules.filter((file) => {
      const source = readFileSync(`${root}${file}`, 'utf8');
      return MODULE_STATE.some((pattern) => pattern.test(source));
    });
    expect(stateful).toEqual([]);
  });
});
