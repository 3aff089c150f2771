import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/config.js';
import { formatEncryptionKeys } from '../../src/temporal/encryption.js';

const workerEntry = fileURLToPath(new URL('../../src/worker.ts', import.meta.url));

/** The config as the environment a separate worker process reads. */
export function configEnv(config: Config): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(config)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v)]),
  );
  const rate = config.USER_UPDATE_RATE_LIMIT;
  return {
    ...env,
    PAYLOAD_ENCRYPTION_KEYS: formatEncryptionKeys(config.PAYLOAD_ENCRYPTION_KEYS),
    USER_UPDATE_RATE_LIMIT: rate ? `${rate.limit}/${rate.windowSeconds}s` : 'off',
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves once the worker polls its task queue. */
  ready: Promise<void>;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `src/worker.ts` in its own process, so a test can kill -9 it. */
export function spawnWorker(config: Config): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', workerEntry], {
    // At info, the worker logs its state changes, which tell when it is ready.
    env: { ...process.env, ...configEnv(config), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/"state":"RUNNING"|state: 'RUNNING'/.test(output)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${output.slice(-2000)}`)));
  });
  ready.catch(() => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    ready,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}
