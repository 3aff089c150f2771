/**
 * Memory per cached imageToVideo workflow, in minutes rather than the
 * in-flight benchmark's quarter of an hour: a Temporal dev server, one worker
 * process with the production workflow bundle and stub activities
 * (bench/lib/workflow-memory-worker.ts), and N requests that each run the
 * production path (admission, result-cache claim, progress message, photo,
 * WaveSpeed permit, submission) and then wait for WaveSpeed's result (a 15-min
 * poll timer), held in the workflow cache. After every `--step` requests the
 * worker's RSS and heaps are sampled, before and after a full GC.
 *
 *   npx tsx bench/workflow-memory.ts [--n 1500] [--step 500] [--options '{"reuseV8Context":false}']
 *       [--thread-options '{"resourceLimits":{"maxOldGenerationSizeMb":256}}'] [--node-flags '--max-old-space-size=256']
 *       [--env 'MALLOC_ARENA_MAX=2'] [--max-cached 4000] [--no-broadcast]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { TASK_QUEUES, WORKFLOW_TYPE } from '../src/constants.js';
import { WORKER_NODE_FLAGS } from '../src/temporal/worker/worker-tuning.js';
import { TelewanChatId, TelewanKind } from '../src/temporal/search-attributes.js';
import { videoSummary } from '../src/temporal/client/summaries.js';
import { videoWorkflowId } from '../src/workflows/ids.js';
import type { VideoRequest } from '../src/workflows/video/messages.js';
import { BENCH_PAYLOAD_KEYS, benchDataConverter, Cleanup, startTemporal } from './lib/infra.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1500' },
    step: { type: 'string', default: '500' },
    options: { type: 'string', default: '{}' },
    'thread-options': { type: 'string', default: '{}' },
    'node-flags': { type: 'string', default: '' },
    env: { type: 'string', default: '' },
    'max-cached': { type: 'string', default: '4000' },
    'no-broadcast': { type: 'boolean', default: false },
    label: { type: 'string', default: '' },
    snapshot: { type: 'string' },
  },
  strict: true,
});
const N = Number(values.n);
const STEP = Number(values.step);
const MB = 2 ** 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface HeapStats {
  used_heap_size: number;
  total_heap_size: number;
  external_memory: number;
  malloced_memory: number;
}
interface Sample {
  memory: NodeJS.MemoryUsage;
  main: HeapStats;
  heaps: Array<{ threadId: number; before: HeapStats; after: HeapStats; spaces: Record<string, number> }>;
  submitted: number;
}

const cleanup = new Cleanup();
try {
  const temporal = await startTemporal(cleanup);
  const extraEnv = Object.fromEntries(values.env.split(/\s+/).filter(Boolean).map((kv) => kv.split('=') as [string, string]));
  const entry = fileURLToPath(new URL('./lib/workflow-memory-worker.ts', import.meta.url));
  const flags = [...WORKER_NODE_FLAGS, '--expose-gc', ...values['node-flags'].split(/\s+/).filter(Boolean)];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', entry], {
    env: {
      ...process.env,
      ...extraEnv,
      WM_TEMPORAL: temporal.address,
      WM_PAYLOAD_KEYS: BENCH_PAYLOAD_KEYS,
      WM_OPTIONS: values.options,
      WM_THREAD_OPTIONS: values['thread-options'],
      WM_MAX_CACHED: values['max-cached'],
      WM_NO_BROADCAST: values['no-broadcast'] ? '1' : '0',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  cleanup.add('worker', async () => {
    if (child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  });
  const messages: Array<(m: { type: string }) => void> = [];
  child.on('message', (m: { type: string }) => messages.shift()?.(m));
  const next = () => new Promise<{ type: string } & Partial<Sample>>((resolve) => messages.push(resolve as never));
  child.once('exit', (code) => {
    console.error(`worker exited with ${code}`);
    void cleanup.run().finally(() => process.exit(1));
  });
  await next();
  const sample = async (gc: boolean): Promise<Sample> => {
    const answer = next();
    child.send({ type: 'sample', gc });
    return (await answer) as unknown as Sample;
  };

  const client = new Client({ connection: await Connection.connect({ address: temporal.address }), dataConverter: benchDataConverter() });
  const start = async (i: number) => {
    const chatId = 5_000_000 + i;
    const req: VideoRequest = {
      user: { userId: chatId, chatId, firstName: `User ${i}`, username: `user${i}`, languageCode: 'en' },
      messageId: 1,
      fileId: `AgACAgIAAxkBAAI${i}${'q'.repeat(40)}`,
      prompt: `A slow pan across the photo, golden hour light, cinematic, request ${i}`,
      model: 'wavespeed-ai/wan-2.2/i2v-480p',
      deadlineMs: 60 * 60 * 1000,
      polling: { initialMs: 900_000, maxMs: 900_000 },
    };
    await client.workflow.start(WORKFLOW_TYPE.video, {
      taskQueue: TASK_QUEUES.media,
      workflowId: videoWorkflowId(chatId, 1),
      args: [req],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        { key: TelewanKind, value: 'video' },
        { key: TelewanChatId, value: chatId },
      ],
      staticSummary: videoSummary(chatId, req.prompt),
    });
  };

  const rows: string[] = [];
  let first: { rss: number; thread: number; threadGc: number; main: number } | undefined;
  const record = async (n: number) => {
    // Let the last workflow tasks and any lazy work settle.
    await sleep(3000);
    const plain = await sample(false);
    const gc = await sample(true);
    const thread = plain.heaps.reduce((s, h) => s + h.before.used_heap_size, 0) / MB;
    const threadTotal = plain.heaps.reduce((s, h) => s + h.before.total_heap_size, 0) / MB;
    const threadGc = gc.heaps.reduce((s, h) => s + h.after.used_heap_size, 0) / MB;
    const threadGcTotal = gc.heaps.reduce((s, h) => s + h.after.total_heap_size, 0) / MB;
    const rss = plain.memory.rss / MB;
    const rssGc = gc.memory.rss / MB;
    const main = plain.main.used_heap_size / MB;
    const mainGc = gc.main.used_heap_size / MB;
    const native = rss - threadTotal - plain.main.total_heap_size / MB;
    const ext = gc.heaps.reduce((s, h) => s + h.after.external_memory + h.after.malloced_memory, 0) / MB;
    first ??= { rss, thread, threadGc, main };
    const per = (x: number, x0: number) => (n > 0 ? (((x - x0) / n) * 1024).toFixed(0) : '-');
    rows.push(
      [
        String(n).padStart(5),
        rss.toFixed(0).padStart(6),
        rssGc.toFixed(0).padStart(7),
        per(rss, first.rss).padStart(7),
        `${thread.toFixed(0)}/${threadTotal.toFixed(0)}`.padStart(9),
        `${threadGc.toFixed(0)}/${threadGcTotal.toFixed(0)}`.padStart(9),
        per(threadGc, first.threadGc).padStart(8),
        `${main.toFixed(0)}→${mainGc.toFixed(0)}`.padStart(9),
        native.toFixed(0).padStart(7),
        ext.toFixed(1).padStart(6),
        JSON.stringify(gc.heaps.map((h) => h.spaces.old_space)).padStart(10),
      ].join('  '),
    );
    console.log(rows.at(-1));
  };

  console.log(`variant: ${values.label || 'baseline'}  options=${values.options} thread=${values['thread-options']} flags=${flags.join(' ')} env=${values.env} cached=${values['max-cached']}`);
  console.log('    N     RSS  RSS·gc  KB/wf  thrd MB   thrd·gc  KB/wf·gc  main MB  native  ext   old_space·gc');
  await record(0);
  let started = 0;
  const t0 = Date.now();
  while (started < N) {
    const target = Math.min(N, started + STEP);
    const ids = Array.from({ length: target - started }, (_, k) => started + k);
    for (let i = 0; i < ids.length; i += 50) await Promise.all(ids.slice(i, i + 50).map(start));
    started = target;
    // Every request submitted: each one now waits for WaveSpeed.
    for (;;) {
      const s = await sample(false);
      if (s.submitted >= started) break;
      await sleep(1000);
    }
    await record(started);
  }
  console.log(`(${((Date.now() - t0) / 1000).toFixed(0)} s to start ${N})`);
  if (values.snapshot) {
    const done = next();
    child.send({ type: 'snapshot', file: values.snapshot });
    await done;
    console.log(`heap snapshot of the media workflow thread: ${values.snapshot}`);
  }
} finally {
  await cleanup.run();
}
process.exit(0);
