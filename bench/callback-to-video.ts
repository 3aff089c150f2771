/**
 * WaveSpeed callback received → sendVideo at Telegram: how long a finished
 * video waits before the user gets it, when the webhook arrives, beside the
 * same jobs with the webhook lost (polling only).
 *
 *   npm run bench:callback -- [--jobs 200] [--pace 2] [--fast-poll 1] [--transfer-poll-rps N]
 *
 * --transfer-poll-rps sets the dev server's history.transferProcessorMaxPollRPS
 * (default 20 per history shard, and the dev server has one shard), to show what
 * its rate limit adds to every workflow and activity task dispatch.
 *
 * BENCH_DUMP=<file> also writes every job's timestamps and step split as JSON.
 *
 * Runs the whole system (Temporal dev server, a fresh PostgreSQL database,
 * gateway, in-process worker, Telegram and WaveSpeed simulators) and removes it.
 */
import { writeFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startStack, type Stack } from '../sandbox/dev/stack.js';
import type { TgUpdate } from '../sandbox/simulators/telegram.js';
import { videoWorkflowId } from '../src/workflows/ids.js';
import type { VideoOutcome } from '../src/workflows/video/messages.js';
import { numericFlags } from './lib/args.js';
import { CpuMeter, formatCpu } from './lib/cpu.js';
import { activityTimings, CALLBACK_STEPS, callbackSteps, workflowTaskDurations, type CallbackSplit } from './lib/history.js';
import { BENCH_PAYLOAD_KEYS, benchDataConverter, Cleanup, createBenchDatabase, describeTemporal, machineInfo, printMachine, startTemporal } from './lib/infra.js';
import { ms, summarize, table } from './lib/stats.js';

const TARGET_P50_MS = 50;
/** Generation time in the WaveSpeed simulator, so hundreds of jobs take minutes. */
const GENERATION_MS = [1000, 2000] as const;
const PRODUCTION_POLLING = { initialMs: 5_000, maxMs: 30_000 };
const FAST_POLLING = { initialMs: 1_000, maxMs: 2_000 };

interface Variant {
  name: string;
  loseCallback: boolean;
  polling: { initialMs: number; maxMs: number };
  firstChatId: number;
}

interface Job {
  chatId: number;
  workflowId: string;
  update: TgUpdate;
  ackMs?: number;
  ackStatus?: number;
  outcome?: VideoOutcome;
  /** Epoch ms: the prediction's terminal status, the webhook POST, the sendVideo call. */
  finishedAt?: number;
  webhookAt?: number;
  sendVideoAt?: number;
  /** sendChatAction calls to the chat after its video was sent ("sending video…" shown too long). */
  chatActionsAfterVideo?: number;
  /** Time from the video to the last of those calls. */
  chatActionTailMs?: number;
}

interface VariantResult {
  variant: Variant;
  jobs: Job[];
  rateLimited: Record<string, number>;
  cpu: Record<string, number | undefined>;
  /** Each job's callback path split into steps, when the webhook came. */
  splits: CallbackSplit[];
  activities: Array<{ type: string; queued: number; ran: number }>;
  workflowTasks: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startBenchStack(databaseUrl: string, temporalAddress: string, polling: Variant['polling'], cleanup: Cleanup): Promise<Stack> {
  const stack = await startStack({
    sandbox: true,
    env: {
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      GATEWAY_PORT: '0',
      LOG_LEVEL: 'warn',
      VIDEO_POLL_INITIAL_MS: String(polling.initialMs),
      VIDEO_POLL_MAX_MS: String(polling.maxMs),
      // As a Gold account: the fleet-wide cap must not queue the jobs either.
      WAVESPEED_MAX_CONCURRENCY: '1000',
      PAYLOAD_ENCRYPTION_KEYS: BENCH_PAYLOAD_KEYS,
    },
    // Many slots, so that no prediction queues; Telegram keeps its real flood limits.
    wavespeed: { latencyMs: GENERATION_MS, processingAfterMs: 200, maxConcurrent: 1_000 },
  });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stack.stop());
  cleanup.add('stack', stop);
  return { ...stack, stop };
}

async function runVariant(stack: Stack, client: Client, variant: Variant, flags: { jobs: number; pace: number }, temporalPid: number | undefined): Promise<VariantResult> {
  const telegram = stack.telegram!;
  const wavespeed = stack.wavespeed!;
  const jobs: Job[] = [];
  // Photos are made (JPEG encoding, several sizes) before the clock starts.
  for (let i = 0; i < flags.jobs; i++) {
    const chatId = variant.firstChatId + i;
    const caption = `a slow pan across the harbour, job ${i}${variant.loseCallback ? ' [lose-callback]' : ''}`;
    const update = await telegram.makePhotoUpdate({ chatId, caption });
    jobs.push({ chatId, update, workflowId: videoWorkflowId(chatId, update.message!.message_id) });
  }

  const meter = new CpuMeter({ 'bench process (gateway, worker, simulators)': process.pid, 'temporal server': temporalPid });
  meter.start();
  const t0 = performance.now();
  const pushes: Promise<void>[] = [];
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]!;
    const due = t0 + (i * 1000) / flags.pace;
    if (due > performance.now()) await sleep(due - performance.now());
    pushes.push(
      telegram.pushUpdate(job.update, { timeoutMs: 30_000 }).then((r) => {
        job.ackMs = r.latencyMs;
        job.ackStatus = r.status;
      }),
    );
  }
  await Promise.all(pushes);
  // Each job ends within seconds; the deadline only keeps a broken run from hanging.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, 180_000, undefined)));
  await Promise.all(
    jobs.map(async (job) => {
      const result = client.workflow.getHandle(job.workflowId).result() as Promise<VideoOutcome>;
      job.outcome = await Promise.race([result, deadline]).catch(() => undefined);
    }),
  );
  clearTimeout(timer);
  const cpu = meter.stop();

  const predictionOf = new Map<string, { id: string; finishedAt?: number }>();
  for (const p of wavespeed.predictions.values()) {
    // The webhook URL ends in the workflow id, before its `?t=` token.
    const workflowId = p.webhookUrl ? decodeURIComponent(new URL(p.webhookUrl).pathname.split('/').pop() ?? '') : '';
    predictionOf.set(workflowId, p);
  }
  const webhookAt = new Map(wavespeed.webhooks.map((w) => [w.predictionId, w.at]));
  const sendVideos = telegram.callsTo('sendVideo');
  const rateLimited: Record<string, number> = {};
  const chats = new Set(jobs.map((j) => j.chatId));
  for (const call of telegram.calls) {
    if (call.errorCode === 429 && chats.has(Number(call.chatId))) rateLimited[call.method] = (rateLimited[call.method] ?? 0) + 1;
  }
  for (const job of jobs) {
    const prediction = predictionOf.get(job.workflowId);
    job.finishedAt = prediction?.finishedAt;
    job.webhookAt = prediction ? webhookAt.get(prediction.id) : undefined;
    job.sendVideoAt = sendVideos.find((c) => c.ok && Number(c.chatId) === job.chatId)?.at;
  }
  // The chat action loop is cancelled after sendVideo; count the calls it still makes.
  const sentAt = new Map(jobs.map((j) => [j.chatId, j.sendVideoAt]));
  for (const call of telegram.callsTo('sendChatAction')) {
    const at = sentAt.get(Number(call.chatId));
    const job = at !== undefined && call.at > at ? jobs.find((j) => j.chatId === Number(call.chatId)) : undefined;
    if (!job) continue;
    job.chatActionsAfterVideo = (job.chatActionsAfterVideo ?? 0) + 1;
    job.chatActionTailMs = Math.max(job.chatActionTailMs ?? 0, call.at - at!);
  }

  const splits: CallbackSplit[] = [];
  const activities: VariantResult['activities'] = [];
  const workflowTasks: number[] = [];
  for (const job of jobs) {
    if (job.outcome?.status !== 'completed') continue;
    const events = (await client.workflow.getHandle(job.workflowId).fetchHistory()).events ?? [];
    activities.push(...activityTimings(events));
    workflowTasks.push(...workflowTaskDurations(events));
    if (job.webhookAt !== undefined && job.sendVideoAt !== undefined) {
      const split = callbackSteps(events, job.webhookAt, job.sendVideoAt);
      if (split) splits.push(split);
    }
  }
  return { variant, jobs, rateLimited, cpu, splits, activities, workflowTasks };
}

/** The measured latency of a job: from the webhook POST, or (polling) from the prediction's end. */
function latencyOf(result: VariantResult, job: Job): number | undefined {
  if (job.sendVideoAt === undefined) return undefined;
  const from = result.variant.loseCallback ? job.finishedAt : job.webhookAt;
  return from === undefined ? undefined : job.sendVideoAt - from;
}

function report(results: VariantResult[], flags: { jobs: number; pace: number }): void {
  const rows = results.map((r) => {
    const latencies = r.jobs.map((j) => latencyOf(r, j)).filter((v): v is number => v !== undefined);
    const s = summarize(latencies);
    const completed = r.jobs.filter((j) => j.outcome?.status === 'completed').length;
    const via = r.variant.loseCallback ? 'poll' : 'callback';
    const viaCount = r.jobs.filter((j) => j.outcome?.resultVia === via).length;
    const from = r.variant.loseCallback ? 'prediction done' : 'webhook POST';
    return [
      r.variant.name,
      `${from} → sendVideo`,
      `${completed}/${r.jobs.length}`,
      `${viaCount}`,
      ms(s.p50),
      ms(s.p90),
      ms(s.p99),
      ms(s.max),
      String(Object.values(r.rateLimited).reduce((a, b) => a + b, 0)),
    ];
  });
  console.log('');
  console.log(table(['variant', 'measured', 'completed', 'result via', 'p50', 'p90', 'p99', 'max', '429s'], rows));
  console.log('');
  for (const r of results) {
    const acks = summarize(r.jobs.filter((j) => j.ackStatus === 200).map((j) => j.ackMs ?? Number.NaN));
    const failedAcks = r.jobs.filter((j) => j.ackStatus !== 200).length;
    const limited = Object.entries(r.rateLimited).map(([m, n]) => `${n} × ${m}`).join(', ') || 'none';
    console.log(`${r.variant.name}: polling ${r.variant.polling.initialMs}/${r.variant.polling.maxMs} ms; ${flags.pace} jobs/s`);
    console.log(`  webhook ack under this load: p50 ${ms(acks.p50)}, p99 ${ms(acks.p99)}, non-2xx ${failedAcks}; Telegram 429s: ${limited}`);
    const lingering = r.jobs.filter((j) => j.chatActionsAfterVideo);
    const extra = lingering.reduce((n, j) => n + (j.chatActionsAfterVideo ?? 0), 0);
    const tail = summarize(lingering.map((j) => j.chatActionTailMs ?? 0));
    console.log(`  CPU (% of one core): ${formatCpu(r.cpu)}`);
    console.log(`  "sending video" chat action after the video: ${lingering.length}/${r.jobs.length} chats, ${extra} calls, last one up to ${ms(tail.max)} after it (p50 ${ms(tail.p50)})`);
  }

  const callback = results.find((r) => !r.variant.loseCallback);
  if (!callback) return;
  const splits = callback.splits;
  const totalOf = (split: CallbackSplit) => Object.values(split.steps).reduce((a, b) => a + b, 0);
  const edited = splits.filter((s) => s.editFirst).length;
  const shape = edited === 0 ? 'video sent at once' : edited === splits.length ? 'progress message edited first' : `${edited} edited the progress message first`;
  console.log(`\nWhere the callback path goes (${splits.length} jobs, ${shape}; from workflow histories and simulator timestamps):`);
  const totals = summarize(splits.map(totalOf));
  const stepRows = CALLBACK_STEPS.flatMap(([name, what]) => {
    const values = splits.map((s) => s.steps[name]).filter((v): v is number => v !== undefined);
    if (values.length === 0) return [];
    const s = summarize(values);
    const share = (100 * s.mean * values.length) / splits.length / totals.mean;
    return [[name, ms(s.p50), ms(s.p90), ms(s.mean), `${share.toFixed(0)}%`, what]];
  });
  stepRows.push(['total', ms(totals.p50), ms(totals.p90), ms(totals.mean), '100%', 'webhook POST sent → sendVideo received by Telegram']);
  console.log(table(['step', 'p50', 'p90', 'mean', 'share', 'what happens'], stepRows));
  const tasks = splits.flatMap((s) => s.taskQueueKinds);
  console.log(`workflow tasks on the path that went to the sticky queue: ${tasks.filter((k) => k === 2).length} of ${tasks.length}`);
  const half = Math.floor(splits.length / 2);
  const trend = (rows: CallbackSplit[]) => ms(summarize(rows.map(totalOf)).p50);
  console.log(`total p50, first half of the jobs ${trend(splits.slice(0, half))}, second half ${trend(splits.slice(half))}`);

  console.log('\nEvery activity of these jobs (scheduled → started, started → completed):');
  const types = [...new Set(callback.activities.map((a) => a.type))];
  const activityRows = types.map((type) => {
    const of = callback.activities.filter((a) => a.type === type);
    const queued = summarize(of.map((a) => a.queued));
    const ran = summarize(of.map((a) => a.ran));
    return [type, String(of.length), ms(queued.p50), ms(queued.p99), ms(ran.p50), ms(ran.p99)];
  });
  const wft = summarize(callback.workflowTasks);
  activityRows.push(['(workflow tasks)', String(wft.count), '', '', ms(wft.p50), ms(wft.p99)]);
  console.log(table(['activity', 'count', 'queued p50', 'queued p99', 'ran p50', 'ran p99'], activityRows));
  const p50 = summarize(callback.jobs.map((j) => latencyOf(callback, j)).filter((v): v is number => v !== undefined)).p50;
  console.log(`\ntarget callback p50 ≤ ${TARGET_P50_MS} ms: ${p50 <= TARGET_P50_MS ? 'met' : 'MISSED'} (${ms(p50)})`);
}

async function main(): Promise<void> {
  const flags = numericFlags({ jobs: 200, pace: 2, 'fast-poll': 1, 'transfer-poll-rps': 0 });
  if (flags.jobs < 1 || flags.pace <= 0) throw new Error('--jobs and --pace must be positive');
  // The SDK's INFO lines (bundling, worker states) would bury the figures.
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  const cleanup = new Cleanup();
  try {
    const pollRps = flags['transfer-poll-rps'];
    const dynamicConfig: Record<string, string> = pollRps ? { 'history.transferProcessorMaxPollRPS': String(pollRps) } : {};
    const [databaseUrl, temporal] = await Promise.all([createBenchDatabase(cleanup), startTemporal(cleanup, { dynamicConfig })]);
    const machine = await machineInfo(databaseUrl);
    const connection = await Connection.connect({ address: temporal.address });
    cleanup.add('client connection', () => connection.close());
    const client = new Client({ connection, dataConverter: benchDataConverter() });

    console.log(`\nCallback → video: ${flags.jobs} jobs per variant at ${flags.pace} jobs/s, generation ${GENERATION_MS.join('–')} ms`);
    printMachine(machine);
    console.log(`date      ${new Date().toISOString()}`);
    console.log(describeTemporal(temporal));

    const variants: Variant[] = [
      { name: 'callback', loseCallback: false, polling: PRODUCTION_POLLING, firstChatId: 200_000 },
      { name: 'callback lost, polling 5 s/30 s', loseCallback: true, polling: PRODUCTION_POLLING, firstChatId: 300_000 },
    ];
    if (flags['fast-poll']) variants.push({ name: 'callback lost, polling 1 s/2 s', loseCallback: true, polling: FAST_POLLING, firstChatId: 400_000 });

    const results: VariantResult[] = [];
    let stack: Stack | undefined;
    let stackPolling: Variant['polling'] | undefined;
    for (const variant of variants) {
      if (stackPolling !== variant.polling) {
        await stack?.stop();
        stack = await startBenchStack(databaseUrl, temporal.address, variant.polling, cleanup);
        stackPolling = variant.polling;
      }
      console.log(`running: ${variant.name}…`);
      results.push(await runVariant(stack!, client, variant, flags, temporal.process.pid));
    }
    report(results, flags);
    if (process.env.BENCH_DUMP) {
      writeFileSync(process.env.BENCH_DUMP, JSON.stringify(results.map(({ jobs, ...rest }) => ({ ...rest, jobs: jobs.map(({ update: _update, ...job }) => job) })), null, 1));
      console.log(`raw figures written to ${process.env.BENCH_DUMP}`);
    }
  } finally {
    await cleanup.run();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
