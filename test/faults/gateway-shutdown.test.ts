import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/gateway/server.js';
import type { TelegramSimulator } from '../../sandbox/simulators/telegram.js';
import { startGatewayWithoutTemporal } from './helpers/gateway-without-temporal.js';
import { within } from './helpers/fault-system.js';

/**
 * The gateway told to stop while Temporal is unreachable and webhooks wait on
 * their starts. Before: the connections busy when closing began stayed open
 * after their 503 until keep-alive timed out (72 s), so a shutdown hung past any
 * orchestrator's grace period.
 */
const PUSHES = 20;

let telegram: TelegramSimulator | undefined;
let gateway: RunningGateway | undefined;

beforeAll(async () => {
  ({ telegram, gateway } = await startGatewayWithoutTemporal());
});

afterAll(async () => {
  await telegram?.stop();
});

it(`stops within seconds while ${PUSHES} webhooks wait on an unreachable Temporal, each answered 503`, async () => {
  const pushes = Array.from({ length: PUSHES }, (_, i) => telegram!.pushUpdate(telegram!.makeTextUpdate({ chatId: 300 + i, text: '/help' }), { timeoutMs: 30_000 }));
  // Every request is in the gateway, waiting on its start, when it is told to stop.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const stoppingAt = Date.now();
  await within(gateway!.close(), 20_000, 'the gateway to close');
  const closedMs = Date.now() - stoppingAt;
  const answers = await Promise.all(pushes);
  console.log(`gateway shutdown during a Temporal outage: closed in ${(closedMs / 1000).toFixed(1)} s; answers ${JSON.stringify([...new Set(answers.map((a) => a.status))])}`);

  expect(answers.map((a) => a.status)).toEqual(Array(PUSHES).fill(503));
  // The starts' own deadline (5 s) and grammY's (10 s) bound it, not keep-alive's 72 s.
  expect(closedMs).toBeLessThan(12_000);
}, 60_000);
