import { Api } from 'grammy';
import { beforeAll, describe, expect, it } from 'vitest';
import { toApplicationFailure } from '../../src/activities/failure.js';
import { TelegramBudgetBusyError, TelegramRateLimitError } from '../../src/errors.js';
import { budgetKey, methodBudget, TelegramBudget, type TelegramBudgetOptions } from '../../src/integrations/telegram/budget.js';
import { TelegramClient } from '../../src/integrations/telegram/client.js';
import { DatabaseClock } from '../../src/integrations/telegram/database-clock.js';
import { TelegramSimulator } from '../../sandbox/simulators/telegram.js';
import { freshBudgetForEachTest } from '../helpers/budget-world.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { retryDelayMs } from '../activities/helpers.js';

// Budget instances are workers: each has its own process-local state, and they share
// only the database, as two worker processes do.

const TOKEN = '515151:budget-tests';
let db: TestDatabase;
let telegram: TelegramSimulator;
let nextChat = 70_000;

beforeAll(async () => {
  db = await createTestDatabase();
  telegram = new TelegramSimulator({ token: TOKEN, globalRatePerSecond: 20, perChatRatePerSecond: 1 });
  // The simulator's first request in a process takes some 40 ms (compiling its routes): a send
  // that late would bunch with the next ones, at the simulator and not at the sender.
  await new Api(TOKEN, { apiRoot: await telegram.start() }).getMe();
});

freshBudgetForEachTest(() => ({ db, telegram }));

/** A worker's Telegram client, with its own budget instance on the shared database. */
function worker(options: Partial<TelegramBudgetOptions> = {}): { budget: TelegramBudget; client: TelegramClient } {
  const budget = new TelegramBudget({ prisma: db.prisma, key: budgetKey(TOKEN), ratePerSecond: 20, broadcastRatePerSecond: 15, ...options });
  return { budget, client: new TelegramClient({ token: TOKEN, apiRoot: telegram.apiRoot, timeoutSeconds: 10, budget }) };
}

const chat = () => nextChat++;
const send = (client: TelegramClient, chatId: number, text = 'hi') => client.call('sendMessage', chatId, (api) => api.sendMessage(chatId, text));
const action = (client: TelegramClient, chatId: number) =>
  client.call('sendChatAction', chatId, (api) => api.sendChatAction(chatId, 'upload_video'), { priority: 'presence' });

/**
 * A chat action, tried again every 30 ms while refused busy, for up to `ms`: on a
 * loaded machine a slot that was free can be lost to a late wake-up (given up,
 * rather than sent late), which a chat action does not wait out. Resolves to the
 * time it took.
 */
async function actionWithin(client: TelegramClient, chatId: number, ms: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      await action(client, chatId);
      return Date.now() - started;
    } catch (err) {
      if (!(err instanceof TelegramBudgetBusyError) || Date.now() - started > ms) throw err;
      await new Promise((r) => setTimeout(r, 30));
    }
  }
}

/** Most of `times` within any one second. */
function peakSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= 1000) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

/** How long `promise` took to settle, and how. */
async function timed<T>(promise: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = Date.now();
  try {
    return { ms: Date.now() - started, value: await promise };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

describe('methodBudget', () => {
  it('paces what reaches a chat or answers a user, per chat only messages, and gives each method its class', () => {
    expect(methodBudget('sendVideo', 1)).toEqual({ paced: true, perChat: true, priority: 'user' });
    expect(methodBudget('copyMessage', 1)).toEqual({ paced: true, perChat: true, priority: 'user' });
    expect(methodBudget('editMessageText', 1)).toEqual({ paced: true, perChat: false, priority: 'progress' });
    expect(methodBudget('sendChatAction', 1)).toEqual({ paced: true, perChat: false, priority: 'presence' });
    expect(methodBudget('answerCallbackQuery', undefined)).toEqual({ paced: true, perChat: false, priority: 'user' });
    expect(methodBudget('getFile', undefined).paced).toBe(false);
    expect(methodBudget('setWebhook', undefined).paced).toBe(false);
  });
});

describe('TelegramBudget', () => {
  it('keeps two workers together under the bot-wide ceiling', async () => {
    const a = worker();
    const b = worker();
    const started = Date.now();
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => send(i % 2 ? a.client : b.client, chat())));
    const elapsed = Date.now() - started;
    const sends = telegram.callsTo('sendMessage');
    // 50 messages at 20/s (paced 2% under) take about 2.5 s, whichever worker sends them.
    expect(elapsed).toBeGreaterThanOrEqual(2_400);
    expect(peakSecond(sends.filter((c) => c.ok).map((c) => c.at))).toBeLessThanOrEqual(20);
    // Each left in its slot; on a loaded machine one can still reach the simulator late, when this
    // process (the simulator's too) stalls between sending it and the simulator reading it: one 429
    // at most then, which pauses both workers. (Without the shared budget: 40/s, half refused.)
    expect(telegram.stats.rateLimited).toBeLessThanOrEqual(1);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(telegram.stats.rateLimited);
  });

  it('spaces one chat’s messages a second apart across workers, and does not hold edits or chat actions to it', async () => {
    const a = worker();
    const b = worker();
    const chatId = chat();
    const sent = await send(a.client, chatId, 'first');
    const edited = await timed(a.client.call('editMessageText', chatId, (api) => api.editMessageText(chatId, sent.message_id, 'edited')));
    // A chat action never waits: it goes as soon as the schedule has a slot free, long before the chat's second is over.
    expect(await actionWithin(b.client, chatId, 500)).toBeLessThan(600);
    expect(edited.ms).toBeLessThan(300);
    const results = await Promise.allSettled([send(b.client, chatId, 'second'), send(a.client, chatId, 'third')]);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const times = telegram.callsTo('sendMessage').map((c) => c.at);
    expect(telegram.stats.rateLimited).toBe(0);
    expect(times).toHaveLength(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1_000);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(1_000);
  });

  it('gives users’ calls the schedule first: progress edits and broadcasts wait behind them, a chat action does not wait at all', async () => {
    const { budget, client } = worker({ ratePerSecond: 10 });
    const other = worker({ ratePerSecond: 10 });
    const progressChat = chat();
    const progressMessage = await send(client, progressChat, 'progress 0');
    // 40 answers at 10/s: the schedule is about 4 s ahead.
    const users = Array.from({ length: 40 }, () => send(client, chat()));
    await new Promise((r) => setTimeout(r, 100));
    const shown = await timed(action(other.client, chat()));
    const block = await other.budget.reserveBroadcast([chat(), chat()], { paid: false });
    const retryIn = block.retryAt! - Date.now();
    const progress = other.client.call('editMessageText', progressChat, (api) => api.editMessageText(progressChat, progressMessage.message_id, 'progress 1'));
    // Everything settled before anything is judged, so a failure leaves no call behind for the next test.
    await Promise.allSettled([...users, progress]);
    await Promise.all([...users, progress]);

    // The chat action was refused without waiting for the users' 4 s, and never reached Telegram.
    expect(shown.error).toBeInstanceOf(TelegramBudgetBusyError);
    expect((shown.error as TelegramBudgetBusyError).retryAfterMs).toBeGreaterThan(3_000);
    expect(shown.ms).toBeLessThan(1_000);
    expect(telegram.callsTo('sendChatAction')).toEqual([]);
    // The broadcast got nothing, and comes back when the schedule is a quarter second from the users' last slot.
    expect(block.slots).toEqual([]);
    expect(retryIn).toBeGreaterThan(3_000);
    // The edit went after every answer that kept its first slot (one woken too late gives it up and queues again).
    const userTimes = telegram.callsTo('sendMessage').slice(1).map((c) => c.at).sort((x, y) => x - y);
    expect(telegram.callsTo('editMessageText')[0]!.at).toBeGreaterThan(userTimes[userTimes.length - 1 - budget.stats.slotsGivenUp]!);
    expect(telegram.stats.rateLimited).toBe(0);
  });

  it('lets a chat action through at once when a slot is free', async () => {
    const { budget, client } = worker();
    expect(await actionWithin(client, chat(), 300)).toBeLessThan(400);
    expect(telegram.callsTo('sendChatAction')).toHaveLength(1);
    expect(budget.stats.busy).toBe(budget.stats.slotsGivenUp);
  });

  it('pauses every worker for a 429’s retry_after', async () => {
    const a = worker();
    const b = worker();
    telegram.failNext('sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 2', retryAfter: 2 });
    const limited = await timed(send(a.client, chat()));
    expect(limited.error).toBeInstanceOf(TelegramRateLimitError);
    const limitedAt = telegram.callsTo('sendMessage')[0]!.at;

    // Another worker, which never saw the 429: its chat action is refused at once, its message waits.
    const shown = await timed(action(b.client, chat()));
    expect(shown.error).toBeInstanceOf(TelegramBudgetBusyError);
    await send(b.client, chat());
    const after = telegram.callsTo('sendMessage')[1]!;
    expect(after.ok).toBe(true);
    expect(after.at - limitedAt).toBeGreaterThanOrEqual(1_950);
    expect(telegram.callsTo('sendChatAction')).toEqual([]);
  });

  it('fails a user’s call that would wait longer than it may, with the delay as the next retry’s', async () => {
    const a = worker();
    const b = worker();
    await a.budget.pause(30);
    const refused = await timed(send(b.client, chat()));
    expect(refused.ms).toBeLessThan(200);
    expect(refused.error).toBeInstanceOf(TelegramBudgetBusyError);
    // Retried 10 s before the pause ends, it waits out the rest in its slot.
    const failure = toApplicationFailure(refused.error) as Parameters<typeof retryDelayMs>[0];
    expect(failure.nonRetryable).toBe(false);
    expect(retryDelayMs(failure)).toBeGreaterThan(19_000);
    expect(retryDelayMs(failure)).toBeLessThanOrEqual(20_000);
    expect(telegram.callsTo('sendMessage')).toEqual([]);
  });

  it('reserves a paid broadcast block on the paid schedule, leaving ordinary sends their ceiling', async () => {
    const { budget, client } = worker({ paidRatePerSecond: 500, broadcastRatePerSecond: 500 });
    const chats = Array.from({ length: 100 }, chat);
    const block = await budget.reserveBroadcast(chats, { paid: true });
    expect(block.slots.map((s) => s.chatId)).toEqual(chats);
    // 100 slots 2 ms apart (500/s, 2% under): 0.2 s of schedule.
    expect(block.slots.at(-1)!.at - block.slots[0]!.at).toBeGreaterThan(195);
    expect(block.slots.at(-1)!.at - block.slots[0]!.at).toBeLessThan(215);
    // An ordinary send comes after the block (every send counts at the paid rate) but is not held to a free ceiling.
    const answered = await timed(send(client, chat()));
    expect(answered.error).toBeUndefined();
    expect(answered.ms).toBeLessThan(600);
  });

  it('frees the chat of a slot given up unused, so it need not wait a second for a message that never went', async () => {
    const { budget } = worker();
    const chatId = chat();
    const [slot] = (await budget.reserveBroadcast([chatId], { paid: false })).slots;
    // Woken 50 ms after its slot: given up.
    expect(budget.take(slot!, slot!.at - 50)).toBe(false);
    const again = await budget.reserveBroadcast([chatId], { paid: false });
    expect(again.deferred).toEqual([]);
    expect(again.slots.map((s) => s.chatId)).toEqual([chatId]);
  });

  it('defers a chat that just got a message from a broadcast block', async () => {
    const { budget, client } = worker();
    const busy = chat();
    await send(client, busy);
    const free = chat();
    const block = await budget.reserveBroadcast([busy, free], { paid: false });
    expect(block.slots.map((s) => s.chatId)).toEqual([free]);
    expect(block.deferred).toEqual([busy]);
    expect(block.deferredUntil - Date.now()).toBeGreaterThan(800);
  });
});

describe('DatabaseClock', () => {
  it('believes the fastest recent round trip, however slow the others', () => {
    const clock = new DatabaseClock();
    // The database's clock runs 1,000 ms behind ours. A slow answer (40 ms, all of it
    // waiting before the query ran) would put the offset 20 ms off; a 2 ms one, 1 ms at most.
    clock.observe(10_000, 10_040, 9_040);
    expect(clock.accurate(10_040)).toBe(false);
    clock.observe(10_100, 10_102, 9_101);
    expect(clock.accurate(10_102)).toBe(true);
    expect(clock.local(9_200, 50)).toBe(10_250);
    clock.observe(10_200, 10_260, 9_250);
    expect(clock.local(9_200, 50)).toBe(10_250);
  });
});
