/**
 * Telewan's failure modes, one class each. Activities throw these; the activity
 * boundary (`src/activities/failure.ts`) turns them into Temporal `ApplicationFailure`s
 * whose `type` is the class name, retryable or not as declared here. Workflows match
 * on {@link ErrorType} names and never import the classes' dependencies.
 *
 * This module is pure (no I/O, no Node builtins) so workflow code may import it.
 */
export abstract class TelewanError extends Error {
  /** Whether trying the same call again later may succeed. */
  abstract readonly retryable: boolean;
  /** When set, the earliest sensible moment for the next attempt. */
  readonly retryAfterMs?: number;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Telegram answered 429: wait `retryAfterSeconds` before sending again. */
export class TelegramRateLimitError extends TelewanError {
  readonly retryable = true;
  override readonly retryAfterMs: number;
  constructor(readonly retryAfterSeconds: number, options?: { cause?: unknown }) {
    super(`Telegram rate limit: retry after ${retryAfterSeconds}s`, options);
    this.retryAfterMs = retryAfterSeconds * 1000;
  }
}

/**
 * The bot's fleet-wide Telegram budget (`src/integrations/telegram/budget.ts`)
 * has no slot for this call soon enough, so nothing was sent to Telegram. Thrown
 * at once for best-effort calls (`presence`: a chat action skips its beat), and
 * for the others when their slot would be further ahead than they may wait
 * while holding an activity slot. Retryable after `retryAfterMs`.
 */
export class TelegramBudgetBusyError extends TelewanError {
  readonly retryable = true;
  override readonly retryAfterMs: number;
  constructor(readonly method: string, readonly priority: string, retryAfterMs: number) {
    super(`Telegram budget busy: no ${priority} slot for ${method} within its wait, next in ${Math.round(retryAfterMs)} ms`);
    this.retryAfterMs = Math.max(1, Math.ceil(retryAfterMs));
  }
}

/** Telegram answered 403: the user blocked the bot, was deactivated, or never started it. */
export class BotBlockedError extends TelewanError {
  readonly retryable = false;
  constructor(
    readonly chatId: number,
    readonly reason: 'blocked' | 'deactivated' | 'cant-initiate' | 'forbidden',
    description: string,
  ) {
    super(`Chat ${chatId} cannot be messaged: ${description}`);
  }
}

/** Telegram answered 400 "chat not found". */
export class ChatNotFoundError extends TelewanError {
  readonly retryable = false;
  constructor(readonly chatId: number) {
    super(`Telegram chat ${chatId} not found`);
  }
}

/** Telegram refused the request itself (a 400 other than the ones above). */
export class TelegramRequestError extends TelewanError {
  readonly retryable = false;
  constructor(readonly method: string, readonly description: string) {
    super(`Telegram ${method} refused: ${description}`);
  }
}

/** Telegram did not answer usefully (network error, timeout, 5xx). */
export class TelegramUnavailableError extends TelewanError {
  readonly retryable = true;
  constructor(readonly method: string, detail: string, options?: { cause?: unknown }) {
    super(`Telegram ${method} unavailable: ${detail}`, options);
  }
}

/** The user's photo is larger than a bot may download. */
export class TelegramFileTooLargeError extends TelewanError {
  readonly retryable = false;
  /** `bytes` is unknown when Telegram refuses `getFile` itself ("file is too big"). */
  constructor(readonly limitBytes: number, readonly bytes?: number) {
    super(`File${bytes === undefined ? '' : ` of ${bytes} bytes`} exceeds the ${limitBytes / 1024 / 1024} MB download limit`);
  }
}

/** Why a picture was refused: not decodable, not a JPEG/PNG/WebP, or more pixels than are decoded. */
export type InvalidImageReason = 'unreadable' | 'unsupported-type' | 'too-many-pixels';

/**
 * The picture cannot be used: its bytes are no image, an image of a format not
 * accepted, or one too large to decode. The message is what the user is told.
 */
export class InvalidImageError extends TelewanError {
  readonly retryable = false;
  constructor(
    detail: string,
    readonly reason: InvalidImageReason = 'unreadable',
  ) {
    super(reason === 'unreadable' ? `The photo could not be read as an image: ${detail}` : detail);
  }
}

/** WaveSpeed refused the input (HTTP 400/422): the same request will never succeed. */
export class WavespeedRejectedError extends TelewanError {
  readonly retryable = false;
  constructor(readonly status: number, readonly reason: string) {
    super(`WaveSpeed rejected the request (${status}): ${reason}`);
  }
}

/** WaveSpeed refused our credentials. Retryable so an operator can fix the key without losing requests. */
export class WavespeedAuthError extends TelewanError {
  readonly retryable = true;
  constructor(readonly status: number) {
    super(`WaveSpeed refused the API key (${status})`);
  }
}

/** WaveSpeed answered 429. It documents no Retry-After, so a fixed pause applies. */
export class WavespeedRateLimitError extends TelewanError {
  readonly retryable = true;
  override readonly retryAfterMs = 10_000;
  constructor() {
    super('WaveSpeed rate limit reached');
  }
}

/** WaveSpeed does not know the prediction (deleted after 7 days, or never existed). */
export class WavespeedNotFoundError extends TelewanError {
  readonly retryable = false;
  constructor(readonly predictionId: string) {
    super(`WaveSpeed prediction ${predictionId} not found`);
  }
}

/** WaveSpeed did not answer usefully (network error, timeout, 5xx, malformed body). */
export class WavespeedUnavailableError extends TelewanError {
  readonly retryable = true;
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`WaveSpeed unavailable: ${detail}`, options);
  }
}

/**
 * A submission may or may not have been accepted: the request went out and no
 * usable answer came back (timeout, connection reset after sending, 5xx, an
 * unreadable 2xx). WaveSpeed has no idempotency key, so sending it again could
 * create and bill a second prediction: never retried. The workflow waits for
 * the prediction's webhook instead, which carries its id if there is one.
 */
export class WavespeedSubmitAmbiguousError extends TelewanError {
  readonly retryable = false;
  constructor(readonly model: string, detail: string, options?: { cause?: unknown }) {
    super(`WaveSpeed may or may not have accepted the ${model} submission: ${detail}`, options);
  }
}

/**
 * Telegram may or may not have delivered the message: the request went out and
 * no answer came back (timeout, connection reset). Sending it again could put
 * a second copy in the chat, so it is not retried.
 */
export class TelegramAmbiguousSendError extends TelewanError {
  readonly retryable = false;
  constructor(readonly method: string, readonly chatId: number | undefined, detail: string, options?: { cause?: unknown }) {
    super(`Telegram ${method} may or may not have been delivered: ${detail}`, options);
  }
}

/** The generated video cannot be delivered (missing, or unreachable output URL). */
export class VideoUnavailableError extends TelewanError {
  readonly retryable = false;
  constructor(detail: string) {
    super(`The generated video is unavailable: ${detail}`);
  }
}

/** Names of the error classes, as they appear in `ApplicationFailure.type`. */
export const ErrorType = {
  TelegramRateLimit: 'TelegramRateLimitError',
  TelegramBudgetBusy: 'TelegramBudgetBusyError',
  BotBlocked: 'BotBlockedError',
  ChatNotFound: 'ChatNotFoundError',
  TelegramRequest: 'TelegramRequestError',
  TelegramUnavailable: 'TelegramUnavailableError',
  TelegramFileTooLarge: 'TelegramFileTooLargeError',
  InvalidImage: 'InvalidImageError',
  WavespeedRejected: 'WavespeedRejectedError',
  WavespeedAuth: 'WavespeedAuthError',
  WavespeedRateLimit: 'WavespeedRateLimitError',
  WavespeedNotFound: 'WavespeedNotFoundError',
  WavespeedUnavailable: 'WavespeedUnavailableError',
  VideoUnavailable: 'VideoUnavailableError',
  WavespeedSubmitAmbiguous: 'WavespeedSubmitAmbiguousError',
  TelegramAmbiguousSend: 'TelegramAmbiguousSendError',
} as const;

export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];
