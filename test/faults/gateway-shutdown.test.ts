import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { SANDBOX_API_KEY, SANDBOX_TOKEN, SANDBOX_WEBHOOK_SECRET } from '../../src/dev/stack.js';
import { startGateway, type RunningGateway } from '../../src/gateway/server.js';
import { createLogger } from '../../src/observability/logger.js';
import { TelegramSimulator } from '../../src/simulators/telegram.js';
import { TEST_PAYLOAD_ENCRYPTION_KEYS } from '../helpers/encryption.js';
import { freePort } from './helpers/ports.js';
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
  telegram = new TelegramSimulator({ token: SANDBOX_TOKEN });
  const apiRoot = await telegram.start();
  // Nothing listens there: every workflow start fails, after the gateway's 5 s deadline at most.
  const temporalAddress = `127.0.0.1:${await freePort()}`;
  const config = parseConfig({
    DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/telewan',
    TEMPORAL_ADDRESS: temporalAddress,
    GATEWAY_PORT: '0',
    TELEGRAM_BOT_TOKEN: SANDBOX_TOKEN,
    TELEGRAM_WEBHOOK_SECRET: SANDBOX_WEBHOOK_SECRET,
    TELEGRAM_API_ROOT: apiRoot,
    WAVESPEED_API_KEY: SANDBOX_API_KEY,
    WAVESPEED_WEBHOOK_SECRET: `whsec_${'0'.repeat(32)}`,
    PAYLOAD_ENCRYPTION_KEYS: TEST_PAYLOAD_ENCRYPTION_KEYS,
    LOG_LEVEL: 'silent',
  });
  gateway = await startGateway(config, { logger: createLogger({ level: 'silent', secrets: [] }), botInfo: telegram.botInfo as never });
  telegram.setWebhookTarget(`${gateway.url}/telegram/webhook`, SANDBOX_WEBHOOK_SECRET);
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
