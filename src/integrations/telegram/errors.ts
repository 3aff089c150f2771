import { GrammyError, HttpError } from 'grammy';
import {
  BotBlockedError,
  ChatNotFoundError,
  TelegramRateLimitError,
  TelegramRequestError,
  TelegramUnavailableError,
  type TelewanError,
} from '../../errors.js';
import { surelyNotSent } from '../request-sent.js';

/**
 * Translates what grammY threw for a Bot API call into Telewan's named errors,
 * reading the description as well as the code (see API-NOTES). Anything unknown
 * is treated as Telegram being unavailable, which is retried.
 */
export function classifyTelegramError(err: unknown, method: string, chatId?: number): TelewanError {
  if (err instanceof GrammyError) {
    const description = err.description;
    if (err.error_code === 429) {
      return new TelegramRateLimitError(Math.max(1, err.parameters.retry_after ?? 1));
    }
    if (err.error_code === 403) {
      const reason = /blocked by the user/i.test(description)
        ? 'blocked'
        : /deactivated/i.test(description)
          ? 'deactivated'
          : /can't initiate/i.test(description)
            ? 'cant-initiate'
            : 'forbidden';
      return new BotBlockedError(chatId ?? 0, reason, description);
    }
    if (err.error_code === 400 && /chat not found/i.test(description)) {
      return new ChatNotFoundError(chatId ?? 0);
    }
    if (err.error_code >= 500) {
      return new TelegramUnavailableError(method, `${err.error_code} ${description}`);
    }
    return new TelegramRequestError(method, description);
  }
  if (err instanceof HttpError) {
    // HttpError's message may include the request URL, which contains the bot token.
    return new TelegramUnavailableError(method, 'network error');
  }
  return new TelegramUnavailableError(method, err instanceof Error ? err.name : 'unknown error');
}

/** True for Telegram's answer to an edit that changes nothing, which is success: as grammY threw it, or classified. */
export function isMessageNotModified(err: unknown): boolean {
  const notModified = /message is not modified/i;
  if (err instanceof TelegramRequestError) return notModified.test(err.description);
  return err instanceof GrammyError && err.error_code === 400 && notModified.test(err.description);
}

/**
 * True when a sending call failed after its request went out and Telegram may
 * have acted on it: a network failure other than "could not connect" (a
 * timeout, a reset, a non-JSON answer such as a proxy's 502), or a 5xx.
 */
export function isAmbiguousSendFailure(err: unknown): boolean {
  if (err instanceof GrammyError) return err.error_code >= 500;
  if (err instanceof HttpError) return !surelyNotSent(err.error);
  return false;
}
