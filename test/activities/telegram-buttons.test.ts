import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Activities } from '../../src/activities/index.js';
import { TelegramSimulator } from '../../sandbox/simulators/telegram.js';
import { BOT_TOKEN, buildActivities, failureOf, runActivity } from './helpers.js';

describe('inline buttons and callback queries against the simulator', () => {
  const telegram = new TelegramSimulator({ token: BOT_TOKEN, rateLimitMode: 'off' });
  let activities: Activities;
  let nextChat = 7000;
  const freshChat = (): number => nextChat++;

  beforeAll(async () => {
    activities = buildActivities({ telegramApiRoot: await telegram.start() });
  });
  afterAll(() => telegram.stop());
  beforeEach(() => telegram.reset());

  it('sends inline buttons one per row, with their callback data', async () => {
    const chatId = freshChat();
    const buttons = [
      { text: 'Subscribe to Tech News', data: 'sub:tech-news' },
      { text: 'Subscribe to Daily Science', data: 'sub:science' },
    ];

    await runActivity(activities.sendMessage, { chatId, text: 'Sources: …', buttons });

    const [sent] = telegram.messagesTo(chatId);
    expect(sent?.reply_markup).toEqual({
      inline_keyboard: [[{ text: 'Subscribe to Tech News', callback_data: 'sub:tech-news' }], [{ text: 'Subscribe to Daily Science', callback_data: 'sub:science' }]],
    });
  });

  it('sends no keyboard for an empty button list, as existing callers do', async () => {
    const chatId = freshChat();
    await runActivity(activities.sendMessage, { chatId, text: 'plain', buttons: [] });
    await runActivity(activities.sendMessage, { chatId, text: 'plain too' });
    expect(telegram.messagesTo(chatId).map((m) => m.reply_markup)).toEqual([undefined, undefined]);
    expect(telegram.callsTo('sendMessage').map((c) => c.params.reply_markup)).toEqual([undefined, undefined]);
  });

  it('refuses callback data over 64 bytes, as Telegram does, without retrying', async () => {
    const failure = await failureOf(runActivity(activities.sendMessage, { chatId: freshChat(), text: 'x', buttons: [{ text: 'b', data: 'sub:'.padEnd(65, 'x') }] }));
    expect(failure.type).toBe('TelegramRequestError');
    expect(failure.nonRetryable).toBe(true);
  });

  it('answers a callback query with a notice; a second answer (a retry) counts as done', async () => {
    const chatId = freshChat();
    const { message_id } = telegram.makeTextUpdate({ chatId, text: '/sources' }).message!;
    const press = telegram.makeCallbackQueryUpdate({ chatId, messageId: message_id, data: 'sub:tech-news' });
    const callbackQueryId = press.callback_query!.id;

    const first = await runActivity(activities.answerCallbackQuery, { callbackQueryId, text: 'Subscribed ✅' });
    const retried = await runActivity(activities.answerCallbackQuery, { callbackQueryId, text: 'Subscribed ✅' });

    expect(first).toEqual({ answered: true });
    expect(retried).toEqual({ answered: false });
    const calls = telegram.callsTo('answerCallbackQuery');
    expect(calls.map((c) => c.ok)).toEqual([true, false]);
    expect(calls[0]?.params).toMatchObject({ callback_query_id: callbackQueryId, text: 'Subscribed ✅' });
  });

  it('lets other refusals through as failures', async () => {
    const press = telegram.makeCallbackQueryUpdate({ chatId: freshChat(), messageId: 1, data: 'sub:x' });
    const failure = await failureOf(runActivity(activities.answerCallbackQuery, { callbackQueryId: press.callback_query!.id, text: 'x'.repeat(201) }));
    expect(failure.type).toBe('TelegramRequestError');
  });
});
