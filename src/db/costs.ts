import type { PrismaClient } from '../generated/prisma/client.js';
import { utcDayStart } from './usage.js';

/** WaveSpeed spend of one UTC day. */
export interface DailySpend {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  /** US dollars charged for the generations that ended that day. */
  costUsd: number;
  /** How many of them were charged (cost above 0). */
  charged: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Spend per UTC day over the last `days` days, today included, oldest first;
 * days without spend are there with 0. A generation's cost counts on the day it
 * ended (`completed_at`), when its cost is known.
 */
export async function spendByDay(prisma: Pick<PrismaClient, '$queryRaw'>, options: { days: number; now?: Date }): Promise<DailySpend[]> {
  if (!Number.isInteger(options.days) || options.days < 1) throw new RangeError(`days must be a positive integer, not ${options.days}`);
  const today = utcDayStart(options.now ?? new Date());
  const first = new Date(today.getTime() - (options.days - 1) * DAY_MS);
  // Timestamps are stored as UTC without a zone: compare them with zone-less UTC literals.
  const rows = await prisma.$queryRaw<Array<{ day: string; cost: number; charged: number }>>`
    SELECT to_char(d.day, 'YYYY-MM-DD') AS day,
           coalesce(sum(g.cost_usd), 0)::float8 AS cost,
           (count(g.id) FILTER (WHERE g.cost_usd > 0))::int AS charged
    FROM generate_series(${first.toISOString()}::timestamp, ${today.toISOString()}::timestamp, interval '1 day') AS d(day)
    LEFT JOIN generations g
      ON g.completed_at >= d.day AND g.completed_at < d.day + interval '1 day' AND g.cost_usd IS NOT NULL
    GROUP BY d.day
    ORDER BY d.day`;
  return rows.map((r) => ({ day: r.day, costUsd: Math.round(r.cost * 10_000) / 10_000, charged: r.charged }));
}
