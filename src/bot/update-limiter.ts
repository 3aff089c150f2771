import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/** At most `limit` updates per user in each window of `windowSeconds`. */
export interface UpdateRate {
  limit: number;
  windowSeconds: number;
}

/** What to do with an update: handle it, answer "slow down" once, or drop it silently. */
export type UpdateVerdict = 'accept' | 'slow-down' | 'drop';

/**
 * Per-user ceiling on incoming updates, counted in fixed windows that start
 * with a user's first update. The first update beyond the ceiling in a window
 * is `slow-down`, later ones are `drop`. Counts live in this process's memory:
 * each gateway instance counts on its own, and a restart forgets them.
 */
export class UpdateRateLimiter {
  /** Updates turned away since start (`slow-down` and `drop`), for metrics. */
  dropped = 0;
  /** Told when a user first goes over the ceiling in a window, e.g. to log it. */
  onSlowDown: ((userId: number) => void) | undefined;
  /** Told of every update turned away, e.g. to count it in metrics. */
  onThrottled: ((verdict: Exclude<UpdateVerdict, 'accept'>) => void) | undefined;
  private readonly counter: RateLimiterMemory;

  constructor(readonly rate: UpdateRate) {
    this.counter = new RateLimiterMemory({ points: rate.limit, duration: rate.windowSeconds });
  }

  async check(userId: number): Promise<UpdateVerdict> {
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
}
