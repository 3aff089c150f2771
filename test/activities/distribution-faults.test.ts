import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createPrisma, type PrismaClient } from '../../src/db/client.js';
import { budgetKey, TelegramBudget } from '../../src/integrations/telegram/budget.js';
import { TelegramSimulator } from '../../sandbox/simulators/telegram.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { activityEnv, BOT_TOKEN, buildActivities, runIn } from './helpers.js';

// The batch activity's database connections go through a proxy that cuts and refuses
// them; Telegram (the simulator) stays up. The test plays Temporal's part: a failed
// attempt is run again, as the retry policy would.

const SUBSCRIBERS = 300;
const RATE = 100;

let db: TestDatabase;
let proxy: TcpProxy;
let viaProxy: PrismaClient;
let telegram: TelegramSimulator;
/** A second proxy, in front of the Telegram budget's own client only (the last test). */
let budgetProxy: TcpProxy;
let budgetPrisma: PrismaClient;
let nextUser = 50_000;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  db = await createTestDatabase();
  const url = new URL(db.url);
  proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 5432) });
  viaProxy = createPrisma(proxy.url(db.url));
  budgetProxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 5432) });
  budgetPrisma = createPrisma(budgetProxy.url(db.url));
  telegram = new TelegramSimulator({ token: BOT_TOKEN, globalRatePerSecond: 1000, perChatRatePerSecond: 1 });
  await telegram.start();
  process.on('unhandledRejection', onUnhandled);
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await viaProxy?.$disconnect();
  await budgetPrisma?.$disconnect();
  await proxy?.stop();
  await budgetProxy?.stop();
  await telegram?.stop();
  await db?.drop();
});

beforeEach(async () => {
  telegram.reset();
  unhandled.length = 0;
  await proxy.restore();
  await budgetProxy.restore();
});

afterEach(async () => {
  await proxy.restore();
  await budgetProxy.restore();
});

async function seed() {
  const source = await db.prisma.source.create({ data: { slug: `faults-${nextUser}`, title: 'Faults' } });
  const userIds = Array.from({ length: SUBSCRIBERS }, () => nextUser++);
  await db.prisma.telegramUser.createMany({ data: userIds.map((id) => ({ id: BigInt(id), chatId: BigInt(id) })) });
  await db.prisma.subscription.createMany({ data: userIds.map((id) => ({ userId: BigInt(id), sourceId: source.id })) });
  const summary = await db.prisma.summary.create({ data: { sourceId: source.id, externalId: `f-${source.id}`, title: 'Faults', text: 'Survives.' } });
  return { userIds, summary, range: { summaryId: summary.id, sourceId: source.id, afterUserId: userIds[0]! - 1, upToUserId: userIds.at(-1)! } };
}

/** Runs the batch until an attempt succeeds, as Temporal's retry policy would; counts attempts and heartbeats. */
async function deliverWithRetries(range: Awaited<ReturnType<typeof seed>>['range'], acts = buildActivities({ telegramApiRoot: telegram.apiRoot, prisma: viaProxy, broadcast: { ratePerSecond: RATE, paid: false } })) {
  const failures: unknown[] = [];
  const heartbeats: number[] = [];
  for (;;) {
    const env = activityEnv();
    env.on('heartbeat', () => heartbeats.push(Date.now()));
    try {
      const counts = await runIn(env, acts.deliverSummaryBatch, range);
      return { counts, failures, heartbeats };
    } catch (err) {
      failures.push(err);
      if (failures.length > 10) throw err;
      await sleep(200);
    }
  }
}

/** Messages each subscriber got: none is lost, more than one is a duplicate. */
function tally(userIds: number[]) {
  const got = userIds.map((id) => telegram.messagesTo(id).length);
  return { lost: got.filter((n) => n === 0).length, duplicates: got.reduce((sum, n) => sum + Math.max(0, n - 1), 0) };
}

it('survives its database connections cut three times mid-batch: nothing lost, nothing doubled, no unhandled rejection', async () => {
  const { userIds, summary, range } = await seed();
  const cuts = (async () => {
    for (const at of [700, 800, 800]) {
      await sleep(at);
      await proxy.cutMidRequest();
    }
  })();
  const { counts, failures } = await deliverWithRetries(range);
  await cuts;
  const { lost, duplicates } = tally(userIds);
  console.log(`connections cut 3 times (${proxy.resets} resets): ${failures.length} failed attempts, ${lost} lost, ${duplicates} duplicates`);
  expect(proxy.resets).toBeGreaterThanOrEqual(3);
  expect(unhandled).toEqual([]);
  expect(counts).toEqual({ sent: SUBSCRIBERS, blocked: 0, notFound: 0, failed: 0 });
  expect(lost).toBe(0);
  // No crash here, so no duplicate is tolerated: every accepted send was recorded before an attempt failed.
  expect(duplicates).toBe(0);
  expect(await db.prisma.delivery.count({ where: { summaryId: summary.id, status: 'sent' } })).toBe(SUBSCRIBERS);
});

it('waits out a database outage, heartbeating, and records what Telegram accepted before the attempt fails', async () => {
  const { userIds, range } = await seed();
  let down = { from: 0, to: 0 };
  const outage = (async () => {
    await sleep(800);
    down.from = Date.now();
    await proxy.refuse();
    await sleep(2_500);
    down = { ...down, to: Date.now() };
    await proxy.restore();
  })();
  const { counts, failures, heartbeats } = await deliverWithRetries(range);
  await outage;
  const { lost, duplicates } = tally(userIds);
  console.log(`database down ${down.to - down.from} ms: ${failures.length} failed attempts, ${lost} lost, ${duplicates} duplicates`);
  expect(unhandled).toEqual([]);
  expect(failures.length).toBeGreaterThan(0);
  expect(heartbeats.filter((t) => t > down.from + 500 && t < down.to).length).toBeGreaterThan(0);
  expect(counts.sent).toBe(SUBSCRIBERS);
  expect(lost).toBe(0);
  expect(duplicates).toBe(0);
});

it('gives a batch back the claims of chats it never tried: a database that fails after every claim, six times over, loses nobody', async () => {
  const { userIds, summary, range } = await seed();
  // The deliveries' statements reach the database; the budget's reservation, the step after the claim, does not.
  const budget = new TelegramBudget({ prisma: budgetPrisma, key: budgetKey(BOT_TOKEN), ratePerSecond: RATE, broadcastRatePerSecond: RATE });
  const acts = buildActivities({ telegramApiRoot: telegram.apiRoot, prisma: viaProxy, budget });
  await budgetProxy.refuse();
  // More failed attempts than a chat's claims allow (5): each claims all 300 and sends to none.
  const failures: unknown[] = [];
  let ended: Awaited<ReturnType<typeof acts.deliverSummaryBatch>> | undefined;
  while (failures.length < 6 && !ended) {
    ended = await runIn(activityEnv(), acts.deliverSummaryBatch, range).catch((err: unknown) => void failures.push(err));
  }
  const sentMeanwhile = telegram.callsTo('sendMessage').length;
  const claims = await db.prisma.delivery.aggregate({ where: { summaryId: summary.id }, _max: { attempts: true }, _count: { _all: true } });
  await budgetProxy.restore();
  // Before the fix, the sixth attempt gave everyone up unsent (`failed: 300`) instead of failing.
  const counts = ended ?? (await deliverWithRetries(range, acts)).counts;
  const { lost, duplicates } = tally(userIds);
  console.log(`${failures.length} attempts failed after their claim (claims left: ${claims._max.attempts} on ${claims._count._all} rows); then ${JSON.stringify(counts)}, ${lost} lost, ${duplicates} duplicates`);
  expect(counts).toEqual({ sent: SUBSCRIBERS, blocked: 0, notFound: 0, failed: 0 });
  expect(failures).toHaveLength(6);
  expect(failures.every((err) => err instanceof Error && /reach database server/.test(err.message)), String(failures[0])).toBe(true);
  expect(sentMeanwhile).toBe(0);
  expect(unhandled).toEqual([]);
  expect(counts).toEqual({ sent: SUBSCRIBERS, blocked: 0, notFound: 0, failed: 0 });
  expect(lost).toBe(0);
  expect(duplicates).toBe(0);
});
