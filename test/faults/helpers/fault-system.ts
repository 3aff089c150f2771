import { Client, Connection } from '@temporalio/client';
import { startStack, type Stack, type StackOptions } from '../../../sandbox/dev/stack.js';
import type { TelegramSimulator, TgUpdate } from '../../../sandbox/simulators/telegram.js';
import type { WavespeedSimulator } from '../../../sandbox/simulators/wavespeed.js';
import { TEST_PAYLOAD_ENCRYPTION_KEYS, testDataConverter } from '../../helpers/encryption.js';
import { TEST_ADMIN_TOKEN } from '../../helpers/system.js';
import { spawnWorker, type WorkerProcess } from '../../helpers/worker-process.js';

/** Where a fault system's dependencies are: each may be one the test takes down. */
export interface FaultSystemOptions {
  databaseUrl: string;
  temporalAddress: string;
  env?: Record<string, string>;
  telegram?: StackOptions['telegram'];
  wavespeed?: StackOptions['wavespeed'];
}

/** The gateway and simulators in the test's process, workers in their own, a Temporal client. */
export interface FaultSystem {
  stack: Stack;
  telegram: TelegramSimulator;
  wavespeed: WavespeedSimulator;
  /** A client with the test key; lazy, so it reconnects after a Temporal restart. */
  client: Client;
  /**
   * Starts `src/worker.ts` in a process of its own with the stack's environment
   * (and `env` over it, e.g. a `DATABASE_URL` through a proxy); stopped by `teardown`.
   */
  spawnWorker(env?: Record<string, string>): WorkerProcess;
  /** Kills the workers, stops gateway and simulators, closes the client. Safe after a failed start. */
  teardown(): Promise<void>;
}

/**
 * `startTestSystem`'s wiring against dependencies the test owns (a private
 * PostgreSQL cluster, a restartable Temporal server) and with no worker in this
 * process: a worker process reconnects to them by itself, as in production.
 */
export async function startFaultSystem(options: FaultSystemOptions): Promise<FaultSystem> {
  const stack = await startStack({
    sandbox: true,
    worker: false,
    env: {
      DATABASE_URL: options.databaseUrl,
      TEMPORAL_ADDRESS: options.temporalAddress,
      GATEWAY_PORT: '0',
      WORKER_METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      VIDEO_POLL_INITIAL_MS: '1000',
      VIDEO_POLL_MAX_MS: '2000',
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      PAYLOAD_ENCRYPTION_KEYS: TEST_PAYLOAD_ENCRYPTION_KEYS,
      ...options.env,
    },
    telegram: { ...options.telegram },
    wavespeed: { latencyMs: 300, processingAfterMs: 50, ...options.wavespeed },
  });
  const connection = Connection.lazy({ address: options.temporalAddress });
  const client = new Client({ connection, dataConverter: testDataConverter() });
  const workers: WorkerProcess[] = [];
  return {
    stack,
    telegram: stack.telegram!,
    wavespeed: stack.wavespeed!,
    client,
    spawnWorker(env = {}) {
      const worker = spawnWorker({ ...stack.env, ...env });
      workers.push(worker);
      return worker;
    },
    async teardown() {
      await Promise.all(workers.map((w) => w.kill()));
      await connection.close().catch(() => undefined);
      await stack.stop();
    },
  };
}

/** How many videos the bot sent to each chat, by chat id. */
export function videosPerChat(telegram: TelegramSimulator, chatIds: readonly number[]): Map<number, number> {
  return new Map(chatIds.map((chatId) => [chatId, telegram.messagesTo(chatId).filter((m) => m.video).length]));
}

/** How many successful `sendMessage` calls each chat got (a broadcast's deliveries). */
export function messagesPerChat(telegram: TelegramSimulator): Map<number, number> {
  const perChat = new Map<number, number>();
  for (const call of telegram.callsTo('sendMessage')) {
    if (call.ok) perChat.set(Number(call.chatId), (perChat.get(Number(call.chatId)) ?? 0) + 1);
  }
  return perChat;
}

/** Resolves when the promise does, or rejects after `ms` naming `what`: every wait in a fault test is bounded. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms / 1000} s waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Pushes an update as Telegram does: redelivered every second after a non-2xx
 * answer (a starved Temporal server can take over the gateway's 5 s to start a
 * workflow, and the gateway then answers 503). Returns how many attempts it took.
 */
export async function deliverUpdate(telegram: TelegramSimulator, update: TgUpdate, attempts = 30): Promise<number> {
  const result = await telegram.pushUpdate(update, { retries: attempts - 1, retryDelayMs: 1_000 });
  if (result.status !== 200) throw new Error(`update ${update.update_id} not taken after ${result.attempts} attempts: last answer ${result.status} ${result.body.slice(0, 200)}`);
  return result.attempts;
}
