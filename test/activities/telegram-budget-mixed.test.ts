import { CompleteAsyncError } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { beforeAll, describe, expect, it } from 'vitest';
import { budgetKey, TelegramBudget } from '../../src/integrations/telegram/budget.js';
import { TelegramSimulator, type CallRecord } from '../../sandbox/simulators/telegram.js';
import { freshBudgetForEachTest } from '../helpers/budget-world.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { BOT_TOKEN, buildActivities, recordingCompleter, runActivity } from './helpers.js';

// A summary broadcast and a burst of videos at the same time, from two workers (two
// activity sets, each with its own budget instance, sharing the database), against a
// simulator enforcing Telegram's limits at exactly the configured ceilings.

/** The bound this test holds a video's wait to: the broadcast's quarter second ahead, one block, and the burst's own queue. */
const VIDEO_WAIT_BOUND_MS = 1_500;
const BURST = 20;
const CEILING = 30;

let db: TestDatabase;
let telegram: TelegramSimulator;
let nextUser = 90_000;

beforeAll(async () => {
  db = await createTestDatabase();
  telegram = new TelegramSimulator({ token: BOT_TOKEN, globalRatePerSecond: CEILING, perChatRatePerSecond: 1, paidBroadcastRatePerSecond: 300 });
  await telegram.start();
  // The simulator's first request in a process is slow (its routes compile): not what is measured.
  await fetch(`${telegram.apiRoot}/bot${BOT_TOKEN}/getMe`);
});

freshBudgetForEachTest(() => ({ db, telegram }));

async function seed(n: number) {
  const source = await db.prisma.source.create({ data: { slug: `mixed-${nextUser}`, title: 'Mixed' } });
  const userIds = Array.from({ length: n }, () => nextUser++);
  await db.prisma.telegramUser.createMany({ data: userIds.map((id) => ({ id: BigInt(id), chatId: BigInt(id) })) });
  await db.prisma.subscription.createMany({ data: userIds.map((id) => ({ userId: BigInt(id), sourceId: source.id })) });
  const summary = await db.prisma.summary.create({ data: { sourceId: source.id, externalId: `m-${source.id}`, title: 'Mixed', text: 'Both at once.' } });
  return { summaryId: summary.id, sourceId: source.id, afterUserId: userIds[0]! - 1, upToUserId: userIds.at(-1)! };
}

/** Most calls in any one second. */
function peakSecond(calls: CallRecord[]): number {
  const times = calls.map((c) => c.at).sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 1000) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

describe.each([
  { mode: 'free', paid: false, broadcastRate: 25, subscribers: 125 },
  { mode: 'paid', paid: true, broadcastRate: 300, subscribers: 1_200 },
])('a $mode broadcast at its ceiling and a burst of videos', ({ paid, broadcastRate, subscribers }) => {
  it(`keeps every second under the ceilings and no video waits more than ${VIDEO_WAIT_BOUND_MS} ms`, async () => {
    const range = await seed(subscribers);
    const budget = () =>
      new TelegramBudget({
        prisma: db.prisma,
        key: budgetKey(BOT_TOKEN),
        ratePerSecond: CEILING,
        broadcastRatePerSecond: broadcastRate,
        paidRatePerSecond: paid ? broadcastRate : undefined,
      });
    const broadcaster = buildActivities({ telegramApiRoot: telegram.apiRoot, prisma: db.prisma, budget: budget() });
    const mediaBudget = budget();
    const media = buildActivities({ telegramApiRoot: telegram.apiRoot, prisma: db.prisma, budget: mediaBudget });
    const file = telegram.addFile(Buffer.alloc(4096, 3), { kind: 'video', mimeType: 'video/mp4' });

    const distribution = runActivity(broadcaster.deliverSummaryBatch, range);
    await new Promise((r) => setTimeout(r, 1_500));
    const chats = Array.from({ length: BURST }, (_, i) => 5_000_000 + nextUser + i);
    const asked = Date.now();
    const videos = await Promise.all(chats.map((chatId) => runActivity(media.sendCachedVideo, { chatId, fileId: file.file_id })));
    const counts = await distribution;

    const sends = telegram.calls.filter((c) => c.method === 'sendMessage' || c.method === 'sendVideo');
    const waits = telegram.callsTo('sendVideo').map((c) => c.at - asked).sort((a, b) => a - b);
    const late = mediaBudget.stats.slotsGivenUp;
    console.log(`${paid ? 'paid' : 'free'}: video waits ${waits[0]}–${waits.at(-1)} ms (${late} woke too late and queued again), peak second ${peakSecond(sends)}`);
    expect(videos).toHaveLength(BURST);
    expect(counts.sent).toBe(subscribers);
    expect(telegram.stats.rateLimited).toBe(0);
    // Every video that kept its first slot; one woken too late (a loaded machine) gives it up and queues again.
    expect(waits[BURST - 1 - late]).toBeLessThanOrEqual(VIDEO_WAIT_BOUND_MS);
    expect(late).toBeLessThan(BURST / 2);
    // Ordinary sends never over the bot's ceiling; with paid broadcasts, all of them never over the paid rate.
    expect(peakSecond(sends.filter((c) => c.params.allow_paid_broadcast !== true))).toBeLessThanOrEqual(CEILING);
    if (paid) expect(peakSecond(sends)).toBeLessThanOrEqual(broadcastRate);
    // The broadcast yielded to the videos while they went (those that kept their first slot).
    const burstEnd = asked + waits[BURST - 1 - late]!;
    const duringBurst = sends.filter((c) => c.method === 'sendMessage' && c.at > asked + 200 && c.at < burstEnd - 200);
    if (!paid) expect(duringBurst.length).toBeLessThan(5);
  });
});

it('paces progress edits like every other call: a fleet-wide pause holds them, out of their worker slot', async () => {
  const chatId = 5_900_000 + nextUser++;
  const budget = () => new TelegramBudget({ prisma: db.prisma, key: budgetKey(BOT_TOKEN), ratePerSecond: CEILING, broadcastRatePerSecond: 25 });
  const completer = recordingCompleter();
  const acts = buildActivities({ telegramApiRoot: telegram.apiRoot, prisma: db.prisma, budget: budget(), completer });
  const { messageId } = await runActivity(acts.sendMessage, { chatId, text: 'step 1' });
  // Another worker met a 429 with retry_after 1.
  await budget().pause(1);
  const paused = Date.now();
  // Waiting its turn, the edit gives its slot back: the activity completes asynchronously…
  await expect(runActivity(acts.updateProgress, { chatId, messageId, text: 'step 2' })).rejects.toBeInstanceOf(CompleteAsyncError);
  expect(Date.now() - paused).toBeLessThan(900);
  expect(telegram.callsTo('editMessageText')).toHaveLength(0);
  // …and reports its end once the pause has passed and the edit is made.
  expect(await completer.next()).toEqual({ completed: undefined });
  expect(telegram.callsTo('editMessageText')[0]!.at - paused).toBeGreaterThanOrEqual(950);
  expect(telegram.messagesTo(chatId).at(-1)!.text).toBe('step 2');
  expect(completer.reports).toHaveLength(1);
});

it('an edit that fails after giving its slot back reports the failure, typed as at the activity boundary', async () => {
  const chatId = 5_900_000 + nextUser++;
  const budget = () => new TelegramBudget({ prisma: db.prisma, key: budgetKey(BOT_TOKEN), ratePerSecond: CEILING, broadcastRatePerSecond: 25 });
  const completer = recordingCompleter();
  const acts = buildActivities({ telegramApiRoot: telegram.apiRoot, prisma: db.prisma, budget: budget(), completer });
  await runActivity(acts.sendMessage, { chatId, text: 'step 1' });
  await budget().pause(0.5);
  // No such message: Telegram refuses the edit once its turn comes.
  await expect(runActivity(acts.updateProgress, { chatId, messageId: 999_999, text: 'step 2' })).rejects.toBeInstanceOf(CompleteAsyncError);
  const report = await completer.next();
  expect('failed' in report).toBe(true);
  const failure = (report as { failed: unknown }).failed as ApplicationFailure;
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure.type).toBe('TelegramRequestError');
  expect(failure.nonRetryable).toBe(true);
});

it('an edit with room in the budget keeps its slot and returns as usual', async () => {
  const chatId = 5_900_000 + nextUser++;
  const completer = recordingCompleter();
  const budget = new TelegramBudget({ prisma: db.prisma, key: budgetKey(BOT_TOKEN), ratePerSecond: CEILING, broadcastRatePerSecond: 25 });
  await budget.warmUp();
  const acts = buildActivities({ telegramApiRoot: telegram.apiRoot, prisma: db.prisma, budget, completer });
  const { messageId } = await runActivity(acts.sendMessage, { chatId, text: 'step 1' });
  await expect(runActivity(acts.updateProgress, { chatId, messageId, text: 'step 2' })).resolves.toBeUndefined();
  expect(telegram.messagesTo(chatId).at(-1)!.text).toBe('step 2');
  expect(completer.reports).toHaveLength(0);
});
