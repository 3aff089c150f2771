import { afterAll, beforeAll, expect, it } from 'vitest';
import { TelegramSimulator } from '../../src/simulators/telegram.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { BOT_TOKEN, buildActivities, runActivity, WORKFLOW_ID } from './helpers.js';

let db: TestDatabase;
let telegram: TelegramSimulator;

beforeAll(async () => {
  db = await createTestDatabase();
  telegram = new TelegramSimulator({ token: BOT_TOKEN });
  await telegram.start();
});

afterAll(async () => {
  await telegram?.stop();
  await db?.drop();
});

it('stops showing the chat action by itself once the generation has ended', async () => {
  const chatId = 4242;
  await db.prisma.telegramUser.create({ data: { id: BigInt(chatId), chatId: BigInt(chatId) } });
  await db.prisma.generation.create({
    data: { id: WORKFLOW_ID, userId: BigInt(chatId), chatId: BigInt(chatId), messageId: 1, prompt: 'p', model: 'm', status: 'submitted' },
  });
  const activities = buildActivities({ telegramApiRoot: telegram.apiRoot, prisma: db.prisma, chatActionIntervalMs: 50 });
  const loop = runActivity(activities.keepChatAction, { chatId, action: 'upload_video' });
  await new Promise((r) => setTimeout(r, 300));
  await db.prisma.generation.update({ where: { id: WORKFLOW_ID }, data: { status: 'completed' } });
  const ended = Date.now();
  // Nobody cancels it: it must notice the outcome and return within about one interval.
  await loop;
  expect(Date.now() - ended).toBeLessThan(1_000);
  const actions = telegram.callsTo('sendChatAction');
  expect(actions.length).toBeGreaterThanOrEqual(3);
  expect(actions.filter((c) => c.at > ended + 100)).toEqual([]);
});
