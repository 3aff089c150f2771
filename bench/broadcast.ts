/**
 * `npm run bench:broadcast`: summary distribution throughput against the
 * fleet-wide ceiling, with the Telegram simulator enforcing Telegram's limit.
 *
 * Scenarios (each on its own Temporal dev server and database):
 *   - ceiling 25/s, simulator 30/s (Telegram's documented bulk limit)
 *   - ceiling 30/s, simulator 30/s (no headroom at all)
 *   - paid broadcasts: ceiling 1,000/s, simulator 1,000/s for allow_paid_broadcast
 * and the seed's original approach as baseline: one message, then 50 ms, in a loop.
 *
 * Flags: --subscribers 3000 --paidSubscribers 100000 --baseline 600 --workers 1
 * (`BENCH_GAPS=1` also lists every gap over 10 ms between accepted sends, with when it began)
 * Figures: sustained rate (first to last accepted send) as a fraction of the
 * ceiling, 429s, the worker process's peak RSS, history events per 1,000 recipients.
 */
import { Api } from 'grammy';
import { TASK_QUEUES, WORKFLOW_TYPE } from '../src/constants.js';
import { Client, Connection } from '@temporalio/client';
import { createPrisma, type PrismaClient } from '../src/db/client.js';
import { SANDBOX_TOKEN, startStack } from '../sandbox/dev/stack.js';
import { TelegramSimulator } from '../sandbox/simulators/telegram.js';
import { summaryWorkflowId } from '../src/workflows/ids.js';
import type { DistributionCounts } from '../src/workflows/distribution/messages.js';
import { spawnWorker, type WorkerProcess } from '../test/helpers/worker-process.js';
import { peakRssMb, peakWindow } from './lib/measure.js';
import { startTelegramProcess } from './lib/telegram-process.js';
import { numericFlags } from './lib/args.js';
import { CpuMeter, formatCpu } from './lib/cpu.js';
import { BENCH_PAYLOAD_KEYS, benchDataConverter, Cleanup, createBenchDatabase, machineInfo, printMachine, startTemporal } from './lib/infra.js';
import { table } from './lib/stats.js';

const flags = numericFlags({ subscribers: 3000, paidSubscribers: 100_000, baseline: 600, workers: 1 });

interface Scenario {
  name: string;
  ceiling: number;
  simulatorLimit: number;
  paid: boolean;
  subscribers: number;
}

interface Figures {
  name: string;
  /** Most sends Telegram saw in any one-second window (accepted or refused). */
  peakWindow: number;
  recipients: number;
  ceiling: number;
  sustained: number;
  overall: number;
  rateLimited: number;
  peakRssMb: number;
  eventsPer1000: number;
  runs: number;
  seconds: number;
}

/** The Telegram budget's counters, summed over the workers' `/metrics`. */
async function budgetFigures(workers: WorkerProcess[]): Promise<{ statements: number; givenUp: Record<string, number> }> {
  let statements = 0;
  const givenUp: Record<string, number> = {};
  for (const w of workers) {
    const text = await (await fetch(await w.metricsUrl)).text();
    for (const [, name, labels, value] of text.matchAll(/^(telewan_telegram_budget_\w+_total)\{([^}]*)\} (\S+)$/gm)) {
      if (name === 'telewan_telegram_budget_statements_total') statements += Number(value);
      if (name === 'telewan_telegram_budget_slots_given_up_total') {
        const reason = /reason="(\w+)"/.exec(labels!)?.[1] ?? '?';
        givenUp[reason] = (givenUp[reason] ?? 0) + Number(value);
      }
    }
  }
  return { statements, givenUp };
}

async function seed(prisma: PrismaClient, n: number): Promise<number> {
  const source = await prisma.source.create({ data: { slug: `bench-${n}`, title: 'Bench' } });
  for (let from = 0; from < n; from += 10_000) {
    const ids = Array.from({ length: Math.min(10_000, n - from) }, (_, i) => 10_000_000 + from + i);
    await prisma.telegramUser.createMany({ data: ids.map((id) => ({ id: BigInt(id), chatId: BigInt(id) })) });
    await prisma.subscription.createMany({ data: ids.map((id) => ({ userId: BigInt(id), sourceId: source.id })) });
  }
  const summary = await prisma.summary.create({
    data: { sourceId: source.id, externalId: 'bench', title: 'Benchmark summary', text: 'A short summary of a new video, as users get it.' },
  });
  return summary.id;
}

async function runScenario(s: Scenario): Promise<Figures> {
  const cleanup = new Cleanup();
  try {
    const [temporal, databaseUrl] = await Promise.all([startTemporal(cleanup), createBenchDatabase(cleanup)]);
    // In a process of its own: its collections must not show as gaps in what it counts.
    const telegram = await startTelegramProcess({
      token: SANDBOX_TOKEN,
      control: true,
      // Telegram's limits: ordinary sends at the scenario's limit, or ~30/s beside paid broadcasts at theirs.
      globalRatePerSecond: s.paid ? 30 : s.simulatorLimit,
      paidBroadcastRatePerSecond: s.simulatorLimit,
      perChatRatePerSecond: 1,
    });
    cleanup.add('telegram simulator', () => telegram.stop());
    const stack = await startStack({
      sandbox: true,
      worker: false,
      telegramApiRoot: telegram.apiRoot,
      env: {
        DATABASE_URL: databaseUrl,
        TEMPORAL_ADDRESS: temporal.address,
        GATEWAY_PORT: '0',
        LOG_LEVEL: 'warn',
        BROADCAST_RATE_PER_SECOND: String(s.ceiling),
        BROADCAST_PAID: String(s.paid),
        PAYLOAD_ENCRYPTION_KEYS: BENCH_PAYLOAD_KEYS,
        WORKER_METRICS_PORT: '0',
      },
    });
    cleanup.add('stack', () => stack.stop());
    const prisma = createPrisma(databaseUrl);
    cleanup.add('prisma', () => prisma.$disconnect());
    const summaryId = await seed(prisma, s.subscribers);

    const workers: WorkerProcess[] = [];
    for (let i = 0; i < flags.workers; i++) workers.push(spawnWorker(stack.env));
    cleanup.add('workers', async () => void (await Promise.all(workers.map((w) => w.kill('SIGTERM')))));
    await Promise.all(workers.map((w) => w.ready));

    const connection = await Connection.connect({ address: temporal.address });
    cleanup.add('client', () => connection.close());
    const client = new Client({ connection, dataConverter: benchDataConverter() });
    const cpu = new CpuMeter({ worker: workers[0]?.child.pid, telegram: telegram.pid, 'gateway+wavespeed': process.pid, temporal: temporal.process.pid });
    cpu.start();
    const started = Date.now();
    const handle = await client.workflow.start(WORKFLOW_TYPE.distribution, {
      taskQueue: TASK_QUEUES.broadcast,
      workflowId: summaryWorkflowId(summaryId),
      args: [{ summaryId }],
    });
    const result = (await handle.result()) as DistributionCounts;
    const seconds = (Date.now() - started) / 1000;
    console.error(`${s.name}: CPU ${formatCpu(cpu.stop())} (100% = one core)`);
    // The simulator must not be the bottleneck it measures: its stalls bunch the sends it counts.
    const sent = await telegram.report('sendMessage');
    console.error(`${s.name}: simulator event-loop delay p99 ${sent.loopDelayP99Ms.toFixed(0)} ms, max ${sent.loopDelayMaxMs.toFixed(0)} ms`);

    const accepted = [...sent.acceptedAt].sort((a, b) => a - b);
    const limitedAt = sent.rateLimitedAt;
    if (limitedAt.length) console.error(`${s.name}: 429s at +${limitedAt.map((t) => ((t - accepted[0]!) / 1000).toFixed(2)).join(', ')} s`);
    const span = (accepted.at(-1)! - accepted[0]!) / 1000;
    // Where the sustained rate goes: stretches with no accepted send longer than a few slots.
    const gaps = accepted.slice(1).map((t, i) => t - accepted[i]!).filter((g) => g > Math.max(10, 5000 / s.ceiling));
    const gapSeconds = gaps.reduce((a, g) => a + g, 0) / 1000;
    if (process.env.BENCH_GAPS) console.error(accepted.slice(1).map((t, i) => [t - accepted[i]!, (accepted[i]! - accepted[0]!) / 1000] as const).filter(([g]) => g > 10).map(([g, at]) => `${g}@${at.toFixed(2)}`).join(' '));
    console.error(`${s.name}: ${gaps.length} gaps between accepted sends over ${Math.max(10, 5000 / s.ceiling).toFixed(0)} ms, ${gapSeconds.toFixed(2)} s in all, the longest ${Math.max(0, ...gaps)} ms`);
    let events = 0;
    let runs = 0;
    let runId: string | undefined = handle.firstExecutionRunId;
    while (runId) {
      const history = await client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
      events += history.events?.length ?? 0;
      runs += 1;
      runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    if (result.sent !== s.subscribers) console.error(`${s.name}: only ${result.sent} of ${s.subscribers} sent`);
    const budget = await budgetFigures(workers);
    console.error(`${s.name}: budget statements ${budget.statements} (${(budget.statements / result.sent).toFixed(4)} per message), slots given up ${JSON.stringify(budget.givenUp)}`);
    return {
      name: s.name,
      peakWindow: peakWindow(sent.at),
      recipients: result.sent,
      ceiling: s.ceiling,
      sustained: (accepted.length - 1) / span,
      overall: result.sent / seconds,
      rateLimited: sent.rateLimited,
      peakRssMb: Math.max(...workers.map((w) => peakRssMb(w.child.pid))),
      eventsPer1000: (events / result.sent) * 1000,
      runs,
      seconds,
    };
  } finally {
    await cleanup.run();
  }
}

/** The seed's approach: send, wait 50 ms, next; one process, no pacing beyond that. */
async function runBaseline(n: number): Promise<Figures> {
  const telegram = new TelegramSimulator({ token: '1:baseline', globalRatePerSecond: 30, perChatRatePerSecond: 1 });
  const apiRoot = await telegram.start();
  try {
    const api = new Api('1:baseline', { apiRoot });
    const started = Date.now();
    let sent = 0;
    for (let i = 0; i < n; i++) {
      try {
        await api.sendMessage(20_000_000 + i, 'Benchmark summary\n\nA short summary of a new video, as users get it.');
        sent += 1;
      } catch {
        // The seed logged and moved on.
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (Date.now() - started) / 1000;
    const accepted = telegram.callsTo('sendMessage').filter((c) => c.ok).map((c) => c.at);
    return {
      name: 'baseline: send + sleep 50 ms',
      peakWindow: peakWindow(telegram.callsTo('sendMessage').map((c) => c.at)),
      recipients: sent,
      ceiling: 25,
      sustained: (accepted.length - 1) / ((accepted.at(-1)! - accepted[0]!) / 1000),
      overall: sent / seconds,
      rateLimited: telegram.stats.rateLimited,
      peakRssMb: Number.NaN,
      eventsPer1000: Number.NaN,
      runs: 0,
      seconds,
    };
  } finally {
    await telegram.stop();
  }
}

async function main(): Promise<void> {
  printMachine(await machineInfo(process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres'));
  console.log(`workers   ${flags.workers} worker process(es)\n`);
  const scenarios: Scenario[] = [
    { name: 'ceiling 25/s, Telegram 30/s', ceiling: 25, simulatorLimit: 30, paid: false, subscribers: flags.subscribers },
    { name: 'ceiling 30/s, Telegram 30/s', ceiling: 30, simulatorLimit: 30, paid: false, subscribers: flags.subscribers },
    { name: 'paid 1,000/s, Telegram 1,000/s', ceiling: 1000, simulatorLimit: 1000, paid: true, subscribers: flags.paidSubscribers },
  ].filter((s) => s.subscribers > 0);
  const results: Figures[] = [];
  for (const s of scenarios) {
    console.error(`running: ${s.name}, ${s.subscribers} subscribers…`);
    results.push(await runScenario(s));
  }
  if (flags.baseline > 0) {
    console.error(`running: baseline, ${flags.baseline} recipients…`);
    results.push(await runBaseline(flags.baseline));
  }
  const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
  console.log(
    table(
      ['scenario', 'recipients', 'sustained/s', 'of ceiling', 'overall/s', 'peak 1 s', '429s', 'worker RSS MB', 'events/1k', 'runs', 'time s'],
      results.map((r) => [
        r.name,
        String(r.recipients),
        f(r.sustained),
        f(r.sustained / r.ceiling, 3),
        f(r.overall),
        String(r.peakWindow),
        String(r.rateLimited),
        f(r.peakRssMb, 0),
        f(r.eventsPer1000, 0),
        String(r.runs),
        f(r.seconds),
      ]),
    ),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
