import type { TimerSet } from '../shared/timers.js';
import type { ChatStore } from './chat-store.js';
import type { FileStore } from './file-store.js';
import type { Params } from './params.js';
import type { TgBotUser, TgPhotoSize } from './types.js';
import type { UpdateQueue, WebhookTarget } from './webhook.js';

/** The simulated bot's server-side state, shared by the method handlers. */
export interface BotContext {
  readonly bot: TgBotUser;
  readonly files: FileStore;
  readonly chats: ChatStore;
  readonly webhook: WebhookTarget;
  readonly updates: UpdateQueue;
  /** Callback queries not yet answered, by id. */
  readonly callbackQueries: Set<string>;
  /** `setMyCommands` lists, by scope and language. */
  readonly commands: Map<string, unknown[]>;
  /** Photo file_id → every size of that photo, so a photo can be resent by any of its ids. */
  readonly photoSets: Map<string, TgPhotoSize[]>;
  readonly timers: TimerSet;
  /** Aborted when the simulator stops; outgoing fetches listen to it. */
  readonly stopped: AbortSignal;
  readonly requireHttpsWebhook: boolean;
  readonly urlFetchTimeoutMs: number;
}

/** Implements one Bot API method; throws `TelegramApiError` for Telegram's errors. */
export type MethodHandler = (params: Params, ctx: BotContext) => unknown;

/** A method and how the dispatcher treats it. */
export interface MethodSpec {
  handler: MethodHandler;
  /** Counts against the flood limits (sendMessage, sendVideo, …). */
  send?: boolean;
  /**
   * Addresses a chat through `chat_id`, so that chat's behaviour (blocked, …)
   * applies: `required` for sends, `optional` for edits that may use `inline_message_id`.
   */
  chat?: 'required' | 'optional';
}
