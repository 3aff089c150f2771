import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_MIGRATIONS_DIR,
  DEFAULT_SCHEMA_PATH,
  deployMigrations,
  diffMigrationsToSchema,
  SHADOW_DATABASE_PREFIX,
} from '../../scripts/lib/migrate.js';
import { DEFAULT_DATABASE_URL, parseDatabaseUrl, withMaintenanceClient } from '../../scripts/lib/postgres.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

async function committedMigrations(): Promise<string[]> {
  const entries = await readdir(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

async function databaseExists(url: string): Promise<boolean> {
  const target = parseDatabaseUrl(url);
  return withMaintenanceClient(target, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [target.database]);
    return rowCount === 1;
  });
}

async function databasesStartingWith(url: string, prefix: string): Promise<string[]> {
  return withMaintenanceClient(parseDatabaseUrl(url), async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE starts_with(datname, $1)',
      [prefix],
    );
    return rows.map((r) => r.datname);
  });
}

describe('deployMigrations', () => {
  let db: TestDatabase;
  let tmp: string;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'telewan-migrations-'));
  });

  afterAll(async () => {
    await db?.drop();
    await rm(tmp, { recursive: true, force: true });
    if (db) expect(await databaseExists(db.url)).toBe(false);
  });

  it('applies every committed migration to an empty database, then nothing', async () => {
    const lines: string[] = [];
    const first = await deployMigrations(db.url, { log: (line) => lines.push(line) });
    expect(first.applied).toEqual(await committedMigrations());
    expect(first.applied.length).toBeGreaterThan(0);
    expect(lines.some((line) => line.includes(`applied ${first.applied[0]}`))).toBe(true);

    const second = await deployMigrations(db.url);
    expect(second).toEqual({ applied: [], createdDatabase: false });
  });

  it("records each migration with Prisma's checksum (sha256 of migration.sql)", async () => {
    const rows = await db.prisma.$queryRaw<{ migration_name: string; checksum: string; finished_at: Date | null }[]>`
      SELECT migration_name, checksum, finished_at FROM _prisma_migrations ORDER BY migration_name`;
    expect(rows.map((r) => r.migration_name)).toEqual(await committedMigrations());
    for (const row of rows) {
      const sql = await readFile(path.join(DEFAULT_MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(row.finished_at).toBeInstanceOf(Date);
    }
  });

  it('creates the target database when it does not exist', async () => {
    const url = `${db.url}_new`;
    try {
      const result = await deployMigrations(url);
      expect(result.createdDatabase).toBe(true);
      expect(result.applied).toEqual(await committedMigrations());
    } finally {
      await withMaintenanceClient(parseDatabaseUrl(url), (c) =>
        c.query(`DROP DATABASE IF EXISTS "${parseDatabaseUrl(url).database}" WITH (FORCE)`),
      );
    }
  });

  it('sends a migration to the server whole, so $$ bodies with semicolons work', async () => {
    const dir = path.join(tmp, 'migrations');
    await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
    await mkdir(path.join(dir, '29991231000000_function'));
    await writeFile(
      path.join(dir, '29991231000000_function', 'migration.sql'),
      `CREATE FUNCTION telewan_test_fn() RETURNS text AS $$
BEGIN
  PERFORM 1;
  RETURN 'a;b';
END;
$$ LANGUAGE plpgsql;
`,
    );
    const { applied } = await deployMigrations(db.url, { migrationsDir: dir });
    expect(applied).toEqual(['29991231000000_function']);
    const [row] = await db.prisma.$queryRaw<{ v: string }[]>`SELECT telewan_test_fn() AS v`;
    expect(row?.v).toBe('a;b');
  });

  it('leaves no pool behind: the database can be dropped without FORCE', async () => {
    const scratch = await createTestDatabase();
    await scratch.prisma.$disconnect();
    const target = parseDatabaseUrl(scratch.url);
    await withMaintenanceClient(target, async (client) => {
      const { rows } = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
        [target.database],
      );
      expect(rows[0]?.n).toBe(0);
    });
    await scratch.drop();
  });
});

describe('diffMigrationsToSchema (drift)', () => {
  let tmp: string;
  const server = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || DEFAULT_DATABASE_URL;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'telewan-schema-'));
  });

  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('reports the committed migrations as matching schema.prisma', async () => {
    const diff = await diffMigrationsToSchema(server);
    expect(diff).toEqual({ changed: false, sql: '' });
  });

  it('reports a field with no migration, with the SQL that is missing', async () => {
    const schema = await readFile(DEFAULT_SCHEMA_PATH, 'utf8');
    const edited = schema.replace(/model DomainEvent \{/, 'model DomainEvent {\n  driftProbe String?');
    expect(edited).not.toBe(schema);
    const schemaPath = path.join(tmp, 'schema.prisma');
    await writeFile(schemaPath, edited);

    const diff = await diffMigrationsToSchema(server, { schemaPath });
    expect(diff.changed).toBe(true);
    expect(diff.sql).toMatch(/ALTER TABLE "domain_events" ADD COLUMN\s+"driftProbe" TEXT;/);
  });

  it('drops its shadow databases', async () => {
    const mine = (names: string[]) => names.filter((n) => n.includes(`_${process.pid}_`));
    await diffMigrationsToSchema(server);
    expect(mine(await databasesStartingWith(server, `${SHADOW_DATABASE_PREFIX}_`))).toEqual([]);
  });
});
