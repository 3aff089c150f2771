/**
 * A summary's deliveries, one row per (summary, chat): claimed before a send,
 * completed right after, so that nobody gets a summary twice.
 */
import type { DeliveryStatus, PrismaClient } from '../generated/prisma/client.js';
import { markUserBlocked } from './users.js';

/** How a delivery ended, to be written. */
export interface DeliveryOutcome {
  chatId: number;
  status: 'sent' | 'blocked' | 'not_found' | 'failed';
  telegramMessageId?: number;
  error?: string;
  /** A 403: the user to mark blocked, and why. */
  blocked?: { userId: number; reason: string };
}

/** Final state of a batch's deliveries. */
export interface BatchCounts {
  sent: number;
  blocked: number;
  notFound: number;
  failed: number;
}

/** Deliveries per status; a status with none is absent. */
export type DeliveryStatusCounts = Partial<Record<DeliveryStatus, number>>;

/**
 * Claims the summary's delivery to each chat: a new row (`sending`, 1 attempt),
 * or one still `sending` (an earlier send that may or may not have reached
 * Telegram) with one attempt more. Chats whose delivery has ended are not
 * returned. One statement.
 */
export async function claimDeliveries(prisma: PrismaClient, summaryId: number, chatIds: number[]): Promise<Array<{ chatId: number; attempts: number }>> {
  const claimed = await prisma.$queryRaw<Array<{ chat_id: bigint; attempts: number }>>`
        INSERT INTO deliveries (summary_id, chat_id, status, attempts, created_at, updated_at)
        SELECT ${summaryId}::int, c, 'sending', 1, now(), now() FROM unnest(${chatIds.map(BigInt)}::bigint[]) AS c
        ON CONFLICT (summary_id, chat_id) DO UPDATE SET attempts = deliveries.attempts + 1, updated_at = now()
        WHERE deliveries.status = 'sending'
        RETURNING chat_id, attempts`;
  return claimed.map((row) => ({ chatId: Number(row.chat_id), attempts: row.attempts }));
}

/**
 * Writes one group of outcomes in one statement, then marks the users who
 * blocked the bot (see {@link markUserBlocked}). Safe to repeat.
 */
export async function recordDeliveryOutcomes(prisma: PrismaClient, summaryId: number, outcomes: DeliveryOutcome[]): Promise<void> {
  await prisma.$executeRaw`
      UPDATE deliveries AS d
      SET status = v.status::delivery_status,
          telegram_message_id = v.message_id,
          error = v.error,
          sent_at = CASE WHEN v.status = 'sent' THEN now() ELSE d.sent_at END,
          updated_at = now()
      FROM unnest(
        ${outcomes.map((o) => BigInt(o.chatId))}::bigint[],
        ${outcomes.map((o) => o.status)}::text[],
        ${outcomes.map((o) => o.telegramMessageId ?? null)}::int[],
        ${outcomes.map((o) => o.error ?? null)}::text[]
      ) AS v(chat_id, status, message_id, error)
      WHERE d.summary_id = ${summaryId} AND d.chat_id = v.chat_id`;
  for (const { blocked } of outcomes) {
    if (blocked) await markUserBlocked(prisma, blocked.userId, `telegram-403-${blocked.reason}`);
  }
}

/**
 * Takes back one claim of each chat still `sending`: the attempt sent it
 * nothing, so the claim was not an attempt that may have reached Telegram. A
 * batch whose database keeps failing after its claim (a flapping connection,
 * a failover) would otherwise use up the claims a chat has (`MAX_CLAIMS`) and
 * give it up unsent.
 */
export async function releaseDeliveryClaims(prisma: PrismaClient, summaryId: number, chatIds: number[]): Promise<void> {
  await prisma.$executeRaw`
      UPDATE deliveries SET attempts = GREATEST(attempts - 1, 0), updated_at = now()
      WHERE summary_id = ${summaryId} AND status = 'sending' AND chat_id = ANY(${chatIds.map(BigInt)}::bigint[])`;
}

/** The summary's deliveries to these chats, per status. */
export async function countDeliveriesToChats(prisma: PrismaClient, summaryId: number, chatIds: number[]): Promise<DeliveryStatusCounts> {
  const rows = await prisma.delivery.groupBy({
    by: ['status'],
    where: { summaryId, chatId: { in: chatIds.map(BigInt) } },
    _count: { _all: true },
  });
  return byStatus(rows);
}

/** Deliveries created in [from, to), per status. */
export async function countDeliveriesCreated(prisma: PrismaClient, from: Date, to: Date): Promise<DeliveryStatusCounts> {
  const rows = await prisma.delivery.groupBy({ by: ['status'], where: { createdAt: { gte: from, lt: to } }, _count: { _all: true } });
  return byStatus(rows);
}

function byStatus(rows: Array<{ status: DeliveryStatus; _count: { _all: number } }>): DeliveryStatusCounts {
  return Object.fromEntries(rows.map((r) => [r.status, r._count._all]));
}

/**
 * Makes the summary's `failed` deliveries claimable again (`sending`, no
 * attempts, no error); `sent`, `blocked` and `not_found` rows are left alone.
 * Returns how many were reopened.
 */
export async function reopenFailedDeliveries(prisma: PrismaClient, summaryId: number): Promise<number> {
  const { count } = await prisma.delivery.updateMany({
    where: { summaryId, status: 'failed' },
    data: { status: 'sending', attempts: 0, error: null },
  });
  return count;
}

/** The message id each chat received for the summary (`{ chatId: messageId }`; 0 when none was recorded). */
export async function deliveredMessageIds(prisma: PrismaClient, summaryId: number): Promise<Record<string, number>> {
  const rows = await prisma.delivery.findMany({
    where: { summaryId, status: 'sent' },
    select: { chatId: true, telegramMessageId: true },
  });
  return Object.fromEntries(rows.map((r) => [String(r.chatId), r.telegramMessageId ?? 0]));
}
