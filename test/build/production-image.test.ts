import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * What the production image (Dockerfile, target `runtime`) runs: the compiled
 * gateway, the compiled worker and the workflow bundle, with production
 * dependencies only. The image cannot be built here (no registry for base
 * images), so this checks what decides it: the modules those entry points
 * reach, read from the source as tsc compiles it.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};

/** The processes of the image, and the workflow bundle's entries (src/temporal/worker/workflow-bundle.ts). */
const ENTRIES = ['src/gateway/server.ts', 'src/worker.ts', 'src/workflows/index.ts', 'src/temporal/failure-converter.ts', 'src/temporal/worker/workflow-bundle-cli.ts'];

/** Production dependencies nothing imports by name, and why they stay. */
const INDIRECT: Record<string, string> = {
  // One copy of protobufjs for the SDK's packages, so history JSON decodes (commit 33b5b2d).
  protobufjs: 'dedupes the copy @temporalio/proto and @grpc/grpc-js load',
};

const BUILTINS = new Set(builtinModules);

/** Module specifiers a compiled file loads: static imports and re-exports (not `import type`), and literal dynamic imports. */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?([^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(statement)) if (!m[2]) out.push(m[4]!);
  for (const m of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

/** The package a bare specifier names: `@scope/name` or `name`. */
function packageOf(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** Every source file the entries reach, and every package they import. */
function reach(entries: string[]): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const pending = entries.map((e) => resolve(ROOT, e));
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
        expect(existsSync(target), `${relative(ROOT, file)} imports ${spec}`).toBe(true);
        pending.push(target);
      } else if (!spec.startsWith('node:') && !BUILTINS.has(spec)) {
        const name = packageOf(spec);
        if (!packages.has(name)) packages.set(name, relative(ROOT, file));
      }
    }
  }
  return { files, packages };
}

describe('the production image', () => {
  const { files, packages } = reach(ENTRIES);

  it('runs modules that import production dependencies only', () => {
    const outside = [...packages].filter(([name]) => !(name in pkg.dependencies)).map(([name, by]) => `${name} (imported by ${by})`);
    expect(outside).toEqual([]);
  });

  it('has no production dependency that nothing it runs imports', () => {
    const unused = Object.keys(pkg.dependencies).filter((name) => !packages.has(name) && !(name in INDIRECT));
    expect(unused).toEqual([]);
    for (const name of Object.keys(INDIRECT)) expect(packages.has(name), `${name} is imported now: drop it from INDIRECT`).toBe(false);
  });

  it('reaches nothing outside src/: not the sandbox (simulators, dev stack), which the build does not compile', () => {
    const outside = [...files].map((f) => relative(ROOT, f)).filter((f) => !f.startsWith('src/'));
    expect(outside).toEqual([]);
    const build = JSON.parse(readFileSync(resolve(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[]; compilerOptions: { rootDir: string } };
    expect(build).toMatchObject({ include: ['src'], compilerOptions: { rootDir: 'src' } });
  });

  it('is compiled JavaScript with the prebuilt workflow bundle, production dependencies only, as a non-root user', () => {
    const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
    // The last stage, the one `docker build .` makes, on the base stage's Node 24 (no dev dependencies installed).
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM ') + 1);
    expect(runtime).toMatch(/^FROM base AS runtime$/m);
    expect(dockerfile).toMatch(/^FROM node:24\.\d+\.\d+-bookworm-slim AS base$/m);
    expect(runtime).toMatch(/^RUN npm ci --omit=dev\b/m);
    // Nothing from the source or the tools stage but the compiled code (dist/, with dist/workflow-bundle.js).
    expect([...runtime.matchAll(/^COPY .*$/gm)].map((m) => m[0])).toEqual(['COPY --from=build /app/dist ./dist']);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/gateway\/server\.js"\]$/m);
    expect(runtime).not.toMatch(/tsx/);
    expect(pkg.scripts.build).toContain('dist/workflow-bundle.js');
  });
});
