import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserLimits } from '../../src/activities/deps.js';
import type { RegisterRequestInput } from '../../src/activities/generations.js';
import type { Activities } from '../../src/activities/index.js';
import { spendByDay } from '../../src/db/costs.js';
import { withPriceOverrides } from '../../src/pricing.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { buildActivities, MODEL, runActivity } from './helpers.js';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('per-user limits and cost on a real PostgreSQL', () => {
  let db: TestDatabase;
  let nextUser = 5000;
  let nextMessage = 1;
  const freshUser = (): number => nextUser++;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  function activitiesWith(limits: Partial<UserLimits> = {}): Activities {
    return buildActivities({
      prisma: db.prisma,
      limits: { maxActive: 2, excessPolicy: 'refuse', dailyQuota: 20, adminChatIds: [], ...limits },
      prices: withPriceOverrides({ 'wavespeed-ai/wan-2.2/i2v-720p': { 5: 0.32 } }),
    });
  }

  /** What every admission also says: the model and length the request is made with (no /settings: the configured model, 5 s). */
  const AS_RECORDED = { model: MODEL, durationSeconds: 5 };

  function request(userId: number, model = MODEL): RegisterRequestInput {
    const messageId = nextMessage++;
    return { generationId: `video-${userId}-${messageId}`, user: { userId, chatId: userId, firstName: 'Ada' }, messageId, prompt: 'a cat', model };
  }

  const statusOf = async (id: string) => (await db.prisma.generation.findUniqueOrThrow({ where: { id } })).status;

  it('admits up to the running limit, then refuses with the limit, recording the refusal outside the quota', async () => {
    const acts = activitiesWith({ maxActive: 2 });
    const user = freshUser();
    const [a, b, c] = [request(user), request(user), request(user)];

    expect(await runActivity(acts.admitRequest, a)).toEqual({ ...AS_RECORDED, decision: 'admitted' });
    expect(await runActivity(acts.admitRequest, b)).toEqual({ ...AS_RECORDED, decision: 'admitted' });
    expect(await runActivity(acts.admitRequest, c)).toEqual({ ...AS_RECORDED, decision: 'refused', reason: 'active-limit', limit: 2 });

    const refused = await db.prisma.generation.findUniqueOrThrow({ where: { id: c.generationId } });
    expect(refused).toMatchObject({ status: 'refused', errorKind: 'active-limit', admittedAt: null });
    expect(Number(refused.costUsd)).toBe(0);
    expect(await db.prisma.domainEvent.count({ where: { type: 'video.refused', subject: `generation:${c.generationId}` } })).toBe(1);
    expect(await runActivity(acts.getUsage, { userId: user, chatId: user })).toMatchObject({ today: 2, running: 2, queued: 0 });

    // A retry of the same request gets the same answer; a finished video frees its slot.
    expect(await runActivity(acts.admitRequest, c)).toEqual({ ...AS_RECORDED, decision: 'refused', reason: 'active-limit', limit: 2 });
    expect(await runActivity(acts.admitRequest, a)).toEqual({ ...AS_RECORDED, decision: 'admitted' });
    await runActivity(acts.recordOutcome, { generationId: a.generationId, status: 'completed' });
    expect(await runActivity(acts.admitRequest, request(user))).toEqual({ ...AS_RECORDED, decision: 'admitted' });
  });

  it('lets exactly one of five concurrent requests through when one slot is left', async () => {
    const acts = activitiesWith({ maxActive: 2 });
    const user = freshUser();
    await runActivity(acts.admitRequest, request(user));
    const requests = Array.from({ length: 5 }, () => request(user));

    const decisions = await Promise.all(requests.map((r) => runActivity(acts.admitRequest, r)));

    expect(decisions.filter((d) => d.decision === 'admitted')).toHaveLength(1);
    expect(decisions.filter((d) => d.decision === 'refused')).toHaveLength(4);
    expect(await db.prisma.generation.count({ where: { userId: BigInt(user), status: 'requested' } })).toBe(2);
  });

  it('decides concurrent first requests of a new user one at a time too', async () => {
    const acts = activitiesWith({ maxActive: 1 });
    const user = freshUser();

    const decisions = await Promise.all(Array.from({ length: 5 }, () => runActivity(acts.admitRequest, request(user))));

    expect(decisions.filter((d) => d.decision === 'admitted')).toHaveLength(1);
    expect(await db.prisma.telegramUser.count({ where: { id: BigInt(user) } })).toBe(1);
  });

  it('refuses past the daily quota, counting today (UTC) only, and exempts admins', async () => {
    const acts = activitiesWith({ maxActive: 5, dailyQuota: 2 });
    const user = freshUser();
    const yesterday = request(user);
    await runActivity(acts.admitRequest, yesterday);
    await db.prisma.generation.update({
      where: { id: yesterday.generationId },
      data: { status: 'completed', admittedAt: new Date(Date.now() - DAY_MS), completedAt: new Date(Date.now() - DAY_MS) },
    });
    for (const r of [request(user), request(user)]) {
      await runActivity(acts.admitRequest, r);
      await runActivity(acts.recordOutcome, { generationId: r.generationId, status: 'failed', errorKind: 'bad-image' });
    }

    expect(await runActivity(acts.admitRequest, request(user))).toEqual({ ...AS_RECORDED, decision: 'refused', reason: 'daily-quota', quota: 2 });
    expect(await runActivity(acts.getUsage, { userId: user, chatId: user })).toEqual({
      today: 2,
      dailyQuota: 2,
      maxActive: 5,
      running: 0,
      queued: 0,
      spentTodayUsd: 0,
    });

    const admin = freshUser();
    const adminActs = activitiesWith({ maxActive: 1, dailyQuota: 0, adminChatIds: [admin] });
    for (let i = 0; i < 3; i++) expect(await runActivity(adminActs.admitRequest, request(admin))).toEqual({ ...AS_RECORDED, decision: 'admitted' });
    expect(await runActivity(adminActs.getUsage, { userId: admin, chatId: admin })).toMatchObject({ today: 3, dailyQuota: null, maxActive: null, running: 3 });
  });

  it('queues beyond the limit and admits queued requests in order as slots free', async () => {
    const acts = activitiesWith({ maxActive: 1, excessPolicy: 'queue' });
    const user = freshUser();
    const [first, second, third] = [request(user), request(user), request(user)];

    expect(await runActivity(acts.admitRequest, first)).toEqual({ ...AS_RECORDED, decision: 'admitted' });
    expect(await runActivity(acts.admitRequest, second)).toEqual({ ...AS_RECORDED, decision: 'queued', limit: 1 });
    expect(await runActivity(acts.admitRequest, third)).toEqual({ ...AS_RECORDED, decision: 'queued', limit: 1 });
    expect(await statusOf(second.generationId)).toBe('queued');
    expect(await runActivity(acts.findActiveGenerations, { chatId: user })).toHaveLength(3);

    await runActivity(acts.recordOutcome, { generationId: first.generationId, status: 'completed' });
    // The slot goes to the request queued first, whichever asks first.
    expect(await runActivity(acts.admitRequest, third)).toEqual({ ...AS_RECORDED, decision: 'queued', limit: 1 });
    expect(await runActivity(acts.admitRequest, second)).toEqual({ ...AS_RECORDED, decision: 'admitted' });
    expect(await runActivity(acts.admitRequest, third)).toEqual({ ...AS_RECORDED, decision: 'queued', limit: 1 });
    const admitted = await db.prisma.generation.findUniqueOrThrow({ where: { id: second.generationId } });
    expect(admitted.status).toBe('requested');
    expect(admitted.admittedAt).not.toBeNull();
    expect(await runActivity(acts.getUsage, { userId: user, chatId: user })).toMatchObject({ today: 2, running: 1, queued: 1 });
  });

  it("records each outcome's cost: the price once WaveSpeed accepted it, unless WaveSpeed failed it", async () => {
    const acts = activitiesWith({ maxActive: 10 });
    const user = freshUser();
    let prediction = 0;
    async function ended(outcome: { status: 'completed' | 'failed' | 'cancelled'; errorKind?: string }, options: { submitted?: boolean; model?: string } = {}) {
      const r = request(user, options.model);
      await runActivity(acts.admitRequest, r);
      if (options.submitted ?? true) {
        await runActivity(acts.recordPhase, { generationId: r.generationId, status: 'submitted', predictionId: `pred-cost-${user}-${prediction++}` });
      }
      await runActivity(acts.recordOutcome, { generationId: r.generationId, ...outcome });
      const row = await db.prisma.generation.findUniqueOrThrow({ where: { id: r.generationId } });
      return row.costUsd === null ? null : Number(row.costUsd);
    }

    expect(await ended({ status: 'completed' })).toBe(0.15);
    expect(await ended({ status: 'completed' }, { model: 'wavespeed-ai/wan-2.2/i2v-720p' })).toBe(0.32);
    expect(await ended({ status: 'failed', errorKind: 'nsfw' })).toBe(0.15);
    expect(await ended({ status: 'cancelled', errorKind: 'cancelled' })).toBe(0.15);
    expect(await ended({ status: 'failed', errorKind: 'generation-failed' })).toBe(0);
    expect(await ended({ status: 'failed', errorKind: 'rejected' }, { submitted: false })).toBe(0);
    expect(await ended({ status: 'completed' }, { submitted: false })).toBe(0);
    expect(await ended({ status: 'completed' }, { model: 'someone/unknown-model' })).toBeNull();

    expect((await runActivity(acts.getUsage, { userId: user, chatId: user })).spentTodayUsd).toBeCloseTo(0.77, 6);
  });

  it('sums spend per UTC day, with empty days at 0', async () => {
    {
      const user = freshUser();
      const acts = activitiesWith();
      await runActivity(acts.registerUser, { userId: user, chatId: user });
      const at = (d: string) => new Date(`${d}T12:00:00Z`);
      const rows = [
        { day: '2030-01-01', cost: 0.15 },
        { day: '2030-01-01', cost: 0.3 },
        { day: '2030-01-01', cost: 0 },
        { day: '2030-01-03', cost: 0.45 },
        { day: '2029-12-31', cost: 9 },
      ];
      for (const [i, row] of rows.entries()) {
        await db.prisma.generation.create({
          data: {
            id: `spend-${user}-${i}`,
            userId: BigInt(user),
            chatId: BigInt(user),
            messageId: i,
            prompt: 'p',
            model: MODEL,
            status: 'completed',
            completedAt: at(row.day),
            costUsd: row.cost,
          },
        });
      }
      // Late on the last day, UTC: still that day.
      await db.prisma.generation.create({
        data: { id: `spend-${user}-late`, userId: BigInt(user), chatId: BigInt(user), messageId: 99, prompt: 'p', model: MODEL, status: 'completed', completedAt: new Date('2030-01-03T23:59:59.500Z'), costUsd: 0.05 },
      });
    }
    const days = await spendByDay(db.prisma, { days: 3, now: new Date('2030-01-03T23:59:59.900Z') });

    expect(days).toEqual([
      { day: '2030-01-01', costUsd: 0.45, charged: 2 },
      { day: '2030-01-02', costUsd: 0, charged: 0 },
      { day: '2030-01-03', costUsd: 0.5, charged: 2 },
    ]);
    await expect(spendByDay(db.prisma, { days: 0 })).rejects.toThrow(RangeError);
  });
});
