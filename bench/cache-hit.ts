/**
 * Result cache hit: the update's webhook POST to the gateway → the cached video's
 * sendVideo (by file_id) at Telegram. One request primes the cache, then users
 * send the same photo and caption at a modest rate; none reaches WaveSpeed.
 *
 *   npm run bench:cache -- [--hits 100] [--rate 2]
 *
 * Runs the whole system (Temporal dev server, a fresh PostgreSQL database,
 * gateway, in-process worker, Telegram and WaveSpeed simulators) and removes it.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startStack } from '../sandbox/dev/stack.js';
import type { TgUpdate } from '../sandbox/simulators/telegram.js';
import { videoWorkflowId } from '../src/workflows/ids.js';
import type { VideoOutcome } from '../src/workflows/video/messages.js';
import { numericFlags } from './lib/args.js';
import { CpuMeter, formatCpu } from './lib/cpu.js';
import { activityTimings, workflowTaskDurations } from './lib/history.js';
import { BENCH_PAYLOAD_KEYS, benchDataConverter, Cleanup, createBenchDatabase, describeTemporal, machineInfo, printMachine, startTemporal } from './lib/infra.js';
import { ms, summarize, table } from './lib/stats.js';

const CAPTION = 'the cat slowly turns its head and blinks';
const PHOTO_SEED = 4242;
const FIRST_CHAT = 500_000;

interface Hit {
  chatId: number;
  workflowId: string;
  update: TgUpdate;
  /** Epoch ms: the webhook POST sent, and the sendVideo call handled by Telegram. */
  postedAt?: number;
  sendVideoAt?: number;
  ackMs?: number;
  ackStatus?: number;
  outcome?: VideoOutcome;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const flags = numericFlags({ hits: 100, rate: 2 });
  if (flags.hits < 1 || flags.rate <= 0) throw new Error('--hits and --rate must be positive');
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  const cleanup = new Cleanup();
  try {
    const [databaseUrl, temporal] = await Promise.all([createBenchDatabase(cleanup), startTemporal(cleanup)]);
    const machine = await machineInfo(databaseUrl);
    const connection = await Connection.connect({ address: temporal.address });
    cleanup.add('client connection', () => connection.close());
    const client = new Client({ connection, dataConverter: benchDataConverter() });
    const stack = await startStack({
      sandbox: true,
      env: { DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporal.address, GATEWAY_PORT: '0', LOG_LEVEL: 'warn', PAYLOAD_ENCRYPTION_KEYS: BENCH_PAYLOAD_KEYS },
      wavespeed: { latencyMs: 1_000, processingAfterMs: 200 },
    });
    cleanup.add('stack', () => stack.stop());
    const telegram = stack.telegram!;
    const wavespeed = stack.wavespeed!;

    console.log(`\nCache hit → video: ${flags.hits} identical requests at ${flags.rate}/s after one that primes the cache`);
    printMachine(machine);
    console.log(`date      ${new Date().toISOString()}`);
    console.log(describeTemporal(temporal));

    const photo = (chatId: number) => telegram.makePhotoUpdate({ chatId, userId: chatId, caption: CAPTION, seed: PHOTO_SEED });
    const primer = await photo(FIRST_CHAT - 1);
    await telegram.pushUpdate(primer);
    const primed = (await client.workflow.getHandle(videoWorkflowId(FIRST_CHAT - 1, primer.message!.message_id)).result()) as VideoOutcome;
    if (primed.status !== 'completed' || primed.deliveredBy === 'cache') throw new Error(`priming failed: ${JSON.stringify(primed)}`);
    const predictionsAfterPriming = wavespeed.predictions.size;
    const uploadsAfterPriming = wavespeed.uploads.length;

    // Photos are made before the clock starts (JPEG encoding, several sizes).
    const hits: Hit[] = [];
    for (let i = 0; i < flags.hits; i++) {
      const chatId = FIRST_CHAT + i;
      const update = await photo(chatId);
      hits.push({ chatId, update, workflowId: videoWorkflowId(chatId, update.message!.message_id) });
    }

    const meter = new CpuMeter({ 'bench process (gateway, worker, simulators)': process.pid, 'temporal server': temporal.process.pid });
    meter.start();
    const t0 = performance.now();
    const pushes: Promise<void>[] = [];
    for (let i = 0; i < hits.length; i++) {
      const hit = hits[i]!;
      const due = t0 + (i * 1000) / flags.rate;
      if (due > performance.now()) await sleep(due - performance.now());
      hit.postedAt = Date.now();
      pushes.push(
        telegram.pushUpdate(hit.update, { timeoutMs: 30_000 }).then((r) => {
          hit.ackMs = r.latencyMs;
          hit.ackStatus = r.status;
        }),
      );
    }
    await Promise.all(pushes);
    await Promise.all(
      hits.map(async (hit) => {
        hit.outcome = (await client.workflow.getHandle(hit.workflowId).result().catch(() => undefined)) as VideoOutcome | undefined;
      }),
    );
    const cpu = meter.stop();

    const sendVideos = telegram.callsTo('sendVideo');
    for (const hit of hits) hit.sendVideoAt = sendVideos.find((c) => c.ok && Number(c.chatId) === hit.chatId)?.at;
    const latencies = hits.flatMap((h) => (h.sendVideoAt !== undefined && h.postedAt !== undefined ? [h.sendVideoAt - h.postedAt] : []));
    const s = summarize(latencies);
    const served = hits.filter((h) => h.outcome?.deliveredBy === 'cache').length;
    const acks = summarize(hits.filter((h) => h.ackStatus === 200).map((h) => h.ackMs ?? Number.NaN));

    console.log('');
    console.log(
      table(
        ['measured', 'served from cache', 'p50', 'p90', 'p99', 'max', 'mean'],
        [['webhook POST → sendVideo (file_id)', `${served}/${hits.length}`, ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max), ms(s.mean)]],
      ),
    );
    console.log(`\nWaveSpeed during the hits: ${wavespeed.predictions.size - predictionsAfterPriming} predictions, ${wavespeed.uploads.length - uploadsAfterPriming} uploads`);
    console.log(`webhook ack: p50 ${ms(acks.p50)}, p99 ${ms(acks.p99)}; non-2xx ${hits.filter((h) => h.ackStatus !== 200).length}`);
    console.log(`CPU (% of one core): ${formatCpu(cpu)}`);

    const activities: Array<{ type: string; queued: number; ran: number }> = [];
    const tasks: number[] = [];
    for (const hit of hits) {
      const events = (await client.workflow.getHandle(hit.workflowId).fetchHistory()).events ?? [];
      activities.push(...activityTimings(events));
      tasks.push(...workflowTaskDurations(events));
    }
    console.log('\nEvery activity of the hits (scheduled → started, started → completed):');
    const types = [...new Set(activities.map((a) => a.type))];
    const rows = types.map((type) => {
      const of = activities.filter((a) => a.type === type);
      const queued = summarize(of.map((a) => a.queued));
      const ran = summarize(of.map((a) => a.ran));
      return [type, String(of.length), ms(queued.p50), ms(queued.p99), ms(ran.p50), ms(ran.p99)];
    });
    const wft = summarize(tasks);
    rows.push(['(workflow tasks)', String(wft.count), '', '', ms(wft.p50), ms(wft.p99)]);
    console.log(table(['activity', 'count', 'queued p50', 'queued p99', 'ran p50', 'ran p99'], rows));
  } finally {
    await cleanup.run();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
