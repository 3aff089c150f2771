import type { Client } from '@temporalio/client';
import { ApplicationFailure, defaultFailureConverter, defaultPayloadConverter, type Logger } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import { MockActivityEnvironment } from '@temporalio/testing';
import sharp from 'sharp';
import { expect } from 'vitest';
import type { UserLimits } from '../../src/activities/deps.js';
import { createActivities, type Activities } from '../../src/activities/index.js';
import type { ActivityCompleter } from '../../src/activities/out-of-slot.js';
import type { PrismaClient } from '../../src/db/client.js';
import { budgetKey, TelegramBudget } from '../../src/integrations/telegram/budget.js';
import { TelegramClient } from '../../src/integrations/telegram/client.js';
import { WavespeedClient } from '../../src/integrations/wavespeed/client.js';
import type { PriceTable } from '../../src/pricing.js';

/** The bot token the simulators accept; it must never appear in an error. */
export const BOT_TOKEN = '424242:activity-tier-SECRET-token';
export const WAVESPEED_KEY = 'ws-activity-tier-key';
export const PUBLIC_URL = 'http://127.0.0.1:9/x';
/** The workflow every activity runs for, as `videoWorkflowId(1, 2)` would name it. */
export const WORKFLOW_ID = 'video-1-2';
export const MODEL = 'wavespeed-ai/wan-2.2/i2v-480p';
/** A port nothing listens on, for clients a test never calls. */
export const UNUSED_ROOT = 'http://127.0.0.1:9';

/** Keeps "Activity failed" warnings of expected failures out of the test output. */
const silent: Logger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** Stands in for Prisma in files that never touch the database. */
export const noDatabase = new Proxy({} as PrismaClient, {
  get(_target, key) {
    throw new Error(`this test has no database (prisma.${String(key)})`);
  },
});

/** Stands in for the Temporal client in files that never signal a workflow. */
export const noTemporal = new Proxy({} as Client, {
  get(_target, key) {
    throw new Error(`this test has no Temporal client (temporal.${String(key)})`);
  },
});

export interface ActivityWiring {
  telegramApiRoot?: string;
  /** How long a Bot API call may wait for its answer; default 10 s. */
  telegramTimeoutSeconds?: number;
  /** How long a video send may wait for Telegram's answer; default the client's. */
  telegramMediaTimeoutSeconds?: number;
  /** How long a message send may wait for Telegram's answer; default the client's. */
  telegramSendTimeoutSeconds?: number;
  wavespeedApiRoot?: string;
  wavespeedKey?: string;
  /** How long a WaveSpeed call may wait for its answer; default 10 s. */
  wavespeedTimeoutMs?: number;
  prisma?: PrismaClient;
  temporal?: Client;
  /**
   * Paces the Telegram client with a fleet-wide budget in `prisma` (its own instance:
   * a second `buildActivities` is a second worker): summary broadcasts at
   * `ratePerSecond` (the paid rate when `paid`), within `botRatePerSecond`
   * (default: the broadcast's rate, or 1,000 when paid). Without it, calls are not paced.
   */
  broadcast?: { ratePerSecond: number; paid: boolean; botRatePerSecond?: number };
  /** A budget of the test's own (to read its stats), instead of the one `broadcast` describes. */
  budget?: TelegramBudget;
  limits?: UserLimits;
  prices?: PriceTable;
  /** Where an activity that gave its slot back reports its end (default: the Temporal client's). */
  completer?: ActivityCompleter;
}

/** Activities wired the way `src/worker.ts` wires them, against the given peers. */
export function buildActivities(wiring: ActivityWiring = {}): Activities {
  const prisma = wiring.prisma ?? noDatabase;
  const { broadcast } = wiring;
  const budget = wiring.budget ?? (broadcast
    ? new TelegramBudget({
        prisma,
        key: budgetKey(BOT_TOKEN),
        ratePerSecond: broadcast.botRatePerSecond ?? (broadcast.paid ? 1000 : broadcast.ratePerSecond),
        broadcastRatePerSecond: broadcast.ratePerSecond,
        paidRatePerSecond: broadcast.paid ? broadcast.ratePerSecond : undefined,
      })
    : undefined);
  return createActivities({
    prisma,
    telegram: new TelegramClient({
      token: BOT_TOKEN,
      apiRoot: wiring.telegramApiRoot ?? UNUSED_ROOT,
      timeoutSeconds: wiring.telegramTimeoutSeconds ?? 10,
      ...(wiring.telegramMediaTimeoutSeconds === undefined ? {} : { mediaTimeoutSeconds: wiring.telegramMediaTimeoutSeconds }),
      ...(wiring.telegramSendTimeoutSeconds === undefined ? {} : { sendTimeoutSeconds: wiring.telegramSendTimeoutSeconds }),
      budget,
    }),
    wavespeed: new WavespeedClient({ apiKey: wiring.wavespeedKey ?? WAVESPEED_KEY, apiRoot: wiring.wavespeedApiRoot ?? UNUSED_ROOT, timeoutMs: wiring.wavespeedTimeoutMs ?? 10_000 }),
    temporal: wiring.temporal ?? noTemporal,
    ...(wiring.completer ? { completer: wiring.completer } : {}),
    config: {
      publicUrl: PUBLIC_URL,
      broadcast: wiring.broadcast,
      limits: wiring.limits,
      prices: wiring.prices,
    },
  });
}

let activities = 0;

/**
 * A fresh activity context inside workflow {@link WORKFLOW_ID} (a cancelled one
 * stays cancelled): a new activity id each time, unless `info` names one (an
 * `activityId` and `attempt` make a retry of an earlier activity).
 */
export function activityEnv(info: { activityId?: string; attempt?: number } = {}): MockActivityEnvironment {
  return new MockActivityEnvironment(
    { workflowExecution: { workflowId: WORKFLOW_ID, runId: 'r' }, activityId: `activity-${++activities}`, ...info },
    { logger: silent },
  );
}

/** `env.run`, keeping the activity's argument and result types. */
export function runIn<A extends unknown[], R>(env: MockActivityEnvironment, fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return env.run(fn, ...args) as Promise<R>;
}

/** Runs one activity in a fresh {@link activityEnv}. */
export function runActivity<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return runIn(activityEnv(), fn, ...args);
}

/** The ApplicationFailure an activity call rejected with (fails the test if it resolved or threw something else). */
export async function failureOf(call: Promise<unknown>): Promise<ApplicationFailure> {
  const outcome = await call.then(
    (value: unknown) => ({ resolved: value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected the activity to fail, it returned ${JSON.stringify(outcome.resolved)}`);
  expect(outcome.error).toBeInstanceOf(ApplicationFailure);
  return outcome.error as ApplicationFailure;
}

/** The retry delay Temporal's server receives for this failure, in ms (undefined when none). */
export function retryDelayMs(failure: ApplicationFailure): number | undefined {
  const proto = defaultFailureConverter.errorToFailure(failure, defaultPayloadConverter);
  return optionalTsToMs(proto.applicationFailureInfo?.nextRetryDelay);
}

/** The first entry of the failure's details, where the error's own fields travel. */
export function detailsOf(failure: ApplicationFailure): Record<string, unknown> {
  return (failure.details?.[0] ?? {}) as Record<string, unknown>;
}

/** Asserts that no secret shows up anywhere a failure may be logged or stored. */
export function expectNoSecrets(failure: ApplicationFailure, secrets: string[] = [BOT_TOKEN]): void {
  const proto = defaultFailureConverter.errorToFailure(failure, defaultPayloadConverter);
  const everything = [failure.message, failure.stack ?? '', JSON.stringify(failure), JSON.stringify(failure.details ?? []), JSON.stringify(proto)].join('\n');
  for (const secret of secrets) {
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(secret.split(':')[1] ?? secret);
  }
  expect(everything).not.toContain('/file/bot');
}

/** Polls `check` until it returns a value, for up to `timeoutMs`. */
export async function eventually<T>(check: () => T | undefined | false, timeoutMs = 5000, everyMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** One pixel of an image, as [r, g, b]. */
export async function pixelAt(image: Buffer, x: number, y: number): Promise<[number, number, number]> {
  const data = await sharp(image).extract({ left: x, top: y, width: 1, height: 1 }).removeAlpha().raw().toBuffer();
  return [data[0] ?? -1, data[1] ?? -1, data[2] ?? -1];
}

/** A small real JPEG, for tests that only need some image on WaveSpeed's storage. */
export function smallJpeg(): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 30, g: 120, b: 200 } } }).jpeg().toBuffer();
}

/** What a {@link recordingCompleter} was told: an activity's result, or its failure. */
export type Reported = { completed: unknown } | { failed: unknown };

/** Stands in for Temporal's async completion: `next()` resolves with the next report. */
export function recordingCompleter(): ActivityCompleter & { reports: Reported[]; next(): Promise<Reported> } {
  const reports: Reported[] = [];
  const waiting: Array<(r: Reported) => void> = [];
  const report = async (r: Reported) => {
    reports.push(r);
    waiting.shift()?.(r);
  };
  let seen = 0;
  return {
    reports,
    complete: (_token: Uint8Array, result?: unknown) => report({ completed: result }),
    fail: (_token: Uint8Array, err: unknown) => report({ failed: err }),
    next: () => {
      const index = seen++;
      const known = reports[index];
      return known ? Promise.resolve(known) : new Promise<Reported>((resolve) => waiting.push(resolve));
    },
  };
}
