import type { GenerationStatus, PrismaClient } from '../generated/prisma/client.js';
import { recordEvent, type DomainEventInput } from './events.js';

/** Statuses of a generation still under way (queued or running); the others are outcomes. */
export const ACTIVE_GENERATION_STATUSES: readonly GenerationStatus[] = ['queued', 'requested', 'preparing', 'submitted', 'processing'];

/** Statuses of a generation holding one of its user's slots (`USER_MAX_ACTIVE_GENERATIONS`): admitted and not yet ended. */
export const RUNNING_GENERATION_STATUSES: readonly GenerationStatus[] = ['requested', 'preparing', 'submitted', 'processing'];

/**
 * Records a re-drive's domain event; for a generation, also puts its row back
 * under way (`processing`, no outcome), so `/status` and `/cancel` see the
 * re-driven run and the chat-action loop keeps going. The run's own
 * `recordPhase`/`recordOutcome` then write what happens next.
 */
export async function recordRedrive(prisma: PrismaClient, event: DomainEventInput): Promise<void> {
  await prisma.$transaction(async (tx) => {
    if (event.type === 'generation.redriven') {
      const id = event.subject.replace(/^generation:/, '');
      await tx.generation.updateMany({
        where: { id, status: { in: ['failed', 'cancelled'] } },
        data: { status: 'processing', completedAt: null, error: null, errorKind: null },
      });
    }
    await recordEvent(tx, event);
  });
}

/** A video `sendVideo` put in the chat, as it recorded it right after Telegram's answer. */
export interface RecordedDelivery {
  telegramFileId?: string;
  deliveredBy: string;
}

/**
 * The delivery `sendVideo` recorded for a generation, if any: a retried send
 * whose first attempt reached Telegram (its completion lost on the way to
 * Temporal) finds it and sends nothing.
 */
export async function findRecordedDelivery(prisma: PrismaClient, generationId: string): Promise<RecordedDelivery | undefined> {
  const row = await prisma.generation.findUnique({ where: { id: generationId }, select: { deliveredBy: true, telegramFileId: true } });
  if (!row?.deliveredBy) return undefined;
  return { deliveredBy: row.deliveredBy, ...(row.telegramFileId ? { telegramFileId: row.telegramFileId } : {}) };
}

/**
 * Records that the video is in the chat, before `sendVideo` (or `sendCachedVideo`,
 * which has no URL) returns; the outcome itself is `recordOutcome`'s.
 */
export async function recordDelivery(prisma: PrismaClient, generationId: string, delivery: RecordedDelivery & { videoUrl?: string }): Promise<void> {
  await prisma.generation.updateMany({
    where: { id: generationId },
    data: {
      deliveredBy: delivery.deliveredBy,
      telegramFileId: delivery.telegramFileId ?? null,
      ...(delivery.videoUrl === undefined ? {} : { videoUrl: delivery.videoUrl }),
    },
  });
}

/**
 * The id of the generation's progress message, as `sendMessage` recorded it
 * right after Telegram's answer: a retried send whose first attempt's
 * completion was lost finds it and sends nothing.
 */
export async function findProgressMessage(prisma: PrismaClient, generationId: string): Promise<number | undefined> {
  const row = await prisma.generation.findUnique({ where: { id: generationId }, select: { progressMessageId: true } });
  return row?.progressMessageId ?? undefined;
}

/** Records the progress message's id, before `sendMessage` returns it. */
export async function recordProgressMessage(prisma: PrismaClient, generationId: string, messageId: number): Promise<void> {
  await prisma.generation.updateMany({ where: { id: generationId }, data: { progressMessageId: messageId } });
}
