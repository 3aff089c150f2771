import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Activities } from '../../src/activities/index.js';
import { TelegramSimulator, type ChatBehaviour } from '../../src/simulators/telegram.js';
import { activityEnv, BOT_TOKEN, buildActivities, detailsOf, eventually, expectNoSecrets, failureOf, retryDelayMs, runActivity, runIn, UNUSED_ROOT } from './helpers.js';

describe('Telegram activities against the simulator', () => {
  const telegram = new TelegramSimulator({ token: BOT_TOKEN, rateLimitMode: 'off' });
  let activities: Activities;
  let nextChat = 5000;
  /** A chat no earlier test touched, so flood windows and message ids start clean. */
  const freshChat = (): number => nextChat++;

  beforeAll(async () => {
    activities = buildActivities({ telegramApiRoot: await telegram.start(), chatActionIntervalMs: 50 });
  });
  afterAll(() => telegram.stop());
  beforeEach(() => telegram.reset());
  afterEach(() => telegram.configure({ rateLimitMode: 'off', serverErrorRate: 0 }));

  describe('sendMessage', () => {
    it('sends the text as a reply and returns the id Telegram gave the message', async () => {
      const chatId = freshChat();
      const incoming = telegram.makeTextUpdate({ chatId, text: 'make it move' }).message!;

      const { messageId } = await runActivity(activities.sendMessage, { chatId, text: 'Got it, working on it…', replyToMessageId: incoming.message_id });

      const [sent] = telegram.messagesTo(chatId);
      expect(messageId).toBe(sent?.message_id);
      expect(messageId).toBeGreaterThan(incoming.message_id);
      expect(sent?.text).toBe('Got it, working on it…');
      expect(sent?.message.reply_to_message?.message_id).toBe(incoming.message_id);
    });

    it('maps a 429 to a retryable TelegramRateLimitError whose retry delay is retry_after seconds', async () => {
      const chatId = freshChat();
      telegram.failNext('sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 7', retryAfter: 7 });

      const failure = await failureOf(runActivity(activities.sendMessage, { chatId, text: 'hello' }));

      expect(failure.type).toBe('TelegramRateLimitError');
      expect(failure.nonRetryable).toBe(false);
      expect(retryDelayMs(failure)).toBe(7000);
      expect(detailsOf(failure)).toMatchObject({ retryAfterSeconds: 7 });
      expect(telegram.messagesTo(chatId)).toHaveLength(0);
      expectNoSecrets(failure);
    });

    it('maps the per-chat flood limit to TelegramRateLimitError with Telegram\'s retry_after', async () => {
      telegram.configure({ rateLimitMode: 'enforce' });
      const chatId = freshChat();
      await runActivity(activities.sendMessage, { chatId, text: 'one' });

      const failure = await failureOf(runActivity(activities.sendMessage, { chatId, text: 'two' }));

      const refused = telegram.callsTo('sendMessage')[1];
      expect(refused).toMatchObject({ ok: false, errorCode: 429 });
      const retryAfter = (refused?.description ?? '').match(/retry after (\d+)/)?.[1];
      expect(failure.type).toBe('TelegramRateLimitError');
      expect(failure.nonRetryable).toBe(false);
      expect(retryDelayMs(failure)).toBe(Number(retryAfter) * 1000);
      expect(retryDelayMs(failure)).toBeGreaterThanOrEqual(1000);
      expect(telegram.messagesTo(chatId).map((m) => m.text)).toEqual(['one']);
    });

    it.each<[ChatBehaviour, string]>([
      ['blocked', 'blocked'],
      ['deactivated', 'deactivated'],
      ['cant-initiate', 'cant-initiate'],
    ])('maps a 403 for a %s chat to a non-retryable BotBlockedError', async (behaviour, reason) => {
      const chatId = freshChat();
      telegram.setChat(chatId, behaviour);

      const failure = await failureOf(runActivity(activities.sendMessage, { chatId, text: 'are you there?' }));

      expect(telegram.callsTo('sendMessage')[0]).toMatchObject({ ok: false, errorCode: 403 });
      expect(failure.type).toBe('BotBlockedError');
      expect(failure.nonRetryable).toBe(true);
      expect(detailsOf(failure)).toMatchObject({ chatId, reason });
      expectNoSecrets(failure);
    });

    it('maps "chat not found" to a non-retryable ChatNotFoundError', async () => {
      const chatId = freshChat();
      telegram.setChat(chatId, 'not-found');

      const failure = await failureOf(runActivity(activities.sendMessage, { chatId, text: 'hello?' }));

      expect(failure.type).toBe('ChatNotFoundError');
      expect(failure.nonRetryable).toBe(true);
      expect(detailsOf(failure)).toMatchObject({ chatId });
      expectNoSecrets(failure);
    });

    it('maps a JSON 500 to a retryable TelegramUnavailableError without a fixed delay', async () => {
      const chatId = freshChat();
      telegram.failNext('sendMessage', { errorCode: 500, description: 'Internal Server Error' });

      const failure = await failureOf(runActivity(activities.sendMessage, { chatId, text: 'hello' }));

      expect(failure.type).toBe('TelegramUnavailableError');
      expect(failure.nonRetryable).toBe(false);
      expect(retryDelayMs(failure)).toBeUndefined();
      expectNoSecrets(failure);
    });

    it('maps the front end\'s HTML 502 page to a retryable TelegramUnavailableError without leaking the token', async () => {
      telegram.configure({ serverErrorRate: 1 });
      const chatId = freshChat();
      // Random 5xx are half JSON 500, half nginx HTML 502: go on until a 502 was answered.
      for (let i = 0; i < 40 && !telegram.calls.some((c) => c.errorCode === 502); i++) {
        const failure = await failureOf(runActivity(activities.sendMessage, { chatId, text: `try ${i}` }));
        expect(failure.type).toBe('TelegramUnavailableError');
        expect(failure.nonRetryable).toBe(false);
        expectNoSecrets(failure);
      }
      expect(telegram.calls.some((c) => c.errorCode === 502)).toBe(true);
    });
    it('maps an unreachable Bot API to a retryable TelegramUnavailableError without leaking the token', async () => {
      const offline = buildActivities({ telegramApiRoot: UNUSED_ROOT });

      const failure = await failureOf(runActivity(offline.sendMessage, { chatId: freshChat(), text: 'anyone?' }));

      expect(failure.type).toBe('TelegramUnavailableError');
      expect(failure.nonRetryable).toBe(false);
      expectNoSecrets(failure);
    });
  });

  describe('updateProgress', () => {
    it('edits the progress message in place', async () => {
      const chatId = freshChat();
      const { messageId } = await runActivity(activities.sendMessage, { chatId, text: 'Generating… 0%' });

      await runActivity(activities.updateProgress, { chatId, messageId, text: 'Generating… 40%' });

      const messages = telegram.messagesTo(chatId);
      expect(messages).toHaveLength(1);
      expect(messages[0]?.text).toBe('Generating… 40%');
      expect(messages[0]?.edits.map((e) => e.text)).toEqual(['Generating… 0%']);
    });

    it('treats an identical edit ("message is not modified") as done', async () => {
      const chatId = freshChat();
      const { messageId } = await runActivity(activities.sendMessage, { chatId, text: 'Generating… 40%' });

      await expect(runActivity(activities.updateProgress, { chatId, messageId, text: 'Generating… 40%' })).resolves.toBeUndefined();

      const [edit] = telegram.callsTo('editMessageText');
      expect(edit).toMatchObject({ ok: false, errorCode: 400 });
      expect(edit?.description).toMatch(/message is not modified/);
      expect(telegram.messagesTo(chatId)[0]?.edits).toHaveLength(0);
    });

    it('fails non-retryably with TelegramRequestError when the message is gone', async () => {
      const chatId = freshChat();
      await runActivity(activities.sendMessage, { chatId, text: 'something' });

      const failure = await failureOf(runActivity(activities.updateProgress, { chatId, messageId: 9999, text: 'x' }));

      expect(failure.type).toBe('TelegramRequestError');
      expect(failure.nonRetryable).toBe(true);
      expect(detailsOf(failure)).toMatchObject({ method: 'editMessageText', description: 'Bad Request: message to edit not found' });
      expectNoSecrets(failure);
    });

    it('maps a 429 on the edit to TelegramRateLimitError with retry_after as the delay', async () => {
      const chatId = freshChat();
      const { messageId } = await runActivity(activities.sendMessage, { chatId, text: 'Generating… 10%' });
      telegram.failNext('editMessageText', { errorCode: 429, description: 'Too Many Requests: retry after 3', retryAfter: 3 });

      const failure = await failureOf(runActivity(activities.updateProgress, { chatId, messageId, text: 'Generating… 20%' }));

      expect(failure.type).toBe('TelegramRateLimitError');
      expect(failure.nonRetryable).toBe(false);
      expect(retryDelayMs(failure)).toBe(3000);
      expect(telegram.messagesTo(chatId)[0]?.text).toBe('Generating… 10%');
    });

    it('maps a blocked chat to BotBlockedError and a 5xx to TelegramUnavailableError', async () => {
      const chatId = freshChat();
      const { messageId } = await runActivity(activities.sendMessage, { chatId, text: 'Generating… 10%' });

      telegram.failNext('editMessageText', { errorCode: 502, description: 'Bad Gateway' });
      const unavailable = await failureOf(runActivity(activities.updateProgress, { chatId, messageId, text: 'Generating… 20%' }));
      expect(unavailable.type).toBe('TelegramUnavailableError');
      expect(unavailable.nonRetryable).toBe(false);
      expectNoSecrets(unavailable);

      telegram.setChat(chatId, 'blocked');
      const blocked = await failureOf(runActivity(activities.updateProgress, { chatId, messageId, text: 'Generating… 30%' }));
      expect(blocked.type).toBe('BotBlockedError');
      expect(blocked.nonRetryable).toBe(true);
      expect(detailsOf(blocked)).toMatchObject({ chatId, reason: 'blocked' });
      expectNoSecrets(blocked);
    });
  });

  describe('keepChatAction', () => {
    it('repeats the chat action every interval, heartbeating, until cancelled', async () => {
      const chatId = freshChat();
      const env = activityEnv();
      let heartbeats = 0;
      env.on('heartbeat', () => heartbeats++);

      const running = runIn(env, activities.keepChatAction, { chatId, action: 'upload_video' });
      await eventually(() => telegram.callsTo('sendChatAction').length >= 4);
      env.cancel();
      await expect(running).resolves.toBeUndefined();

      const calls = telegram.callsTo('sendChatAction');
      expect(calls.every((c) => c.ok && c.chatId === chatId && c.params['action'] === 'upload_video')).toBe(true);
      const gaps = calls.slice(1).map((c, i) => c.at - calls[i]!.at);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(40);
      expect(Math.max(...gaps)).toBeLessThan(1000);
      expect(heartbeats).toBeGreaterThanOrEqual(calls.length - 1);

      // Nothing more once it returned.
      const after = calls.length;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(telegram.callsTo('sendChatAction')).toHaveLength(after);
    });

    it('skips a transient 5xx and waits retry_after after a 429 before the next action', async () => {
      const chatId = freshChat();
      const env = activityEnv();
      telegram.failNext('sendChatAction', { errorCode: 500, description: 'Internal Server Error' });

      const running = runIn(env, activities.keepChatAction, { chatId, action: 'typing' });
      await eventually(() => telegram.callsTo('sendChatAction').filter((c) => c.ok).length >= 1);
      telegram.failNext('sendChatAction', { errorCode: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1 });
      const limited = await eventually(() => telegram.callsTo('sendChatAction').find((c) => c.errorCode === 429));
      const next = await eventually(() => telegram.callsTo('sendChatAction').find((c) => c.at > limited.at), 3000);
      env.cancel();
      await expect(running).resolves.toBeUndefined();

      expect(telegram.callsTo('sendChatAction')[0]).toMatchObject({ ok: false, errorCode: 500 });
      expect(next.at - limited.at).toBeGreaterThanOrEqual(950);
    });

    it('ends with a non-retryable BotBlockedError when the user blocked the bot', async () => {
      const chatId = freshChat();
      telegram.setChat(chatId, 'blocked');

      const failure = await failureOf(runActivity(activities.keepChatAction, { chatId, action: 'upload_video' }));

      expect(failure.type).toBe('BotBlockedError');
      expect(failure.nonRetryable).toBe(true);
      expect(telegram.callsTo('sendChatAction')).toHaveLength(1);
      expectNoSecrets(failure);
    });

    it('ends with a non-retryable ChatNotFoundError when the chat is gone', async () => {
      const chatId = freshChat();
      telegram.setChat(chatId, 'not-found');
      const before = telegram.callsTo('sendChatAction').length;

      const failure = await failureOf(runActivity(activities.keepChatAction, { chatId, action: 'upload_video' }));

      expect(failure.type).toBe('ChatNotFoundError');
      expect(failure.nonRetryable).toBe(true);
      expect(telegram.callsTo('sendChatAction').length - before).toBe(1);
    });
  });
});
