import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { readMigrations, writeMigration } from './migrations-dir.js';
import {
  dropDatabase,
  ensureDatabase,
  parseDatabaseUrl,
  quoteIdent,
  uniqueDatabaseName,
  withMaintenanceClient,
  type PgTarget,
} from './postgres.js';
import { withSchemaEngine } from './schema-engine.js';

// Everything here runs the WASM schema engine in the caller's process: a deploy
// takes a few hundred milliseconds, against about a second more for spawning
// `tsx scripts/db.ts`. That is safe because the engine's pools are ended and its
// never-cleared timer is unref'd and then cleared (see ./schema-engine.ts), so
// nothing outlives the call. The CLI in scripts/db.ts calls the same functions.

/** Where the project's schema and migrations are, unless a caller says otherwise. */
export const DEFAULT_SCHEMA_PATH = fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url));
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

/** Shadow databases are named `telewan_shadow_<time>_<pid>_<random>`. */
export const SHADOW_DATABASE_PREFIX = 'telewan_shadow';

const FILTERS = { externalTables: [], externalEnums: [] };

export interface MigrateOptions {
  /** `prisma/migrations` by default. */
  migrationsDir?: string;
  /** `prisma/schema.prisma` by default. */
  schemaPath?: string;
  /** Progress lines for a person; silent by default. */
  log?: (line: string) => void;
  /** The engine's own JSON log lines, for debugging. */
  onEngineLog?: (line: string) => void;
}

export interface DeployResult {
  /** Migrations applied by this call, oldest first; empty when the database was up to date. */
  applied: string[];
  /** Whether the database had to be created first. */
  createdDatabase: boolean;
}

/**
 * `prisma migrate deploy`: creates the database when it does not exist, then
 * applies the committed migrations it has not seen, recording each in
 * `_prisma_migrations` with Prisma's checksum. Safe to call again: a second call
 * applies nothing. Fails (and applies nothing further) if a recorded migration
 * failed or was edited, as Prisma does.
 */
export async function deployMigrations(databaseUrl: string, options: MigrateOptions = {}): Promise<DeployResult> {
  const log = options.log ?? (() => {});
  const target = parseDatabaseUrl(databaseUrl);
  const createdDatabase = await ensureDatabase(target);
  if (createdDatabase) log(`Created database ${target.database}.`);
  const [migrationsList, schema] = await Promise.all([
    readMigrations(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR),
    readSchema(options.schemaPath),
  ]);
  const { appliedMigrationNames } = await withSchemaEngine(
    { target, schema, onEngineLog: options.onEngineLog },
    (engine) => engine.applyMigrations({ migrationsList, filters: FILTERS }),
  );
  if (appliedMigrationNames.length === 0) {
    log(`${target.database}: ${migrationsList.migrationDirectories.length} migration(s), all applied already.`);
  }
  for (const name of appliedMigrationNames) log(`${target.database}: applied ${name}`);
  return { applied: appliedMigrationNames, createdDatabase };
}

export interface SchemaDiff {
  /** True when `schema.prisma` asks for changes the migrations do not make. */
  changed: boolean;
  /** The SQL that would bring the migrations up to the schema; empty when unchanged. */
  sql: string;
}

/**
 * Replays the committed migrations into a throwaway shadow database and diffs
 * the result against `schema.prisma`, like `prisma migrate diff
 * --from-migrations --to-schema`. Only needs a server (and CREATEDB) at
 * `databaseUrl`; the database named there is not touched and need not exist.
 */
export async function diffMigrationsToSchema(databaseUrl: string, options: MigrateOptions = {}): Promise<SchemaDiff> {
  const server = parseDatabaseUrl(databaseUrl);
  const [migrationsList, schema] = await Promise.all([
    readMigrations(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR),
    readSchema(options.schemaPath),
  ]);
  return withShadowDatabase(server, async (shadowDatabase) => {
    // The engine's "main" database is the shadow as well: a diff needs no other.
    const target: PgTarget = { ...server, database: shadowDatabase };
    const result = await withSchemaEngine(
      { target, shadowDatabase, schema, onEngineLog: options.onEngineLog },
      (engine) =>
        engine.diff({
          from: { tag: 'migrations', ...migrationsList },
          to: { tag: 'schemaDatamodel', files: [schema] },
          script: true,
          exitCode: true,
          filters: FILTERS,
        }),
    );
    const changed = result.exitCode === 2;
    return { changed, sql: changed ? (result.stdout ?? '') : '' };
  });
}

export interface CreateMigrationResult {
  /** The new migration's folder, or null when the schema needed no migration. */
  directory: string | null;
  sql: string;
}

/**
 * `prisma migrate dev --create-only --name <name>`: writes the SQL that takes the
 * committed migrations to `schema.prisma` into a new
 * `<YYYYMMDDHHMMSS>_<name>/migration.sql`. Writes nothing when there is no change.
 */
export async function createMigration(
  databaseUrl: string,
  name: string,
  options: MigrateOptions = {},
): Promise<CreateMigrationResult> {
  const log = options.log ?? (() => {});
  const diff = await diffMigrationsToSchema(databaseUrl, options);
  if (!diff.changed) {
    log('schema.prisma matches the migrations: no migration created.');
    return { directory: null, sql: '' };
  }
  const directory = await writeMigration(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR, name, diff.sql);
  log(`Created ${directory}/migration.sql`);
  return { directory, sql: diff.sql };
}

/** Drops the database (disconnecting its clients) and deploys every migration into a new one. */
export async function resetDatabase(databaseUrl: string, options: MigrateOptions = {}): Promise<DeployResult> {
  const target = parseDatabaseUrl(databaseUrl);
  await dropDatabase(target);
  options.log?.(`Dropped database ${target.database}.`);
  return deployMigrations(databaseUrl, options);
}

async function readSchema(schemaPath = DEFAULT_SCHEMA_PATH): Promise<{ path: string; content: string }> {
  return { path: schemaPath, content: await readFile(schemaPath, 'utf8') };
}

/**
 * Creates an empty, uniquely named database for the engine to replay migrations
 * into, and drops it afterwards, whether `fn` succeeded or not. The engine's
 * pools are closed by then (withSchemaEngine ends them before returning).
 */
async function withShadowDatabase<T>(server: PgTarget, fn: (database: string) => Promise<T>): Promise<T> {
  const database = uniqueDatabaseName(SHADOW_DATABASE_PREFIX);
  await withMaintenanceClient(server, (client) => client.query(`CREATE DATABASE ${quoteIdent(database)}`));
  try {
    return await fn(database);
  } finally {
    await dropDatabase(server, database);
  }
}
