import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createPrisma, type PrismaClient } from '../../src/db/client.js';
import { TelegramSimulator } from '../../src/simulators/telegram.js';
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
let nextUser = 50_000;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  db = await createTestDatabase();
  const url = new URL(db.url);
  proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 5432) });
  viaProxy = createPrisma(proxy.url(db.url));
  telegram = new TelegramSimulator({ token: BOT_TOKEN, globalRatePerSecond: 1000, perChatRatePerSecond: 1 });
  await telegram.start();
  process.on('unhandledRejection', onUnhandled);
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await viaProxy?.$disconnect();
  await proxy?.stop();
  await telegram?.stop();
  await db?.drop();
});

beforeEach(async () => {
  telegram.reset();
  unhandled.length = 0;
  await proxy.restore();
});

afterEach(async () => {
  await proxy.restore();
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
async function deliverWithRetries(range: Awaited<ReturnType<typeof seed>>['range']) {
  const acts = buildActivities({ telegramApiRoot: telegram.apiRoot, prisma: viaProxy, broadcast: { ratePerSecond: RATE, paid: false } });
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
