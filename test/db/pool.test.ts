import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrisma, poolStats, type PrismaClient } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

describe('the database pool (DATABASE_POOL_SIZE)', () => {
  let db: TestDatabase;
  let prisma: PrismaClient;
  const waits: number[] = [];

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    prisma = createPrisma(db.url, { poolSize: 2, onPoolWait: (s) => waits.push(s) });
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await db?.drop();
  });

  it('opens at most the configured connections, and times the statements that waited for one', async () => {
    const countBackends = async () => Number((await db.prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(0.3)%' AND pid <> pg_backend_pid()`)[0]!.n);
    let done = false;
    const running = Promise.all(Array.from({ length: 6 }, () => prisma.$queryRaw`SELECT 1 AS v FROM pg_sleep(0.3)`)).finally(() => (done = true));
    // Sampled while the six run: a busy machine may open the second connection late.
    let most = { backends: 0, total: 0, waiting: 0 };
    while (!done) {
      const stats = poolStats(prisma)!;
      const backends = await countBackends();
      most = { backends: Math.max(most.backends, backends), total: Math.max(most.total, stats.total), waiting: Math.max(most.waiting, stats.waiting) };
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await running;
    expect(most).toEqual({ backends: 2, total: 2, waiting: 4 });
    expect(poolStats(prisma)!.max).toBe(2);
    expect(waits).toHaveLength(6);
    // Two statements at a time, 0.3 s each: the four that queued waited for at least one of them.
    const slowest = [...waits].sort((a, b) => b - a).slice(0, 4);
    expect(Math.min(...slowest)).toBeGreaterThanOrEqual(0.28);
    expect(poolStats(prisma)).toMatchObject({ total: 2, idle: 2, waiting: 0 });
  });

  it('keeps working in a transaction, through the pool', async () => {
    const before = waits.length;
    const [a, b] = await prisma.$transaction([prisma.$queryRaw<{ v: number }[]>`SELECT 1 AS v`, prisma.$queryRaw<{ v: number }[]>`SELECT 2 AS v`]);
    expect([a[0]!.v, b[0]!.v]).toEqual([1, 2]);
    expect(waits.length).toBeGreaterThan(before);
  });

  it('has no stats for a client it did not make', () => {
    expect(poolStats({} as PrismaClient)).toBeUndefined();
  });
});
