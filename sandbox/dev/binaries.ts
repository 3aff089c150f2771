import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** Where `scripts/install-temporal.sh` puts the pinned binaries. */
export const TOOLS_DIR = join(projectRoot, 'tools', 'temporal');

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * Finds a Temporal binary: the env var (`TEMPORAL_CLI_PATH` /
 * `TEMPORAL_TEST_SERVER_PATH`), then the name on PATH, then the project's tools
 * folder. Undefined means "let the SDK download one" (machines with internet).
 */
export function findTemporalBinary(kind: 'cli' | 'test-server', env: NodeJS.ProcessEnv = process.env): string | undefined {
  const [variable, name] = kind === 'cli' ? ['TEMPORAL_CLI_PATH', 'temporal'] : ['TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server'];
  const explicit = env[variable];
  if (explicit) {
    if (!executable(explicit)) throw new Error(`${variable}=${explicit} is not an executable file`);
    return explicit;
  }
  return onPath(name, env) ?? (executable(join(TOOLS_DIR, name)) ? join(TOOLS_DIR, name) : undefined);
}

/** The `executable` option for `@temporalio/testing`'s environments. */
export function testingExecutable(kind: 'cli' | 'test-server'): { type: 'existing-path'; path: string } | undefined {
  const path = findTemporalBinary(kind);
  return path ? { type: 'existing-path', path } : undefined;
}
