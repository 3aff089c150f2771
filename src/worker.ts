import { NativeConnection, Worker, bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import { describeBootError, parseConfig, type Config } from './config.js';
import { TASK_QUEUES } from './constants.js';
import { createPrisma } from './db/client.js';
import { TelegramClient } from './integrations/telegram/client.js';
import { WavespeedClient } from './integrations/wavespeed/client.js';
import { workerTuning } from './temporal/worker-tuning.js';
import { workflowsPath } from './temporal/workflows-path.js';

export interface RunningWorker {
  /** One worker per task queue: media (videos, commands) and broadcast (summaries). */
  workers: Worker[];
  /** Resolves when the worker has stopped; rejects if it crashed. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Wires the real clients into the activities and starts a worker on the media
 * task queue. The only place that builds real dependencies for workflows.
 */
export async function startWorker(config: Config, overrides: Partial<WorkerOptions> = {}): Promise<RunningWorker> {
  const prisma = createPrisma(config.DATABASE_URL);
  const activities = createActivities({
    prisma,
    telegram: new TelegramClient({ token: config.TELEGRAM_BOT_TOKEN, apiRoot: config.TELEGRAM_API_ROOT }),
    wavespeed: new WavespeedClient({ apiKey: config.WAVESPEED_API_KEY, apiRoot: config.WAVESPEED_API_ROOT }),
    config: {
      publicUrl: config.PUBLIC_URL,
      broadcast: { ratePerSecond: config.BROADCAST_RATE_PER_SECOND, paid: config.BROADCAST_PAID },
    },
  });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: workflowsPath() });
  const common = { connection, namespace: config.TEMPORAL_NAMESPACE, workflowBundle, activities, ...workerTuning };
  const workers = [
    await Worker.create({ ...common, taskQueue: TASK_QUEUES.media, ...overrides }),
    // Each batch mostly waits for its send slots, so many may run at once.
    await Worker.create({ ...common, taskQueue: TASK_QUEUES.broadcast, maxConcurrentActivityTaskExecutions: 32, ...overrides }),
  ];
  const done = Promise.all(workers.map((w) => w.run()))
    .then(() => undefined)
    .finally(async () => {
      await connection.close();
      await prisma.$disconnect();
    });
  return {
    workers,
    done,
    async shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
    },
  };
}

async function main(): Promise<void> {
  const config = parseConfig();
  const running = await startWorker(config);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void running.shutdown());
  }
  await running.done;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(describeBootError(err));
    process.exit(1);
  });
}
