import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';

export * from '../generated/prisma/client.js';

export interface PrismaOptions {
  /** Connections the pool may open (pg's default is 10); see `DATABASE_POOL_SIZE`. */
  poolSize?: number;
  /** Told how long each statement waited for a free connection, in seconds. */
  onPoolWait?: (seconds: number) => void;
}

/** What a caller can see of its client's pool: for a gauge, read at scrape time. */
export interface PoolStats {
  /** Connections open. */
  total: number;
  /** Open and free. */
  idle: number;
  /** Statements waiting for a connection. */
  waiting: number;
  /** The most the pool may open. */
  max: number;
}

const pools = new WeakMap<PrismaClient, pg.Pool>();

/**
 * A Prisma client on its own pg pool. Each caller (worker, gateway, a test)
 * creates one at startup, passes it down, and calls {@link disconnect} when done;
 * there is no shared instance.
 *
 * A `?schema=` parameter in the URL selects the PostgreSQL schema, as it does
 * for the migrations in scripts/db.ts.
 */
export function createPrisma(databaseUrl: string, options: PrismaOptions = {}): PrismaClient {
  const schema = new URL(databaseUrl).searchParams.get('schema') ?? undefined;
  const pool = new pg.Pool({ connectionString: databaseUrl, ...(options.poolSize ? { max: options.poolSize } : {}) });
  if (options.onPoolWait) timeConnections(pool, options.onPoolWait);
  // The adapter listens for the pool's errors (a connection dropped while idle) and ends it on $disconnect.
  const adapter = new PrismaPg(pool, { ...(schema ? { schema } : {}), disposeExternalPool: true });
  const prisma = new PrismaClient({ adapter });
  pools.set(prisma, pool);
  return prisma;
}

/** The pool behind a client made by {@link createPrisma}, as counts; undefined for any other client. */
export function poolStats(prisma: PrismaClient): PoolStats | undefined {
  const pool = pools.get(prisma);
  if (!pool) return undefined;
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max ?? 10 };
}

/**
 * Every statement goes through `pool.connect` (a query through its callback form,
 * a transaction through its promise form): times from asking to holding a connection.
 */
function timeConnections(pool: pg.Pool, onWait: (seconds: number) => void): void {
  const connect = pool.connect.bind(pool) as (cb?: (err: Error | undefined, client?: pg.PoolClient, done?: (release?: unknown) => void) => void) => unknown;
  const timed = (cb?: (err: Error | undefined, client?: pg.PoolClient, done?: (release?: unknown) => void) => void): unknown => {
    const asked = performance.now();
    const seen = () => onWait((performance.now() - asked) / 1000);
    if (cb) {
      return connect((err, client, done) => {
        seen();
        cb(err, client, done);
      });
    }
    return (connect() as Promise<pg.PoolClient>).then((client) => {
      seen();
      return client;
    });
  };
  pool.connect = timed as typeof pool.connect;
}

/** Resolves when the database answers a statement (`select 1`): the gateway's readiness check. */
export async function pingDatabase(prisma: PrismaClient): Promise<void> {
  await prisma.$queryRaw`select 1`;
}

/** Closes the client's pool; pending queries finish first. */
export async function disconnect(prisma: PrismaClient): Promise<void> {
  await prisma.$disconnect();
}
