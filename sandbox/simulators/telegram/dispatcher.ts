import type { FastifyBaseLogger } from 'fastify';
import type { BotContext, MethodSpec } from './context.js';
import { BAD_GATEWAY_HTML, chatError, TelegramApiError, tooManyRequests } from './errors.js';
import type { Params } from './params.js';
import type { SendRateLimiter } from './rate-limits.js';
import type { TgResponse } from './types.js';

/** One Bot API call as the simulator saw it. */
export interface CallRecord {
  method: string;
  params: Record<string, unknown>;
  /** `Date.now()` when the call was handled. */
  at: number;
  chatId?: number | string;
  ok: boolean;
  errorCode?: number;
  description?: string;
}

/** An error to return instead of running a method, see `TelegramSimulator.failNext`. */
export interface InjectedFault {
  errorCode: number;
  description: string;
  /** Sets `parameters.retry_after` (use with 429). */
  retryAfter?: number;
  /** How many calls fail this way. Default 1. */
  count?: number;
}

/** Counters across all calls since the last reset. */
export interface TelegramStats {
  calls: number;
  /** Send-method calls that succeeded. */
  sent: number;
  /** Answers with status 429, enforced or injected. */
  rateLimited: number;
  /** Calls answered with any error. */
  failed: number;
  /** 5xx answers (random or injected). */
  serverErrors: number;
}

/** The HTTP answer to a call. */
export interface DispatchResult {
  status: number;
  body: TgResponse | string;
  contentType: string;
}

interface DispatcherOptions {
  limiter: SendRateLimiter;
  enforceRateLimits: () => boolean;
  serverErrorRate: () => number;
  logger?: FastifyBaseLogger;
}

/**
 * Runs a Bot API method the way Telegram's front end does: injected faults and
 * random 5xx first, then the chat's state, then flood control for sends, then
 * the method itself; records every call.
 */
export class Dispatcher {
  readonly calls: CallRecord[] = [];
  readonly stats: TelegramStats = { calls: 0, sent: 0, rateLimited: 0, failed: 0, serverErrors: 0 };
  private readonly byLowerName = new Map<string, [string, MethodSpec]>();
  private readonly faults = new Map<string, InjectedFault & { remaining: number }>();
  private readonly delays = new Map<string, { ms: number; remaining: number }>();

  constructor(
    private readonly ctx: BotContext,
    methods: Record<string, MethodSpec>,
    private readonly opts: DispatcherOptions,
  ) {
    for (const [name, spec] of Object.entries(methods)) this.byLowerName.set(name.toLowerCase(), [name, spec]);
  }

  failNext(method: string, fault: InjectedFault): void {
    this.faults.set(method.toLowerCase(), { ...fault, remaining: fault.count ?? 1 });
  }

  /** The next `count` successful calls of `method` run at once, and their answer is held back `ms`. */
  delayNext(method: string, ms: number, count = 1): void {
    this.delays.set(method.toLowerCase(), { ms, remaining: count });
  }

  /** Records a call that never reached a method (wrong token). */
  recordRejected(method: string, params: Params, error: TelegramApiError): DispatchResult {
    return this.fail({ method, params: params.toRecord(), at: Date.now(), ok: false }, error);
  }

  async dispatch(requestedName: string, params: Params): Promise<DispatchResult> {
    const known = this.byLowerName.get(requestedName.toLowerCase());
    const method = known?.[0] ?? requestedName;
    const record: CallRecord = { method, params: params.toRecord(), at: Date.now(), ok: false };
    const chatId = lenientChatId(params);
    if (chatId !== undefined) record.chatId = chatId;
    if (!known) return this.fail(record, new TelegramApiError(404, 'Not Found: method not found'));
    const spec = known[1];
    try {
      this.injectFaults(method);
      if (spec.chat === 'required' || (spec.chat === 'optional' && params.has('chat_id'))) {
        const error = chatError(this.ctx.chats.behaviour(params.chatId()));
        if (error) throw error;
      }
      if (spec.send && this.opts.enforceRateLimits()) {
        const retryAfter = this.opts.limiter.admit(params.chatId(), params.bool('allow_paid_broadcast'));
        if (retryAfter !== undefined) throw tooManyRequests(retryAfter);
      }
      const result = await spec.handler(params, this.ctx);
      if (spec.send) this.stats.sent++;
      record.ok = true;
      this.push(record);
      await this.delayAnswer(method);
      return { status: 200, body: { ok: true, result }, contentType: 'application/json' };
    } catch (err) {
      if (err instanceof TelegramApiError) return this.fail(record, err);
      this.opts.logger?.error({ err, method }, 'telegram simulator: method crashed');
      return this.fail(record, new TelegramApiError(500, 'Internal Server Error'));
    }
  }

  reset(): void {
    this.calls.length = 0;
    this.faults.clear();
    this.delays.clear();
    Object.assign(this.stats, { calls: 0, sent: 0, rateLimited: 0, failed: 0, serverErrors: 0 });
  }

  private async delayAnswer(method: string): Promise<void> {
    const delay = this.delays.get(method.toLowerCase());
    if (!delay || delay.remaining <= 0) return;
    if (--delay.remaining === 0) this.delays.delete(method.toLowerCase());
    // Done already (the message is in the chat); only the answer is late. Unref'd: a stopping simulator does not wait for it.
    await new Promise((resolve) => setTimeout(resolve, delay.ms).unref());
  }

  private injectFaults(method: string): void {
    const fault = this.faults.get(method.toLowerCase());
    if (fault && fault.remaining > 0) {
      if (--fault.remaining === 0) this.faults.delete(method.toLowerCase());
      const parameters = fault.retryAfter !== undefined ? { retry_after: fault.retryAfter } : undefined;
      throw new TelegramApiError(fault.errorCode, fault.description, parameters);
    }
    if (Math.random() < this.opts.serverErrorRate()) {
      throw Math.random() < 0.5
        ? new TelegramApiError(500, 'Internal Server Error')
        : new TelegramApiError(502, 'Bad Gateway', undefined, true);
    }
  }

  private fail(record: CallRecord, error: TelegramApiError): DispatchResult {
    record.ok = false;
    record.errorCode = error.errorCode;
    record.description = error.description;
    this.push(record);
    this.stats.failed++;
    if (error.errorCode === 429) this.stats.rateLimited++;
    if (error.errorCode >= 500) this.stats.serverErrors++;
    if (error.asHtml) return { status: error.errorCode, body: BAD_GATEWAY_HTML, contentType: 'text/html' };
    const body: TgResponse = { ok: false, error_code: error.errorCode, description: error.description };
    if (error.parameters) body.parameters = error.parameters;
    return { status: error.errorCode, body, contentType: 'application/json' };
  }

  private push(record: CallRecord): void {
    this.stats.calls++;
    this.calls.push(record);
  }
}

function lenientChatId(params: Params): number | string | undefined {
  try {
    return params.has('chat_id') ? params.chatId() : undefined;
  } catch {
    return undefined;
  }
}
