import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** Where `npm run dev` keeps the embedded database. */
export const EMBEDDED_DATA_DIR = '.data/pglite';
/** The embedded server's port when free (else any free port): psql can find it run after run. */
export const EMBEDDED_PORT = 54329;

/**
 * pglite-socket 0.2 multiplexes every connection onto PGlite's single session: one
 * protocol message at a time, and while a connection is inside a transaction only
 * its messages run. So connections are cheap and queries are serialised; the limit
 * only has to cover every pool of the dev stack (gateway and worker Prisma clients
 * at pg's default 10 each, the migration engine's 4, readiness checks).
 */
export const EMBEDDED_MAX_CONNECTIONS = 64;

/** An embedded PostgreSQL (PGlite) reachable over TCP on loopback. */
export interface EmbeddedPostgres {
  /** `postgresql://postgres@127.0.0.1:<port>/postgres`: PGlite has one database, `postgres`. */
  url: string;
  dataDir: string;
  /** Ends every connection, flushes and closes the database, releases the folder. */
  stop(): Promise<void>;
}

/** Raised when another process already serves the data folder: PGlite allows one at a time. */
export class EmbeddedPostgresLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`${dataDir} is in use by process ${pid} (another \`npm run dev\`?); stop it or set DATABASE_URL`);
    this.name = 'EmbeddedPostgresLockedError';
  }
}

export interface EmbeddedPostgresOptions {
  dataDir?: string;
  host?: string;
  /** Tried first; when taken, any free port. 0: any free port. */
  port?: number;
}

/**
 * Opens (creating on first use) a PGlite database in `dataDir` and serves it on
 * loopback with the PostgreSQL wire protocol, so pg, Prisma's pg adapter and the
 * migration engine connect to it as to any server.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const dataDir = options.dataDir ?? EMBEDDED_DATA_DIR;
  const host = options.host ?? '127.0.0.1';
  mkdirSync(dataDir, { recursive: true });
  const releaseLock = lockFolder(dataDir);
  let db: PGlite | undefined;
  try {
    db = await PGlite.create(dataDir);
    const server = await listen(db, host, options.port ?? EMBEDDED_PORT);
    const url = `postgresql://postgres@${server.getServerConn()}/postgres`;
    const opened = db;
    return {
      url,
      dataDir,
      async stop() {
        await server.stop();
        await opened.close();
        releaseLock();
      },
    };
  } catch (error) {
    await db?.close().catch(() => {});
    releaseLock();
    throw error;
  }
}

async function listen(db: PGlite, host: string, port: number): Promise<PGLiteSocketServer> {
  const attempt = async (p: number) => {
    const server = new PGLiteSocketServer({ db, host, port: p, maxConnections: EMBEDDED_MAX_CONNECTIONS });
    await server.start();
    return server;
  };
  try {
    return await attempt(port);
  } catch (error) {
    if (port === 0 || (error as { code?: string }).code !== 'EADDRINUSE') throw error;
    return attempt(0);
  }
}

/** A pid file in the folder; a stale one (its process gone) is taken over. */
function lockFolder(dataDir: string): () => void {
  const file = join(dataDir, 'telewan.pid');
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    if (pid && isAlive(pid)) throw new EmbeddedPostgresLockedError(dataDir, pid);
  } catch (error) {
    if (error instanceof EmbeddedPostgresLockedError) throw error;
  }
  writeFileSync(file, String(process.pid));
  return () => rmSync(file, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/** Whether something accepts TCP connections at host:port within `timeoutMs`. */
export function isListening(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface DevDatabase {
  url: string;
  /** Set when the database is the embedded one this process serves. */
  embedded?: EmbeddedPostgres;
  stop(): Promise<void>;
}

export interface DevDatabaseOptions {
  /** DATABASE_URL as configured; when set it is used as is. */
  databaseUrl?: string;
  /** The URL used when a server answers at `probe` (the usual local PostgreSQL). */
  defaultUrl: string;
  /** Where a local PostgreSQL would answer; 127.0.0.1:5432 in `npm run dev`. */
  probe: { host: string; port: number };
  embedded?: EmbeddedPostgresOptions;
}

/**
 * The database `npm run dev` uses: DATABASE_URL when set; else the local
 * PostgreSQL when one answers at `probe`; else an embedded PGlite kept in
 * `.data/pglite`, so a fresh machine needs no database server.
 */
export async function devDatabase(options: DevDatabaseOptions): Promise<DevDatabase> {
  const none = async () => {};
  if (options.databaseUrl) return { url: options.databaseUrl, stop: none };
  if (await isListening(options.probe.host, options.probe.port)) return { url: options.defaultUrl, stop: none };
  const embedded = await startEmbeddedPostgres(options.embedded);
  return { url: embedded.url, embedded, stop: () => embedded.stop() };
}
