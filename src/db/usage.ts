import type { Prisma } from '../generated/prisma/client.js';
import { RUNNING_GENERATION_STATUSES } from './generations.js';

/** Midnight UTC starting the day of `now`: the daily quota and the day's spend count from it. */
export function utcDayStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/** A user's generations as the limits see them. */
export interface UserGenerationCounts {
  /** Holding a slot: admitted and not yet ended. */
  running: number;
  /** Waiting for a slot (only those requested before `queuedBefore`, when given). */
  queued: number;
  /** Admitted since `dayStart`, whatever became of them. */
  admittedToday: number;
}

/**
 * Counts a user's generations, leaving out `excludeId` (the request being
 * decided). Run it after locking the user's row, so that concurrent decisions
 * for the same user count one another.
 */
export async function countUserGenerations(
  tx: Pick<Prisma.TransactionClient, 'generation'>,
  userId: number,
  options: { dayStart: Date; excludeId?: string; queuedBefore?: Date },
): Promise<UserGenerationCounts> {
  const mine = { userId: BigInt(userId), ...(options.excludeId === undefined ? {} : { id: { not: options.excludeId } }) };
  // One after the other: a transaction runs on one connection anyway.
  const running = await tx.generation.count({ where: { ...mine, status: { in: [...RUNNING_GENERATION_STATUSES] } } });
  const queued = await tx.generation.count({
    where: { ...mine, status: 'queued', ...(options.queuedBefore ? { requestedAt: { lt: options.queuedBefore } } : {}) },
  });
  const admittedToday = await tx.generation.count({ where: { ...mine, admittedAt: { gte: options.dayStart } } });
  return { running, queued, admittedToday };
}

/** US dollars charged for a user's generations that ended since `since`. */
export async function userSpendSince(tx: Pick<Prisma.TransactionClient, 'generation'>, userId: number, since: Date): Promise<number> {
  const { _sum } = await tx.generation.aggregate({
    where: { userId: BigInt(userId), completedAt: { gte: since } },
    _sum: { costUsd: true },
  });
  return _sum.costUsd === null ? 0 : Number(_sum.costUsd);
}
