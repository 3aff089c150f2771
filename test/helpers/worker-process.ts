import { afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../../src/config.js';
import { WORKER_NODE_FLAGS } from '../../src/temporal/worker/worker-tuning.js';

const workerEntry = fileURLToPath(new URL('../../src/worker.ts', import.meta.url));
/** The worker `npm run build` compiles: plain Node, no TypeScript loader, as the production image runs it. */
const compiledWorkerEntry = fileURLToPath(new URL('../../dist/worker.js', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves once the worker polls its task queue. */
  ready: Promise<void>;
  /** Where it serves `GET /metrics`, once it has logged it (give `WORKER_METRICS_PORT: '0'` to run several). */
  metricsUrl: Promise<string>;
  exited: Promise<number | null>;
  /** Everything it has written to stdout and stderr so far. */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `src/worker.ts` in its own process, so a test can kill -9 it, with the
 * environment a stack was configured from (`Stack.env`): none of this process's
 * own Telewan settings leak in.
 */
export function spawnWorker(stackEnv: Readonly<Record<string, string | undefined>>, opts: { compiled?: boolean } = {}): WorkerProcess {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !(key in configSchema.shape)));
  // BENCH_WORKER_CPU_PROF=<dir>: a CPU profile of each worker thread, written there when the worker exits.
  const profile = process.env.BENCH_WORKER_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_WORKER_CPU_PROF}`] : [];
  const entry = opts.compiled ? [compiledWorkerEntry] : ['--import', 'tsx', workerEntry];
  const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, ...profile, ...entry], {
    // At info, the worker logs its state changes, which tell when it is ready.
    env: { ...inherited, ...stackEnv, LOG_LEVEL: 'info' },
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
  // Registered after `ready`'s listener, which collects the output.
  const metricsUrl = new Promise<string>((resolve) => {
    child.stdout!.on('data', () => {
      const url = /"metricsUrl":"([^"]+)"/.exec(output)?.[1];
      if (url) resolve(url);
    });
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    ready,
    metricsUrl,
    exited,
    output: () => output,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

/** Worker processes a test file spawns (push them): killed after its tests, before the system's teardown when registered after it. */
export function useWorkerProcesses(): WorkerProcess[] {
  const workers: WorkerProcess[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
  });
  return workers;
}
