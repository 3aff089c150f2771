import { recordEvent } from './events.js';
import type { PrismaClient } from '../generated/prisma/client.js';

/** A summary was sent for a source slug that does not exist: answered 404. */
export class UnknownSourceError extends Error {
  constructor(readonly slug: string) {
    super(`There is no source "${slug}": create it with POST /api/sources first`);
    this.name = 'UnknownSourceError';
  }
}

export interface SourceInput {
  slug: string;
  title: string;
}

export interface SourceRecord {
  id: number;
  slug: string;
  title: string;
}

export interface SummaryInput {
  /** The source's slug. */
  source: string;
  externalId: string;
  title: string;
  text: string;
  videoUrl?: string;
}

/** What the operators' API asks of the database: small, transactional, idempotent. */
export interface Catalog {
  /** Creates the source (recording `source.created`) or renames the existing one. */
  upsertSource(input: SourceInput): Promise<{ source: SourceRecord; created: boolean }>;
  /**
   * Stores a summary once per (source, externalId), recording `summary.received`.
   * A repeated intake returns the stored summary unchanged. Throws
   * {@link UnknownSourceError} for an unknown slug.
   */
  acceptSummary(input: SummaryInput): Promise<{ summaryId: number; created: boolean }>;
}

/** The {@link Catalog} over Prisma. */
export function createCatalog(prisma: PrismaClient): Catalog {
  return {
    async upsertSource({ slug, title }) {
      return prisma.$transaction(async (tx) => {
        const { count } = await tx.source.createMany({ data: [{ slug, title }], skipDuplicates: true });
        const select = { id: true, slug: true, title: true } as const;
        if (count === 0) return { source: await tx.source.update({ where: { slug }, data: { title }, select }), created: false };
        const source = await tx.source.findUniqueOrThrow({ where: { slug }, select });
        await recordEvent(tx, { id: `source.created:${source.id}`, type: 'source.created', subject: `source:${slug}`, payload: { title } });
        return { source, created: true };
      });
    },

    async acceptSummary(input) {
      return prisma.$transaction(async (tx) => {
        const source = await tx.source.findUnique({ where: { slug: input.source }, select: { id: true } });
        if (!source) throw new UnknownSourceError(input.source);
        const key = { sourceId: source.id, externalId: input.externalId };
        const { count } = await tx.summary.createMany({
          data: [{ ...key, title: input.title, text: input.text, videoUrl: input.videoUrl ?? null }],
          skipDuplicates: true,
        });
        const { id } = await tx.summary.findUniqueOrThrow({ where: { sourceId_externalId: key }, select: { id: true } });
        if (count > 0) {
          await recordEvent(tx, {
            id: `summary.received:${id}`,
            type: 'summary.received',
            subject: `summary:${id}`,
            payload: { source: input.source, externalId: input.externalId },
          });
        }
        return { summaryId: id, created: count > 0 };
      });
    },
  };
}
