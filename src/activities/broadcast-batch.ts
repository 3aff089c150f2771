import type { DeliveryOutcome } from '../db/deliveries.js';
import { BotBlockedError, ChatNotFoundError, TelegramRateLimitError, TelewanError } from '../errors.js';

/** Claims of one (summary, chat) before it is given up: each claim is one attempt that may have reached Telegram. */
export const MAX_CLAIMS = 5;
/** Network/5xx failures retried within one batch run, with a growing pause. */
export const MAX_TRANSIENT_RETRIES = 3;
/** 429s one message may meet before it is given up for this run. */
export const MAX_RATE_LIMITED = 20;

/** One chat of a batch and how its sends have gone in this run. */
export interface Recipient {
  chatId: number;
  userId: number;
  /** A send to this chat has gone out in this attempt: its claim stays counted. */
  launched: boolean;
  transient: number;
  limited: number;
  /** Not to be sent before this time (a transient failure's backoff, or a deferral by the budget). */
  notBefore: number;
}


/**
 * The recipients of one `deliverSummaryBatch` run, without I/O: who is still to
 * be sent, who may be sent now, and what a failed send means (given up with an
 * outcome, or back in line, after a backoff for a transient failure).
 * test/activities/broadcast-batch.test.ts runs it alone.
 */
export class BatchRecipients {
  /** Still to be sent, in claim order (a retried one at the end). */
  readonly queue: Recipient[] = [];
  /** Outcomes decided without a send: chats claimed {@link MAX_CLAIMS} times already. */
  readonly givenUp: DeliveryOutcome[] = [];

  constructor(claimed: ReadonlyArray<{ chatId: number; attempts: number }>, userOf: (chatId: number) => number | undefined) {
    for (const { chatId, attempts } of claimed) {
      if (attempts > MAX_CLAIMS) this.givenUp.push({ chatId, status: 'failed', error: `gave up after ${MAX_CLAIMS} attempts` });
      else this.queue.push({ chatId, userId: userOf(chatId) ?? chatId, launched: false, transient: 0, limited: 0, notBefore: 0 });
    }
  }

  /** Those that may be sent at `now`. */
  ready(now: number): Recipient[] {
    return this.queue.filter((r) => r.notBefore <= now);
  }

  /** When the next queued one may be sent; Infinity when none is queued. */
  nextAt(): number {
    return Math.min(...this.queue.map((r) => r.notBefore));
  }

  /** `r` is being sent: out of the queue, its claim counted. */
  launch(r: Recipient): void {
    this.queue.splice(this.queue.indexOf(r), 1);
    r.launched = true;
  }

  /**
   * A send to `r` failed with `err`: the outcome to write, or undefined when
   * `r` is back in the queue (a 429, which the client has already paused the
   * fleet for; a retryable failure, after 1, 2, 4 s).
   */
  failed(r: Recipient, err: unknown, now: number): DeliveryOutcome | undefined {
    if (err instanceof TelegramRateLimitError) {
      if (++r.limited > MAX_RATE_LIMITED) return { chatId: r.chatId, status: 'failed', error: 'rate limited' };
      this.queue.push(r);
      return undefined;
    }
    if (err instanceof BotBlockedError) return { chatId: r.chatId, status: 'blocked', error: err.reason, blocked: { userId: r.userId, reason: err.reason } };
    if (err instanceof ChatNotFoundError) return { chatId: r.chatId, status: 'not_found' };
    if (err instanceof TelewanError && err.retryable && ++r.transient <= MAX_TRANSIENT_RETRIES) {
      r.notBefore = now + 1000 * 2 ** (r.transient - 1);
      this.queue.push(r);
      return undefined;
    }
    return { chatId: r.chatId, status: 'failed', error: err instanceof Error ? err.message : String(err) };
  }

  /** The chats this run never sent to: their claims go back. */
  untried(): number[] {
    return this.queue.filter((r) => !r.launched).map((r) => r.chatId);
  }
}
