/**
 * The fleet-wide Telegram budget's statements (`telegram_budget`,
 * `telegram_chat_slots`; the pacing itself is `src/integrations/telegram/budget.ts`'s).
 * Times are the database's clock (`clock_timestamp()`), which every worker shares.
 */
import type { PrismaClient } from '../generated/prisma/client.js';

/** One reservation's request, as `telegram_budget_reserve` (see its migration) takes it. */
export interface BudgetReserveInput {
  /** The bot's row. */
  key: string;
  /** Slots wanted. */
  count: number;
  /** Chats (distinct), one per slot, that also take their own slot; null for calls that put no message in a chat. */
  chats: bigint[] | null;
  /** Seconds between slots of the ordinary schedule; null leaves it out (paid sends). */
  botSpacing: number | null;
  /** Seconds between slots of the all-sends schedule while broadcasts are paid; null when they are not. */
  paidSpacing: number | null;
  /** Seconds between summary broadcasts' slots; null for any other call. */
  broadcastSpacing: number | null;
  /** Seconds between two messages to one chat. */
  chatSpacing: number;
  /** Nothing is reserved when the first slot would begin more than this many seconds from now. */
  horizonSeconds: number;
  /** Chats whose reserved slot went unused, handed back… */
  releasedChats: bigint[] | null;
  /** …with the next free moment each was given, in Unix microseconds. */
  releasedNextUs: bigint[] | null;
}

/** `telegram_budget_reserve`'s answer: milliseconds are from `now_ms`, the database's time of the reservation. */
export interface BudgetReserveRow {
  reserved: number;
  start_ms: number;
  spacing_ms: number;
  chats: bigint[];
  chats_next_us: bigint[];
  deferred: bigint[];
  deferred_ms: number | null;
  paused_ms: number;
  now_ms: number;
}

/** Reserves slots on the bot's schedules (and chats'), in one statement that locks the bot's row. */
export async function reserveTelegramBudget(prisma: PrismaClient, input: BudgetReserveInput): Promise<BudgetReserveRow> {
  const rows = await prisma.$queryRaw<BudgetReserveRow[]>`
      SELECT * FROM telegram_budget_reserve(${input.key}, ${input.count}::int, ${input.chats}::bigint[], ${input.botSpacing}::float8,
        ${input.paidSpacing}::float8, ${input.broadcastSpacing}::float8, ${input.chatSpacing}::float8, ${input.horizonSeconds}::float8,
        ${input.releasedChats}::bigint[], ${input.releasedNextUs}::bigint[])`;
  return rows[0]!;
}

/** Pauses every send of the bot until `seconds` from now (a later pause already set stands). */
export async function pauseTelegramBudget(prisma: PrismaClient, key: string, seconds: number): Promise<void> {
  await prisma.$executeRaw`
      INSERT INTO telegram_budget (id, paused_until) VALUES (${key}, clock_timestamp() + make_interval(secs => ${seconds}::float8))
      ON CONFLICT (id) DO UPDATE
      SET paused_until = GREATEST(COALESCE(telegram_budget.paused_until, '-infinity'), EXCLUDED.paused_until), updated_at = clock_timestamp()`;
}

/** The database's clock now, in Unix milliseconds. */
export async function databaseNowMs(prisma: PrismaClient): Promise<number> {
  const rows = await prisma.$queryRaw<Array<{ now_ms: number }>>`SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::float8 AS now_ms`;
  return rows[0]!.now_ms;
}
