import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Activities } from '../../src/activities/index.js';
import { TelegramSimulator, type ChatBehaviour } from '../../sandbox/simulators/telegram.js';
import { BOT_TOKEN, buildActivities, detailsOf, expectNoSecrets, failureOf, retryDelayMs, runActivity, UNUSED_ROOT } from './helpers.js';

describe('Telegram activities against the simulator', () => {
  const telegram = new TelegramSimulator({ token: BOT_TOKEN, rateLimitMode: 'off' });
  let activities: Activities;
  let nextChat = 5000;
  /** A chat no earlier test touched, so flood windows and message ids start clean. */
  const freshChat = (): number => nextChat++;

  beforeAll(async () => {
    activities = buildActivities({ telegramApiRoot: await telegram.start() });
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

    it('maps a JSON 500 to a non-retryable TelegramAmbiguousSendError: Telegram may have sent it, so it is not sent again', async () => {
      const chatId = freshChat();
      telegram.failNext('sendMessage', { errorCode: 500, description: 'Internal Server Error' });

      const failure = await failureOf(runActivity(activities.sendMessage, { chatId, text: 'hello' }));

      expect(failure.type).toBe('TelegramAmbiguousSendError');
      expect(failure.nonRetryable).toBe(true);
      expectNoSecrets(failure);
    });

    it('maps the front end\'s HTML 502 page to a non-retryable TelegramAmbiguousSendError without leaking the token', async () => {
      telegram.configure({ serverErrorRate: 1 });
      const chatId = freshChat();
      // Random 5xx are half JSON 500, half nginx HTML 502: go on until a 502 was answered.
      for (let i = 0; i < 40 && !telegram.calls.some((c) => c.errorCode === 502); i++) {
        const failure = await failureOf(runActivity(activities.sendMessage, { chatId, text: `try ${i}` }));
        expect(failure.type).toBe('TelegramAmbiguousSendError');
        expect(failure.nonRetryable).toBe(true);
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

  describe('showChatActions (one beat of the fleet presence loop)', () => {
    it('shows the action once in every chat of the beat', async () => {
      const chats = [freshChat(), freshChat(), freshChat(), freshChat(), freshChat()];

      const beat = await runActivity(activities.showChatActions, { chatIds: chats, action: 'upload_video' });

      expect(beat).toEqual({ shown: 5, skipped: 0 });
      const calls = telegram.callsTo('sendChatAction');
      expect(calls.map((c) => c.chatId).sort()).toEqual([...chats].sort());
      expect(calls.every((c) => c.ok && c.params['action'] === 'upload_video')).toBe(true);
    });

    it('skips a blocked chat and a 5xx without failing, and shows the others', async () => {
      const [blocked, fine] = [freshChat(), freshChat()];
      telegram.setChat(blocked, 'blocked');
      expect(await runActivity(activities.showChatActions, { chatIds: [blocked, fine], action: 'typing' })).toEqual({ shown: 1, skipped: 1 });

      telegram.failNext('sendChatAction', { errorCode: 500, description: 'Internal Server Error' });
      expect(await runActivity(activities.showChatActions, { chatIds: [fine], action: 'typing' })).toEqual({ shown: 0, skipped: 1 });
    });

    it('stops the beat at the first 429: chat actions never compete with answers and videos', async () => {
      const chats = Array.from({ length: 40 }, freshChat);
      telegram.failNext('sendChatAction', { errorCode: 429, description: 'Too Many Requests: retry after 3', retryAfter: 3 });

      const beat = await runActivity(activities.showChatActions, { chatIds: chats, action: 'upload_video' });

      // The calls already under way when the 429 came back finish; none starts after it.
      expect(beat.shown + beat.skipped).toBe(40);
      expect(beat.skipped).toBeGreaterThanOrEqual(40 - 8);
      expect(telegram.callsTo('sendChatAction').length).toBeLessThanOrEqual(2 * 8);
    });
  });
});
