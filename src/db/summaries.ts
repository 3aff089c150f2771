/** Summaries as their distribution reads and closes them (intake is `catalog.ts`'s). */
import type { PrismaClient, Summary } from '../generated/prisma/client.js';
import type { BatchCounts } from './deliveries.js';
import { recordEvent } from './events.js';

/** The summary's row; throws when there is none. */
export async function findSummary(prisma: PrismaClient, summaryId: number): Promise<Summary> {
  return prisma.summary.findUniqueOrThrow({ where: { id: summaryId } });
}

/** The source a summary belongs to; throws when there is no such summary. */
export async function findSummarySource(prisma: PrismaClient, summaryId: number): Promise<{ sourceId: number; sourceSlug: string }> {
  const summary = await prisma.summary.findUniqueOrThrow({ where: { id: summaryId }, include: { source: true } });
  return { sourceId: summary.sourceId, sourceSlug: summary.source.slug };
}

/** Marks the summary sent and records `summary.distributed` with `counts`, in one transaction. */
export async function markSummaryDistributed(prisma: PrismaClient, summaryId: number, counts: BatchCounts & { total: number }): Promise<void> {
  await prisma.$transaction(async (tx) => {
    await tx.summary.update({ where: { id: summaryId }, data: { sent: true, sentAt: new Date() } });
    await recordEvent(tx, {
      id: `summary.distributed:${summaryId}`,
      type: 'summary.distributed',
      subject: `summary:${summaryId}`,
      payload: { ...counts },
    });
  });
}
