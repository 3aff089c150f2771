import { beforeAll, describe, expect, it } from 'vitest';
import type { Activities } from '../../src/activities/index.js';
import { TelegramSimulator } from '../../sandbox/simulators/telegram.js';
import { freshBudgetForEachTest } from '../helpers/budget-world.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { budgetKey } from '../../src/integrations/telegram/budget.js';
import { BOT_TOKEN, buildActivities, runActivity } from './helpers.js';

let db: TestDatabase;
let telegram: TelegramSimulator;
let apiRoot: string;
let nextUser = 10_000;
let nextSource = 1;

beforeAll(async () => {
  db = await createTestDatabase();
  telegram = new TelegramSimulator({ token: BOT_TOKEN, globalRatePerSecond: 1000, perChatRatePerSecond: 1 });
  apiRoot = await telegram.start();
});

freshBudgetForEachTest(() => ({ db, telegram }));

/** A source with `n` subscribers and a summary of it. */
async function seed(n: number) {
  const source = await db.prisma.source.create({ data: { slug: `src-${nextSource}`, title: `Source ${nextSource++}` } });
  const userIds = Array.from({ length: n }, () => nextUser++);
  await db.prisma.telegramUser.createMany({ data: userIds.map((id) => ({ id: BigInt(id), chatId: BigInt(id), firstName: 'U' })) });
  await db.prisma.subscription.createMany({ data: userIds.map((id) => ({ userId: BigInt(id), sourceId: source.id })) });
  const summary = await db.prisma.summary.create({
    data: { sourceId: source.id, externalId: `vid-${source.id}`, title: 'New video', text: 'What it says.', videoUrl: 'https://example.test/v' },
  });
  return { source, summary, userIds, range: { summaryId: summary.id, sourceId: source.id, afterUserId: userIds[0]! - 1, upToUserId: userIds.at(-1)! } };
}

function activities(rate = 200, paid = false): Activities {
  return buildActivities({ telegramApiRoot: apiRoot, prisma: db.prisma, broadcast: { ratePerSecond: rate, paid } });
}

const sentTo = (chatId: number) => telegram.messagesTo(chatId).length;

describe('deliverSummaryBatch', () => {
  it('sends each subscriber the summary once and records the message ids', async () => {
    const { range, userIds, summary } = await seed(12);
    const acts = activities();
    const counts = await runActivity(acts.deliverSummaryBatch, range);
    expect(counts).toEqual({ sent: 12, blocked: 0, notFound: 0, failed: 0 });
    for (const id of userIds) expect(sentTo(id)).toBe(1);
    expect(telegram.messagesTo(userIds[0]!)[0]!.text).toBe('New video\n\nWhat it says.\n\nhttps://example.test/v');

    const ids = await runActivity(acts.deliveredMessageIds, { summaryId: summary.id });
    expect(Object.keys(ids)).toHaveLength(12);
    expect(ids[String(userIds[3])]).toBe(telegram.messagesTo(userIds[3]!)[0]!.message_id);

    // The same batch again (a retry, a re-run, another worker): nothing is sent twice.
    expect(await runActivity(acts.deliverSummaryBatch, range)).toEqual(counts);
    for (const id of userIds) expect(sentTo(id)).toBe(1);
  });

  it('marks blocked users and missing chats, and leaves them out of later plans', async () => {
    const { range, userIds, source } = await seed(6);
    telegram.setChat(userIds[1]!, 'blocked');
    telegram.setChat(userIds[2]!, 'deactivated');
    telegram.setChat(userIds[3]!, 'not-found');
    const acts = activities();
    expect(await runActivity(acts.deliverSummaryBatch, range)).toEqual({ sent: 3, blocked: 2, notFound: 1, failed: 0 });
    const blocked = await db.prisma.telegramUser.findMany({ where: { id: { in: userIds.map(BigInt) }, blocked: true } });
    expect(blocked.map((u) => Number(u.id)).sort()).toEqual([userIds[1], userIds[2]]);
    expect(await db.prisma.domainEvent.count({ where: { type: 'user.blocked', subject: `user:${userIds[1]}` } })).toBe(1);

    const plan = await runActivity(acts.prepareDistribution, { summaryId: range.summaryId });
    expect(plan.total).toBe(4);
    const ranges = await runActivity(acts.planRanges, { sourceId: source.id, afterUserId: 0, batchSize: 2, count: 10 });
    expect(ranges).toEqual([
      { afterUserId: 0, upToUserId: userIds[3] },
      { afterUserId: userIds[3], upToUserId: userIds[5] },
    ]);
  });

  it('retries a send that met a 5xx and delivers it', async () => {
    const { range, userIds } = await seed(3);
    telegram.failNext('sendMessage', { errorCode: 502, description: 'Bad Gateway', count: 2 });
    const counts = await runActivity(activities().deliverSummaryBatch, range);
    expect(counts).toEqual({ sent: 3, blocked: 0, notFound: 0, failed: 0 });
    for (const id of userIds) expect(sentTo(id)).toBe(1);
  });

  it('re-sends what a crashed run had claimed but not recorded, and nothing it had recorded', async () => {
    const { range, userIds, summary } = await seed(4);
    // A run that died: one message recorded as sent, one claimed with its fate unknown.
    await db.prisma.delivery.create({ data: { summaryId: summary.id, chatId: BigInt(userIds[0]!), status: 'sent', attempts: 1, telegramMessageId: 1 } });
    await db.prisma.delivery.create({ data: { summaryId: summary.id, chatId: BigInt(userIds[1]!), status: 'sending', attempts: 1 } });
    const counts = await runActivity(activities().deliverSummaryBatch, range);
    expect(counts).toEqual({ sent: 4, blocked: 0, notFound: 0, failed: 0 });
    expect(userIds.map(sentTo)).toEqual([0, 1, 1, 1]);
    const retried = await db.prisma.delivery.findUniqueOrThrow({ where: { summaryId_chatId: { summaryId: summary.id, chatId: BigInt(userIds[1]!) } } });
    expect(retried.attempts).toBe(2);
  });

  it('gives a delivery up as failed once it has been tried too often, without stopping the rest', async () => {
    const { range, userIds, summary } = await seed(3);
    await db.prisma.delivery.create({ data: { summaryId: summary.id, chatId: BigInt(userIds[0]!), status: 'sending', attempts: 5 } });
    const counts = await runActivity(activities().deliverSummaryBatch, range);
    expect(counts).toEqual({ sent: 2, blocked: 0, notFound: 0, failed: 1 });
    expect(sentTo(userIds[0]!)).toBe(0);
  });

  it('pauses every sender for retry_after when Telegram answers 429', async () => {
    const { range, userIds } = await seed(5);
    telegram.failNext('sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 2', retryAfter: 2, count: 1 });
    const started = Date.now();
    const counts = await runActivity(activities().deliverSummaryBatch, range);
    expect(counts.sent).toBe(5);
    for (const id of userIds) expect(sentTo(id)).toBe(1);
    const budget = await db.prisma.telegramBudget.findUniqueOrThrow({ where: { id: budgetKey(BOT_TOKEN) } });
    expect(budget.pausedUntil!.getTime()).toBeGreaterThan(started + 1_900);
    // Apart from sends already on the wire when the 429 came back, nothing went out before retry_after.
    const sends = telegram.callsTo('sendMessage');
    const limitedAt = sends.find((c) => c.errorCode === 429)!.at;
    expect(sends.filter((c) => c.at > limitedAt + 100 && c.at < limitedAt + 1_900)).toEqual([]);
    expect(sends.filter((c) => c.at >= limitedAt + 1_900).length).toBeGreaterThan(0);
  });

  it('keeps two workers together under the fleet-wide ceiling', async () => {
    const a = await seed(20);
    const b = await seed(20);
    const rate = 20;
    // Two workers: separate activity instances (separate limiter objects) sharing the database.
    const started = Date.now();
    await Promise.all([runActivity(activities(rate).deliverSummaryBatch, a.range), runActivity(activities(rate).deliverSummaryBatch, b.range)]);
    const elapsed = Date.now() - started;
    const times = telegram.callsTo('sendMessage').map((c) => c.at).sort((x, y) => x - y);
    expect(times).toHaveLength(40);
    // 40 messages at 20/s take about 2 s, whoever sends them.
    expect(elapsed).toBeGreaterThanOrEqual(1_850);
    let worstSecond = 0;
    for (const t of times) worstSecond = Math.max(worstSecond, times.filter((u) => u >= t && u < t + 1000).length);
    expect(worstSecond).toBeLessThanOrEqual(rate + 1);
  });

  it('asks for paid broadcasts in paid mode', async () => {
    const { range } = await seed(2);
    const started = Date.now();
    await runActivity(activities(500, true).deliverSummaryBatch, range);
    expect(telegram.callsTo('sendMessage').every((c) => c.params.allow_paid_broadcast === true)).toBe(true);
    // On the paid schedule, not the ordinary one.
    const budget = await db.prisma.telegramBudget.findUniqueOrThrow({ where: { id: budgetKey(BOT_TOKEN) } });
    expect(budget.paidNextAt.getTime()).toBeGreaterThan(started);
    // The ordinary schedule is still where the row's creation put it, like pruned_at.
    expect(budget.botNextAt).toEqual(budget.prunedAt);
  });

  it('marks the summary sent and records summary.distributed once', async () => {
    const { summary } = await seed(1);
    const acts = activities();
    const counts = { total: 1, sent: 1, blocked: 0, notFound: 0, failed: 0, remaining: 0 };
    await runActivity(acts.finishDistribution, { summaryId: summary.id, counts });
    await runActivity(acts.finishDistribution, { summaryId: summary.id, counts });
    expect(await db.prisma.summary.findUniqueOrThrow({ where: { id: summary.id } })).toMatchObject({ sent: true });
    expect(await db.prisma.domainEvent.count({ where: { type: 'summary.distributed', subject: `summary:${summary.id}` } })).toBe(1);
  });
});
