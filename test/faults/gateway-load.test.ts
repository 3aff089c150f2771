import { afterAll, beforeAll, expect, it } from 'vitest';
import { pino } from 'pino';
import type { GatewayLoadPlan } from '../../bench/lib/gateway-load.js';
import { startGatewayLoadGenerator, type GatewayLoadGenerator } from '../../bench/lib/gateway-load-process.js';
import { parseConfig } from '../../src/config.js';
import { SANDBOX_API_KEY, SANDBOX_TOKEN } from '../../sandbox/dev/stack.js';
import { startGateway, type RunningGateway } from '../../src/gateway/server.js';
import { createLogger, secretsOf } from '../../src/observability/logger.js';
import { TEST_PAYLOAD_ENCRYPTION_KEYS } from '../helpers/encryption.js';
import { startStandInProcess, type StandInProcess } from './helpers/temporal-frontend-stand-in.js';

/**
 * Sustained load at the gateway over real HTTP, pushed by the Telegram simulator
 * as Telegram pushes them, into the gateway as production builds it
 * (`startGateway`: app, bot, schema, per-user limiter, metrics, info-level
 * request logs, the Temporal client with payload encryption over gRPC). The
 * simulator and the load generator run in one child process, Temporal in
 * another, so this process is the gateway's alone: its heap and CPU are
 * measured, and a busy gateway cannot delay the generator's schedule. Temporal
 * is a gRPC stand-in that answers `StartWorkflowExecution` like Temporal (a
 * duplicate id is ALREADY_EXISTS) after a few milliseconds: the dev server tops
 * out near 190 starts/s on a 2-core machine (docs/PERFORMANCE.md), so with it
 * this would measure the server.
 *
 * 500 updates/s for 60 s (after 5 s of warm-up); docs/PERFORMANCE.md §1 has
 * what the gateway costs per update.
 * vitest.config.ts runs this file alone, after the others, so that on CI's two
 * cores no other test file shares the machine. `npm run bench:gateway-load`
 * runs the same against a real dev server.
 */
const PLAN: GatewayLoadPlan = {
  rate: Number(process.env.FAULT_LOAD_RATE ?? 500),
  seconds: Number(process.env.FAULT_LOAD_SECONDS ?? 60),
  warmupSeconds: 5,
  users: 5_000,
  mix: { redelivery: 0.4, command: 0.4, photo: 0.2 },
  redeliveryPool: 200,
};
/** What a start costs at Temporal in the stand-in, in ms. */
const START_LATENCY_MS = 5;
/**
 * Growth of the gateway's heap (after a full GC) allowed over the run: the
 * limiter's windows for 5,000 users and the in-flight starts. Keeping a copy of
 * every update body (a leak of one small object per request) grew it by
 * 20.3 MiB over the 60 s at 500/s, and failed.
 */
const HEAP_GROWTH_BOUND_MIB = 8;
const SECRET = 'load-test-webhook-secret';

let temporal: StandInProcess | undefined;
let generator: GatewayLoadGenerator | undefined;
let gateway: RunningGateway | undefined;

beforeAll(async () => {
  [temporal, generator] = await Promise.all([startStandInProcess(START_LATENCY_MS), startGatewayLoadGenerator(SANDBOX_TOKEN)]);
  const config = parseConfig({
    DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/telewan',
    TEMPORAL_ADDRESS: temporal.address,
    GATEWAY_PORT: '0',
    TELEGRAM_BOT_TOKEN: SANDBOX_TOKEN,
    TELEGRAM_WEBHOOK_SECRET: SECRET,
    TELEGRAM_API_ROOT: generator.apiRoot,
    WAVESPEED_API_KEY: SANDBOX_API_KEY,
    WAVESPEED_WEBHOOK_SECRET: `whsec_${'0'.repeat(32)}`,
    PAYLOAD_ENCRYPTION_KEYS: TEST_PAYLOAD_ENCRYPTION_KEYS,
    USER_UPDATE_RATE_LIMIT: '20/60s',
    LOG_LEVEL: 'info',
  });
  // Every line a production gateway writes at info (two per request), written synchronously as to standard output.
  const logger = createLogger({ level: config.LOG_LEVEL, secrets: secretsOf(config), base: { service: 'gateway' }, destination: pino.destination({ dest: '/dev/null', sync: true }) });
  gateway = await startGateway(config, { logger, botInfo: generator.botInfo as never });
}, 60_000);

afterAll(async () => {
  await generator?.stop();
  await gateway?.close();
  await temporal?.stop();
});

it(`answers ${PLAN.rate} updates/s for ${PLAN.seconds} s (redeliveries, commands, photos) with no 5xx and a flat heap`, async () => {
  const result = await generator!.run(`${gateway!.url}/telegram/webhook`, SECRET, PLAN);
  const failed = Object.entries(result.statuses).filter(([status]) => Number(status) >= 500 || Number(status) === 0);
  console.log(
    `gateway load: ${result.sent} updates in ${PLAN.seconds} s (${result.answeredPerSecond}/s answered), statuses ${JSON.stringify(result.statuses)}, ` +
      `kinds ${JSON.stringify(result.byKind)}; latency p50 ${result.latency.p50.toFixed(1)} ms, p99 ${result.latency.p99.toFixed(1)} ms, max ${result.latency.max.toFixed(0)} ms; ` +
      `send lag max ${result.sendLagMaxMs.toFixed(0)} ms; heap ${result.heapBeforeMiB} → ${result.heapAfterMiB} MiB (every 5 s: ${result.heapTimelineMiB.join(', ')}), ` +
      `rss ${result.rssBeforeMiB} → ${result.rssAfterMiB} MiB; gateway CPU ${result.gatewayCpuMsPerUpdate} ms per update (generator ${result.generatorCpuMsPerUpdate} ms)`,
  );

  expect(failed, 'answers ≥ 500 or none at all').toEqual([]);
  expect(result.statuses[200]).toBe(result.sent);
  // The load really was the plan's: an answer rate within 5 % of it.
  expect(result.answeredPerSecond).toBeGreaterThan(PLAN.rate * 0.95);
  expect(result.heapAfterMiB - result.heapBeforeMiB).toBeLessThan(HEAP_GROWTH_BOUND_MIB);
}, (PLAN.warmupSeconds + PLAN.seconds) * 1000 + 60_000);
