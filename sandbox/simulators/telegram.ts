import type { FastifyInstance } from 'fastify';
import { digestBuffer } from './shared/digest.js';
import { createServer, listen, type SimulatorLogger } from './shared/server.js';
import { TimerSet, type Latency } from './shared/timers.js';
import { ChatStore, type SentMessage } from './telegram/chat-store.js';
import type { BotContext } from './telegram/context.js';
import { Dispatcher, type CallRecord, type InjectedFault, type TelegramStats } from './telegram/dispatcher.js';
import type { ChatBehaviour } from './telegram/errors.js';
import { FileStore, type FileKind } from './telegram/file-store.js';
import { Params } from './telegram/params.js';
import { botMethods } from './telegram/methods/bot.js';
import { mediaMethods } from './telegram/methods/media.js';
import { messageMethods } from './telegram/methods/messages.js';
import { SendRateLimiter } from './telegram/rate-limits.js';
import { controlRoutes } from './telegram/control-routes.js';
import { telegramRoutes } from './telegram/routes.js';
import type { TgBotUser, TgFile, TgUpdate, TgWebhookInfo } from './telegram/types.js';
import {
  UpdateFactory,
  type CallbackQueryUpdateOptions,
  type PhotoUpdateOptions,
  type TextUpdateOptions,
} from './telegram/updates.js';
import { UpdateQueue, WebhookTarget, type PushOptions, type PushResult } from './telegram/webhook.js';

export type { SentMessage } from './telegram/chat-store.js';
export type { CallRecord, InjectedFault, TelegramStats } from './telegram/dispatcher.js';
export type { ChatBehaviour } from './telegram/errors.js';
export type { FileKind } from './telegram/file-store.js';
export type * from './telegram/types.js';
export type { CallbackQueryUpdateOptions, PhotoUpdateOptions, TextUpdateOptions } from './telegram/updates.js';
export type { PushOptions, PushResult } from './telegram/webhook.js';
export type { ControlMessage } from './telegram/control-routes.js';

/** Configuration of a {@link TelegramSimulator}. */
export interface TelegramSimulatorOptions {
  /** The bot token the simulator accepts (`123456:abc…`); its numeric prefix is the bot's id. */
  token: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Delay added to every request. */
  latencyMs?: Latency;
  /** Fraction (0..1) of method calls answered 500 (JSON) or 502 (nginx HTML page). */
  serverErrorRate?: number;
  /** Sends per second per bot; default 30; 0 or Infinity disables. */
  globalRatePerSecond?: number;
  /** Sends per second per chat; default 1; 0 disables. */
  perChatRatePerSecond?: number;
  /** Sends per minute per group/channel (negative chat ids); default 20; 0 disables. */
  groupRatePerMinute?: number;
  /** Bot-wide rate for sends with `allow_paid_broadcast: true`; default 1000. */
  paidBroadcastRatePerSecond?: number;
  /** `off` disables all flood limits. Default `enforce`. */
  rateLimitMode?: 'enforce' | 'off';
  /** Overrides fields of the `getMe` answer. */
  botInfo?: Partial<TgBotUser>;
  /** Refuse non-HTTPS webhooks and ports other than 80/88/443/8443, like Telegram. Default false (loopback). */
  requireHttpsWebhook?: boolean;
  /** How long `pushUpdate` waits for the bot's answer. Default 60 s, Telegram's. */
  webhookTimeoutMs?: number;
  /** How long a `sendVideo` by URL may take to download. Default 30 s. */
  urlFetchTimeoutMs?: number;
  /** Total bytes of file content kept for downloads; past it only metadata is kept. Default 256 MiB. */
  maxStoredFileBytes?: number;
  /**
   * Also serve `/sandbox/*`: push a user's message to the webhook, read a chat
   * (see telegram/control-routes.ts). For `npm run dev`'s sandbox; default false.
   */
  control?: boolean;
  /**
   * Message ids of every chat start after this one (default 0). A simulator
   * restarted against a Temporal server that kept its history needs new ids, or
   * `video-<chat>-<message>` workflows would collide with finished ones.
   */
  firstMessageId?: number;
  logger?: SimulatorLogger;
}

/** The method call in a webhook answer's body, if there is one. */
function webhookReply(body: string): ({ method: string } & Record<string, unknown>) | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { method?: unknown }).method === 'string') {
      return parsed as { method: string } & Record<string, unknown>;
    }
  } catch {
    // Not JSON: an ordinary acknowledgement.
  }
  return undefined;
}

/** Options of {@link TelegramSimulator.addFile}. */
export interface AddFileOptions {
  kind?: FileKind;
  mimeType?: string;
  fileName?: string;
  width?: number;
  height?: number;
  duration?: number;
}

const METHODS = { ...messageMethods, ...mediaMethods, ...botMethods };

/**
 * The Telegram Bot API over loopback HTTP: give grammY `client: { apiRoot }`.
 * Reproduces Telegram's answers and errors (flood control with `retry_after`,
 * blocked users, "message is not modified", upload and URL size limits), records
 * every call, pushes updates to the bot's webhook, and lets tests inject faults.
 */
export class TelegramSimulator {
  private app: FastifyInstance | undefined;
  private baseUrl: string | undefined;
  private readonly timers = new TimerSet();
  private stopController = new AbortController();
  private readonly ctx: BotContext;
  private readonly dispatcher: Dispatcher;
  private readonly limiter: SendRateLimiter;
  private readonly factory: UpdateFactory;
  private readonly opts: TelegramSimulatorOptions;

  constructor(opts: TelegramSimulatorOptions) {
    this.opts = { ...opts };
    const stopped = (): AbortSignal => this.stopController.signal;
    const botId = Number(/^(\d+):/.exec(opts.token)?.[1] ?? 123456);
    const ctx: BotContext = {
      bot: {
        id: botId,
        is_bot: true,
        first_name: 'Telewan Sandbox',
        username: 'telewan_sandbox_bot',
        can_join_groups: true,
        can_read_all_group_messages: false,
        supports_inline_queries: false,
        can_connect_to_business: false,
        has_main_web_app: false,
        ...opts.botInfo,
      },
      files: new FileStore(opts.maxStoredFileBytes ?? 256 * 1024 * 1024),
      chats: new ChatStore(opts.firstMessageId),
      webhook: new WebhookTarget(),
      updates: new UpdateQueue(),
      callbackQueries: new Set(),
      commands: new Map(),
      photoSets: new Map(),
      timers: this.timers,
      get stopped() {
        return stopped();
      },
      requireHttpsWebhook: opts.requireHttpsWebhook ?? false,
      urlFetchTimeoutMs: opts.urlFetchTimeoutMs ?? 30_000,
    };
    this.ctx = ctx;
    this.limiter = new SendRateLimiter({
      globalRatePerSecond: opts.globalRatePerSecond ?? 30,
      perChatRatePerSecond: opts.perChatRatePerSecond ?? 1,
      groupRatePerMinute: opts.groupRatePerMinute ?? 20,
      paidBroadcastRatePerSecond: opts.paidBroadcastRatePerSecond ?? 1000,
    });
    this.dispatcher = new Dispatcher(ctx, METHODS, {
      limiter: this.limiter,
      enforceRateLimits: () => (this.opts.rateLimitMode ?? 'enforce') === 'enforce',
      serverErrorRate: () => this.opts.serverErrorRate ?? 0,
      logger: typeof opts.logger === 'object' ? opts.logger : undefined,
    });
    this.factory = new UpdateFactory(ctx);
  }

  /** Starts listening; resolves to the base URL, e.g. `http://127.0.0.1:40123`. */
  async start(): Promise<string> {
    if (this.baseUrl) return this.baseUrl;
    this.stopController = new AbortController();
    const app = createServer(this.opts.logger);
    await app.register(telegramRoutes, {
      token: this.opts.token,
      dispatcher: this.dispatcher,
      files: this.ctx.files,
      timers: this.timers,
      latency: () => this.opts.latencyMs,
    });
    if (this.opts.control) {
      await app.register(controlRoutes, {
        prefix: '/sandbox',
        makePhotoUpdate: (o) => this.makePhotoUpdate(o),
        makeTextUpdate: (o) => this.makeTextUpdate(o),
        pushUpdate: (u) => this.pushUpdate(u),
        messagesTo: (chatId) => this.messagesTo(chatId),
      });
    }
    this.baseUrl = await listen(app, this.opts.host ?? '127.0.0.1', this.opts.port ?? 0);
    this.app = app;
    return this.baseUrl;
  }

  /** Stops listening, ends pending long polls, aborts outgoing requests and clears timers. */
  async stop(): Promise<void> {
    this.stopController.abort();
    this.ctx.updates.wake();
    this.timers.clearAll();
    const app = this.app;
    this.app = undefined;
    this.baseUrl = undefined;
    await app?.close();
  }

  /** Base URL for grammY's `client.apiRoot` (no trailing slash). Throws before `start()`. */
  get apiRoot(): string {
    if (!this.baseUrl) throw new Error('TelegramSimulator is not started');
    return this.baseUrl;
  }

  get token(): string {
    return this.opts.token;
  }

  /** The `getMe` user. */
  get botInfo(): TgBotUser {
    return this.ctx.bot;
  }

  /** Download URL of a file, as the bot would build it from `getFile`'s `file_path`. */
  fileUrl(filePath: string): string {
    return `${this.apiRoot}/file/bot${this.opts.token}/${filePath}`;
  }

  // --- assertions -----------------------------------------------------------------

  /** Every call since the last reset, in arrival order. */
  get calls(): readonly CallRecord[] {
    return this.dispatcher.calls;
  }

  callsTo(method: string): CallRecord[] {
    const lower = method.toLowerCase();
    return this.dispatcher.calls.filter((c) => c.method.toLowerCase() === lower);
  }

  /** What the bot sent to a chat (text, media, current state after edits), in order. */
  messagesTo(chatId: number | string): SentMessage[] {
    return this.ctx.chats.sentTo(chatId);
  }

  get stats(): Readonly<TelegramStats> {
    return this.dispatcher.stats;
  }

  /** What `getWebhookInfo` would answer. */
  get webhookInfo(): TgWebhookInfo {
    return this.ctx.webhook.info();
  }

  /**
   * Forgets calls, sent messages, stats, flood windows, injected faults and chat
   * behaviours. Files, webhook, update ids and message counters are kept, so ids
   * never repeat within one simulator.
   */
  reset(): void {
    this.dispatcher.reset();
    this.ctx.chats.clear();
    this.limiter.clear();
    this.ctx.updates.clear();
  }

  // --- behaviour -------------------------------------------------------------------

  /** Makes the bot's calls addressing `chatId` fail as Telegram does for that state. */
  setChat(chatId: number | string, behaviour: ChatBehaviour): void {
    this.ctx.chats.setBehaviour(chatId, behaviour);
  }

  /** The next `count` (default 1) calls of `method` answer with this error instead of running. */
  failNext(method: string, fault: InjectedFault): void {
    this.dispatcher.failNext(method, fault);
  }

  /**
   * The next `count` (default 1) successful calls of `method` do their work at
   * once (a sent message is in the chat) and answer only `ms` later: a client
   * with a shorter timeout sees no answer, as when Telegram's fetch of a large
   * video by URL outlasts it.
   */
  delayNext(method: string, ms: number, count = 1): void {
    this.dispatcher.delayNext(method, ms, count);
  }

  /** Changes options at runtime (latency, error rate, flood limits mode). */
  configure(changes: Pick<TelegramSimulatorOptions, 'latencyMs' | 'serverErrorRate' | 'rateLimitMode'>): void {
    Object.assign(this.opts, changes);
  }

  // --- files and updates -------------------------------------------------------------

  /** Registers a file that `getFile` resolves and `/file/bot<token>/<path>` serves. */
  addFile(bytes: Buffer, opts: AddFileOptions = {}): Required<Pick<TgFile, 'file_id' | 'file_unique_id' | 'file_path' | 'file_size'>> {
    const file = this.ctx.files.put(digestBuffer(bytes), {
      kind: opts.kind ?? 'document',
      mime_type: opts.mimeType,
      file_name: opts.fileName,
      width: opts.width,
      height: opts.height,
      duration: opts.duration,
    });
    return { file_id: file.file_id, file_unique_id: file.file_unique_id, file_path: file.file_path, file_size: file.file_size };
  }

  /** A user's photo message (a real JPEG, registered in several sizes). */
  makePhotoUpdate(opts: PhotoUpdateOptions): Promise<TgUpdate> {
    return this.factory.photo(opts);
  }

  /** A user's text message; `/commands` get a `bot_command` entity. */
  makeTextUpdate(opts: TextUpdateOptions): TgUpdate {
    return this.factory.text(opts);
  }

  /** A press on an inline button; its id is then accepted once by `answerCallbackQuery`. */
  makeCallbackQueryUpdate(opts: CallbackQueryUpdateOptions): TgUpdate {
    return this.factory.callbackQuery(opts);
  }

  /** Sets where updates are pushed, as if the bot had called `setWebhook`. */
  setWebhookTarget(url: string, secretToken?: string): void {
    this.ctx.webhook.set(url, secretToken);
  }

  /**
   * POSTs an update to the webhook as Telegram would (see {@link PushOptions} for
   * redelivery). If the bot answers with a method call in the body (a webhook
   * reply), it is run like Telegram runs it, and recorded like any call.
   */
  async pushUpdate(update: TgUpdate, opts: PushOptions = {}): Promise<PushResult> {
    const result = await this.ctx.webhook.push(
      update,
      {
        retries: opts.retries ?? 0,
        retryDelayMs: opts.retryDelayMs ?? 100,
        timeoutMs: opts.timeoutMs ?? this.opts.webhookTimeoutMs ?? 60_000,
      },
      this.timers,
      this.stopController.signal,
    );
    const reply = result.status >= 200 && result.status < 300 ? webhookReply(result.body) : undefined;
    if (reply) {
      const { method, ...params } = reply;
      const answer = await this.dispatcher.dispatch(method, new Params(params));
      result.webhookReply = answer.status === 200 ? { method, ok: true } : { method, ok: false, errorCode: answer.status };
    }
    return result;
  }

  /** Queues an update for `getUpdates` (long polling), for bots run without a webhook. */
  queueUpdate(update: TgUpdate): void {
    this.ctx.updates.push(update);
  }
}
