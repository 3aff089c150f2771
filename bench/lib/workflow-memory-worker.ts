/**
 * The worker process of bench/workflow-memory.ts: the production workflow bundle
 * and worker options on the media, transfer and broadcast queues, with stub
 * activities, so every imageToVideo runs the production path up to the wait for
 * WaveSpeed's result and then sits in the workflow cache. Answers memory samples
 * over IPC: its RSS, its main thread's heap and each workflow thread's heap
 * (optionally after a full GC in that thread, which needs --expose-gc).
 *
 * Settings (env, set by bench/workflow-memory.ts): WM_TEMPORAL, WM_PAYLOAD_KEYS;
 * WM_OPTIONS, JSON merged into every Worker.create; WM_THREAD_OPTIONS, JSON
 * merged into the workflow threads' worker_threads options (e.g. resourceLimits);
 * WM_MAX_CACHED; WM_NO_BROADCAST=1 leaves out the broadcast worker;
 * WM_NO_PROMISE_HOOK=1 (read by the thread shim) turns off the SDK's per-promise
 * stack capture, for comparison only.
 */
import { fileURLToPath } from 'node:url';
import workerThreads from 'node:worker_threads';
import { Client, Connection } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { TASK_QUEUES, WORKFLOW_TYPE } from '../../src/constants.js';
import { encryptedDataConverter, parseEncryptionKeys } from '../../src/temporal/encryption.js';
import { ADMISSION_QUEUE_TUNING, limitWorkflowThreadYoungGeneration, workerTuning } from '../../src/temporal/worker/worker-tuning.js';
import { buildWorkflowBundle } from '../../src/temporal/worker/workflow-bundle.js';
import { acquirePermitSignal, releasePermitSignal, type AcquirePermit } from '../../src/workflows/admission/messages.js';
import { ADMISSION_WORKFLOW_ID } from '../../src/workflows/ids.js';

// Every workflow thread the SDK makes from now on runs through the shim.
const shim = fileURLToPath(new URL('./workflow-thread-shim.cjs', import.meta.url));
const OriginalWorker = workerThreads.Worker;
const threads: InstanceType<typeof OriginalWorker>[] = [];
(workerThreads as { Worker: unknown }).Worker = class extends OriginalWorker {
  constructor(filename: string | URL, options: workerThreads.WorkerOptions = {}) {
    const extra = JSON.parse(process.env.WM_THREAD_OPTIONS ?? '{}') as workerThreads.WorkerOptions;
    super(shim, { ...options, ...extra, workerData: { ...(options.workerData ?? {}), __workflowThreadTarget: String(filename) } });
    threads.push(this);
  }
};

const address = process.env.WM_TEMPORAL!;
const dataConverter = encryptedDataConverter(parseEncryptionKeys(process.env.WM_PAYLOAD_KEYS!));
const overrides = JSON.parse(process.env.WM_OPTIONS ?? '{}') as Partial<WorkerOptions>;
Runtime.install({ logger: new DefaultLogger('WARN') });

let submitted = 0;
let seq = 0;
const client = new Client({ connection: await Connection.connect({ address }), dataConverter });
const activities = {
  async admitRequest() {
    return { decision: 'admitted' };
  },
  async fingerprintImage(input: { fileId: string }) {
    return { md5: `md5-${input.fileId}`, bytes: 123_456 };
  },
  async claimResult(input: { imageMd5: string }) {
    return { kind: 'leader', key: `key-${input.imageMd5}` };
  },
  async sendMessage() {
    return { messageId: ++seq };
  },
  async updateProgress() {},
  async prepareImage(input: { fileId: string }) {
    return { imageUrl: `http://127.0.0.1:1/images/${input.fileId}.jpg?sig=${'x'.repeat(64)}`, md5: `md5-${input.fileId}`, bytes: 123_456 };
  },
  async requestPermit(input: { requesterId: string }) {
    const ask: AcquirePermit = { requesterId: input.requesterId, maxConcurrency: 100_000, maxQueued: 100_000 };
    await client.workflow.signalWithStart(WORKFLOW_TYPE.admission, {
      workflowId: ADMISSION_WORKFLOW_ID,
      taskQueue: TASK_QUEUES.admission,
      args: [{ maxConcurrency: 100_000 }],
      signal: acquirePermitSignal,
      signalArgs: [ask],
    });
    return { maxWaitMs: 60 * 60 * 1000, placeEveryMs: 3000 };
  },
  async releasePermit(input: unknown) {
    await client.workflow.getHandle(ADMISSION_WORKFLOW_ID).signal(releasePermitSignal, input as never);
  },
  async submitGeneration() {
    submitted += 1;
    return { predictionId: `pred-${Context.current().info.workflowExecution?.workflowId ?? submitted}` };
  },
  async recordPhase() {},
  async recordOutcome() {},
  async storeResult() {},
  async releaseClaim() {},
  async findClosedWorkflows() {
    return [];
  },
  async findEndedPredictions() {
    return [];
  },
  async showChatActions() {
    await new Promise((r) => setTimeout(r, 2000));
  },
  async recordGenerationPause() {},
  async markUserBlocked() {},
  async sendVideo() {
    return { deliveredBy: 'url' };
  },
  async pollPrediction() {
    return { id: 'x', status: 'processing', outputs: [], nsfw: false };
  },
};
const stubbed = activities;

const built = await buildWorkflowBundle({ log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never);
limitWorkflowThreadYoungGeneration();
const connection = await NativeConnection.connect({ address });
const common = { connection, dataConverter, activities: stubbed, ...workerTuning };
const cached = Number(process.env.WM_MAX_CACHED ?? 4000);
const workers = [
  await Worker.create({
    ...common,
    workflowBundle: built.bundle,
    taskQueue: TASK_QUEUES.media,
    maxConcurrentActivityTaskExecutions: 100,
    maxConcurrentWorkflowTaskExecutions: 10,
    maxCachedWorkflows: cached,
    ...overrides,
  }),
  await Worker.create({ ...common, taskQueue: TASK_QUEUES.transfer, maxConcurrentActivityTaskExecutions: 8, ...overrides }),
  await Worker.create({
    ...common,
    workflowBundle: built.bundle,
    taskQueue: TASK_QUEUES.admission,
    ...ADMISSION_QUEUE_TUNING,
    ...overrides,
  }),
];
if (process.env.WM_NO_BROADCAST !== '1') {
  workers.push(
    await Worker.create({
      ...common,
      workflowBundle: built.bundle,
      taskQueue: TASK_QUEUES.broadcast,
      maxConcurrentActivityTaskExecutions: 4,
      maxConcurrentWorkflowTaskExecutions: 2,
      maxCachedWorkflows: 100,
      ...overrides,
    }),
  );
}
void Promise.all(workers.map((w) => w.run())).then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});

const channel = new workerThreads.BroadcastChannel('telewan-workflow-memory');
let sampleId = 0;
async function sample(gc: boolean) {
  const id = ++sampleId;
  const heaps: unknown[] = [];
  const answered = new Promise<void>((resolve) => {
    const onMessage = ({ data }: { data: { type: string; id: number } }) => {
      if (data.type === 'heap' && data.id === id) heaps.push(data);
      if (heaps.length === threads.length) {
        channel.removeEventListener('message', onMessage as never);
        resolve();
      }
    };
    channel.addEventListener('message', onMessage as never);
  });
  channel.postMessage({ type: 'sample', id, gc });
  await Promise.race([answered, new Promise((r) => setTimeout(r, 30_000))]);
  if (gc) (globalThis as { gc?: () => void }).gc?.();
  return { memory: process.memoryUsage(), main: (await import('node:v8')).getHeapStatistics(), heaps, submitted, threads: threads.length };
}

process.on('message', (msg: { type: string; gc?: boolean }) => {
  if (msg.type === 'sample') void sample(!!msg.gc).then((s) => process.send!({ type: 'sample', ...s }));
  if (msg.type === 'snapshot') {
    // The media worker's workflow thread (the first one made).
    void (async () => {
      const { pipeline } = await import('node:stream/promises');
      const { createWriteStream } = await import('node:fs');
      await pipeline(await threads[0]!.getHeapSnapshot(), createWriteStream((msg as { file?: string }).file!));
      process.send!({ type: 'snapshot' });
    })();
  }
  if (msg.type === 'stop') void Promise.all(workers.map((w) => w.shutdown())).catch(() => process.exit(0));
});
process.send!({ type: 'ready' });
