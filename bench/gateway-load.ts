/**
 * The gateway under sustained load: Telegram redelivering updates the gateway
 * already took, new `/help` commands from many users and new photos, at a fixed
 * open-loop rate, through the Telegram simulator's webhook push. Counts the
 * answers by status and the heap before and after (full GC each time).
 *
 *   npm run bench:gateway-load -- [--rate 500] [--seconds 60] [--warmup 3] [--users 5000] [--stand-in 1]
 *
 * `--stand-in 1` puts the gRPC stand-in of test/faults/gateway-load.test.ts in
 * place of the dev server (which answers ~190 starts/s here): the gateway
 * alone is measured, e.g. under `node --cpu-prof --import tsx bench/gateway-load.ts`.
 *
 * Starts a Temporal dev server, a fresh PostgreSQL database and the gateway
 * (no worker: the webhook is measured, not the processing), then removes them.
 * The Telegram simulator and the load generator run in a child process: this
 * one is the gateway's, and its CPU per update is printed. `LOG_LEVEL` (default
 * error) sets the gateway's; its lines go to /dev/null.
 * test/faults/gateway-load.test.ts runs the same load in CI with a stand-in Temporal.
 */
import { pino } from 'pino';
import { SANDBOX_API_KEY, SANDBOX_TOKEN, SANDBOX_WEBHOOK_SECRET, startStack } from '../sandbox/dev/stack.js';
import { numericFlags } from './lib/args.js';
import { startGatewayLoadGenerator } from './lib/gateway-load-process.js';
import { BENCH_PAYLOAD_KEYS, Cleanup, countLogLines, createBenchDatabase, describeTemporal, machineInfo, printMachine, startTemporal } from './lib/infra.js';
import { ms } from './lib/stats.js';
import { startStandInProcess } from '../test/faults/helpers/temporal-frontend-stand-in.js';

async function main(): Promise<void> {
  const flags = numericFlags({ rate: 500, seconds: 60, warmup: 3, users: 5_000, 'stand-in': 0 });
  if (flags.rate <= 0 || flags.seconds <= 0 || flags.users <= 0) throw new Error('--rate, --seconds and --users must be positive');
  const cleanup = new Cleanup();
  try {
    const standIn = flags['stand-in'] ? await startStandInProcess(5) : undefined;
    if (standIn) cleanup.add('Temporal stand-in', () => standIn.stop());
    const [databaseUrl, temporal] = await Promise.all([createBenchDatabase(cleanup), standIn ? undefined : startTemporal(cleanup)]);
    const machine = await machineInfo(databaseUrl);
    const generator = await startGatewayLoadGenerator(SANDBOX_TOKEN);
    cleanup.add('load generator', () => generator.stop());
    const stack = await startStack({
      sandbox: false,
      worker: false,
      env: {
        DATABASE_URL: databaseUrl,
        TEMPORAL_ADDRESS: standIn?.address ?? temporal!.address,
        GATEWAY_PORT: '0',
        // Each 503 is counted below; at warn the gateway would log every one.
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
        PAYLOAD_ENCRYPTION_KEYS: BENCH_PAYLOAD_KEYS,
        TELEGRAM_BOT_TOKEN: SANDBOX_TOKEN,
        TELEGRAM_API_ROOT: generator.apiRoot,
        TELEGRAM_WEBHOOK_SECRET: SANDBOX_WEBHOOK_SECRET,
        WAVESPEED_API_KEY: SANDBOX_API_KEY,
        WAVESPEED_WEBHOOK_SECRET: `whsec_${'0'.repeat(32)}`,
      },
      // As the gateway writes standard output (pino.destination, synchronous), to /dev/null.
      logDestination: pino.destination({ dest: '/dev/null', sync: true }),
    });
    cleanup.add('stack', () => stack.stop());

    console.log(`\nGateway load: ${flags.rate}/s for ${flags.seconds} s (after ${flags.warmup} s warm-up), open loop; 40 % redeliveries, 40 % /help, 20 % photos from ${flags.users} users`);
    printMachine(machine);
    console.log(`date      ${new Date().toISOString()}`);
    console.log(temporal ? describeTemporal(temporal) : `temporal  gRPC stand-in at ${standIn!.address} (StartWorkflowExecution after 5 ms), in a child process`);
    console.log(`gateway   ${stack.gateway.url} (no worker), in this process; the simulator and the generator in a child process`);

    const result = await generator.run(`${stack.gateway.url}/telegram/webhook`, SANDBOX_WEBHOOK_SECRET, {
      rate: flags.rate,
      seconds: flags.seconds,
      warmupSeconds: flags.warmup,
      users: flags.users,
      mix: { redelivery: 0.4, command: 0.4, photo: 0.2 },
      redeliveryPool: 200,
    });
    const failures = Object.entries(result.statuses).filter(([status]) => Number(status) >= 500 || Number(status) === 0);
    console.log('');
    console.log(`sent        ${result.sent} (${JSON.stringify(result.byKind)}), answered ${result.answeredPerSecond}/s`);
    console.log(`statuses    ${JSON.stringify(result.statuses)}; 5xx or no answer: ${failures.length ? JSON.stringify(Object.fromEntries(failures)) : 'none'}`);
    console.log(`latency     p50 ${ms(result.latency.p50)}, p90 ${ms(result.latency.p90)}, p99 ${ms(result.latency.p99)}, max ${ms(result.latency.max)}`);
    console.log(`generator   send lag max ${ms(result.sendLagMaxMs)}`);
    console.log(`heap        ${result.heapBeforeMiB} → ${result.heapAfterMiB} MiB after full GC (+${(result.heapAfterMiB - result.heapBeforeMiB).toFixed(1)}); every 5 s: ${result.heapTimelineMiB.join(', ')}`);
    console.log(`rss         ${result.rssBeforeMiB} → ${result.rssAfterMiB} MiB`);
    console.log(`CPU         gateway ${result.gatewayCpuMsPerUpdate} ms per update (this process, over the measured part), generator ${result.generatorCpuMsPerUpdate} ms`);
    if (temporal) console.log(`Temporal server "Slow gRPC call" warnings (calls over 5 s): ${countLogLines(temporal, 'Slow gRPC call')}`);
    if (failures.length) process.exitCode = 1;
  } finally {
    await cleanup.run();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
