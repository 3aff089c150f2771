import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activities } from '../../src/activities/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { buildActivities, runActivity } from './helpers.js';

describe('subscription activities on a real PostgreSQL', () => {
  let db: TestDatabase;
  let activities: Activities;
  let nextId = 3000;
  const freshUser = (): number => nextId++;
  const user = (userId: number) => ({ userId, chatId: userId, firstName: 'Ada', username: `ada${userId}` });
  let tech: { id: number };
  let science: { id: number };

  beforeAll(async () => {
    db = await createTestDatabase();
    activities = buildActivities({ prisma: db.prisma });
    tech = await db.prisma.source.create({ data: { slug: 'tech-news', title: 'Tech News' } });
    science = await db.prisma.source.create({ data: { slug: 'science', title: 'Daily Science' } });
  });
  afterAll(async () => {
    await db?.drop();
  });

  const eventsOf = (type: string, userId: number) => db.prisma.domainEvent.findMany({ where: { type, subject: `user:${userId}` }, orderBy: { occurredAt: 'asc' } });
  const subscriptionsOf = (userId: number) => db.prisma.subscription.findMany({ where: { userId: BigInt(userId) } });

  describe('subscribe', () => {
    it('creates the user and the subscription, with one subscription.created event', async () => {
      const userId = freshUser();

      const result = await runActivity(activities.subscribe, { user: user(userId), slug: 'tech-news', requestId: 'command-1-1' });

      expect(result).toEqual({ outcome: 'subscribed', title: 'Tech News' });
      expect(await db.prisma.telegramUser.findUniqueOrThrow({ where: { id: BigInt(userId) } })).toMatchObject({ chatId: BigInt(userId), username: `ada${userId}` });
      expect(await subscriptionsOf(userId)).toEqual([expect.objectContaining({ sourceId: tech.id })]);
      const events = await eventsOf('subscription.created', userId);
      expect(events).toHaveLength(1);
      expect(events[0]?.payload).toEqual({ sourceId: tech.id, slug: 'tech-news' });
    });

    it('answers a retry of the same request the same way, writing nothing more', async () => {
      const userId = freshUser();
      const input = { user: user(userId), slug: 'tech-news', requestId: `command-${userId}-5` };

      const first = await runActivity(activities.subscribe, input);
      const retried = await runActivity(activities.subscribe, input);

      expect(first).toEqual({ outcome: 'subscribed', title: 'Tech News' });
      expect(retried).toEqual(first);
      expect(await subscriptionsOf(userId)).toHaveLength(1);
      expect(await eventsOf('subscription.created', userId)).toHaveLength(1);
    });

    it('tells a second request that the user is already subscribed', async () => {
      const userId = freshUser();
      await runActivity(activities.subscribe, { user: user(userId), slug: 'science', requestId: 'a' });

      const second = await runActivity(activities.subscribe, { user: user(userId), slug: 'science', requestId: 'b' });

      expect(second).toEqual({ outcome: 'already-subscribed', title: 'Daily Science' });
      expect(await eventsOf('subscription.created', userId)).toHaveLength(1);
    });

    it('reports an unknown source and writes nothing', async () => {
      const userId = freshUser();
      expect(await runActivity(activities.subscribe, { user: user(userId), slug: 'nope', requestId: 'a' })).toEqual({ outcome: 'unknown-source' });
      expect(await db.prisma.telegramUser.count({ where: { id: BigInt(userId) } })).toBe(0);
      expect(await eventsOf('subscription.created', userId)).toHaveLength(0);
    });

    it('records a re-subscription after an unsubscription as a new event', async () => {
      const userId = freshUser();
      await runActivity(activities.subscribe, { user: user(userId), slug: 'tech-news', requestId: 'r1' });
      await runActivity(activities.unsubscribe, { userId, slug: 'tech-news', requestId: 'r2' });
      const again = await runActivity(activities.subscribe, { user: user(userId), slug: 'tech-news', requestId: 'r3' });

      expect(again).toEqual({ outcome: 'subscribed', title: 'Tech News' });
      expect(await eventsOf('subscription.created', userId)).toHaveLength(2);
      expect(await eventsOf('subscription.removed', userId)).toHaveLength(1);
      expect(await subscriptionsOf(userId)).toHaveLength(1);
    });
  });

  describe('unsubscribe', () => {
    it('removes the subscription with one subscription.removed event, also when retried', async () => {
      const userId = freshUser();
      await runActivity(activities.subscribe, { user: user(userId), slug: 'science', requestId: 's' });
      const input = { userId, slug: 'science', requestId: 'u' };

      const first = await runActivity(activities.unsubscribe, input);
      const retried = await runActivity(activities.unsubscribe, input);

      expect(first).toEqual({ outcome: 'unsubscribed', title: 'Daily Science' });
      expect(retried).toEqual(first);
      expect(await subscriptionsOf(userId)).toHaveLength(0);
      const events = await eventsOf('subscription.removed', userId);
      expect(events).toHaveLength(1);
      expect(events[0]?.payload).toEqual({ sourceId: science.id, slug: 'science' });
    });

    it('tells a user who was not subscribed, and reports unknown sources', async () => {
      const userId = freshUser();
      expect(await runActivity(activities.unsubscribe, { userId, slug: 'science', requestId: 'x' })).toEqual({ outcome: 'not-subscribed', title: 'Daily Science' });
      expect(await runActivity(activities.unsubscribe, { userId, slug: 'nope', requestId: 'y' })).toEqual({ outcome: 'unknown-source' });
      expect(await eventsOf('subscription.removed', userId)).toHaveLength(0);
    });
  });

  describe('listSources and listSubscriptions', () => {
    it('list sources by slug with the user\'s state, and the user\'s subscriptions', async () => {
      const userId = freshUser();
      const other = freshUser();
      await runActivity(activities.subscribe, { user: user(userId), slug: 'tech-news', requestId: 'l1' });
      await runActivity(activities.subscribe, { user: user(other), slug: 'science', requestId: 'l2' });

      expect(await runActivity(activities.listSources, { userId })).toEqual([
        { slug: 'science', title: 'Daily Science', subscribed: false },
        { slug: 'tech-news', title: 'Tech News', subscribed: true },
      ]);
      expect(await runActivity(activities.listSubscriptions, { userId })).toEqual([{ slug: 'tech-news', title: 'Tech News' }]);
      expect(await runActivity(activities.listSubscriptions, { userId: freshUser() })).toEqual([]);
    });
  });
});
