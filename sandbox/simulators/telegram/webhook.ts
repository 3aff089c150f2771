import type { TimerSet } from '../shared/timers.js';
import type { TgUpdate, TgWebhookInfo } from './types.js';

/** Outcome of delivering one update to the bot's webhook. */
export interface PushResult {
  /** HTTP status of the last attempt; 0 when no answer came (refused, reset, timed out). */
  status: number;
  body: string;
  /** Duration of the last attempt. */
  latencyMs: number;
  attempts: number;
  /** Why the last attempt got no HTTP answer. */
  error?: string;
  /**
   * A method the bot answered the webhook with (grammY's webhook reply), which
   * Telegram then runs, and whether it succeeded.
   */
  webhookReply?: { method: string; ok: boolean; errorCode?: number };
}

/** How `pushUpdate` behaves. */
export interface PushOptions {
  /** Resend the same update this many more times after a non-2xx answer or none. Default 0. */
  retries?: number;
  /** Pause between attempts. Default 100 ms (Telegram waits longer, and grows it). */
  retryDelayMs?: number;
  /** Give up on an attempt after this long. Default: the simulator's `webhookTimeoutMs` (60 s). */
  timeoutMs?: number;
}

/** Where, and with which secret, Telegram posts updates; plus what `getWebhookInfo` reports. */
export class WebhookTarget {
  url = '';
  secretToken: string | undefined;
  maxConnections = 40;
  allowedUpdates: string[] | undefined;
  lastErrorDate: number | undefined;
  lastErrorMessage: string | undefined;
  pending = 0;

  set(url: string, secretToken?: string, maxConnections?: number, allowedUpdates?: string[]): void {
    this.url = url;
    this.secretToken = secretToken;
    this.maxConnections = maxConnections ?? 40;
    this.allowedUpdates = allowedUpdates;
    this.lastErrorDate = undefined;
    this.lastErrorMessage = undefined;
  }

  clear(): void {
    this.set('');
  }

  info(): TgWebhookInfo {
    const info: TgWebhookInfo = { url: this.url, has_custom_certificate: false, pending_update_count: this.pending };
    if (this.url) info.max_connections = this.maxConnections;
    if (this.url) info.ip_address = '127.0.0.1';
    if (this.allowedUpdates) info.allowed_updates = this.allowedUpdates;
    if (this.lastErrorDate !== undefined) info.last_error_date = this.lastErrorDate;
    if (this.lastErrorMessage !== undefined) info.last_error_message = this.lastErrorMessage;
    return info;
  }

  /**
   * POSTs `update` as JSON, with `X-Telegram-Bot-Api-Secret-Token` when a secret is
   * set, as Telegram does; resends the identical body on failure if asked to.
   */
  async push(update: TgUpdate, opts: Required<PushOptions>, timers: TimerSet, stopped: AbortSignal): Promise<PushResult> {
    if (!this.url) throw new Error('No webhook is set: the bot must call setWebhook, or use setWebhookTarget()');
    const url = this.url;
    const body = JSON.stringify(update);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.secretToken) headers['x-telegram-bot-api-secret-token'] = this.secretToken;

    this.pending++;
    try {
      let result: PushResult = { status: 0, body: '', latencyMs: 0, attempts: 0 };
      for (let attempt = 1; attempt <= opts.retries + 1; attempt++) {
        if (attempt > 1) await timers.sleep(opts.retryDelayMs);
        if (stopped.aborted) break;
        result = { ...(await postOnce(url, headers, body, opts.timeoutMs, stopped)), attempts: attempt };
        if (result.status >= 200 && result.status < 300) return result;
        this.lastErrorDate = Math.floor(Date.now() / 1000);
        this.lastErrorMessage = result.status ? `Wrong response from the webhook: ${result.status} ${result.body.slice(0, 64)}`.trim() : (result.error ?? 'Connection refused');
      }
      return result;
    } finally {
      this.pending--;
    }
  }
}

async function postOnce(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  stopped: AbortSignal,
): Promise<Omit<PushResult, 'attempts'>> {
  const started = performance.now();
  const signal = AbortSignal.any([stopped, AbortSignal.timeout(timeoutMs)]);
  try {
    const res = await fetch(url, { method: 'POST', headers, body, signal });
    const text = await res.text();
    return { status: res.status, body: text, latencyMs: performance.now() - started };
  } catch (err) {
    const error = signal.aborted && !stopped.aborted ? 'Read timeout expired' : describe(err);
    return { status: 0, body: '', latencyMs: performance.now() - started, error };
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

/**
 * Updates waiting for `getUpdates` (long polling), for bots run without a webhook.
 * A newer `getUpdates` call ends a waiting older one with 409, as Telegram does.
 */
export class UpdateQueue {
  private updates: TgUpdate[] = [];
  private waiter: { wake: (conflict: boolean) => void } | undefined;

  push(update: TgUpdate): void {
    this.updates.push(update);
    this.waiter?.wake(false);
  }

  get size(): number {
    return this.updates.length;
  }

  /** Confirms updates below `offset`, then returns up to `limit`, waiting up to `timeoutMs` for one. */
  async take(offset: number | undefined, limit: number, timeoutMs: number, timers: TimerSet): Promise<TgUpdate[] | 'conflict'> {
    if (offset !== undefined) this.updates = this.updates.filter((u) => u.update_id >= offset);
    this.waiter?.wake(true);
    if (this.updates.length === 0 && timeoutMs > 0) {
      let waiter: { wake: (conflict: boolean) => void } | undefined;
      const conflict = await new Promise<boolean>((resolve) => {
        const timer = timers.set(() => resolve(false), timeoutMs);
        waiter = {
          wake: (c: boolean): void => {
            timers.clear(timer);
            resolve(c);
          },
        };
        this.waiter = waiter;
      });
      if (this.waiter === waiter) this.waiter = undefined;
      if (conflict) return 'conflict';
    }
    return this.updates.slice(0, limit);
  }

  /** Ends any waiting `getUpdates` (on stop). */
  wake(): void {
    this.waiter?.wake(false);
    this.waiter = undefined;
  }

  clear(): void {
    this.updates = [];
  }
}
