import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runGatewayLoad, type GatewayLoadPlan } from '../../bench/lib/gateway-load.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { createLocalEnv } from '../helpers/temporal.js';
import { startFaultSystem, type FaultSystem } from './helpers/fault-system.js';

/**
 * 500 updates a second at the real gateway (real Temporal, no worker: what is
 * under load is the webhook, not the processing). CI runs 20 s;
 * `npm run bench:gateway-load` runs the 60 s version and prints the same figures.
 */
const PLAN: GatewayLoadPlan = {
  rate: Number(process.env.FAULT_LOAD_RATE ?? 500),
  seconds: Number(process.env.FAULT_LOAD_SECONDS ?? 20),
  warmupSeconds: 3,
  users: 5_000,
  mix: { redelivery: 0.4, command: 0.4, photo: 0.2 },
  redeliveryPool: 200,
};
/** Growth of the heap (after a full GC) the bounded memories may account for: recent update ids, the per-user limiter. */
const HEAP_GROWTH_BOUND_MIB = 32;

let temporal: TestWorkflowEnvironment | undefined;
let db: TestDatabase | undefined;
let sys: FaultSystem | undefined;

beforeAll(async () => {
  [temporal, db] = await Promise.all([createLocalEnv(), createTestDatabase()]);
  sys = await startFaultSystem({ databaseUrl: db.url, temporalAddress: temporal.address });
}, 120_000);

afterAll(async () => {
  await sys?.teardown();
  await temporal?.teardown();
  await db?.drop();
}, 60_000);

it(`answers ${PLAN.rate} updates/s for ${PLAN.seconds} s (redeliveries, commands, photos) with no 5xx and a flat heap`, async () => {
  const result = await runGatewayLoad(sys!.telegram, PLAN);
  const failed = Object.entries(result.statuses).filter(([status]) => Number(status) >= 500 || Number(status) === 0);
  console.log(
    `gateway load: ${result.sent} updates in ${PLAN.seconds} s (${result.answeredPerSecond}/s answered), statuses ${JSON.stringify(result.statuses)}, ` +
      `kinds ${JSON.stringify(result.byKind)}; latency p50 ${result.latency.p50.toFixed(1)} ms, p99 ${result.latency.p99.toFixed(1)} ms, max ${result.latency.max.toFixed(0)} ms; ` +
      `send lag max ${result.sendLagMaxMs.toFixed(0)} ms; heap ${result.heapBeforeMiB} → ${result.heapAfterMiB} MiB (timeline ${result.heapTimelineMiB.join(', ')}), ` +
      `rss ${result.rssBeforeMiB} → ${result.rssAfterMiB} MiB`,
  );

  expect(failed, 'answers ≥ 500 or none at all').toEqual([]);
  expect(result.statuses[200]).toBe(result.sent);
  // The load really was the plan's: an answer rate within 5 % of it.
  expect(result.answeredPerSecond).toBeGreaterThan(PLAN.rate * 0.95);
  expect(result.heapAfterMiB - result.heapBeforeMiB).toBeLessThan(HEAP_GROWTH_BOUND_MIB);
}, 180_000);
