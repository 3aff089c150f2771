/**
 * A Telegram simulator in a process of its own, for benchmarks where the
 * simulator's own pauses would be counted against what it measures (a paid
 * broadcast at 1,000 messages/s leaves 1 ms a message: a 30 ms collection in a
 * process shared with the gateway and the load generator shows as a gap).
 *
 * Run as a child by {@link startTelegramProcess}; it answers one question over
 * IPC, `report`: what was sent, when, and how the simulator's event loop did.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { TelegramSimulator, type TelegramSimulatorOptions } from '../../sandbox/simulators/telegram.js';

/** What the benchmark reads back: times of one method's calls, in ms since the epoch. */
export interface TelegramReport {
  /** Every call of the method (accepted or refused). */
  at: number[];
  acceptedAt: number[];
  rateLimitedAt: number[];
  rateLimited: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export interface TelegramProcess {
  apiRoot: string;
  pid: number;
  report(method: string): Promise<TelegramReport>;
  stop(): Promise<void>;
}

type Options = Omit<TelegramSimulatorOptions, 'logger'>;

/** Starts the simulator in a child process and waits until it listens. */
export async function startTelegramProcess(options: Options): Promise<TelegramProcess> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const apiRoot = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { apiRoot?: string }) => (m.apiRoot ? resolve(m.apiRoot) : reject(new Error('no apiRoot'))));
    child.once('exit', (code) => reject(new Error(`the Telegram simulator exited (${code}) before it listened`)));
  });
  return {
    apiRoot,
    pid: child.pid!,
    report(method) {
      return new Promise((resolve) => {
        child.once('message', (m: TelegramReport) => resolve(m));
        child.send({ report: method });
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function serve(options: Options): Promise<void> {
  const telegram = new TelegramSimulator(options);
  const apiRoot = await telegram.start();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  process.on('message', (m: { report: string }) => {
    const calls = telegram.callsTo(m.report);
    const report: TelegramReport = {
      at: calls.map((c) => c.at),
      acceptedAt: calls.filter((c) => c.ok).map((c) => c.at),
      rateLimitedAt: calls.filter((c) => c.errorCode === 429).map((c) => c.at),
      rateLimited: telegram.stats.rateLimited,
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      loopDelayMaxMs: loop.max / 1e6,
    };
    process.send!(report);
  });
  process.once('SIGTERM', () => void telegram.stop().then(() => process.exit(0)));
  process.send!({ apiRoot });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  serve(JSON.parse(process.argv[2]!) as Options).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
