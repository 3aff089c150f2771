import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationStatus } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

describe('Prisma on a migrated database', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('stores a user and their generation, and reads them back through the relation', async () => {
    const { prisma } = db;
    const userId = 9_007_199_254_740_993n; // beyond 2^53: ids stay BigInt end to end
    await prisma.telegramUser.create({
      data: { id: userId, chatId: -1001234567890n, username: 'alice', languageCode: 'en' },
    });
    await prisma.generation.create({
      data: {
        id: 'video--1001234567890-42',
        userId,
        chatId: -1001234567890n,
        messageId: 42,
        prompt: 'a cat surfing',
        model: 'wan-2.2',
      },
    });
    await prisma.generation.update({
      where: { id: 'video--1001234567890-42' },
      data: { status: GenerationStatus.completed, predictionId: 'pred-1', completedAt: new Date() },
    });

    const user = await prisma.telegramUser.findUniqueOrThrow({
      where: { id: userId },
      include: { generations: true },
    });
    expect(user.blocked).toBe(false);
    expect(user.chatId).toBe(-1001234567890n);
    expect(user.generations).toHaveLength(1);
    expect(user.generations[0]).toMatchObject({ status: 'completed', predictionId: 'pred-1', messageId: 42 });
  });

  it('rejects a generation for an unknown user (foreign key)', async () => {
    await expect(
      db.prisma.generation.create({
        data: { id: 'video-1-1', userId: 404n, chatId: 1n, messageId: 1, prompt: 'p', model: 'm' },
      }),
    ).rejects.toMatchObject({ code: 'P2003' });
  });

  it('writes a domain event once however often its id is written', async () => {
    const { prisma } = db;
    const event = { id: 'video.requested:video-1-2', type: 'video.requested', subject: 'video-1-2', payload: { n: 1 } };

    const first = await prisma.domainEvent.createMany({ data: [event], skipDuplicates: true });
    const again = await prisma.domainEvent.createMany({ data: [{ ...event, payload: { n: 2 } }], skipDuplicates: true });
    await prisma.domainEvent.upsert({ where: { id: event.id }, create: event, update: {} });

    expect(first.count).toBe(1);
    expect(again.count).toBe(0);
    const rows = await prisma.domainEvent.findMany({ where: { id: event.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.payload).toEqual({ n: 1 });
  });
});
