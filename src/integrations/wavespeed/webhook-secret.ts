/** The webhook secret cannot be had right now (WaveSpeed failed to give it): answer 503 and let the sender retry. */
export class WebhookSecretUnavailableError extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(`The WaveSpeed webhook secret is unavailable; trying again in ${retryAfterSeconds} s`, options);
    this.name = 'WebhookSecretUnavailableError';
  }
}

export interface WebhookSecretCacheOptions {
  /** Pause after the first failed fetch; it doubles with each failure. Default 1 s. */
  initialBackoffMs?: number;
  /** Longest pause between fetches. Default 60 s. */
  maxBackoffMs?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

/**
 * The secret WaveSpeed signs webhooks with, fetched once and kept. At most one
 * fetch runs at a time (callers share it), and after a failed one no other
 * starts until its backoff has passed: meanwhile {@link get} rejects at once
 * with {@link WebhookSecretUnavailableError}. So however many callbacks (or
 * forgeries) arrive while WaveSpeed is failing, it is asked at most once per
 * backoff period.
 */
export class WebhookSecretCache {
  /** Fetches made since start, for tests and logs. */
  fetches = 0;
  private secret: string | undefined;
  private inFlight: Promise<string> | undefined;
  private retryAt = 0;
  private backoffMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly now: () => number;

  constructor(
    private readonly fetchSecret: () => Promise<string>,
    options: WebhookSecretCacheOptions = {},
  ) {
    this.initialBackoffMs = options.initialBackoffMs ?? 1_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 60_000;
    this.backoffMs = this.initialBackoffMs;
    this.now = options.now ?? Date.now;
  }

  /** The secret; rejects with {@link WebhookSecretUnavailableError} while it cannot be fetched. */
  get(): Promise<string> {
    if (this.secret !== undefined) return Promise.resolve(this.secret);
    if (this.inFlight) return this.inFlight;
    const wait = this.retryAt - this.now();
    if (wait > 0) return Promise.reject(new WebhookSecretUnavailableError(Math.ceil(wait / 1000)));
    this.fetches += 1;
    this.inFlight = this.fetchSecret().then(
      (secret) => {
        this.secret = secret;
        this.backoffMs = this.initialBackoffMs;
        this.inFlight = undefined;
        return secret;
      },
      (err: unknown) => {
        const pause = this.backoffMs;
        this.retryAt = this.now() + pause;
        this.backoffMs = Math.min(pause * 2, this.maxBackoffMs);
        this.inFlight = undefined;
        throw new WebhookSecretUnavailableError(Math.ceil(pause / 1000), { cause: err });
      },
    );
    return this.inFlight;
  }
}
