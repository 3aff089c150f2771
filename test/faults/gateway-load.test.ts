import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { GatewayLoadPlan } from '../../bench/lib/gateway-load.js';
import { startGatewayLoadGenerator, type GatewayLoadGenerator } from '../../bench/lib/gateway-load-process.js';
import { createBot } from '../../src/bot/bot.js';
import { UpdateRateLimiter } from '../../src/bot/update-limiter.js';
import { SANDBOX_TOKEN } from '../../src/dev/stack.js';
import { buildApp } from '../../src/gateway/app.js';
import type { Catalog } from '../../src/gateway/services/catalog.js';
import { CALLBACK_TOKENS, FakeWorkflows } from '../gateway/fake-workflows.js';

/**
 * Sustained load at the gateway over real HTTP, pushed by the Telegram simulator
 * as Telegram pushes them: the real app, bot, schema and per-user limiter.
 * The simulator and the load generator run in a child process, so this process
 * is the gateway's alone: its heap and CPU are measured, and a busy gateway
 * cannot delay the generator's schedule. Temporal is a stand-in that answers
 * like Temporal (a duplicate id is "already started") after a few
 * milliseconds: the Temporal dev server tops out near 190 starts/s on a 2-core
 * machine (docs/PERFORMANCE.md), so with it this would measure the server.
 *
 * 500 updates/s for 60 s (after 5 s of warm-up): the gateway costs about
 * 0.6 ms of CPU per update (docs/PERFORMANCE.md §1), under a third of a core.
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
 * Growth of the heap (after a full GC) allowed: the limiter's windows for 5,000
 * users and the stand-in's record of every start (about 8,000 small objects).
 */
const HEAP_GROWTH_BOUND_MIB = 24;
const SECRET = 'load-test-webhook-secret';

class SlowFakeWorkflows extends FakeWorkflows {
  override async startVideo(...args: Parameters<FakeWorkflows['startVideo']>) {
    await new Promise((resolve) => setTimeout(resolve, START_LATENCY_MS));
    return super.startVideo(...args);
  }

  override async startCommand(...args: Parameters<FakeWorkflows['startCommand']>) {
    await new Promise((resolve) => setTimeout(resolve, START_LATENCY_MS));
    return super.startCommand(...args);
  }
}

const unusedCatalog: Catalog = {
  upsertSource: () => Promise.reject(new Error('not in this test')),
  acceptSummary: () => Promise.reject(new Error('not in this test')),
};

let generator: GatewayLoadGenerator | undefined;
let app: FastifyInstance | undefined;
let webhookUrl = '';

beforeAll(async () => {
  generator = await startGatewayLoadGenerator(SANDBOX_TOKEN);
  const workflows = new SlowFakeWorkflows();
  app = await buildApp({
    bot: createBot({ token: SANDBOX_TOKEN, apiRoot: generator.apiRoot, workflows, botInfo: generator.botInfo as never, updateLimiter: new UpdateRateLimiter({ limit: 20, windowSeconds: 60 }) }),
    workflows,
    telegramWebhookSecret: SECRET,
    wavespeedWebhookSecret: () => Promise.reject(new Error('not in this test')),
    wavespeedCallbackTokens: CALLBACK_TOKENS,
    catalog: unusedCatalog,
    readiness: {},
  });
  webhookUrl = `${await app.listen({ host: '127.0.0.1', port: 0 })}/telegram/webhook`;
}, 60_000);

afterAll(async () => {
  await generator?.stop();
  await app?.close();
});

it(`answers ${PLAN.rate} updates/s for ${PLAN.seconds} s (redeliveries, commands, photos) with no 5xx and a flat heap`, async () => {
  const result = await generator!.run(webhookUrl, SECRET, PLAN);
  const failed = Object.entries(result.statuses).filter(([status]) => Number(status) >= 500 || Number(status) === 0);
  console.log(
    `gateway load: ${result.sent} updates in ${PLAN.seconds} s (${result.answeredPerSecond}/s answered), statuses ${JSON.stringify(result.statuses)}, ` +
      `kinds ${JSON.stringify(result.byKind)}; latency p50 ${result.latency.p50.toFixed(1)} ms, p99 ${result.latency.p99.toFixed(1)} ms, max ${result.latency.max.toFixed(0)} ms; ` +
      `send lag max ${result.sendLagMaxMs.toFixed(0)} ms; heap ${result.heapBeforeMiB} → ${result.heapAfterMiB} MiB (every 5 s: ${result.heapTimelineMiB.join(', ')}), ` +
      `rss ${result.rssBeforeMiB} → ${result.rssAfterMiB} MiB; gateway CPU ${result.gatewayCpuMsPerUpdate} ms per update`,
  );

  expect(failed, 'answers ≥ 500 or none at all').toEqual([]);
  expect(result.statuses[200]).toBe(result.sent);
  // The load really was the plan's: an answer rate within 5 % of it.
  expect(result.answeredPerSecond).toBeGreaterThan(PLAN.rate * 0.95);
  expect(result.heapAfterMiB - result.heapBeforeMiB).toBeLessThan(HEAP_GROWTH_BOUND_MIB);
}, (PLAN.warmupSeconds + PLAN.seconds) * 1000 + 60_000);
