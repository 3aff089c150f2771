import type { PrismaClient } from '../../generated/prisma/client.js';
import { WORKFLOW_TYPES, type WorkflowCounter, type WorkflowType } from '../../temporal/visibility.js';

/** One UTC day of work, from the database. */
export interface DailyActivity {
  /** `YYYY-MM-DD`, UTC. */
  date: string;
  /** Generations requested that day, by their current status. */
  generations: Record<string, number>;
  /** Summary deliveries created that day, by status. */
  deliveries: Record<string, number>;
}

export interface Stats {
  /** Running and failed executions per workflow type (failed: within Temporal's retention). */
  workflows: Record<WorkflowType, { running: number; failed: number }>;
  today: DailyActivity;
}

/** What `/api/stats` answers. */
export interface StatsService {
  collect(now?: Date): Promise<Stats>;
}

/** Counts of one day from the database. Further per-day figures (e.g. spend) belong here. */
export async function dailyActivity(prisma: PrismaClient, day: Date): Promise<DailyActivity> {
  const from = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()));
  const to = new Date(from.getTime() + 24 * 60 * 60 * 1000);
  const [generations, deliveries] = await Promise.all([
    prisma.generation.groupBy({ by: ['status'], where: { requestedAt: { gte: from, lt: to } }, _count: { _all: true } }),
    prisma.delivery.groupBy({ by: ['status'], where: { createdAt: { gte: from, lt: to } }, _count: { _all: true } }),
  ]);
  const byStatus = (rows: Array<{ status: string; _count: { _all: number } }>) => Object.fromEntries(rows.map((r) => [r.status, r._count._all]));
  return { date: from.toISOString().slice(0, 10), generations: byStatus(generations), deliveries: byStatus(deliveries) };
}

/** The {@link StatsService} over Temporal's visibility and the database. */
export function createStatsService({ prisma, workflows }: { prisma: PrismaClient; workflows: WorkflowCounter }): StatsService {
  return {
    async collect(now = new Date()) {
      const [counts, today] = await Promise.all([
        Promise.all(
          WORKFLOW_TYPES.map(async (type) => {
            const [running, failed] = await Promise.all([workflows.countWorkflows(type, 'Running'), workflows.countWorkflows(type, 'Failed')]);
            return [type, { running, failed }] as const;
          }),
        ),
        dailyActivity(prisma, now),
      ]);
      return { workflows: Object.fromEntries(counts) as Stats['workflows'], today };
    },
  };
}
