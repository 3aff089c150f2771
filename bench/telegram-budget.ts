/**
 * `npm run bench:budget`: what the fleet-wide Telegram budget costs in the database.
 *
 * Two budget instances (two workers, each with its own connection pool) on a fresh
 * database, no Telegram: only the reservations are measured.
 *   - steady: ordinary calls at `--rate` a second (default 20, well under the 30/s
 *     ceiling, so nothing queues), each to its own chat, for `--seconds`;
 *   - burst: `--burst` calls at once, half from each worker.
 * Figures: a call's wait for its slot (here the reservation's round trip), database
 * statements per call, and the CPU the PostgreSQL backends used per 1,000 calls.
 *
 * Flags: --rate 20 --seconds 20 --burst 100
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createPrisma } from '../src/db/client.js';
import { budgetKey, TelegramBudget } from '../src/integrations/telegram/budget.js';
import { numericFlags } from './lib/args.js';
import { cpuSeconds } from './lib/cpu.js';
import { Cleanup, createBenchDatabase, machineInfo, printMachine } from './lib/infra.js';
import { ms, summarize, table } from './lib/stats.js';

const flags = numericFlags({ rate: 20, seconds: 20, burst: 100 });
const CEILING = 30;

/** CPU seconds the server's backends of `database` have used so far. */
async function backendCpu(admin: pg.Client, database: string): Promise<number> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]);
  return rows.reduce((sum, r) => sum + (cpuSeconds(r.pid) ?? 0), 0);
}

async function main(): Promise<void> {
  printMachine(await machineInfo(process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres'));
  const cleanup = new Cleanup();
  try {
    const url = await createBenchDatabase(cleanup);
    const database = new URL(url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    cleanup.add('admin client', () => admin.end());
    const workers = [0, 1].map(() => {
      const prisma = createPrisma(url);
      cleanup.add('prisma', () => prisma.$disconnect());
      return new TelegramBudget({ prisma, key: budgetKey('1:bench'), ratePerSecond: CEILING, broadcastRatePerSecond: 25 });
    });
    let chat = 1;
    const call = async (worker: TelegramBudget): Promise<number> => {
      const asked = performance.now();
      await worker.acquire('sendMessage', chat++, { priority: 'user', perChat: true });
      return performance.now() - asked;
    };
    const statements = () => workers.reduce((sum, w) => sum + w.stats.statements, 0);

    // Warm both pools and clocks, so the steady phase measures steady state.
    await Promise.all(workers.map((w) => call(w)));
    await sleep(200);

    const steadyWaits: Promise<number>[] = [];
    const statementsBefore = statements();
    const cpuBefore = await backendCpu(admin, database);
    const count = Math.round(flags.rate * flags.seconds);
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      await sleep(Math.max(0, started + (i * 1000) / flags.rate - performance.now()));
      steadyWaits.push(call(workers[i % 2]!));
    }
    const steady = summarize(await Promise.all(steadyWaits));
    const steadyCpu = (await backendCpu(admin, database)) - cpuBefore;
    const steadyStatements = statements() - statementsBefore;

    await sleep(1_200);
    const burstBefore = statements();
    const burstStarted = performance.now();
    const burst = summarize(await Promise.all(Array.from({ length: flags.burst }, (_, i) => call(workers[i % 2]!))));
    const burstSeconds = (performance.now() - burstStarted) / 1000;
    const burstStatements = statements() - burstBefore;

    console.log(
      table(
        ['phase', 'calls', 'wait p50', 'wait p99', 'wait max', 'statements/call', 'PostgreSQL CPU per 1,000 calls'],
        [
          [`steady ${flags.rate}/s`, String(steady.count), ms(steady.p50), ms(steady.p99), ms(steady.max), (steadyStatements / count).toFixed(2), `${((steadyCpu / count) * 1000).toFixed(2)} s`],
          [`burst of ${flags.burst}`, String(burst.count), ms(burst.p50), ms(burst.p99), ms(burst.max), (burstStatements / flags.burst).toFixed(2), '–'],
        ],
      ),
    );
    console.log(`burst: ${flags.burst} calls spread over ${burstSeconds.toFixed(2)} s (${(flags.burst / burstSeconds).toFixed(1)}/s at a ${CEILING}/s ceiling)`);
    console.log(`steady: PostgreSQL backends used ${((steadyCpu / flags.seconds) * 100).toFixed(1)}% of one core`);
  } finally {
    await cleanup.run();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
