import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { budgetKey, TelegramBudget } from '../../src/integrations/telegram/budget.js';
import { TelegramSimulator } from '../../sandbox/simulators/telegram.js';
import { workerTuning } from '../../src/temporal/worker/worker-tuning.js';
import { BOT_TOKEN, buildActivities, runActivity } from '../activities/helpers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { testDataConverter } from '../helpers/encryption.js';
import { createLocalEnv } from '../helpers/temporal.js';

/**
 * A worker with two activity slots, four progress edits waiting for the Telegram
 * budget (a fleet-wide pause after a 429), and one quick activity behind them.
 * Holding their slots while they wait, the edits kept the quick one out until the
 * pause was over; giving them back, they let it run at once, and still finish
 * through Temporal's async completion (the real client, payloads encrypted).
 */
const SLOTS = 2;
const EDITS = 4;
const PAUSE_S = 4;

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let telegram: TelegramSimulator;

beforeAll(async () => {
  [env, db] = await Promise.all([createLocalEnv(), createTestDatabase()]);
  telegram = new TelegramSimulator({ token: BOT_TOKEN });
  await telegram.start();
}, 120_000);

afterAll(async () => {
  await telegram?.stop();
  await env?.teardown();
  await db?.drop();
});

it(`edits waiting for the Telegram budget hold none of the worker's ${SLOTS} activity slots`, async () => {
  const budget = () => new TelegramBudget({ prisma: db.prisma, key: budgetKey(BOT_TOKEN), ratePerSecond: 30, broadcastRatePerSecond: 25 });
  const activities = buildActivities({ telegramApiRoot: telegram.apiRoot, prisma: db.prisma, budget: budget(), temporal: env.client });
  const chats = Array.from({ length: EDITS }, (_, i) => 7_100_000 + i);
  const messages = await Promise.all(chats.map((chatId) => runActivity(activities.sendMessage, { chatId, text: 'Making your video…' })));

  const taskQueue = 'out-of-slot-test';
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./fixtures/slot-workflows.ts', import.meta.url)),
    activities: { ...activities, noop: async () => undefined },
    dataConverter: testDataConverter(),
    maxConcurrentActivityTaskExecutions: SLOTS,
    ...workerTuning,
  });

  await worker.runUntil(async () => {
    // Another worker met a 429: nobody sends for the next few seconds.
    await budget().pause(PAUSE_S);
    const paused = Date.now();
    const edits = chats.map((chatId, i) =>
      env.client.workflow.execute('editOnce', { taskQueue, workflowId: `edit-${chatId}`, args: [{ chatId, messageId: messages[i]!.messageId, text: '✅ Done' }] }),
    );
    // Every edit has asked for its slot of the budget before the quick step is started.
    await new Promise((r) => setTimeout(r, 1_000));
    const asked = Date.now();
    await env.client.workflow.execute('quickStep', { taskQueue, workflowId: `quick-${paused}`, args: [] });
    const quickMs = Date.now() - asked;
    expect(telegram.callsTo('editMessageText')).toHaveLength(0);
    await Promise.all(edits);
    const editedAt = telegram.callsTo('editMessageText').map((c) => c.at - paused);
    console.log(`quick step ${quickMs} ms behind ${EDITS} waiting edits; edits made ${Math.min(...editedAt)}–${Math.max(...editedAt)} ms into a ${PAUSE_S} s pause`);
    // Before, it had to wait for the pause to end (three more seconds) to find a slot.
    expect(quickMs).toBeLessThan(1_500);
    expect(Math.min(...editedAt)).toBeGreaterThanOrEqual(PAUSE_S * 1000 - 50);
    for (const chatId of chats) expect(telegram.messagesTo(chatId).at(-1)!.text).toBe('✅ Done');
  });
}, 120_000);
