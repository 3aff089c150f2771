import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Where a PostgreSQL database lives, split into the fields `pg` understands. */
export interface PgTarget {
  host: string;
  port: number;
  user: string | undefined;
  password: string | undefined;
  database: string;
  /** Prisma's `?schema=` parameter; `public` when absent. */
  schema: string | undefined;
}

/** Raised when a database URL cannot be used; the message names the URL's problem. */
export class DatabaseUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseUrlError';
  }
}

/**
 * Splits a `postgresql://` URL into discrete fields. The schema engine's adapter
 * must get these rather than a `connectionString`: with a connection string, pg
 * lets the string win over a `database` override and a second pool silently
 * reuses the first database.
 */
export function parseDatabaseUrl(databaseUrl: string): PgTarget {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new DatabaseUrlError(`not a URL: ${redact(databaseUrl)}`);
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new DatabaseUrlError(`expected a postgresql:// URL, got ${url.protocol}//`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw new DatabaseUrlError(`no database name in ${redact(databaseUrl)}`);
  return {
    host: url.searchParams.get('host') ?? (url.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost'),
    port: url.port ? Number(url.port) : 5432,
    user: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database,
    schema: url.searchParams.get('schema') ?? undefined,
  };
}

/** The same URL pointing at another database on the same server. */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** `pg` settings for a target; idle clients never keep the process alive. */
export function poolConfig(target: PgTarget, database = target.database): pg.PoolConfig {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database,
    max: 4,
    allowExitOnIdle: true,
  };
}

/** The URL with its password replaced, for messages. */
export function redact(databaseUrl: string): string {
  return databaseUrl.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

/** `name` as a double-quoted SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Runs `fn` with a client connected to the server's `postgres` database, the
 * place to create and drop other databases from.
 */
export async function withMaintenanceClient<T>(
  target: PgTarget,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const { host, port, user, password } = target;
  const client = new pg.Client({ host, port, user, password, database: 'postgres' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates the database unless it exists. Returns whether it was created. */
export async function ensureDatabase(target: PgTarget): Promise<boolean> {
  return withMaintenanceClient(target, async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [target.database]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(target.database)}`);
      return true;
    } catch (error) {
      // Someone else created it between our check and our CREATE: 42P04, or a
      // unique violation on pg_database when both CREATEs ran at the same time.
      const code = (error as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw error;
    }
  });
}

/** Drops the database, disconnecting whoever is still connected to it. */
export async function dropDatabase(target: PgTarget, database = target.database): Promise<void> {
  await withMaintenanceClient(target, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`),
  );
}

/** Where the project's database is when DATABASE_URL is unset: the configuration's default. */
export { DEFAULT_DATABASE_URL } from '../../src/config.js';

/**
 * `<prefix>_<created, base 36 ms>_<pid>_<random>`: unique across processes, and
 * old enough to sweep can be told from the name alone.
 */
export function uniqueDatabaseName(prefix: string, now = Date.now()): string {
  return `${prefix}_${now.toString(36)}_${process.pid}_${randomBytes(3).toString('hex')}`;
}

/**
 * Drops databases named by {@link uniqueDatabaseName} with this prefix that are
 * older than `maxAgeMs` and have nobody connected: leftovers of killed runs.
 * Returns the names dropped. Never fails: a sweep is housekeeping.
 */
export async function sweepStaleDatabases(target: PgTarget, prefix: string, maxAgeMs: number): Promise<string[]> {
  const dropped: string[] = [];
  const pattern = new RegExp(`^${prefix}_([0-9a-z]+)_\\d+_[0-9a-f]+$`);
  try {
    await withMaintenanceClient(target, async (client) => {
      const { rows } = await client.query<{ datname: string }>(
        `SELECT datname FROM pg_database d
          WHERE starts_with(datname, $1)
            AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datid = d.oid)`,
        [`${prefix}_`],
      );
      for (const { datname } of rows) {
        const created = pattern.exec(datname)?.[1];
        if (!created || Date.now() - parseInt(created, 36) < maxAgeMs) continue;
        try {
          await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)}`);
          dropped.push(datname);
        } catch {
          // Someone connected in the meantime; it is theirs, or the next sweep's.
        }
      }
    });
  } catch {
    // Server unreachable: whatever needed it will say so.
  }
  return dropped;
}
