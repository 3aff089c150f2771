/**
 * Requests in flight: many users send a photo at once and wait for WaveSpeed,
 * with the real gateway, worker process(es), Temporal dev server, PostgreSQL and
 * both simulators (Telegram's real flood limits).
 *
 *   npm run bench:inflight -- [--scenario 1|2|3] [--users N] [--rate R] [--latency S] [--cap C] [--workers W] [--kill 1] [--malloc jemalloc|glibc] [--pool N] [--compiled] [--env KEY=VALUE]…
 *
 * --pool sets each worker's DATABASE_POOL_SIZE (else the configured default);
 * --compiled runs the worker processes from `dist/` (run `npm run build` first);
 * --env KEY=VALUE (repeatable) any other setting of the stack and its workers,
 * e.g. `--env WORKER_WORKFLOW_TASK_SLOTS=100`.
 *
 * Worker processes run with jemalloc (LD_PRELOAD), as the production image runs them.
 *
 * 1. Default configuration (the bounded line included): 500 users within 25 s,
 *    20 s a video, cap 3.
 * 2. A Gold account: 2,000 users at 10/s, cap 3,000, 180 s a video, one worker.
 * 3. As 2 with two worker processes, one killed -9 at the peak.
 * 4. A line of thousands (cap 10, 2 s a video, 2,000 users at 40/s): places told,
 *    submissions in arrival order.
 * Without --scenario, 1 to 3 run, one after the other, each on its own stack.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { parseArgs } from 'node:util';
import { admissionShards, videoWorkflowId } from '../src/workflows/ids.js';
import type { VideoOutcome } from '../src/workflows/video/messages.js';
import { startStack } from '../sandbox/dev/stack.js';
import { WORKFLOW_TYPE } from '../src/constants.js';
import { localActivityType } from '../src/temporal/client/redrive.js';
import { eventMs, type HistoryEvent } from './lib/history.js';
import type { TgUpdate } from '../sandbox/simulators/telegram.js';
import { spawnWorker, type WorkerProcess } from '../test/helpers/worker-process.js';
import { CpuMeter, formatCpu } from './lib/cpu.js';
import { BENCH_PAYLOAD_KEYS, benchDataConverter, Cleanup, createBenchDatabase, describeTemporal, jemallocPath, machineInfo, printMachine, startTemporal } from './lib/infra.js';
import { currentRssMb, peakOverlap, peakRssMb, peakWindow } from './lib/measure.js';
import { ms, summarize, table } from './lib/stats.js';

interface Scenario {
  name: string;
  users: number;
  /** Arrivals per second. */
  rate: number;
  /** Seconds WaveSpeed takes per video. */
  latencySeconds: number;
  cap: number;
  workers: number;
  /** The worker processes' allocator: jemalloc as in the production image (the default), or glibc's. */
  malloc?: 'jemalloc' | 'glibc';
  /** Kill -9 one worker when this share of the arrivals is in. */
  killAt?: number;
  env?: Record<string, string>;
  /** Worker processes from `dist/` (`npm run build` first), as the production image runs them. */
  compiled?: boolean;
}

interface Request {
  chatId: number;
  workflowId: string;
  update: TgUpdate;
  postedAt?: number;
  ackStatus?: number;
  finishedAt?: number;
  outcome?: VideoOutcome;
}

const SCENARIOS: Record<string, Scenario> = {
  '1': { name: 'default configuration, cap 3', users: 500, rate: 20, latencySeconds: 20, cap: 3, workers: 1 },
  '2': { name: 'Gold: cap 3,000, one worker', users: 2000, rate: 10, latencySeconds: 180, cap: 3000, workers: 1 },
  '3': { name: 'Gold: two workers, one killed -9', users: 2000, rate: 10, latencySeconds: 180, cap: 3000, workers: 2, killAt: 0.6 },
  '4': {
    name: 'a line of thousands: cap 10, line up to 5,000',
    users: 2000,
    rate: 40,
    latencySeconds: 2,
    cap: 10,
    workers: 1,
    env: { WAVESPEED_QUEUE_MAX: '5000', WAVESPEED_QUEUE_MAX_WAIT_MS: String(60 * 60 * 1000) },
  },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FIRST_CHAT = 3_000_000;

const RESULT_PATH_STEPS = [
  'finished → signal recorded (webhook, gateway, signal RPC)',
  'signal → workflow task started (server, worker poll)',
  'workflow task (worker)',
  'task completed → sendVideo started (dispatch)',
  'sendVideo started → Telegram call (budget, HTTP)',
] as const;

/** The steps from a prediction's end (simulator clock) to its sendVideo at Telegram, from the request's history. */
function resultPathSteps(events: readonly HistoryEvent[], finishedAt: number, videoAt: number): Record<string, number> | undefined {
  const after = (from: HistoryEvent, test: (e: HistoryEvent) => boolean) => events.find((e) => Number(e.eventId) > Number(from.eventId) && test(e));
  const signal = events.find((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'wavespeedResult');
  if (!signal) return undefined;
  const started = after(signal, (e) => !!e.workflowTaskStartedEventAttributes);
  const completed = started && after(started, (e) => !!e.workflowTaskCompletedEventAttributes);
  const send = completed && after(completed, (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendVideo');
  const sendStarted = send && events.find((e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId ?? -1) === Number(send.eventId));
  if (!started || !completed || !send || !sendStarted) return undefined;
  const [s0, s1, s2, s3, s4] = RESULT_PATH_STEPS;
  return {
    [s0]: eventMs(signal) - finishedAt,
    [s1]: eventMs(started) - eventMs(signal),
    [s2]: eventMs(completed) - eventMs(started),
    [s3]: eventMs(sendStarted) - eventMs(completed),
    [s4]: videoAt - eventMs(sendStarted),
  };
}

function scenarios(): Scenario[] {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string' },
      users: { type: 'string' },
      rate: { type: 'string' },
      latency: { type: 'string' },
      cap: { type: 'string' },
      workers: { type: 'string' },
      kill: { type: 'string' },
      malloc: { type: 'string' },
      pool: { type: 'string' },
      compiled: { type: 'boolean' },
      env: { type: 'string', multiple: true },
    },
    strict: true,
  });
  const picked = values.scenario ? [SCENARIOS[values.scenario]] : ['1', '2', '3'].map((k) => SCENARIOS[k]);
  if (picked.some((s) => !s)) throw new Error('--scenario is 1, 2, 3 or 4');
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  return picked.map((s) => ({
    ...s!,
    users: num(values.users) ?? s!.users,
    rate: num(values.rate) ?? s!.rate,
    latencySeconds: num(values.latency) ?? s!.latencySeconds,
    cap: num(values.cap) ?? s!.cap,
    workers: num(values.workers) ?? s!.workers,
    ...(values.kill === '1' ? { killAt: 0.6 } : {}),
    malloc: values.malloc === 'glibc' ? 'glibc' : 'jemalloc',
    compiled: values.compiled === true,
    env: { ...s!.env, ...(values.pool ? { DATABASE_POOL_SIZE: values.pool } : {}), ...settings(values.env ?? []) },
  }));
}

/** `--env KEY=VALUE` pairs as settings. */
function settings(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`--env takes KEY=VALUE, not ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

/** A Prometheus histogram from its exposition lines: count, mean, and the share of observations above a bucket bound. */
function histogramSummary(lines: string[], name: string) {
  const value = (l: string) => Number(l.split(' ').at(-1));
  const count = value(lines.find((l) => l.startsWith(`${name}_count`)) ?? ' 0');
  const sum = value(lines.find((l) => l.startsWith(`${name}_sum`)) ?? ' 0');
  const buckets = lines.filter((l) => l.startsWith(`${name}_bucket{`)).map((l) => ({ le: Number(/le="([^"]+)"/.exec(l)?.[1]), n: value(l) }));
  return {
    count,
    meanMs: count ? (sum / count) * 1000 : 0,
    over: (seconds: number) => (count ? 1 - (buckets.find((b) => b.le === seconds)?.n ?? 0) / count : 0),
  };
}

const pct = (share: number) => `${(share * 100).toFixed(1)} %`;

/** Waits until no video workflow is running: one visibility count every 2 s. */
async function untilNoneRunning(client: Client): Promise<void> {
  for (;;) {
    const { count } = await client.workflow.count(`WorkflowType = '${WORKFLOW_TYPE.video}' AND ExecutionStatus = 'Running'`);
    if (count === 0) return;
    await sleep(2000);
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/**
 * The request's outcome. Two thousand results awaited at once exceed the dev
 * server's concurrent long polls per namespace (`RESOURCE_EXHAUSTED`), and the
 * server then drops some of the bench's connections (`UNAVAILABLE`): that is the
 * bench's own limit, not the request's, so the wait is taken up again; any other
 * error is said and counted as no outcome.
 */
async function outcomeOf(client: Client, workflowId: string): Promise<VideoOutcome | undefined> {
  for (;;) {
    try {
      return (await client.workflow.getHandle(workflowId).result()) as VideoOutcome;
    } catch (err) {
      const cause = String((err as { cause?: unknown }).cause ?? '');
      if (cause.includes('RESOURCE_EXHAUSTED') || cause.includes('UNAVAILABLE')) {
        await sleep(1000 + Math.random() * 4000);
        continue;
      }
      console.error(`no outcome for ${workflowId}: ${err instanceof Error ? `${err.name}: ${err.message}; ${cause}` : String(err)}`);
      return undefined;
    }
  }
}

async function run(s: Scenario): Promise<void> {
  const cleanup = new Cleanup();
  try {
    const [databaseUrl, temporal] = await Promise.all([createBenchDatabase(cleanup), startTemporal(cleanup)]);
    const machine = await machineInfo(databaseUrl);
    const stack = await startStack({
      sandbox: true,
      worker: false,
      env: {
        DATABASE_URL: databaseUrl,
        TEMPORAL_ADDRESS: temporal.address,
        GATEWAY_PORT: '0',
        WORKER_METRICS_PORT: '0',
        LOG_LEVEL: 'warn',
        PAYLOAD_ENCRYPTION_KEYS: BENCH_PAYLOAD_KEYS,
        WAVESPEED_MAX_CONCURRENCY: String(s.cap),
        ...s.env,
      },
      // The account runs as many at once as its tier allows: the cap is Telewan's.
      wavespeed: { latencyMs: s.latencySeconds * 1000, processingAfterMs: 1_000, maxConcurrent: s.cap },
    });
    cleanup.add('stack', () => stack.stop());
    const telegram = stack.telegram!;
    const wavespeed = stack.wavespeed!;
    const workers: WorkerProcess[] = [];
    const jemalloc = s.malloc === 'glibc' ? undefined : jemallocPath();
    if (s.malloc !== 'glibc' && !jemalloc) throw new Error('jemalloc is not installed (apt-get install libjemalloc2), or run with --malloc glibc');
    for (let i = 0; i < s.workers; i++) workers.push(spawnWorker({ ...stack.env, LOG_LEVEL: 'warn', ...(jemalloc ? { LD_PRELOAD: jemalloc } : {}) }, { compiled: s.compiled }));
    cleanup.add('workers', async () => void (await Promise.all(workers.map((w) => w.kill('SIGTERM')))));
    await Promise.all(workers.map((w) => w.ready));
    const idleRss = workers.map((w) => currentRssMb(w.child.pid));
    const connection = await Connection.connect({ address: temporal.address });
    cleanup.add('client connection', () => connection.close());
    const client = new Client({ connection, dataConverter: benchDataConverter() });

    console.log(`\nIn flight, scenario "${s.name}": ${s.users} users at ${s.rate}/s, WaveSpeed ${s.latencySeconds} s a video, cap ${s.cap}, ${s.workers} worker process(es), ${jemalloc ? 'jemalloc' : "glibc's malloc"}${s.compiled ? ', compiled (dist/)' : ', from source (tsx)'}`);
    const overrides = Object.entries(s.env ?? {}).map(([k, v]) => `${k}=${v}`);
    if (overrides.length) console.log(`settings  ${overrides.join(' ')}`);
    printMachine(machine);
    console.log(`date      ${new Date().toISOString()}`);
    console.log(describeTemporal(temporal));

    const requests: Request[] = [];
    for (let i = 0; i < s.users; i++) {
      const chatId = FIRST_CHAT + i;
      const update = await telegram.makePhotoUpdate({ chatId, userId: chatId, caption: `a slow pan across the harbour, take ${i}`, seed: 7 });
      requests.push({ chatId, update, workflowId: videoWorkflowId(chatId, update.message!.message_id) });
    }

    // VmHWM would count the start-up peak (the workflow bundle is built in the process): sample RSS instead.
    const rssSamples = workers.map(() => 0);
    const rssTimer = setInterval(() => workers.forEach((w, i) => (rssSamples[i] = Math.max(rssSamples[i]!, currentRssMb(w.child.pid) || 0))), 1000);
    cleanup.add('rss sampling', async () => clearInterval(rssTimer));
    const meter = new CpuMeter({ 'worker 1': workers[0]!.child.pid, 'gateway+simulators': process.pid, temporal: temporal.process.pid });
    meter.start();
    let killed: number | undefined;
    const t0 = performance.now();
    const startedAt = Date.now();
    const done: Promise<void>[] = [];
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i]!;
      const due = t0 + (i * 1000) / s.rate;
      if (due > performance.now()) await sleep(due - performance.now());
      if (s.killAt !== undefined && killed === undefined && i >= s.users * s.killAt) {
        killed = Date.now();
        await workers[0]!.kill('SIGKILL');
        console.log(`worker 1 killed -9 at +${((killed - startedAt) / 1000).toFixed(1)} s, ${i} requests in`);
      }
      r.postedAt = Date.now();
      done.push(
        telegram.pushUpdate(r.update, { timeoutMs: 60_000 }).then((res) => {
          r.ackStatus = res.status;
        }),
      );
    }
    await Promise.all(done);
    // Not a result long poll per request while it runs: 2,000 of them exceed the dev
    // server's limit, and their refusals and retries cost the server the CPU this measures.
    await untilNoneRunning(client);
    const tookS = (Date.now() - startedAt) / 1000;
    const cpu = meter.stop();
    await forEachLimited(requests, 20, async (r) => {
      const closed = await client.workflow.getHandle(r.workflowId).describe().catch(() => undefined);
      if (!closed) return;
      r.finishedAt = closed.closeTime?.getTime();
      r.outcome = await outcomeOf(client, r.workflowId);
    });

    const videos = telegram.callsTo('sendVideo').filter((c) => c.ok);
    const videoAt = new Map<number, number[]>();
    for (const v of videos) videoAt.set(Number(v.chatId), [...(videoAt.get(Number(v.chatId)) ?? []), v.at]);
    const delivered = requests.filter((r) => videoAt.has(r.chatId));
    const doubled = requests.filter((r) => (videoAt.get(r.chatId)?.length ?? 0) > 1).length;
    const byReason = new Map<string, number>();
    for (const r of requests) {
      const key = videoAt.has(r.chatId) ? 'video' : r.outcome ? `${r.outcome.status}${r.outcome.reason ? `: ${r.outcome.reason}` : ''}` : 'no answer';
      byReason.set(key, (byReason.get(key) ?? 0) + 1);
    }
    // Activities that waited out of their worker slot (progress edits behind answers and videos), from the workers still running.
    const scraped = await Promise.all(
      workers.map(async (w) => {
        try {
          return (await (await fetch(`${await w.metricsUrl}`, { signal: AbortSignal.timeout(5_000) })).text()).split('\n');
        } catch {
          return undefined;
        }
      }),
    );
    const outOfSlot = scraped.map((lines) => lines?.filter((l) => l.startsWith('telewan_activities_out_of_slot_total{')).reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0));
    const poolWait = scraped.map((lines) => (lines ? histogramSummary(lines, 'telewan_database_pool_wait_seconds') : undefined));
    const lastVideo = Math.max(...videos.map((v) => v.at));
    const ideal = (Math.ceil(delivered.length / s.cap) * s.latencySeconds);
    const waits = summarize(delivered.map((r) => videoAt.get(r.chatId)![0]! - r.postedAt!));
    const finishedOf = new Map([...wavespeed.predictions.values()].map((p) => [decodeURIComponent(p.webhookUrl?.split('/').at(-1)?.split('?')[0] ?? ''), p.finishedAt]));
    const toVideo = summarize(delivered.flatMap((r) => {
      const finished = finishedOf.get(r.workflowId);
      return finished === undefined ? [] : [videoAt.get(r.chatId)![0]! - finished];
    }));
    // The line: who was told a place, and whether WaveSpeed got the requests in the order they arrived.
    const toldPlace = new Set(telegram.callsTo('editMessageText').filter((c) => /queued, position \d+/.test(String(c.params['text']))).map((c) => Number(c.chatId)));
    const arrival = new Map(requests.map((r, i) => [r.workflowId, i]));
    const submitted = [...wavespeed.predictions.values()].sort((a, b) => a.submittedAt - b.submittedAt).map((p) => arrival.get(decodeURIComponent(p.webhookUrl?.split('/').at(-1)?.split('?')[0] ?? '')) ?? -1);
    const outOfOrder = submitted.filter((a, i) => i > 0 && a < submitted[i - 1]! - s.cap).length;
    const inFlight = peakOverlap(requests.map((r) => ({ start: r.postedAt!, end: r.finishedAt })));

    console.log('');
    console.log(table(['outcome', 'requests'], [...byReason.entries()].map(([k, v]) => [k, String(v)])));
    console.log('');
    console.log(
      table(
        ['figure', 'value'],
        [
          ['delivered (video) / told busy or dropped', `${delivered.length} / ${s.users - delivered.length}`],
          ['users with two videos', String(doubled)],
          ['predictions submitted / peak unfinished', `${wavespeed.stats.submitted} / ${wavespeed.stats.maxUnfinishedSeen}`],
          ['peak requests in flight', String(inFlight)],
          ['first post → last video', `${((lastVideo - startedAt) / 1000).toFixed(1)} s (ideal ${ideal} s for ${delivered.length} videos at cap ${s.cap})`],
          ['request → video p50 / p99 / max', `${ms(waits.p50)} / ${ms(waits.p99)} / ${ms(waits.max)}`],
          ['prediction finished → video p50 / p99 / max', `${ms(toVideo.p50)} / ${ms(toVideo.p99)} / ${ms(toVideo.max)}`],
          [
            'worker RSS: most while running (idle at start; peak with start-up)',
            workers.map((w, i) => `#${i + 1} ${rssSamples[i]!.toFixed(0)} MB (${idleRss[i]!.toFixed(0)} MB; ${peakRssMb(w.child.pid).toFixed(0)} MB)`).join(', '),
          ],
          ['activities that waited out of their slot (edits), by worker', outOfSlot.map((n, i) => `#${i + 1} ${n ?? 'gone'}`).join(', ')],
          [
            'database statements, waited for a connection: mean / over 10 ms / over 100 ms, by worker',
            poolWait.map((p, i) => `#${i + 1} ${p ? `${p.count} statements, ${ms(p.meanMs)} / ${pct(p.over(0.01))} / ${pct(p.over(0.1))}` : 'gone'}`).join(', '),
          ],
          ['told their place in line', String(toldPlace.size)],
          ['submissions more than a cap out of arrival order', String(outOfOrder)],
          ['Telegram 429s', String(telegram.stats.rateLimited)],
          ['gateway acks non-2xx', String(requests.filter((r) => r.ackStatus !== 200).length)],
          ['run time', `${tookS.toFixed(0)} s`],
        ],
      ),
    );

    const calls = telegram.calls;
    const span = (Math.max(...calls.map((c) => c.at)) - Math.min(...calls.map((c) => c.at))) / 1000;
    const methods = [...new Set(calls.map((c) => c.method))].sort();
    console.log('\nBot API calls (whole run):');
    console.log(
      table(
        ['method', 'calls', 'per request', 'mean /s', 'peak 1 s', '429s'],
        methods.map((m) => {
          const of = calls.filter((c) => c.method === m);
          return [m, String(of.length), (of.length / s.users).toFixed(2), (of.length / span).toFixed(1), String(peakWindow(of.map((c) => c.at))), String(of.filter((c) => c.errorCode === 429).length)];
        }),
      ),
    );
    const messages = calls.filter((c) => c.ok && /^send/.test(c.method) && c.method !== 'sendChatAction').map((c) => c.at);
    console.log(`messages (send*, not chat actions): peak ${peakWindow(messages)} in any 1 s`);

    // Cost of one request: a sample of histories.
    const sample = delivered.filter((_, i) => i % Math.max(1, Math.floor(delivered.length / 100)) === 0).slice(0, 100);
    const activities = new Map<string, number>();
    let events = 0;
    let tasks = 0;
    /** Workflow tasks that waited past the sticky queue's schedule-to-start timeout: each one replays its history. */
    let stickyTimeouts = 0;
    /** Prediction finished → video, step by step, for the sampled requests whose result came by webhook. */
    const resultPath = new Map<string, number[]>(RESULT_PATH_STEPS.map((step) => [step, []]));
    for (const r of sample) {
      const history = (await client.workflow.getHandle(r.workflowId).fetchHistory()).events ?? [];
      events += history.length;
      const finished = finishedOf.get(r.workflowId);
      const split = finished === undefined ? undefined : resultPathSteps(history, finished, videoAt.get(r.chatId)![0]!);
      if (split) for (const [step, value] of Object.entries(split)) resultPath.get(step)!.push(value);
      for (const e of history) {
        const remote = e.activityTaskScheduledEventAttributes?.activityType?.name;
        const local = localActivityType(e);
        const type = remote ?? (local ? `${local} (local)` : undefined);
        if (type) activities.set(type, (activities.get(type) ?? 0) + 1);
        if (e.workflowTaskCompletedEventAttributes) tasks += 1;
        if (e.workflowTaskTimedOutEventAttributes) stickyTimeouts += 1;
      }
    }
    const per = (n: number) => (sample.length ? (n / sample.length).toFixed(2) : '–');
    console.log(`\nOne delivered request (mean of ${sample.length} histories): ${per(events)} history events, ${per(tasks)} workflow tasks, ${per([...activities.values()].reduce((a, b) => a + b, 0))} activities:`);
    console.log(table(['activity', 'per request'], [...activities.entries()].sort().map(([k, v]) => [k, per(v)])));
    console.log(`\nPrediction finished → video, by step (${resultPath.get(RESULT_PATH_STEPS[0])!.length} of the sampled requests, result by webhook):`);
    console.log(table(['step', 'p50', 'p90', 'max'], RESULT_PATH_STEPS.map((step) => {
      const st = summarize(resultPath.get(step)!);
      return [step, ms(st.p50), ms(st.p90), ms(st.max)];
    })));
    console.log(`workflow tasks timed out (schedule-to-start on the sticky queue, or start-to-close; each replays the history on its next task): ${per(stickyTimeouts)} per request`);

    let admissionEvents = 0;
    let admissionRuns = 0;
    let longestRun = 0;
    for await (const wf of client.workflow.list({ query: `WorkflowType = '${WORKFLOW_TYPE.admission}'` })) {
      const length = (await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events?.length ?? 0;
      admissionRuns += 1;
      admissionEvents += length;
      longestRun = Math.max(longestRun, length);
    }
    console.log(`admission workflows (${admissionShards(s.cap)} shard(s)): ${admissionRuns} runs, ${admissionEvents} events in all (${(admissionEvents / s.users).toFixed(1)} per request), longest run ${longestRun} events`);
    console.log(`CPU (% of one core): ${formatCpu(cpu)}`);
  } finally {
    await cleanup.run();
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  for (const s of scenarios()) await run(s);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
