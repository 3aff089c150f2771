import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RecentKeys } from '../gateway/recent-keys.js';

/** At most `limit` updates per user in each window of `windowSeconds`. */
export interface UpdateRate {
  limit: number;
  windowSeconds: number;
}

/** What to do with an update: handle it, answer "slow down" once, or drop it silently. */
export type UpdateVerdict = 'accept' | 'slow-down' | 'drop';

/** How many failed updates are remembered, and for how long (Telegram keeps an update at most 24 h). */
export interface RedeliveryMemory {
  capacity: number;
  ttlMs: number;
}

const DEFAULT_REDELIVERY_MEMORY: RedeliveryMemory = { capacity: 10_000, ttlMs: 24 * 60 * 60 * 1000 };

/**
 * Per-user ceiling on incoming updates, counted in fixed windows that start
 * with a user's first update. The first update beyond the ceiling in a window
 * is `slow-down`, later ones are `drop`. Counts live in this process's memory:
 * each gateway instance counts on its own, and a restart forgets them.
 *
 * An update counts once however often Telegram delivers it. Telegram redelivers
 * an update (same `update_id`) only after a non-2xx answer, i.e. after an
 * accepted update failed to start its workflow (Temporal unreachable: 503);
 * {@link expectRedelivery} remembers those ids, and their redelivery is accepted
 * without being counted again, so an outage cannot turn a user's own updates
 * into "spam" that is then dropped for good. The memory holds only failed
 * updates (none in normal running) and is bounded by {@link RedeliveryMemory}.
 */
export class UpdateRateLimiter {
  /** Updates turned away since start (`slow-down` and `drop`), for metrics. */
  dropped = 0;
  /** Redeliveries accepted without counting them again, for tests and metrics. */
  redeliveriesPassed = 0;
  /** Told when a user first goes over the ceiling in a window, e.g. to log it. */
  onSlowDown: ((userId: number) => void) | undefined;
  /** Told of every update turned away, e.g. to count it in metrics. */
  onThrottled: ((verdict: Exclude<UpdateVerdict, 'accept'>) => void) | undefined;
  private readonly counter: RateLimiterMemory;
  private readonly failed: RecentKeys<number>;

  constructor(
    readonly rate: UpdateRate,
    memory: RedeliveryMemory = DEFAULT_REDELIVERY_MEMORY,
  ) {
    this.counter = new RateLimiterMemory({ points: rate.limit, duration: rate.windowSeconds });
    this.failed = new RecentKeys(memory.capacity, memory.ttlMs);
  }

  /** Counts one update of `userId`; a redelivery of a failed update (`updateId`) passes uncounted. */
  async check(userId: number, updateId?: number): Promise<UpdateVerdict> {
    if (updateId !== undefined && this.failed.take(updateId)) {
      this.redeliveriesPassed += 1;
      return 'accept';
    }
    try {
      await this.counter.consume(String(userId));
      return 'accept';
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      this.dropped += 1;
      if (res.consumedPoints !== this.rate.limit + 1) {
        this.onThrottled?.('drop');
        return 'drop';
      }
      this.onThrottled?.('slow-down');
      this.onSlowDown?.(userId);
      return 'slow-down';
    }
  }

  /** An accepted update could not be handled (the gateway answers non-2xx): its redelivery is not counted. */
  expectRedelivery(updateId: number): void {
    this.failed.add(updateId);
  }
}
