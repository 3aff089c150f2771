import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_DATABASE_URL } from '../../scripts/lib/postgres.js';
import { TcpProxy } from './tcp-proxy.js';

const base = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
let proxy: TcpProxy;

beforeAll(async () => {
  const url = new URL(base);
  proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 5432) });
});

afterAll(() => proxy?.stop());

/** A client of the server's maintenance database, through the proxy. */
async function connect(): Promise<pg.Client> {
  const url = new URL(proxy.url(base));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  client.on('error', () => {});
  await client.connect();
  return client;
}

it('passes queries through, resets connections on cut, refuses new ones until restored', async () => {
  const a = await connect();
  expect((await a.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
  expect(proxy.connections).toBe(1);

  proxy.cut();
  await expect(a.query('SELECT 1')).rejects.toThrow();
  const b = await connect();
  await expect(b.query('SELECT 2')).resolves.toBeDefined();

  const pending = b.query('SELECT pg_sleep(0.2)');
  await proxy.cutMidRequest();
  await expect(pending).rejects.toThrow();

  await proxy.refuse();
  await expect(connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  await proxy.restore();
  const c = await connect();
  await expect(c.query('SELECT 3')).resolves.toBeDefined();
  await c.end();
  expect(proxy.resets).toBeGreaterThanOrEqual(4);
});
