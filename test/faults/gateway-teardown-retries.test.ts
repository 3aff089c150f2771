import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/gateway/server.js';
import type { TelegramSimulator } from '../../sandbox/simulators/telegram.js';
import { startGatewayWithoutTemporal } from './helpers/gateway-without-temporal.js';
import { within } from './helpers/fault-system.js';

/**
 * The gateway closed while workflow starts to an unreachable Temporal are
 * still retrying, their senders gone (Telegram gave up on the request). The
 * server then closes at once, since no socket holds it open, but each start
 * waits out its backoff on a timer. Before: the Temporal connection was closed
 * under those timers, and each retry threw `Channel has been shut down` from
 * the timer, an uncaught exception in the gateway's process.
 */
const PUSHES = 10;
/** Long enough for every backoff of a start to have fired (its deadline is 5 s, a backoff ≤ 6 s). */
const AFTER_CLOSE_MS = 12_000;

const uncaught: unknown[] = [];
const record = (err: unknown) => void uncaught.push(err);

let telegram: TelegramSimulator | undefined;
let gateway: RunningGateway | undefined;

beforeAll(async () => {
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  ({ telegram, gateway } = await startGatewayWithoutTemporal());
});

afterAll(async () => {
  process.off('uncaughtException', record);
  process.off('unhandledRejection', record);
  await telegram?.stop();
});

it(`closes with ${PUSHES} starts still retrying against an unreachable Temporal, and nothing is thrown afterwards`, async () => {
  // Telegram gives up after 300 ms: the requests are gone, their starts are not.
  const answers = await Promise.all(
    Array.from({ length: PUSHES }, (_, i) => telegram!.pushUpdate(telegram!.makeTextUpdate({ chatId: 400 + i, text: '/help' }), { timeoutMs: 300 })),
  );
  expect(answers.map((a) => a.status)).toEqual(Array(PUSHES).fill(0));

  const stoppingAt = Date.now();
  await within(gateway!.close(), 20_000, 'the gateway to close');
  const closedMs = Date.now() - stoppingAt;
  await new Promise((resolve) => setTimeout(resolve, AFTER_CLOSE_MS));
  console.log(`gateway closed with starts retrying: in ${(closedMs / 1000).toFixed(1)} s; uncaught afterwards: ${uncaught.length}`);

  expect(uncaught.map((err) => (err instanceof Error ? err.message : String(err)))).toEqual([]);
  // Waiting for the retries is bounded by the starts' deadline, not left to hang.
  expect(closedMs).toBeLessThan(12_000);
}, 60_000);
