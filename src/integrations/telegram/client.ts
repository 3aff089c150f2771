import { Api, HttpError } from 'grammy';
import { TelegramAmbiguousSendError, TelegramFileTooLargeError, TelegramRequestError, TelegramUnavailableError } from '../../errors.js';
import { TELEGRAM_LIMITS, TELEGRAM_MEDIA_TIMEOUT_SECONDS } from '../../constants.js';
import type { WorkerMetrics } from '../../observability/metrics.js';
import { classifyTelegramError, isAmbiguousSendFailure } from './errors.js';

export interface TelegramClientOptions {
  token: string;
  /** Bot API root, e.g. `https://api.telegram.org` or a simulator's URL. */
  apiRoot: string;
  /** Per-request timeout. */
  timeoutSeconds?: number;
  /** Per-request timeout of {@link TelegramClient.sendMedia}; default {@link TELEGRAM_MEDIA_TIMEOUT_SECONDS}. */
  mediaTimeoutSeconds?: number;
  /** Counts sent messages and 429s of every call made through {@link TelegramClient.api}. */
  metrics?: Pick<WorkerMetrics, 'telegramMessagesSent' | 'telegramRateLimited'>;
}

/**
 * Telegram Bot API access for activities: grammY's `Api` plus file download,
 * with every failure translated into Telewan's named errors.
 */
export class TelegramClient {
  readonly api: Api;
  /** The same bot, with a timeout that lets Telegram fetch or take a whole video. */
  private readonly mediaApi: Api;

  constructor(private readonly options: TelegramClientOptions) {
    this.api = new Api(options.token, {
      apiRoot: options.apiRoot,
      timeoutSeconds: options.timeoutSeconds ?? 30,
    });
    this.mediaApi = new Api(options.token, {
      apiRoot: options.apiRoot,
      timeoutSeconds: options.mediaTimeoutSeconds ?? TELEGRAM_MEDIA_TIMEOUT_SECONDS,
    });
    const { metrics } = options;
    if (metrics) {
      for (const api of [this.api, this.mediaApi]) {
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
   * Sends media (a video by URL or upload) with the long media timeout. A
   * failure after the request went out with no answer (timeout, reset, 5xx)
   * may have put the message in the chat: it is a non-retryable
   * `TelegramAmbiguousSendError`, so nothing resends it blindly. Other failures
   * are translated as by {@link call}.
   */
  async sendMedia<T>(method: string, chatId: number, fn: (api: Api) => Promise<T>): Promise<T> {
    try {
      return await fn(this.mediaApi);
    } catch (err) {
      if (isAmbiguousSendFailure(err)) {
        // Never the inner error's message: node-fetch's names the URL, which holds the bot token.
        const inner = err instanceof HttpError ? err.error : err;
        const detail = inner instanceof Error && /timed out/i.test(inner.message) ? 'no answer in time' : 'the answer was lost';
        throw new TelegramAmbiguousSendError(method, chatId, detail);
      }
      throw classifyTelegramError(err, method, chatId);
    }
  }

  /**
   * Runs one Bot API call, translating failures. `chatId` names the chat in
   * blocked / not-found errors.
   */
  async call<T>(method: string, chatId: number | undefined, fn: (api: Api) => Promise<T>): Promise<T> {
    try {
      return await fn(this.api);
    } catch (err) {
      throw classifyTelegramError(err, method, chatId);
    }
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

/** Bot API methods that put a message in a chat (`sendChatAction` does not). */
function isMessageSend(method: string): boolean {
  return method.startsWith('send') && method !== 'sendChatAction';
}
