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
    const backends = async () => Number((await db.prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(0.3)%' AND pid <> pg_backend_pid()`)[0]!.n);
    const running = Promise.all(Array.from({ length: 6 }, () => prisma.$queryRaw`SELECT 1 AS v FROM pg_sleep(0.3)`));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(poolStats(prisma)).toMatchObject({ max: 2, total: 2, waiting: 4 });
    expect(await backends()).toBe(2);
    await running;
    expect(waits).toHaveLength(6);
    // Two statements at a time, 0.3 s each: two waited about 0.3 s, two about 0.6 s.
    const slow = waits.filter((s) => s >= 0.25).length;
    expect(slow).toBe(4);
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
