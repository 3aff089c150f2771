import { createHash } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client.js';

/** What makes two requests the same: equal keys share one video. */
export interface ResultCacheKeyInput {
  /** MD5 of the normalised JPEG (after rotation, resizing and re-encoding). */
  imageMd5: string;
  prompt: string;
  model: string;
  /** Every other field submitted to WaveSpeed (seed, size, duration…). */
  params: Record<string, unknown>;
}

/**
 * The prompt as it counts for the cache: surrounding whitespace dropped and runs
 * of whitespace (spaces, newlines) made one space. Case and punctuation are kept:
 * the model sees them.
 */
export function normalisePrompt(prompt: string): string {
  return prompt.trim().replace(/\s+/gu, ' ');
}

/** SHA-256 (hex) of the image MD5, normalised prompt, model and parameters (keys sorted). */
export function resultCacheKey(input: ResultCacheKeyInput): string {
  const params = Object.fromEntries(Object.entries(input.params).sort(([a], [b]) => a.localeCompare(b)));
  const canonical = JSON.stringify(['v1', input.imageMd5, normalisePrompt(input.prompt), input.model, params]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** A stored video that can be resent. */
export interface CachedVideo {
  telegramFileId: string;
  /** The generation that produced it. */
  generationId: string;
}

/**
 * Where a request stands against the cache: the video exists (`hit`), this
 * request must generate it (`leader`), or another request is generating it
 * (`follower`, waiting for `leaderId`).
 */
export type ClaimResult =
  | { kind: 'hit'; video: CachedVideo }
  | { kind: 'leader' }
  | { kind: 'follower'; leaderId: string; leaseUntil: string };

export interface ClaimInput extends ResultCacheKeyInput {
  key: string;
  generationId: string;
  /** How long the claim holds without the leader finishing; after it a waiter takes over. */
  leaseMs: number;
}

/**
 * Looks the key up and, when nothing is stored, claims it for `generationId`.
 * Each step is one atomic statement, so concurrent callers agree: exactly one
 * becomes the leader, the others follow it. A caller that already holds the
 * claim (a retried activity) stays the leader; an expired claim is taken over.
 */
export async function claimResult(prisma: PrismaClient, input: ClaimInput): Promise<ClaimResult> {
  for (let attempt = 0; ; attempt++) {
    const existing = await prisma.videoResult.findUnique({ where: { key: input.key } });
    if (existing?.status === 'ready' && existing.telegramFileId) {
      await prisma.videoResult.update({ where: { key: input.key }, data: { hits: { increment: 1 }, lastHitAt: new Date() } });
      return { kind: 'hit', video: { telegramFileId: existing.telegramFileId, generationId: existing.leaderId } };
    }
    const leaseUntil = new Date(Date.now() + input.leaseMs);
    if (!existing) {
      const created = await prisma.videoResult.createMany({
        data: [
          {
            key: input.key,
            status: 'generating',
            imageMd5: input.imageMd5,
            prompt: normalisePrompt(input.prompt),
            model: input.model,
            params: input.params as object,
            leaderId: input.generationId,
            leaseUntil,
          },
        ],
        skipDuplicates: true,
      });
      if (created.count === 1) return { kind: 'leader' };
    } else {
      const taken = await prisma.videoResult.updateMany({
        where: { key: input.key, status: 'generating', OR: [{ leaderId: input.generationId }, { leaseUntil: { lt: new Date() } }] },
        data: { leaderId: input.generationId, leaseUntil },
      });
      if (taken.count === 1) return { kind: 'leader' };
      if (existing.status === 'generating') {
        return { kind: 'follower', leaderId: existing.leaderId, leaseUntil: (existing.leaseUntil ?? leaseUntil).toISOString() };
      }
    }
    // The row changed between the statements (stored, released, claimed): look again.
    if (attempt >= 5) throw new Error(`result cache: could not settle the claim of ${input.key}`);
  }
}

/**
 * Stores a delivered video under its key, ending the claim. A key already
 * `ready` keeps its first video.
 */
export async function storeResult(
  prisma: PrismaClient,
  input: ResultCacheKeyInput & { key: string; generationId: string; telegramFileId: string; videoUrl?: string },
): Promise<void> {
  const ready = { status: 'ready' as const, leaderId: input.generationId, leaseUntil: null, telegramFileId: input.telegramFileId, videoUrl: input.videoUrl ?? null, readyAt: new Date() };
  const updated = await prisma.videoResult.updateMany({ where: { key: input.key, status: 'generating' }, data: ready });
  if (updated.count === 1) return;
  await prisma.videoResult.createMany({
    data: [{ key: input.key, imageMd5: input.imageMd5, prompt: normalisePrompt(input.prompt), model: input.model, params: input.params as object, ...ready }],
    skipDuplicates: true,
  });
}

/** Gives up `generationId`'s claim (its generation failed), so a waiting request takes over. */
export async function releaseClaim(prisma: PrismaClient, input: { key: string; generationId: string }): Promise<void> {
  await prisma.videoResult.deleteMany({ where: { key: input.key, status: 'generating', leaderId: input.generationId } });
}

/** Drops a stored video Telegram no longer accepts, so the next request generates it afresh. */
export async function forgetResult(prisma: PrismaClient, input: { key: string; telegramFileId: string }): Promise<void> {
  await prisma.videoResult.deleteMany({ where: { key: input.key, status: 'ready', telegramFileId: input.telegramFileId } });
}

/** Cache lookups and hits over requests made since a moment. */
export interface CacheHitRate {
  lookups: number;
  hits: number;
  /** hits / lookups; 0 when there were no lookups. */
  rate: number;
}

/**
 * Hit rate of the result cache over generations requested since `since`: a
 * lookup is a request that reached the cache and then either resent a stored
 * video (hit) or submitted to WaveSpeed (miss).
 */
export async function cacheHitRate(prisma: PrismaClient, since: Date, until?: Date): Promise<CacheHitRate> {
  const rows = await prisma.generation.groupBy({
    by: ['cacheHit'],
    where: { requestedAt: { gte: since, ...(until ? { lt: until } : {}) }, cacheHit: { not: null } },
    _count: { _all: true },
  });
  const hits = rows.find((r) => r.cacheHit === true)?._count._all ?? 0;
  const lookups = rows.reduce((n, r) => n + r._count._all, 0);
  return { lookups, hits, rate: lookups === 0 ? 0 : hits / lookups };
}
