// Database migrations without Prisma's native schema engine (it cannot be
// downloaded here): the same migration files, `_prisma_migrations` rows and
// checksums as `prisma migrate`, produced by Prisma's WASM schema engine.
//
//   tsx scripts/db.ts deploy          create DATABASE_URL's database if needed, apply pending migrations
//   tsx scripts/db.ts create <name>   write prisma/migrations/<timestamp>_<name>/migration.sql
//   tsx scripts/db.ts drift           exit 1 (and print the SQL) if schema.prisma has unmigrated changes
//   tsx scripts/db.ts reset           drop DATABASE_URL's database and deploy again (local hosts only
//                                     unless --force)
//
// Exit codes: 0 success, 1 drift found (drift) or failure, 2 usage error.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createMigration, deployMigrations, diffMigrationsToSchema, resetDatabase } from './lib/migrate.js';
import { DatabaseUrlError, DEFAULT_DATABASE_URL, parseDatabaseUrl, redact } from './lib/postgres.js';
import { SchemaEngineError } from './lib/schema-engine.js';

const USAGE = 'usage: tsx scripts/db.ts deploy | create <name> | drift | reset [--force]';
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1']);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const log = (line: string) => console.log(line);
  const onEngineLog = process.env.TELEWAN_ENGINE_LOG ? (line: string) => console.error(line) : undefined;
  const started = performance.now();
  const took = () => `${Math.round(performance.now() - started)} ms`;

  switch (command) {
    case 'deploy': {
      const { applied } = await deployMigrations(databaseUrl, { log, onEngineLog });
      log(`deploy: ${applied.length} applied to ${redact(databaseUrl)} in ${took()}`);
      return 0;
    }
    case 'create': {
      const name = rest[0];
      if (!name || rest.length > 1) {
        console.error('usage: tsx scripts/db.ts create <name>   (npm run db:create -- <name>)');
        return 2;
      }
      await createMigration(databaseUrl, name, { log, onEngineLog });
      log(`create: done in ${took()}`);
      return 0;
    }
    case 'drift': {
      const diff = await diffMigrationsToSchema(databaseUrl, { onEngineLog });
      if (!diff.changed) {
        log(`drift: none, schema.prisma matches prisma/migrations (${took()})`);
        return 0;
      }
      console.error('drift: schema.prisma has changes that no migration makes. Missing SQL:\n');
      console.error(diff.sql.trimEnd());
      console.error('\nRun `npm run db:create -- <name>` and commit the new migration.');
      return 1;
    }
    case 'reset': {
      const { host } = parseDatabaseUrl(databaseUrl);
      if (!LOCAL_HOSTS.has(host) && !rest.includes('--force')) {
        console.error(`reset: refusing to drop a database on ${host}; add --force if you mean it.`);
        return 2;
      }
      const { applied } = await resetDatabase(databaseUrl, { log, onEngineLog });
      log(`reset: ${applied.length} applied to ${redact(databaseUrl)} in ${took()}`);
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

function describe(error: unknown): string {
  if (error instanceof SchemaEngineError) {
    return `schema engine ${error.code ?? error.kind}: ${error.message.trimEnd()}`;
  }
  if (error instanceof DatabaseUrlError) return `DATABASE_URL: ${error.message}`;
  if (error instanceof pg.DatabaseError) return `PostgreSQL ${error.code ?? ''}: ${error.message}`;
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof Error && typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    return `cannot reach PostgreSQL: ${error.message}`; // ECONNREFUSED and friends
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

// Exit explicitly: the engine and pg leave nothing running, but a command that
// hangs must never hang CI.
let exitCode: number;
try {
  exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(describe(error));
  exitCode = 1;
}
process.exit(exitCode);
