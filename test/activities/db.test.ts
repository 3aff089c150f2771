import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activities } from '../../src/activities/index.js';
import type { RegisterRequestInput } from '../../src/activities/generations.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { buildActivities, MODEL, runActivity } from './helpers.js';

describe('database activities on a real PostgreSQL', () => {
  let db: TestDatabase;
  let activities: Activities;
  let nextId = 1000;
  /** A user id (= private chat id) no other test uses. */
  const freshUser = (): number => nextId++;

  beforeAll(async () => {
    db = await createTestDatabase();
    activities = buildActivities({ prisma: db.prisma });
  });
  afterAll(async () => {
    await db?.drop();
  });

  const eventsOf = (type: string, subject: string) =>
    db.prisma.domainEvent.findMany({ where: { type, subject }, orderBy: { occurredAt: 'asc' } });

  function request(userId: number, messageId: number, prompt = 'a cat surfing'): RegisterRequestInput {
    return {
      generationId: `video-${userId}-${messageId}`,
      user: { userId, chatId: userId, firstName: 'Ada', username: 'ada', languageCode: 'en' },
      messageId,
      prompt,
      model: MODEL,
    };
  }

  describe('registerUser', () => {
    it('creates the user once, refreshes them later and records user.registered once', async () => {
      const userId = freshUser();

      const first = await runActivity(activities.registerUser, { userId, chatId: userId, firstName: 'Ada', username: 'ada' });
      const second = await runActivity(activities.registerUser, { userId, chatId: userId, firstName: 'Ada L.', username: 'ada_l', languageCode: 'fr' });

      expect(first).toEqual({ created: true });
      expect(second).toEqual({ created: false });
      const row = await db.prisma.telegramUser.findUniqueOrThrow({ where: { id: BigInt(userId) } });
      expect(row).toMatchObject({ chatId: BigInt(userId), firstName: 'Ada L.', username: 'ada_l', languageCode: 'fr', blocked: false });
      const events = await eventsOf('user.registered', `user:${userId}`);
      expect(events).toHaveLength(1);
      expect(events[0]?.payload).toEqual({ chatId: userId, username: 'ada' });
    });

    it('clears the blocked flag of a user who writes again', async () => {
      const userId = freshUser();
      await runActivity(activities.registerUser, { userId, chatId: userId });
      await runActivity(activities.markUserBlocked, { userId, reason: 'blocked' });
      expect((await db.prisma.telegramUser.findUniqueOrThrow({ where: { id: BigInt(userId) } })).blocked).toBe(true);

      const again = await runActivity(activities.registerUser, { userId, chatId: userId });

      expect(again).toEqual({ created: false });
      const row = await db.prisma.telegramUser.findUniqueOrThrow({ where: { id: BigInt(userId) } });
      expect(row.blocked).toBe(false);
      expect(row.blockedAt).toBeNull();
    });
  });

  describe('markUserBlocked', () => {
    it('sets blocked and blockedAt and records user.blocked once however often it runs', async () => {
      const userId = freshUser();
      await runActivity(activities.registerUser, { userId, chatId: userId });
      const before = Date.now();

      await runActivity(activities.markUserBlocked, { userId, reason: 'deactivated' });
      const firstRow = await db.prisma.telegramUser.findUniqueOrThrow({ where: { id: BigInt(userId) } });
      await runActivity(activities.markUserBlocked, { userId, reason: 'deactivated' });

      const row = await db.prisma.telegramUser.findUniqueOrThrow({ where: { id: BigInt(userId) } });
      expect(row.blocked).toBe(true);
      expect(row.blockedAt?.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(row.blockedAt?.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      expect(row.blockedAt).toEqual(firstRow.blockedAt);
      const events = await eventsOf('user.blocked', `user:${userId}`);
      expect(events).toHaveLength(1);
      expect(events[0]?.payload).toEqual({ reason: 'deactivated' });
    });

    it('records a new user.blocked when a user who came back blocks the bot again', async () => {
      const userId = freshUser();
      await runActivity(activities.registerUser, { userId, chatId: userId });
      await runActivity(activities.markUserBlocked, { userId, reason: 'blocked' });
      await runActivity(activities.registerUser, { userId, chatId: userId });
      await new Promise((resolve) => setTimeout(resolve, 5));
      await runActivity(activities.markUserBlocked, { userId, reason: 'blocked' });

      expect(await eventsOf('user.blocked', `user:${userId}`)).toHaveLength(2);
      expect((await db.prisma.telegramUser.findUniqueOrThrow({ where: { id: BigInt(userId) } })).blocked).toBe(true);
    });
  });

  describe('registerRequest', () => {
    it('is idempotent: one generation row and one video.requested event for the same id', async () => {
      const userId = freshUser();
      const input = request(userId, 2);

      await runActivity(activities.registerRequest, input);
      await runActivity(activities.registerRequest, { ...input, prompt: 'a retried request must not rewrite the prompt' });

      const rows = await db.prisma.generation.findMany({ where: { userId: BigInt(userId) } });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        id: `video-${userId}-2`,
        chatId: BigInt(userId),
        messageId: 2,
        prompt: 'a cat surfing',
        model: MODEL,
        status: 'requested',
        submittedAt: null,
        completedAt: null,
      });
      const events = await eventsOf('video.requested', `generation:video-${userId}-2`);
      expect(events).toHaveLength(1);
      expect(events[0]?.payload).toEqual({ chatId: userId, model: MODEL });
      expect(await db.prisma.telegramUser.count({ where: { id: BigInt(userId) } })).toBe(1);
    });
  });

  describe('recordPhase and recordOutcome', () => {
    it('stores what submission learnt, with a video.submitted event written once', async () => {
      const userId = freshUser();
      const input = request(userId, 3);
      await runActivity(activities.registerRequest, input);
      await runActivity(activities.recordPhase, { generationId: input.generationId, status: 'preparing', progressMessageId: 4 });
      const before = Date.now();

      const phase = { generationId: input.generationId, status: 'submitted', predictionId: `pred-${userId}`, imageMd5: 'c0ffee'.padEnd(32, '0'), imageBytes: 81234 } as const;
      await runActivity(activities.recordPhase, phase);
      await runActivity(activities.recordPhase, phase);

      const row = await db.prisma.generation.findUniqueOrThrow({ where: { id: input.generationId } });
      expect(row).toMatchObject({ status: 'submitted', progressMessageId: 4, predictionId: `pred-${userId}`, imageMd5: phase.imageMd5, imageBytes: 81234 });
      expect(row.submittedAt?.getTime()).toBeGreaterThanOrEqual(before - 1000);
      const events = await eventsOf('video.submitted', `generation:${input.generationId}`);
      expect(events).toHaveLength(1);
      expect(events[0]?.payload).toEqual({ predictionId: `pred-${userId}`, imageMd5: phase.imageMd5 });
    });

    it('records a completed outcome with the file_id, completedAt and one video.completed event', async () => {
      const userId = freshUser();
      const input = request(userId, 5);
      await runActivity(activities.registerRequest, input);
      await runActivity(activities.recordPhase, { generationId: input.generationId, status: 'submitted', predictionId: `pred-${userId}` });
      const before = Date.now();

      const outcome = {
        generationId: input.generationId,
        status: 'completed',
        videoUrl: 'http://127.0.0.1:9/outputs/p.mp4',
        telegramFileId: 'BAACAgIAAxkBAAI-video',
        deliveredBy: 'url',
        inferenceMs: 41_000,
      } as const;
      await runActivity(activities.recordOutcome, outcome);
      await runActivity(activities.recordOutcome, outcome);

      const row = await db.prisma.generation.findUniqueOrThrow({ where: { id: input.generationId } });
      expect(row).toMatchObject({ status: 'completed', telegramFileId: 'BAACAgIAAxkBAAI-video', deliveredBy: 'url', inferenceMs: 41_000, error: null });
      expect(row.completedAt?.getTime()).toBeGreaterThanOrEqual(before - 1000);
      const events = await eventsOf('video.completed', `generation:${input.generationId}`);
      expect(events).toHaveLength(1);
      expect(events[0]?.payload).toEqual({ errorKind: null, deliveredBy: 'url' });
    });

    it('records a failed outcome with its reason and a video.failed event', async () => {
      const userId = freshUser();
      const input = request(userId, 6);
      await runActivity(activities.registerRequest, input);

      await runActivity(activities.recordOutcome, { generationId: input.generationId, status: 'failed', errorKind: 'rejected', error: 'prompt rejected' });

      const row = await db.prisma.generation.findUniqueOrThrow({ where: { id: input.generationId } });
      expect(row).toMatchObject({ status: 'failed', errorKind: 'rejected', error: 'prompt rejected', telegramFileId: null });
      expect(row.completedAt).not.toBeNull();
      expect(await eventsOf('video.failed', `generation:${input.generationId}`)).toHaveLength(1);
      expect(await eventsOf('video.completed', `generation:${input.generationId}`)).toHaveLength(0);
    });
  });

  describe('queries for /status and /cancel', () => {
    it('lists the chat\'s most recent generations, newest first, up to the limit', async () => {
      const userId = freshUser();
      const other = freshUser();
      // Registered in one order, requested (by time) in another.
      const requestedAt: Record<number, string> = { 11: '2030-01-01T10:02:00.000Z', 12: '2030-01-01T10:04:00.000Z', 13: '2030-01-01T10:01:00.000Z', 14: '2030-01-01T10:03:00.000Z' };
      for (const messageId of [11, 12, 13, 14]) {
        const input = request(userId, messageId, `prompt ${messageId}`);
        await runActivity(activities.registerRequest, input);
        await db.prisma.generation.update({ where: { id: input.generationId }, data: { requestedAt: new Date(requestedAt[messageId]!) } });
      }
      await runActivity(activities.registerRequest, request(other, 15));
      await runActivity(activities.recordOutcome, { generationId: `video-${userId}-14`, status: 'failed', errorKind: 'internal', error: 'boom' });

      const recent = await runActivity(activities.listRecentGenerations, { chatId: userId, limit: 3 });

      expect(recent).toEqual([
        { id: `video-${userId}-12`, prompt: 'prompt 12', status: 'requested', requestedAt: '2030-01-01T10:04:00.000Z', error: null },
        { id: `video-${userId}-14`, prompt: 'prompt 14', status: 'failed', requestedAt: '2030-01-01T10:03:00.000Z', error: 'boom' },
        { id: `video-${userId}-11`, prompt: 'prompt 11', status: 'requested', requestedAt: '2030-01-01T10:02:00.000Z', error: null },
      ]);
      expect(await runActivity(activities.listRecentGenerations, { chatId: freshUser(), limit: 5 })).toEqual([]);
    });

    it('finds only the chat\'s generations still in progress, oldest first', async () => {
      const userId = freshUser();
      const other = freshUser();
      const phases = ['requested', 'preparing', 'submitted', 'processing', 'completed', 'failed', 'cancelled'] as const;
      for (const [i, status] of phases.entries()) {
        const messageId = 20 + i;
        const input = request(userId, messageId);
        await runActivity(activities.registerRequest, input);
        // Requested in reverse order of registration.
        await db.prisma.generation.update({ where: { id: input.generationId }, data: { requestedAt: new Date(Date.UTC(2030, 0, 2, 12, 0, 60 - i)) } });
        if (status === 'preparing' || status === 'submitted' || status === 'processing') {
          await runActivity(activities.recordPhase, { generationId: input.generationId, status });
        } else if (status !== 'requested') {
          await runActivity(activities.recordOutcome, { generationId: input.generationId, status });
        }
      }
      await runActivity(activities.registerRequest, request(other, 30));

      const active = await runActivity(activities.findActiveGenerations, { chatId: userId });

      expect(active).toEqual([`video-${userId}-23`, `video-${userId}-22`, `video-${userId}-21`, `video-${userId}-20`]);
    });
  });
});
