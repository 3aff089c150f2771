import { createPrisma, type PrismaClient } from '../../src/db/client.js';
import { deployMigrations, SHADOW_DATABASE_PREFIX } from '../../scripts/lib/migrate.js';
import {
  DEFAULT_DATABASE_URL,
  dropDatabase,
  ensureDatabase,
  parseDatabaseUrl,
  sweepStaleDatabases,
  uniqueDatabaseName,
  withDatabase,
} from '../../scripts/lib/postgres.js';

export const TEST_DATABASE_PREFIX = 'telewan_test';
const STALE_AFTER_MS = 60 * 60 * 1000;

export interface TestDatabase {
  /** URL of the new database, e.g. for a worker or gateway under test. */
  url: string;
  /** A client on it; `drop()` disconnects it. */
  prisma: PrismaClient;
  /** Disconnects `prisma` and drops the database, kicking out other clients. Safe to call twice. */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Apply prisma/migrations (the default); false leaves the database empty. */
  migrate?: boolean;
}

let swept: Promise<unknown> | undefined;

/**
 * Creates a uniquely named database (`telewan_test_<time>_<pid>_<random>`) on the
 * server of TEST_DATABASE_URL, DATABASE_URL or the default, and applies the
 * committed migrations to it. Call `drop()` in `afterAll`/`afterEach`.
 * The first call in a process also drops test and shadow databases that killed
 * runs left behind more than an hour ago.
 */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const base = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const server = parseDatabaseUrl(base);
  swept ??= Promise.all([
    sweepStaleDatabases(server, TEST_DATABASE_PREFIX, STALE_AFTER_MS),
    sweepStaleDatabases(server, SHADOW_DATABASE_PREFIX, STALE_AFTER_MS),
  ]);
  await swept;

  const url = withDatabase(base, uniqueDatabaseName(TEST_DATABASE_PREFIX));
  const target = parseDatabaseUrl(url);
  await ensureDatabase(target);
  let prisma: PrismaClient | undefined;
  const drop = async () => {
    await prisma?.$disconnect();
    await dropDatabase(target);
  };
  try {
    if (options.migrate ?? true) await deployMigrations(url);
    prisma = createPrisma(url);
    return { url, prisma, drop };
  } catch (error) {
    await drop().catch(() => {});
    throw error;
  }
}
