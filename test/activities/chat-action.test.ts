import { afterAll, beforeAll, expect, it } from 'vitest';
import { TelegramSimulator } from '../../src/simulators/telegram.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import type { Client } from '@temporalio/client';
import type { VideoProgress } from '../../src/workflows/video-messages.js';
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

it('shows no chat action while the request waits in line for a WaveSpeed slot', async () => {
  const chatId = 4343;
  // Waiting for a WaveSpeed slot, a request's row still says `requested`: it is submitted only once it has one.
  await db.prisma.generation.update({ where: { id: WORKFLOW_ID }, data: { status: 'requested' } });
  let phase: VideoProgress['phase'] = 'queued';
  const asked: string[] = [];
  // The workflow's `progress` query, as the worker would answer it.
  const temporal = {
    withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn(),
    workflow: { getHandle: (id: string) => ({ query: async () => (asked.push(id), { phase, polls: 0 }) }) },
  } as unknown as Client;
  const activities = buildActivities({ telegramApiRoot: telegram.apiRoot, prisma: db.prisma, chatActionIntervalMs: 50, temporal });
  const before = telegram.callsTo('sendChatAction').length;
  const loop = runActivity(activities.keepChatAction, { chatId, action: 'upload_video' });
  await new Promise((r) => setTimeout(r, 300));
  expect(asked.length).toBeGreaterThanOrEqual(3);
  expect(new Set(asked)).toEqual(new Set([WORKFLOW_ID]));
  expect(telegram.callsTo('sendChatAction').length).toBe(before);

  phase = 'submitted';
  await new Promise((r) => setTimeout(r, 300));
  await db.prisma.generation.update({ where: { id: WORKFLOW_ID }, data: { status: 'completed' } });
  await loop;
  expect(telegram.callsTo('sendChatAction').filter((c) => c.chatId === chatId).length).toBeGreaterThanOrEqual(3);
});
