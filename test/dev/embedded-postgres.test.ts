import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATIONS_DIR, deployMigrations } from '../../scripts/lib/migrate.js';
import { readMigrations } from '../../scripts/lib/migrations-dir.js';
import { createPrisma } from '../../src/db/client.js';
import { devDatabase, EmbeddedPostgresLockedError, startEmbeddedPostgres } from '../../sandbox/dev/embedded-postgres.js';

/** Where nothing listens (tcpmux): a port released by a test could be taken again by another. */
const CLOSED_PORT = 1;

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'telewan-pglite-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('the dev database', () => {
  it('with no PostgreSQL answering: starts an embedded one, migrates it, serves Prisma, and keeps the data across a restart', async () => {
    const probe = { host: '127.0.0.1', port: CLOSED_PORT };
    const options = { defaultUrl: 'postgresql://postgres@127.0.0.1:1/unused', probe, embedded: { dataDir, port: 0 } };

    const first = await devDatabase(options);
    try {
      expect(first.embedded).toBeDefined();
      expect(first.url).toMatch(/^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      const { migrationDirectories } = await readMigrations(DEFAULT_MIGRATIONS_DIR);
      const { applied } = await deployMigrations(first.url);
      expect(applied).toEqual(migrationDirectories.map((m) => m.path));

      // Two clients at once, as the gateway and the worker: writes, a transaction, reads.
      const [gateway, worker] = [createPrisma(first.url), createPrisma(first.url)];
      try {
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 ? gateway : worker).telegramUser.create({ data: { id: BigInt(100 + i), chatId: BigInt(100 + i), firstName: `user ${i}` } }),
          ),
        );
        await Promise.all([
          gateway.$transaction([gateway.source.create({ data: { slug: 'pglite', title: 'PGlite' } }), gateway.telegramUser.update({ where: { id: 100n }, data: { blocked: true } })]),
          worker.telegramUser.count(),
        ]);
        expect(await worker.telegramUser.count()).toBe(20);
      } finally {
        await Promise.all([gateway.$disconnect(), worker.$disconnect()]);
      }
    } finally {
      await first.stop();
    }

    const second = await devDatabase(options);
    try {
      expect(second.embedded).toBeDefined();
      expect((await deployMigrations(second.url)).applied).toEqual([]);
      const prisma = createPrisma(second.url);
      try {
        expect(await prisma.telegramUser.count()).toBe(20);
        expect(await prisma.telegramUser.findUnique({ where: { id: 100n } })).toMatchObject({ firstName: 'user 0', blocked: true });
        expect(await prisma.source.findUnique({ where: { slug: 'pglite' } })).toMatchObject({ title: 'PGlite' });
      } finally {
        await prisma.$disconnect();
      }
    } finally {
      await second.stop();
    }
  }, 120_000);

  it('takes another port when its own is taken, and refuses a data folder another server has open', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as { port: number }).port;
    try {
      const running = await startEmbeddedPostgres({ dataDir, port: taken });
      try {
        expect(new URL(running.url).port).not.toBe(String(taken));
        await expect(startEmbeddedPostgres({ dataDir, port: 0 })).rejects.toBeInstanceOf(EmbeddedPostgresLockedError);
      } finally {
        await running.stop();
      }
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 60_000);

  it('keeps concurrent connections apart: each extended-protocol query gets its own answer', async () => {
    const running = await startEmbeddedPostgres({ dataDir, port: 0 });
    const pools = [new pg.Pool({ connectionString: running.url, max: 10 }), new pg.Pool({ connectionString: running.url, max: 10 })];
    try {
      const answers = await Promise.all(
        Array.from({ length: 400 }, async (_, i) => {
          const pool = pools[i % 2]!;
          if (i % 3 === 0) return (await pool.query<{ a: number }>('select $1::int as a', [i])).rows[0]!.a === i;
          const { rows } = await pool.query<{ b: string; c: number }>('select $1::text as b, $2::int + 1 as c', [`q${i}`, i]);
          return rows[0]!.b === `q${i}` && rows[0]!.c === i + 1;
        }),
      );
      expect(answers.filter((ok) => !ok)).toEqual([]);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await running.stop();
    }
  }, 60_000);

  it('uses the local server when one answers, and DATABASE_URL when set, without starting anything', async () => {
    const server: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const probe = { host: '127.0.0.1', port: (server.address() as { port: number }).port };
    try {
      const local = await devDatabase({ defaultUrl: 'postgresql://postgres@127.0.0.1:5432/telewan', probe });
      expect(local.url).toBe('postgresql://postgres@127.0.0.1:5432/telewan');
      expect(local.embedded).toBeUndefined();
      const configured = await devDatabase({ databaseUrl: 'postgresql://u:p@db.example:5432/x', defaultUrl: 'unused', probe: { host: '127.0.0.1', port: CLOSED_PORT } });
      expect(configured.url).toBe('postgresql://u:p@db.example:5432/x');
      expect(configured.embedded).toBeUndefined();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
