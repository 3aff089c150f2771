import { describe, expect, it } from 'vitest';
import { BatchRecipients, MAX_CLAIMS, MAX_RATE_LIMITED, MAX_TRANSIENT_RETRIES } from '../../src/activities/broadcast-batch.js';
import { BotBlockedError, ChatNotFoundError, TelegramRateLimitError, TelegramRequestError, TelegramUnavailableError } from '../../src/errors.js';

/** One batch's recipients and what each failed send means, without a database or Telegram. */

const batch = (...claims: Array<[chatId: number, attempts: number]>) =>
  new BatchRecipients(claims.map(([chatId, attempts]) => ({ chatId, attempts })), (chatId) => chatId + 1000);

describe('BatchRecipients', () => {
  it('gives up a chat claimed too often without sending, and queues the rest with their users', () => {
    const r = batch([1, 1], [2, MAX_CLAIMS + 1], [3, MAX_CLAIMS]);
    expect(r.givenUp).toEqual([{ chatId: 2, status: 'failed', error: `gave up after ${MAX_CLAIMS} attempts` }]);
    expect(r.queue.map((q) => [q.chatId, q.userId])).toEqual([[1, 1001], [3, 1003]]);
  });

  it('takes a launched chat out of the queue and never gives its claim back', () => {
    const r = batch([1, 1], [2, 1]);
    const first = r.queue[0]!;
    r.launch(first);
    expect(r.queue.map((q) => q.chatId)).toEqual([2]);
    expect(r.untried()).toEqual([2]);
    // Back in the queue after a 429, it still counts as tried: its claim is not given back.
    expect(r.failed(first, new TelegramRateLimitError(3), 0)).toBeUndefined();
    expect(r.queue.map((q) => q.chatId)).toEqual([2, 1]);
    expect(r.untried()).toEqual([2]);
  });

  it('requeues a 429 at once, up to a limit, then fails it', () => {
    const r = batch([1, 1]);
    const one = r.queue[0]!;
    r.launch(one);
    for (let i = 0; i < MAX_RATE_LIMITED; i++) {
      expect(r.failed(one, new TelegramRateLimitError(1), 0)).toBeUndefined();
      expect(r.ready(0)).toEqual([one]);
      r.launch(one);
    }
    expect(r.failed(one, new TelegramRateLimitError(1), 0)).toEqual({ chatId: 1, status: 'failed', error: 'rate limited' });
    expect(r.queue).toEqual([]);
  });

  it('backs off a retryable failure 1, 2, 4 s, then fails it', () => {
    const r = batch([1, 1]);
    const one = r.queue[0]!;
    let now = 10_000;
    for (const pause of [1000, 2000, 4000].slice(0, MAX_TRANSIENT_RETRIES)) {
      r.launch(one);
      expect(r.failed(one, new TelegramUnavailableError('sendMessage', 'reset'), now)).toBeUndefined();
      expect(r.ready(now + pause - 1)).toEqual([]);
      expect(r.nextAt()).toBe(now + pause);
      now += pause;
      expect(r.ready(now)).toEqual([one]);
    }
    r.launch(one);
    expect(r.failed(one, new TelegramUnavailableError('sendMessage', 'reset'), now)).toMatchObject({ chatId: 1, status: 'failed' });
    expect(r.nextAt()).toBe(Infinity);
  });

  it('records a block with its user, a missing chat, and a refused request as outcomes at once', () => {
    const r = batch([1, 1], [2, 1], [3, 1]);
    const [a, b, c] = r.queue;
    expect(r.failed(a!, new BotBlockedError(1, 'blocked', 'Forbidden: bot was blocked by the user'), 0)).toEqual({
      chatId: 1,
      status: 'blocked',
      error: 'blocked',
      blocked: { userId: 1001, reason: 'blocked' },
    });
    expect(r.failed(b!, new ChatNotFoundError(2), 0)).toEqual({ chatId: 2, status: 'not_found' });
    expect(r.failed(c!, new TelegramRequestError('sendMessage', 'Bad Request: message is too long'), 0)).toMatchObject({ chatId: 3, status: 'failed' });
  });
});
