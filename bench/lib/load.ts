import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TgUpdate } from '../../sandbox/simulators/telegram.js';
import type { Cleanup } from './infra.js';

/** Posts copies of a real photo update to the gateway's webhook, each from a new chat. */
export interface WebhookTarget {
  url: string;
  secret: string;
  template: TgUpdate;
  firstChatId: number;
}

/** Starts a trivial workflow type on a task queue nobody polls. */
export interface StartTarget {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  workflowType: string;
  workflowIdPrefix: string;
  /** `PAYLOAD_ENCRYPTION_KEYS` of the run: starts encrypt their input as the gateway does. */
  payloadKeys: string;
}

export type LoadKind = 'webhook' | 'start';

/**
 * What the load generator is asked to do: after `warmupSeconds` of each kind
 * (not measured), alternate blocks of `blockSeconds` of webhook posts and of
 * bare starts, each at `rate`, until each kind had `seconds`. Alternating keeps
 * both kinds on a server in the same state (its backlog grows as it runs).
 */
export interface LoadPlan {
  rate: number;
  seconds: number;
  warmupSeconds: number;
  blockSeconds: number;
  webhook: WebhookTarget;
  start: StartTarget;
}

/** One request, in `performance.now()` milliseconds of the generator's process. */
export interface Sample {
  /** When the open-loop schedule wanted it sent. */
  scheduled: number;
  sent: number;
  /** When the whole answer was read (or the request failed). */
  done: number;
  /** HTTP status; 200 for a workflow start that resolved; 0 for an exception. */
  status: number;
  error?: string;
}

export interface KindResult {
  samples: Sample[];
  /** The generator's own CPU use while measuring this kind, in percent of one core. */
  cpuPercent: number;
  /** Requests sent, and answered 2xx, per second within the blocks of this kind. */
  sentPerSecond: number;
  answeredPerSecond: number;
}

export type LoadResult = Record<LoadKind, KindResult>;

/** Messages from the generator: block boundaries, then the result (or why it failed). */
export type GeneratorMessage =
  | { type: 'block'; kind: LoadKind; edge: 'start' | 'end' }
  | { type: 'result'; result: LoadResult }
  | { type: 'failure'; message: string };

/**
 * Runs a plan in a child process (its own event loop and clock) and returns its
 * samples. `onBlock` is told when each measured block starts and ends.
 */
export function runLoad(plan: LoadPlan, cleanup: Cleanup, onBlock: (kind: LoadKind, edge: 'start' | 'end') => void): Promise<LoadResult> {
  const child = fork(fileURLToPath(new URL('./load-generator.ts', import.meta.url)), [], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  cleanup.add('load generator', async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    let outcome: GeneratorMessage | undefined;
    child.on('message', (message: GeneratorMessage) => {
      if (message.type === 'block') onBlock(message.kind, message.edge);
      else outcome = message;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (outcome?.type === 'result') resolve(outcome.result);
      else if (outcome?.type === 'failure') reject(new Error(`load generator failed:\n${outcome.message}`));
      else reject(new Error(`load generator exited (${signal ?? code}) without a result`));
    });
    child.send(plan);
  });
}
