import { Api, HttpError } from 'grammy';
import {
  TelegramAmbiguousSendError,
  TelegramFileTooLargeError,
  TelegramRateLimitError,
  TelegramRequestError,
  TelegramUnavailableError,
} from '../../errors.js';
import { TELEGRAM_LIMITS, TELEGRAM_MEDIA_TIMEOUT_SECONDS, TELEGRAM_SEND_TIMEOUT_SECONDS } from '../../constants.js';
import type { WorkerMetrics } from '../../observability/metrics.js';
import { isMessageSend, methodBudget, type ReservedSlot, type TelegramBudget, type TelegramPriority } from './budget.js';
import { classifyTelegramError, isAmbiguousSendFailure } from './errors.js';

export interface TelegramClientOptions {
  token: string;
  /** Bot API root, e.g. `https://api.telegram.org` or a simulator's URL. */
  apiRoot: string;
  /** Per-request timeout. */
  timeoutSeconds?: number;
  /** Per-request timeout of {@link TelegramClient.sendMedia}; default {@link TELEGRAM_MEDIA_TIMEOUT_SECONDS}. */
  mediaTimeoutSeconds?: number;
  /** Per-request timeout of {@link TelegramClient.send}; default {@link TELEGRAM_SEND_TIMEOUT_SECONDS}. */
  sendTimeoutSeconds?: number;
  /** Counts sent messages and 429s of every call made through {@link TelegramClient.api}. */
  metrics?: Pick<WorkerMetrics, 'telegramMessagesSent' | 'telegramRateLimited'>;
  /**
   * The bot's fleet-wide budget every {@link TelegramClient.call} takes its slot
   * from. The worker always gives one; without it (tests and tools that send a
   * handful of calls) calls are not paced.
   */
  budget?: TelegramBudget;
}

/** How {@link TelegramClient.call} paces a call. */
export interface CallOptions {
  /** Who the call serves; by default from the method (`editMessageText`: progress, `sendChatAction`: presence, else user). */
  priority?: TelegramPriority;
  /** The call carries `allow_paid_broadcast`: it counts at the paid rate, not against the ordinary ceiling. */
  paid?: boolean;
  /** A broadcast slot already reserved and taken ({@link TelegramBudget.reserveBroadcast}): nothing more is reserved. */
  slot?: ReservedSlot;
}

/**
 * Telegram Bot API access for activities: grammY's `Api` plus file download,
 * with every failure translated into Telewan's named errors.
 */
export class TelegramClient {
  readonly api: Api;
  /** The same bot, with a timeout that lets Telegram fetch or take a whole video. */
  private readonly mediaApi: Api;
  /** The same bot, with a timeout that ends a message send well within its activity's own timeout. */
  private readonly sendApi: Api;

  /** The fleet-wide budget calls are paced by (see {@link TelegramClientOptions.budget}). */
  get budget(): TelegramBudget | undefined {
    return this.options.budget;
  }

  constructor(private readonly options: TelegramClientOptions) {
    this.api = new Api(options.token, {
      apiRoot: options.apiRoot,
      timeoutSeconds: options.timeoutSeconds ?? 30,
    });
    this.mediaApi = new Api(options.token, {
      apiRoot: options.apiRoot,
      timeoutSeconds: options.mediaTimeoutSeconds ?? TELEGRAM_MEDIA_TIMEOUT_SECONDS,
    });
    this.sendApi = new Api(options.token, {
      apiRoot: options.apiRoot,
      timeoutSeconds: options.sendTimeoutSeconds ?? TELEGRAM_SEND_TIMEOUT_SECONDS,
    });
    const { metrics } = options;
    if (metrics) {
      for (const api of [this.api, this.mediaApi, this.sendApi]) {
        // A transformer sees every call, including those made on `api` directly.
        api.config.use(async (prev, method, payload, signal) => {
          const res = await prev(method, payload, signal);
          if (res.ok && isMessageSend(method)) metrics.telegramMessagesSent.inc({ method });
          else if (!res.ok && res.error_code === 429) metrics.telegramRateLimited.inc({ method });
          return res;
        });
      }
    }
  }

  /**
   * Sends media (a video by URL, by upload or by file_id) with the long media
   * timeout. A failure after the request went out with no answer (timeout,
   * reset, 5xx) may have put the message in the chat: it is a non-retryable
   * `TelegramAmbiguousSendError`, so nothing resends it blindly. Other failures
   * are translated as by {@link call}.
   */
  sendMedia<T>(method: string, chatId: number, fn: (api: Api) => Promise<T>, options: CallOptions = {}): Promise<T> {
    return this.sendOnce(this.mediaApi, method, chatId, fn, options);
  }

  /**
   * Sends a message (not a broadcast, which keeps {@link call}) like
   * {@link sendMedia}: an answer lost after the request went out is a
   * non-retryable `TelegramAmbiguousSendError`. Its timeout
   * ({@link TELEGRAM_SEND_TIMEOUT_SECONDS}) plus the budget's longest wait stay
   * under the 30 s an attempt has, so the client, not Temporal, ends a slow
   * send and says it was ambiguous.
   */
  send<T>(method: string, chatId: number, fn: (api: Api) => Promise<T>, options: CallOptions = {}): Promise<T> {
    return this.sendOnce(this.sendApi, method, chatId, fn, options);
  }

  private async sendOnce<T>(api: Api, method: string, chatId: number, fn: (api: Api) => Promise<T>, options: CallOptions): Promise<T> {
    const answered = await this.pace(method, chatId, options);
    try {
      return await fn(api);
    } catch (err) {
      if (isAmbiguousSendFailure(err)) {
        // Never the inner error's message: node-fetch's names the URL, which holds the bot token.
        const inner = err instanceof HttpError ? err.error : err;
        const detail = inner instanceof Error && /timed out/i.test(inner.message) ? 'no answer in time' : 'the answer was lost';
        throw new TelegramAmbiguousSendError(method, chatId, detail);
      }
      throw await this.failed(err, method, chatId);
    } finally {
      answered?.();
    }
  }

  /**
   * Runs one Bot API call in its slot of the fleet-wide budget, translating
   * failures. `chatId` names the chat the call addresses (paced per chat when it
   * puts a message there) and the chat in blocked / not-found errors. Throws
   * `TelegramBudgetBusyError` without calling Telegram when no slot is to be had
   * in time (a `presence` call: unless one is free right now). A 429 pauses the
   * whole fleet for `retry_after` before it is thrown.
   */
  async call<T>(method: string, chatId: number | undefined, fn: (api: Api) => Promise<T>, options: CallOptions = {}): Promise<T> {
    const answered = await this.pace(method, chatId, options);
    try {
      try {
        return await fn(this.api);
      } finally {
        answered?.();
      }
    } catch (err) {
      throw await this.failed(err, method, chatId);
    }
  }

  /** Takes the call's slot of the budget (unless it brings one); returns what to call once Telegram answered. */
  private async pace(method: string, chatId: number | undefined, options: CallOptions): Promise<(() => void) | undefined> {
    const { budget } = this.options;
    if (!budget) return undefined;
    if (!options.slot) {
      const counts = methodBudget(method, chatId);
      if (counts.paced) {
        await budget.acquire(method, chatId, { priority: options.priority ?? counts.priority, perChat: counts.perChat, paid: options.paid });
      }
      return undefined;
    }
    return budget.sending(options.slot);
  }

  /** The named error for a failed call; a 429 first pauses the whole fleet for `retry_after`. */
  private async failed(err: unknown, method: string, chatId: number | undefined): Promise<Error> {
    const error = classifyTelegramError(err, method, chatId);
    const { budget } = this.options;
    if (error instanceof TelegramRateLimitError && budget) {
      try {
        await budget.pause(error.retryAfterSeconds);
      } catch (pauseError) {
        // This process keeps the pause; the others learn of it from their own 429.
        return new TelegramRateLimitError(error.retryAfterSeconds, { cause: pauseError });
      }
    }
    return error;
  }

  /**
   * The process's first Bot API call (`getMe`, not paced) and the budget's first
   * reads of the database's clock, made before any slot is due: a process's first
   * call pays for loading and connecting, tens of milliseconds that would make the
   * first send of a burst late enough to bunch with the next. Fails like any call.
   */
  async warmUp(): Promise<void> {
    await this.options.budget?.warmUp();
    await this.call('getMe', undefined, (api) => api.getMe());
  }

  /**
   * Downloads a file the bot received. The download URL contains the bot token,
   * so it never leaves this function: not in errors, not in logs.
   */
  async downloadFile(fileId: string, maxBytes: number = TELEGRAM_LIMITS.downloadBytes): Promise<Buffer> {
    const file = await this.call('getFile', undefined, (api) => api.getFile(fileId)).catch((err: unknown) => {
      // Over 20 MB Telegram refuses getFile itself, without saying the size.
      if (err instanceof TelegramRequestError && /file is too big/i.test(err.description)) throw new TelegramFileTooLargeError(maxBytes);
      throw err;
    });
    if (file.file_size !== undefined && file.file_size > maxBytes) throw new TelegramFileTooLargeError(maxBytes, file.file_size);
    if (!file.file_path) throw new TelegramFileTooLargeError(maxBytes, file.file_size);
    const url = `${this.options.apiRoot}/file/bot${this.options.token}/${file.file_path}`;
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout((this.options.timeoutSeconds ?? 30) * 1000) });
    } catch (err) {
      throw new TelegramUnavailableError('downloadFile', err instanceof Error ? err.name : 'network error');
    }
    if (response.status >= 500) throw new TelegramUnavailableError('downloadFile', `HTTP ${response.status}`);
    if (!response.ok) throw new TelegramRequestError('downloadFile', `HTTP ${response.status}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (bytes.length > maxBytes) throw new TelegramFileTooLargeError(maxBytes, bytes.length);
    return bytes;
  }
}
