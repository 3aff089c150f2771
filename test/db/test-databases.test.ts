import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DATABASE_URL,
  parseDatabaseUrl,
  quoteIdent,
  sweepStaleDatabases,
  uniqueDatabaseName,
  withMaintenanceClient,
} from '../../scripts/lib/postgres.js';
import { createTestDatabase } from '../helpers/database.js';

const server = parseDatabaseUrl(process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
const HOUR = 60 * 60 * 1000;

async function exists(database: string): Promise<boolean> {
  return withMaintenanceClient(server, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    return rowCount === 1;
  });
}

describe('test databases', () => {
  it('drop() removes the database even while a client is still connected', async () => {
    const db = await createTestDatabase({ migrate: false });
    const name = parseDatabaseUrl(db.url).database;
    await db.prisma.$queryRaw`SELECT 1`;
    expect(await exists(name)).toBe(true);
    await db.drop();
    await db.drop();
    expect(await exists(name)).toBe(false);
  });

  it('sweeps leftovers older than an hour and keeps recent ones', async () => {
    const prefix = `telewan_sweep${process.pid}`;
    const old = uniqueDatabaseName(prefix, Date.now() - 2 * HOUR);
    const recent = uniqueDatabaseName(prefix, Date.now());
    await withMaintenanceClient(server, async (client) => {
      await client.query(`CREATE DATABASE ${quoteIdent(old)}`);
      await client.query(`CREATE DATABASE ${quoteIdent(recent)}`);
    });
    try {
      expect(await sweepStaleDatabases(server, prefix, HOUR)).toEqual([old]);
      expect(await exists(old)).toBe(false);
      expect(await exists(recent)).toBe(true);
    } finally {
      await withMaintenanceClient(server, async (client) => {
        for (const name of [old, recent]) await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
      });
    }
  });
});
