import { afterAll, beforeAll } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startStack, type Stack, type StackOptions } from '../../sandbox/dev/stack.js';
import { createLogger } from '../../src/observability/logger.js';
import { installTemporalRuntime } from '../../src/observability/temporal-runtime.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { TEST_PAYLOAD_ENCRYPTION_KEYS } from './encryption.js';
import { createLocalEnv } from './temporal.js';

/** The operators' API token of every test system (32 characters). */
export const TEST_ADMIN_TOKEN = 'telewan-system-test-admin-token!';

export interface TestSystem extends Stack {
  temporal: TestWorkflowEnvironment;
  db: TestDatabase;
  teardown(): Promise<void>;
}

/**
 * The whole system for end-to-end tests: a real Temporal dev server, a fresh
 * PostgreSQL database, the simulators, the gateway and (unless told otherwise)
 * an in-process worker.
 */
export async function startTestSystem(options: Partial<Omit<StackOptions, 'env' | 'sandbox'>> & { env?: Record<string, string> } = {}): Promise<TestSystem> {
  // The test server below would create Temporal's runtime with default logging and no metrics.
  await installTemporalRuntime(createLogger({ level: 'warn', secrets: [], destination: options.logDestination }));
  const [temporal, db] = await Promise.all([createLocalEnv(), createTestDatabase()]);
  const stack = await startStack({
    ...options,
    sandbox: true,
    env: {
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: temporal.address,
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
  return {
    ...stack,
    temporal,
    db,
    async teardown() {
      await stack.stop();
      await temporal.teardown();
      await db.drop();
    },
  };
}

/** Registers the file's `beforeAll` (a {@link startTestSystem}) and `afterAll` (its teardown); the system's fields are set once `beforeAll` ran. */
export function useTestSystem(options: Parameters<typeof startTestSystem>[0] = {}): TestSystem {
  const sys = {} as TestSystem;
  beforeAll(async () => {
    Object.assign(sys, await startTestSystem(options));
  }, 120_000);
  afterAll(async () => {
    await sys.teardown?.();
  });
  return sys;
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** POSTs JSON to the running gateway's operators' API with the test admin token. */
export async function postApi(sys: Pick<TestSystem, 'gateway'>, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${sys.gateway.url}/api${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
