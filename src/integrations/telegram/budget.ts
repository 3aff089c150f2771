import { setTimeout as sleep } from 'node:timers/promises';
import { TelegramBudgetBusyError } from '../../errors.js';
import { databaseNowMs, pauseTelegramBudget, reserveTelegramBudget } from '../../db/telegram-budget.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { WorkerMetrics } from '../../observability/metrics.js';
import { DatabaseClock } from './database-clock.js';

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
 * ones; this bound, with the 2% margin (20 ms of any second, at any rate), keeps
 * any one-second window under the ceiling. A later one gives its slot up and
 * reserves anew.
 */
const MAX_LATENESS_MS = 15;
/**
 * Broadcast slots, a millisecond apart at 1,000/s, have two ways to bunch: this
 * process leaving late, and sends already on their way when Telegram (or the
 * network, or the simulator) stalls, which arrive together after it. Both eat
 * the same 2% margin (20 ms), so a broadcast send goes only while its lateness
 * plus the sends unanswered beyond the usual (in time at this rate) stay under
 * 10 ms of it: the rest is for the sends in flight when a stall begins, the
 * clock's mapping, millisecond timestamps and the other workers' calls.
 * (Measured in `bench:broadcast`'s paid scenario: with 14 ms, peaks of 1,001–1,002
 * and a 429 in most runs; with 10, peaks of 993–994 and none.)
 */
const BROADCAST_TOLERANCE_MS = 10;
/**
 * Broadcast answers whose median duration sizes the usual number in flight: two
 * seconds' worth at 1,000/s, so that the stalls this guards against (which slow
 * the answers they delay) do not move it, while a slower network does within seconds.
 */
const LATENCY_SAMPLES = 2048;

type Schedule = 'bot' | 'paid';

/** A slot of a broadcast block, see {@link TelegramBudget.reserveBroadcast}. */
export class ReservedSlot {
  /** @internal Only the budget makes slots. */
  constructor(
    readonly chatId: number,
    /** Local time (`Date.now()` scale) the slot begins. */
    readonly at: number,
    readonly schedule: Schedule,
    /** One of a broadcast block's: fast, uniform sends, paced by their answers too. */
    readonly broadcast = false,
    /** When the slot holds its chat's too: the chat's next free moment it set, in the database's microseconds. */
    readonly chatNextUs?: bigint,
  ) {}
}

/** The median of the last {@link LATENCY_SAMPLES} broadcast answers' durations. */
class Latency {
  private readonly samples: number[] = [];
  private next = 0;
  private cached = 0;
  private sinceSorted = 0;

  observe(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % LATENCY_SAMPLES;
    if (++this.sinceSorted >= 128) {
      const sorted = [...this.samples].sort((a, b) => a - b);
      this.cached = sorted[sorted.length >> 1]!;
      this.sinceSorted = 0;
    }
  }

  get medianMs(): number {
    return this.cached;
  }
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

/** A bot's limits as the budget paces them; every worker of the fleet must be given the same. */
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
  metrics?: Pick<WorkerMetrics, 'telegramBudgetStatements' | 'telegramBudgetSlotsGivenUp' | 'telegramBudgetBusy' | 'telegramBudgetWait'>;
}

/** The budget's row of a bot: its id, the token's public prefix. */
export function budgetKey(botToken: string): string {
  return `telegram:${botToken.split(':')[0]}`;
}

/** One call's part of a reservation: its slot, or why it has none (the schedule's next free one, or its chat's). */
interface OneSlot {
  slot?: number;
  chatNextUs?: bigint;
  start: number;
  chatFreeAt?: number;
}

interface Waiting {
  chatId: number | null;
  horizonMs: number;
  resolve: (slot: OneSlot) => void;
  reject: (error: unknown) => void;
}

/** Calls of one class and schedule waiting for their reservation. */
interface Line {
  waiting: Waiting[];
  running: boolean;
}

/** Calls reserved together in one statement at most. */
const MAX_BATCH = 500;
/** Reads of the database's clock at most, when it has no recent fast one. */
const PROBES = 5;

/** A reservation's answer, in this process's time (`Date.now()` scale). */
interface Reservation {
  /** Slots reserved (0: none). */
  reserved: number;
  /** The first slot, or the next free one when none was reserved. */
  start: number;
  spacingMs: number;
  chats: number[];
  /** What each of `chats` had its next free moment set to, for a release should its slot go unused. */
  chatsNextUs: bigint[];
  deferred: number[];
  deferredUntil: number;
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
 * passed. Cost: one statement per paced call (about 1 ms of PostgreSQL CPU,
 * 3 % of a core at 30 calls a second; `npm run bench:budget`), one per quarter
 * second of broadcast.
 */
export class TelegramBudget {
  /** This process's counts: statements made (reservations, pauses, clock probes), slots given up for lateness or a pause, calls refused busy. */
  readonly stats = { statements: 0, slotsGivenUp: 0, busy: 0 };
  /** This process's own knowledge of a pause, so its slots reserved before it are not spent during it. */
  private localPauseUntil = 0;
  /** When this process last sent on each schedule: two reservations' slots never come closer than one spacing. */
  private readonly lastLocalSend: Record<Schedule, number> = { bot: 0, paid: 0 };
  private readonly botSpacing: number;
  private readonly paidSpacing: number | null;
  private readonly broadcastSpacing: number;
  private readonly chatSpacing: number;
  private readonly clock = new DatabaseClock();
  private probing: Promise<void> | undefined;
  private readonly lines = new Map<string, Line>();
  private broadcastsInFlight = 0;
  /** Chats' slots reserved and not used, handed back with the next statement. */
  private releases: Array<{ chatId: number; nextUs: bigint }> = [];
  private readonly latency = new Latency();

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
    const asked = Date.now();
    const busy = (at: number) => {
      this.stats.busy += 1;
      this.options.metrics?.telegramBudgetBusy.inc({ priority });
      return new TelegramBudgetBusyError(method, priority, at - Date.now());
    };
    for (;;) {
      if (this.paused) {
        if (this.localPauseUntil > deadline) throw busy(this.localPauseUntil);
        await sleep(this.localPauseUntil - Date.now());
      }
      // Only a slot it can wait for: never past its deadline.
      const horizon = Math.min(HORIZON_MS[priority], Math.max(0, deadline - Date.now()));
      const r = await this.reserveOne(request.perChat && chatId !== undefined ? chatId : null, priority, horizon, schedule);
      if (r.slot !== undefined) {
        const slot = new ReservedSlot(chatId ?? 0, r.slot, schedule, false, r.chatNextUs);
        const at = this.sendTime(slot);
        if (at > Date.now()) await sleep(at - Date.now());
        if (this.take(slot, at)) {
          this.options.metrics?.telegramBudgetWait.observe({ priority }, (Date.now() - asked) / 1000);
          return;
        }
        if (priority === 'presence') throw busy(Date.now() + this.spacingMs(schedule));
        continue;
      }
      let next: number;
      if (r.chatFreeAt !== undefined) {
        next = r.chatFreeAt;
      } else {
        // Come back when the schedule is within this class's horizon again.
        if (r.start > deadline) throw busy(r.start - HORIZON_MS[priority]);
        next = r.start - HORIZON_MS[priority];
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
    const r = await this.reserve(chatIds.length, chatIds, HORIZON_MS.broadcast, true, schedule);
    const slots = r.chats.map((chatId, i) => new ReservedSlot(chatId, r.start + i * r.spacingMs, schedule, true, r.chatsNextUs[i]));
    const block: BroadcastBlock = { slots, deferred: r.deferred, deferredUntil: r.deferredUntil };
    if (slots.length === 0 && r.deferred.length === 0) block.retryAt = r.start - HORIZON_MS.broadcast;
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
   * would burst past the ceiling; for broadcast slots see {@link BROADCAST_TOLERANCE_MS}). The schedule, not the clock, is recorded, so
   * timer lateness never accumulates into drift.
   */
  take(slot: ReservedSlot, at: number): boolean {
    const lateMs = Math.max(0, Date.now() - at);
    const behindMs = slot.broadcast ? Math.max(0, this.broadcastsInFlight - this.usualInFlight(slot.schedule)) * this.spacingMs(slot.schedule) : 0;
    const tooLate = slot.broadcast ? lateMs + behindMs > BROADCAST_TOLERANCE_MS : lateMs > MAX_LATENESS_MS;
    if (this.paused || tooLate) {
      // Its chat need not wait a second for a message that never went: free again with the next statement.
      if (slot.chatNextUs !== undefined) this.releases.push({ chatId: slot.chatId, nextUs: slot.chatNextUs });
      this.stats.slotsGivenUp += 1;
      this.options.metrics?.telegramBudgetSlotsGivenUp.inc({ reason: this.paused ? 'paused' : lateMs >= behindMs ? 'late' : 'crowded' });
      return false;
    }
    this.lastLocalSend[slot.schedule] = at;
    return true;
  }

  /**
   * A call in `slot` goes out now; call what this returns once its answer (or
   * error) is back. Counts broadcast sends in flight and how long they take.
   */
  sending(slot: ReservedSlot): () => void {
    if (!slot.broadcast) return () => {};
    this.broadcastsInFlight += 1;
    const started = Date.now();
    return () => {
      this.broadcastsInFlight -= 1;
      this.latency.observe(Date.now() - started);
    };
  }

  /** Broadcast sends in flight at this rate and the usual answer time (0.06 at 30/s with 2 ms answers: one unanswered is 32 ms behind). */
  private usualInFlight(schedule: Schedule): number {
    return this.latency.medianMs / this.spacingMs(schedule);
  }

  /** Reads the database's clock until it is known well, before any slot depends on it. */
  async warmUp(): Promise<void> {
    await this.probeClock();
  }

  /** Telegram said `retry_after`: nobody in the fleet sends before it has passed. */
  async pause(seconds: number): Promise<void> {
    this.localPauseUntil = Math.max(this.localPauseUntil, Date.now() + seconds * 1000);
    this.count('pause');
    await pauseTelegramBudget(this.options.prisma, this.options.key, seconds);
  }

  /**
   * One call's reservation, made together with the others of this process that
   * ask at the same moment (same class and schedule): a burst of a hundred videos
   * costs one statement, not a hundred competing for the pool and the row's lock
   * (which would also keep the event loop busy right when the first slots are due).
   */
  private reserveOne(chatId: number | null, priority: TelegramPriority, horizonMs: number, schedule: Schedule): Promise<OneSlot> {
    const key = `${priority}:${schedule}:${chatId === null ? 'bot' : 'chat'}`;
    let line = this.lines.get(key);
    if (!line) {
      line = { waiting: [], running: false };
      this.lines.set(key, line);
    }
    const queue = line;
    return new Promise<OneSlot>((resolve, reject) => {
      queue.waiting.push({ chatId, horizonMs, resolve, reject });
      if (!queue.running) {
        queue.running = true;
        // A microtask later, so that every call of this synchronous burst is in line.
        queueMicrotask(() => void this.drain(queue, priority, schedule, chatId !== null));
      }
    });
  }

  /** Reserves for everyone in `line`, one statement at a time, until nobody waits. Never rejects. */
  private async drain(line: Line, priority: TelegramPriority, schedule: Schedule, perChat: boolean): Promise<void> {
    while (line.waiting.length > 0) {
      // One request per chat per statement: a chat's second call goes in the next one.
      const batch: Waiting[] = [];
      const chats = new Set<number>();
      line.waiting = line.waiting.filter((w) => {
        if (batch.length >= MAX_BATCH || (w.chatId !== null && chats.has(w.chatId))) return true;
        if (w.chatId !== null) chats.add(w.chatId);
        batch.push(w);
        return false;
      });
      try {
        const horizon = Math.min(...batch.map((w) => w.horizonMs));
        const r = await this.reserve(batch.length, perChat ? [...chats] : null, horizon, priority === 'broadcast', schedule);
        const granted = perChat ? r.chats : batch.slice(0, r.reserved).map(() => null);
        const slotOf = new Map(granted.map((c, i) => [c, { slot: r.start + i * r.spacingMs, chatNextUs: r.chatsNextUs[i] }]));
        batch.forEach((w, i) => {
          const given = perChat ? slotOf.get(w.chatId) : i < r.reserved ? { slot: r.start + i * r.spacingMs } : undefined;
          if (given !== undefined) w.resolve({ ...given, start: r.start });
          else if (perChat && r.deferred.includes(w.chatId!)) w.resolve({ start: r.start, chatFreeAt: r.deferredUntil });
          else w.resolve({ start: r.start });
        });
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    line.running = false;
  }

  /**
   * Quick reads of the database's clock until one comes back fast: the first ones
   * of a process pay for a new connection and for warming up the query path.
   */
  private async probeClock(): Promise<void> {
    for (let i = 0; i < PROBES && !this.clock.accurate(Date.now()); i++) {
      const asked = Date.now();
      this.count('clock');
      const dbNow = await databaseNowMs(this.options.prisma);
      this.clock.observe(asked, Date.now(), dbNow);
    }
  }

  private count(kind: 'reserve' | 'pause' | 'clock'): void {
    this.stats.statements += 1;
    this.options.metrics?.telegramBudgetStatements.inc({ kind });
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
  private async reserve(count: number, chatIds: number[] | null, horizonMs: number, isBroadcast: boolean, schedule: Schedule): Promise<Reservation> {
    const bot = schedule === 'bot' ? this.botSpacing : null;
    const broadcast = isBroadcast && schedule === 'bot' ? this.broadcastSpacing : null;
    const chats = chatIds === null ? null : chatIds.map(BigInt);
    // Every reservation waits for a probe under way: mapped with its own slow answer, it would be off.
    if (this.clock.needsProbe(Date.now())) this.probing ??= this.probeClock().finally(() => (this.probing = undefined));
    if (this.probing) await this.probing;
    const releases = this.releases.splice(0);
    const released = releases.length > 0 ? releases.map((r) => BigInt(r.chatId)) : null;
    const releasedNext = releases.length > 0 ? releases.map((r) => r.nextUs) : null;
    const asked = Date.now();
    this.count('reserve');
    const row = await reserveTelegramBudget(this.options.prisma, {
      key: this.options.key,
      count,
      chats,
      botSpacing: bot,
      paidSpacing: this.paidSpacing,
      broadcastSpacing: broadcast,
      chatSpacing: this.chatSpacing,
      horizonSeconds: horizonMs / 1000,
      releasedChats: released,
      releasedNextUs: releasedNext,
    });
    this.clock.observe(asked, Date.now(), row.now_ms);
    const local = (ms: number) => this.clock.local(row.now_ms, ms);
    if (row.paused_ms > 0) this.localPauseUntil = Math.max(this.localPauseUntil, local(row.paused_ms));
    return {
      reserved: row.reserved,
      start: local(Math.max(0, row.start_ms)),
      spacingMs: row.spacing_ms,
      chats: row.chats.map(Number),
      chatsNextUs: row.chats_next_us,
      deferred: row.deferred.map(Number),
      deferredUntil: local(row.deferred_ms ?? 0),
    };
  }
}
