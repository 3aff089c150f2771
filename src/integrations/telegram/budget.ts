import { setTimeout as sleep } from 'node:timers/promises';
import { TelegramBudgetBusyError } from '../../errors.js';
import type { PrismaClient } from '../../generated/prisma/client.js';

/**
 * Who a Bot API call serves, highest first: answers and videos to users, progress
 * edits, summary broadcasts, chat actions ("sending video…", best effort).
 */
export type TelegramPriority = 'user' | 'progress' | 'broadcast' | 'presence';

/** How one Bot API method counts against the budget. */
export interface MethodBudget {
  /** Takes a slot of the bot-wide schedule. */
  paced: boolean;
  /** Also takes the chat's own slot (a message put in a chat). */
  perChat: boolean;
  priority: TelegramPriority;
}

/** Bot API methods that answer a user without naming a chat: paced bot-wide, as users' answers. */
const ANSWERS = new Set(['answerCallbackQuery', 'answerPreCheckoutQuery', 'answerInlineQuery']);

/**
 * How a call counts. Everything addressed to a chat takes a bot-wide slot, and
 * so do answers to users' button presses and payments. A message put in a chat
 * (send*, copy, forward) also takes the chat's slot: Telegram's "one message a
 * second per chat" is about messages, and its limits (like the simulator's) do
 * not count edits or chat actions per chat. Calls that send nothing to anyone
 * (getFile, getMe, setWebhook, …) are not paced.
 */
export function methodBudget(method: string, chatId: number | undefined): MethodBudget {
  const priority: TelegramPriority = method === 'sendChatAction' ? 'presence' : method.startsWith('edit') ? 'progress' : 'user';
  const paced = chatId !== undefined || ANSWERS.has(method);
  const perChat = chatId !== undefined && isMessageSend(method);
  return { paced, perChat, priority };
}

/** Bot API methods that put a message in a chat (`sendChatAction` does not). */
export function isMessageSend(method: string): boolean {
  return (method.startsWith('send') && method !== 'sendChatAction') || method === 'copyMessage' || method === 'forwardMessage';
}

/**
 * Pacing 2% under each ceiling: sends leave a little late or early with the event
 * loop, and Telegram counts them in a sliding window, so pacing exactly at the
 * limit meets 429s.
 */
const SAFETY = 0.98;
/** Added to a chat's second between two messages, for timer lateness and the network. */
const CHAT_MARGIN_MS = 100;
/**
 * A class reserves a slot only if the schedule's next free one begins within
 * its horizon, so lower classes yield to higher ones: a broadcast reserves only
 * while the schedule is at most a quarter second ahead (its blocks are a quarter
 * second long too), presence only when a slot is free right now. A user's call
 * waits behind at most about half a second of broadcast.
 */
const HORIZON_MS: Record<TelegramPriority, number> = { user: 10_000, progress: 3_000, broadcast: 250, presence: 0 };
/**
 * Longest one call waits in process, for its slot or its chat. Beyond it the call
 * fails with {@link TelegramBudgetBusyError} carrying the delay, and Temporal
 * retries the activity then: waiting a minute would hold an activity slot the
 * whole time (and outlive the messaging activities' 30 s timeout).
 */
const MAX_WAIT_MS: Record<TelegramPriority, number> = { user: 10_000, progress: 10_000, broadcast: 10_000, presence: 0 };
/**
 * How late a call may leave after its slot. Late sends bunch up with punctual
 * ones; this bound, with the 2% margin, keeps any one-second window under the
 * ceiling. A later one gives its slot up and reserves anew.
 */
export const MAX_LATENESS_MS = 15;

type Schedule = 'bot' | 'paid';

/** A slot of a broadcast block, see {@link TelegramBudget.reserveBroadcast}. */
export class ReservedSlot {
  /** @internal Only the budget makes slots. */
  constructor(
    readonly chatId: number,
    /** Local time (`Date.now()` scale) the slot begins. */
    readonly at: number,
    readonly schedule: Schedule,
  ) {}
}

/** What {@link TelegramBudget.reserveBroadcast} got. */
export interface BroadcastBlock {
  /** One per chat given a slot, in slot order. */
  slots: ReservedSlot[];
  /** Chats whose own slot is not free yet (they got a message within the last second)… */
  deferred: number[];
  /** …and when the first of them is. */
  deferredUntil: number;
  /** Set when nothing was reserved because higher classes hold the schedule: try again then. */
  retryAt?: number;
}

export interface TelegramBudgetOptions {
  prisma: PrismaClient;
  /** The bot's row; one budget per bot, shared by every worker (e.g. `telegram:<bot id>`). */
  key: string;
  /** Ordinary sends per second, bot-wide (Telegram: about 30). */
  ratePerSecond: number;
  /** Summary broadcasts' own ceiling, within `ratePerSecond` unless they are paid. */
  broadcastRatePerSecond: number;
  /** Set when broadcasts are paid (`allow_paid_broadcast`): all sends together per second (Telegram: up to 1,000). */
  paidRatePerSecond?: number;
  /** Messages per second to one chat (Telegram: about 1). */
  perChatRatePerSecond?: number;
}

/** The budget's row of a bot: its id, the token's public prefix. */
export function budgetKey(botToken: string): string {
  return `telegram:${botToken.split(':')[0]}`;
}

interface ReserveRow {
  reserved: number;
  start_ms: number;
  spacing_ms: number;
  chats: bigint[];
  deferred: bigint[];
  deferred_ms: number | null;
  paused_ms: number;
}

/**
 * The bot's fleet-wide Telegram budget: every Bot API call that counts
 * ({@link methodBudget}) reserves its time slot in one PostgreSQL row (GCRA
 * schedules, `telegram_budget`) and its chat's slot (`telegram_chat_slots`), in
 * one statement, so however many workers run, together they stay under about 30
 * ordinary sends a second, one message a second per chat, and while broadcasts
 * are paid, the paid rate counting every send. Priorities are horizons (see
 * {@link HORIZON_MS}): lower classes yield to higher ones by themselves. A 429's
 * `retry_after` ({@link pause}) stops every class on every worker until it has
 * passed. Cost: one statement per paced call (about 0.5 ms at 30 calls a
 * second), one per quarter second of broadcast.
 */
export class TelegramBudget {
  /** This process's own knowledge of a pause, so its slots reserved before it are not spent during it. */
  private localPauseUntil = 0;
  /** When this process last sent on each schedule: two reservations' slots never come closer than one spacing. */
  private readonly lastLocalSend: Record<Schedule, number> = { bot: 0, paid: 0 };
  private readonly botSpacing: number;
  private readonly paidSpacing: number | null;
  private readonly broadcastSpacing: number;
  private readonly chatSpacing: number;

  constructor(private readonly options: TelegramBudgetOptions) {
    this.botSpacing = 1 / (options.ratePerSecond * SAFETY);
    this.paidSpacing = options.paidRatePerSecond ? 1 / (options.paidRatePerSecond * SAFETY) : null;
    this.broadcastSpacing = 1 / (options.broadcastRatePerSecond * SAFETY);
    this.chatSpacing = 1 / (options.perChatRatePerSecond ?? 1) + CHAT_MARGIN_MS / 1000;
  }

  /** Summary messages per second at most: the paid rate, or the broadcast ceiling within the bot's. */
  get broadcastRatePerSecond(): number {
    const { paidRatePerSecond, broadcastRatePerSecond, ratePerSecond } = this.options;
    return paidRatePerSecond ?? Math.min(broadcastRatePerSecond, ratePerSecond);
  }

  /** Whether broadcasts go as paid broadcasts (`allow_paid_broadcast`). */
  get paidBroadcasts(): boolean {
    return this.paidSpacing !== null;
  }

  /** True while a pause this process learnt of is running. */
  get paused(): boolean {
    return Date.now() < this.localPauseUntil;
  }

  /**
   * Waits for this call's slot (and its chat's, when `perChat`) and returns when
   * the call may be made. `presence` never waits: with no slot free right now it
   * throws {@link TelegramBudgetBusyError} at once. Other classes wait up to
   * {@link MAX_WAIT_MS}, then throw it with the delay to retry after.
   */
  async acquire(method: string, chatId: number | undefined, request: { priority: TelegramPriority; perChat: boolean; paid?: boolean }): Promise<void> {
    const { priority } = request;
    const schedule: Schedule = request.paid && this.paidSpacing !== null ? 'paid' : 'bot';
    const deadline = Date.now() + MAX_WAIT_MS[priority];
    const busy = (at: number) => new TelegramBudgetBusyError(method, priority, at - Date.now());
    for (;;) {
      if (this.paused) {
        if (this.localPauseUntil > deadline) throw busy(this.localPauseUntil);
        await sleep(this.localPauseUntil - Date.now());
      }
      const asked = Date.now();
      // Only a slot it can wait for: never past its deadline.
      const horizon = Math.min(HORIZON_MS[priority], Math.max(0, deadline - asked));
      const chats = request.perChat && chatId !== undefined ? [chatId] : null;
      const row = await this.reserve(1, chats, horizon, priority === 'broadcast', schedule);
      if (row.reserved > 0) {
        const slot = new ReservedSlot(chatId ?? 0, asked + Math.max(0, row.start_ms), schedule);
        const at = this.sendTime(slot);
        if (at > Date.now()) await sleep(at - Date.now());
        if (this.take(slot, at)) return;
        if (priority === 'presence') throw busy(Date.now() + this.spacingMs(schedule));
        continue;
      }
      let next: number;
      if (row.deferred.length > 0) {
        next = asked + (row.deferred_ms ?? 0);
      } else {
        const slotAt = asked + row.start_ms;
        // Come back when the schedule is within this class's horizon again.
        if (slotAt > deadline) throw busy(slotAt - HORIZON_MS[priority]);
        next = slotAt - HORIZON_MS[priority];
      }
      if (priority === 'presence' || next > deadline) throw busy(next);
      await sleep(Math.max(0, next - Date.now()));
    }
  }

  /**
   * Reserves consecutive broadcast slots for up to all of `chatIds` (distinct),
   * in one statement: none while higher classes hold the schedule more than a
   * quarter second ahead (`retryAt` says when to try again), and none for a chat
   * whose own slot is not free yet (`deferred`). Send each in its slot with
   * {@link sendTime} and {@link take}.
   */
  async reserveBroadcast(chatIds: number[], options: { paid: boolean }): Promise<BroadcastBlock> {
    const schedule: Schedule = options.paid && this.paidSpacing !== null ? 'paid' : 'bot';
    const asked = Date.now();
    const row = await this.reserve(chatIds.length, chatIds, HORIZON_MS.broadcast, true, schedule);
    const start = asked + Math.max(0, row.start_ms);
    const slots = row.chats.map((chatId, i) => new ReservedSlot(Number(chatId), start + i * row.spacing_ms, schedule));
    const deferred = row.deferred.map(Number);
    const block: BroadcastBlock = { slots, deferred, deferredUntil: asked + (row.deferred_ms ?? 0) };
    if (slots.length === 0 && deferred.length === 0) block.retryAt = asked + row.start_ms - HORIZON_MS.broadcast;
    return block;
  }

  /**
   * The moment to send in `slot`: the slot itself, or one spacing after this
   * process's previous send on the same schedule if two reservations' slots came
   * out overlapping (each maps the database's clock to ours a little differently).
   */
  sendTime(slot: ReservedSlot): number {
    return Math.max(slot.at, this.lastLocalSend[slot.schedule] + this.spacingMs(slot.schedule));
  }

  /**
   * Claims `slot` for a send at `at` (from {@link sendTime}), now. False when it
   * must not be used: Telegram asked the fleet to wait since it was reserved, or
   * this process is more than {@link MAX_LATENESS_MS} behind it (catching up
   * would burst past the ceiling). The schedule, not the clock, is recorded, so
   * timer lateness never accumulates into drift.
   */
  take(slot: ReservedSlot, at: number): boolean {
    if (this.paused || Date.now() - at > MAX_LATENESS_MS) return false;
    this.lastLocalSend[slot.schedule] = at;
    return true;
  }

  /** Telegram said `retry_after`: nobody in the fleet sends before it has passed. */
  async pause(seconds: number): Promise<void> {
    this.localPauseUntil = Math.max(this.localPauseUntil, Date.now() + seconds * 1000);
    await this.options.prisma.$executeRaw`
      INSERT INTO telegram_budget (id, paused_until) VALUES (${this.options.key}, clock_timestamp() + make_interval(secs => ${seconds}::float8))
      ON CONFLICT (id) DO UPDATE
      SET paused_until = GREATEST(COALESCE(telegram_budget.paused_until, '-infinity'), EXCLUDED.paused_until), updated_at = clock_timestamp()`;
  }

  private spacingMs(schedule: Schedule): number {
    return (schedule === 'paid' ? (this.paidSpacing ?? this.botSpacing) : this.botSpacing) * 1000;
  }

  /**
   * One reservation (see `telegram_budget_reserve` in the migration). Ordinary
   * sends count on the bot's schedule and, when broadcasts are paid, on the
   * all-sends one; paid sends on the latter only; broadcasts on their own too.
   * Learns of the fleet's pause from the answer.
   */
  private async reserve(count: number, chatIds: number[] | null, horizonMs: number, isBroadcast: boolean, schedule: Schedule): Promise<ReserveRow> {
    const asked = Date.now();
    const bot = schedule === 'bot' ? this.botSpacing : null;
    const broadcast = isBroadcast && schedule === 'bot' ? this.broadcastSpacing : null;
    const chats = chatIds === null ? null : chatIds.map(BigInt);
    const rows = await this.options.prisma.$queryRaw<ReserveRow[]>`
      SELECT * FROM telegram_budget_reserve(${this.options.key}, ${count}::int, ${chats}::bigint[], ${bot}::float8,
        ${this.paidSpacing}::float8, ${broadcast}::float8, ${this.chatSpacing}::float8, ${horizonMs / 1000}::float8)`;
    const row = rows[0]!;
    if (row.paused_ms > 0) this.localPauseUntil = Math.max(this.localPauseUntil, asked + row.paused_ms);
    return row;
  }
}
