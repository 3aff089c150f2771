/**
 * Webhook acknowledgement latency: how long Telegram waits for the gateway's
 * answer to `POST /telegram/webhook`, at a fixed open-loop arrival rate, beside
 * the bare `client.workflow.start()` RPC the gateway makes for each update.
 *
 *   npm run bench:webhook -- [--rate 200] [--seconds 60] [--warmup 3] [--block 5]
 *
 * Starts a Temporal dev server, a fresh PostgreSQL database and the gateway
 * (no worker: acknowledgement, not processing, is measured), then removes them.
 */
import { Client, Connection } from '@temporalio/client';
import { SANDBOX_WEBHOOK_SECRET, startStack } from '../sandbox/dev/stack.js';
import { numericFlags } from './lib/args.js';
import { CpuMeter, formatCpu } from './lib/cpu.js';
import { BENCH_PAYLOAD_KEYS, benchDataConverter, Cleanup, countLogLines, createBenchDatabase, describeTemporal, machineInfo, printMachine, startTemporal } from './lib/infra.js';
import { runLoad, type KindResult, type LoadKind } from './lib/load.js';
import { ms, summarize, table } from './lib/stats.js';

const TARGET_P99_MS = 25;
const NAMES: Record<LoadKind, string> = { webhook: 'POST /telegram/webhook', start: 'workflow.start() RPC' };

const ok = (result: KindResult) => result.samples.filter((s) => s.status >= 200 && s.status < 300);

function row(kind: LoadKind, result: KindResult): string[] {
  const latency = summarize(ok(result).map((s) => s.done - s.sent));
  return [
    NAMES[kind],
    String(result.samples.length),
    String(result.samples.length - ok(result).length),
    ms(latency.p50),
    ms(latency.p90),
    ms(latency.p99),
    ms(latency.max),
    `${result.sentPerSecond.toFixed(1)}/s`,
    `${result.answeredPerSecond.toFixed(1)}/s`,
  ];
}

function errorBreakdown(result: KindResult): string {
  const counts = new Map<string, number>();
  for (const s of result.samples) {
    if (s.status >= 200 && s.status < 300) continue;
    const key = s.status ? `HTTP ${s.status}` : `exception: ${s.error ?? '?'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts.size ? [...counts].map(([k, n]) => `${n} × ${k}`).join('; ') : 'none';
}

/** How late the generator fired, and the latency counted from the intended send time. */
function generatorCheck(result: KindResult): string {
  const lag = summarize(result.samples.map((s) => s.sent - s.scheduled));
  const fromSchedule = summarize(ok(result).map((s) => s.done - s.scheduled));
  return `send lag p99 ${ms(lag.p99)} (max ${ms(lag.max)}); latency from the scheduled time p99 ${ms(fromSchedule.p99)}`;
}

/** Counts workflows of a type, waiting for visibility to catch up. */
async function countWorkflows(client: Client, query: string, expected: number): Promise<number> {
  let count = 0;
  for (let attempt = 0; attempt < 40; attempt++) {
    count = (await client.workflow.count(query)).count;
    if (count >= expected) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return count;
}

async function main(): Promise<void> {
  const flags = numericFlags({ rate: 200, seconds: 60, warmup: 3, block: 5 });
  if (flags.rate <= 0 || flags.seconds <= 0 || flags.block <= 0) throw new Error('--rate, --seconds and --block must be positive');
  const cleanup = new Cleanup();
  try {
    const [databaseUrl, temporal] = await Promise.all([createBenchDatabase(cleanup), startTemporal(cleanup)]);
    const machine = await machineInfo(databaseUrl);
    const stack = await startStack({
      sandbox: true,
      worker: false,
      env: { DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporal.address, GATEWAY_PORT: '0', LOG_LEVEL: 'warn', PAYLOAD_ENCRYPTION_KEYS: BENCH_PAYLOAD_KEYS },
    });
    cleanup.add('stack', () => stack.stop());
    const connection = await Connection.connect({ address: temporal.address });
    cleanup.add('client connection', () => connection.close());
    const client = new Client({ connection, dataConverter: benchDataConverter() });

    console.log(`\nWebhook acknowledgement: ${flags.rate}/s, ${flags.seconds} s of each kind in alternating ${flags.block} s blocks (after ${flags.warmup} s warm-up each), open loop, keep-alive`);
    printMachine(machine);
    console.log(`date      ${new Date().toISOString()}`);
    console.log(describeTemporal(temporal));
    console.log(`gateway   ${stack.gateway.url} (no worker)`);

    const template = await stack.telegram!.makePhotoUpdate({ chatId: 1, caption: 'the cat slowly turns its head and blinks' });
    const pids = { 'gateway process': process.pid, 'temporal server': temporal.process.pid };
    const meters: Record<LoadKind, CpuMeter> = { webhook: new CpuMeter(pids), start: new CpuMeter(pids) };
    const result = await runLoad(
      {
        rate: flags.rate,
        seconds: flags.seconds,
        warmupSeconds: flags.warmup,
        blockSeconds: Math.min(flags.block, flags.seconds),
        webhook: { url: `${stack.gateway.url}/telegram/webhook`, secret: SANDBOX_WEBHOOK_SECRET, template, firstChatId: 100_000_000 },
        start: {
          temporalAddress: temporal.address,
          namespace: 'default',
          taskQueue: 'bench-unused',
          workflowType: 'benchNoop',
          workflowIdPrefix: `bench-noop-${process.pid}`,
          payloadKeys: BENCH_PAYLOAD_KEYS,
        },
      },
      cleanup,
      (kind, edge) => (edge === 'start' ? meters[kind].start() : meters[kind].stop()),
    );

    const expected = ok(result.webhook).length + Math.round(flags.rate * flags.warmup);
    const started = await countWorkflows(client, 'WorkflowType="imageToVideo"', expected);

    console.log('');
    console.log(table(['', 'sent', 'errors', 'p50', 'p90', 'p99', 'max', 'sent/s', 'answered/s'], (['webhook', 'start'] as const).map((k) => row(k, result[k]))));
    console.log('');
    for (const kind of ['webhook', 'start'] as const) {
      const { 'rest of machine': rest, ...ours } = meters[kind].usage();
      const generator = result[kind].cpuPercent;
      const others = rest === undefined ? undefined : Math.max(0, rest - generator);
      console.log(`${NAMES[kind]}:`);
      console.log(`  errors: ${errorBreakdown(result[kind])}`);
      console.log(`  generator: ${generatorCheck(result[kind])}`);
      console.log(`  CPU (% of one core): ${formatCpu({ ...ours, 'load generator': generator, 'rest of machine': others })}`);
    }
    console.log(`imageToVideo workflows started: ${started} (expected ${expected}, warm-up included)`);
    console.log(`Temporal server "Slow gRPC call" warnings (calls over 5 s): ${countLogLines(temporal, 'Slow gRPC call')}`);
    const p99 = summarize(ok(result.webhook).map((s) => s.done - s.sent)).p99;
    console.log(`target p99 ≤ ${TARGET_P99_MS} ms at ${flags.rate}/s: ${p99 <= TARGET_P99_MS ? 'met' : 'MISSED'} (${ms(p99)})`);
  } finally {
    await cleanup.run();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
