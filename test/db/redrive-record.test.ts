import { afterAll, beforeAll, expect, it } from 'vitest';
import { recordRedrive } from '../../src/db/generations.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

it('puts a re-driven generation back under way and records the event, once', async () => {
  const { prisma } = db;
  await prisma.telegramUser.create({ data: { id: 5n, chatId: 5n } });
  await prisma.generation.create({
    data: { id: 'video-5-1', userId: 5n, chatId: 5n, messageId: 1, prompt: 'p', model: 'm', status: 'failed', errorKind: 'internal', error: 'Telegram refused', completedAt: new Date() },
  });
  await prisma.generation.create({ data: { id: 'video-5-2', userId: 5n, chatId: 5n, messageId: 2, prompt: 'p', model: 'm', status: 'completed', completedAt: new Date() } });
  const event = (id: string) => ({ id: `generation.redriven:${id}:run-2`, type: 'generation.redriven' as const, subject: `generation:${id}`, payload: { how: 'reset' } });

  await recordRedrive(prisma, event('video-5-1'));
  await recordRedrive(prisma, event('video-5-1'));
  await recordRedrive(prisma, event('video-5-2'));

  expect(await prisma.generation.findUniqueOrThrow({ where: { id: 'video-5-1' } })).toMatchObject({ status: 'processing', completedAt: null, error: null, errorKind: null });
  // Only a generation that ended unsuccessfully is reopened.
  expect((await prisma.generation.findUniqueOrThrow({ where: { id: 'video-5-2' } })).status).toBe('completed');
  expect(await prisma.domainEvent.count({ where: { type: 'generation.redriven', subject: 'generation:video-5-1' } })).toBe(1);
});

it('records a summary re-drive without touching generations', async () => {
  await recordRedrive(db.prisma, { id: 'summary.redriven:summary-9:run-2', type: 'summary.redriven', subject: 'summary:9', payload: {} });
  expect(await db.prisma.domainEvent.count({ where: { type: 'summary.redriven' } })).toBe(1);
});
