import type { PrismaClient } from '../../generated/prisma/client.js';
import { spendByDay, type DailySpend } from '../../db/costs.js';
import { countDeliveriesCreated } from '../../db/deliveries.js';
import { countGenerationsRequested } from '../../db/generations.js';
import { cacheHitRate, type CacheHitRate } from '../../db/result-cache.js';
import { WORKFLOW_TYPES, type WorkflowCounter, type WorkflowType } from '../../temporal/client/visibility.js';

/** One UTC day of work, from the database. */
export interface DailyActivity {
  /** `YYYY-MM-DD`, UTC. */
  date: string;
  /** Generations requested that day, by their current status. */
  generations: Record<string, number>;
  /** Summary deliveries created that day, by status. */
  deliveries: Record<string, number>;
  /** Result-cache lookups of requests made that day, and how many were hits. */
  cache: CacheHitRate;
}

/** Days of WaveSpeed spend `/api/stats` reports, today included. */
export const SPEND_DAYS = 7;

export interface Stats {
  /** Running and failed executions per workflow type (failed: within Temporal's retention). */
  workflows: Record<WorkflowType, { running: number; failed: number }>;
  today: DailyActivity;
  /** WaveSpeed spend per UTC day over the last {@link SPEND_DAYS} days, oldest first. */
  spend: DailySpend[];
}

/** What `/api/stats` answers. */
export interface StatsService {
  collect(now?: Date): Promise<Stats>;
}

/** Counts of one day from the database. */
export async function dailyActivity(prisma: PrismaClient, day: Date): Promise<DailyActivity> {
  const from = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()));
  const to = new Date(from.getTime() + 24 * 60 * 60 * 1000);
  const [generations, deliveries, cache] = await Promise.all([
    countGenerationsRequested(prisma, from, to),
    countDeliveriesCreated(prisma, from, to),
    cacheHitRate(prisma, from, to),
  ]);
  return { date: from.toISOString().slice(0, 10), generations, deliveries, cache };
}

/** The {@link StatsService} over Temporal's visibility and the database. */
export function createStatsService({ prisma, workflows }: { prisma: PrismaClient; workflows: WorkflowCounter }): StatsService {
  return {
    async collect(now = new Date()) {
      const [counts, today, spend] = await Promise.all([
        Promise.all(
          WORKFLOW_TYPES.map(async (type) => {
            const [running, failed] = await Promise.all([workflows.countWorkflows(type, 'Running'), workflows.countWorkflows(type, 'Failed')]);
            return [type, { running, failed }] as const;
          }),
        ),
        dailyActivity(prisma, now),
        spendByDay(prisma, { days: SPEND_DAYS, now }),
      ]);
      return { workflows: Object.fromEntries(counts) as Stats['workflows'], today, spend };
    },
  };
}
