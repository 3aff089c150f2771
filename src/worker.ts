import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { configureImageDecoder } from './activities/images.js';
import { createActivities } from './activities/index.js';
import { describeBootError, parseConfig, type Config } from './config.js';
import { TASK_QUEUES, WAVESPEED_LINE_DEFAULTS } from './constants.js';
import { createPrisma, poolStats } from './db/client.js';
import { budgetKey, TelegramBudget } from './integrations/telegram/budget.js';
import { TelegramClient } from './integrations/telegram/client.js';
import { WavespeedClient } from './integrations/wavespeed/client.js';
import { createLogger, secretsOf, type Logger } from './observability/logger.js';
import { createWorkerMetrics, type WorkerMetrics } from './observability/metrics.js';
import { startMetricsServer } from './observability/metrics-server.js';
import { installTemporalRuntime, PinoTemporalLogger } from './observability/temporal-runtime.js';
import { requireSearchAttributes } from './temporal/worker/require-search-attributes.js';
import { encryptedDataConverter } from './temporal/encryption.js';
import { limitWorkflowThreadYoungGeneration, queueTuning, workerTuning } from './temporal/worker/worker-tuning.js';
import { buildWorkflowBundle } from './temporal/worker/workflow-bundle.js';
import { bundleBuildId, promoteWhenRegistered, workerDeploymentOptions, type DeploymentVersion, type PromotionResult } from './temporal/worker/deployment.js';

export interface RunningWorker {
  /** One worker per task queue: media (videos, commands), transfer (their slow activities), broadcast (summaries) and admission (the WaveSpeed cap's line). */
  workers: Worker[];
  /** Resolves when the worker has stopped; rejects if it crashed. */
  done: Promise<void>;
  shutdown(): Promise<void>;
  /** Where this worker serves `GET /metrics`. */
  metricsUrl: string;
  metrics: WorkerMetrics;
  /** The worker deployment version this worker registered as, unless `WORKER_VERSIONING=off`. */
  version?: DeploymentVersion;
  /** What the worker did about the deployment's current version at start. */
  promotion?: PromotionResult;
}

export interface WorkerServices {
  /** Where the worker and Temporal's runtime log; by default a {@link createLogger} logger on standard output. */
  logger?: Logger;
}

/**
 * Wires the real clients into the activities and starts a worker on the media
 * task queue. The only place that builds real dependencies for workflows.
 */
export async function startWorker(config: Config, overrides: Partial<WorkerOptions> = {}, services: WorkerServices = {}): Promise<RunningWorker> {
  const logger = services.logger ?? createLogger({ level: config.LOG_LEVEL, secrets: secretsOf(config), base: { service: 'worker' } });
  // Before anything touches Temporal's runtime: its logs and metrics are set once per process.
  const telemetry = await installTemporalRuntime(logger);
  const releaseLogger = telemetry.useLogger(logger);
  const metrics = createWorkerMetrics({ processMetrics: true });
  const metricsServer = await startMetricsServer({
    host: config.WORKER_METRICS_HOST,
    port: config.WORKER_METRICS_PORT,
    registry: metrics.registry,
    sdkMetricsUrl: telemetry.sdkMetricsUrl,
    logger,
  });
  logger.info({ metricsUrl: metricsServer.url, sdkMetrics: telemetry.sdkMetricsUrl !== undefined }, 'Worker metrics served');
  configureImageDecoder();
  const prisma = createPrisma(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE, onPoolWait: (s) => metrics.databasePoolWait.observe(s) });
  metrics.watchDatabasePool(() => poolStats(prisma));
  // Lazy: connects on the first admission call, and a failed start has nothing to close but this.
  const clientConnection = Connection.lazy({ address: config.TEMPORAL_ADDRESS });
  const dataConverter = encryptedDataConverter(config.PAYLOAD_ENCRYPTION_KEYS);
  // Every Bot API call of every worker takes its slot from this one budget, in the database.
  const budget = new TelegramBudget({
    prisma,
    key: budgetKey(config.TELEGRAM_BOT_TOKEN),
    ratePerSecond: config.TELEGRAM_RATE_PER_SECOND,
    broadcastRatePerSecond: config.BROADCAST_RATE_PER_SECOND,
    paidRatePerSecond: config.BROADCAST_PAID ? config.BROADCAST_RATE_PER_SECOND : undefined,
    metrics,
  });
  const telegram = new TelegramClient({
    token: config.TELEGRAM_BOT_TOKEN,
    apiRoot: config.TELEGRAM_API_ROOT,
    mediaTimeoutSeconds: config.TELEGRAM_MEDIA_TIMEOUT_SECONDS,
    sendTimeoutSeconds: config.TELEGRAM_SEND_TIMEOUT_SECONDS,
    metrics,
    budget,
  });
  // While the workflows bundle; a worker starts whether Telegram answers or not.
  void telegram.warmUp().catch((err: unknown) => logger.warn({ err }, 'Telegram or the database did not answer at start: the first calls will be slower'));
  const activities = createActivities({
    prisma,
    telegram,
    wavespeed: new WavespeedClient({ apiKey: config.WAVESPEED_API_KEY, apiRoot: config.WAVESPEED_API_ROOT }),
    metrics,
    temporal: new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE, dataConverter }),
    config: {
      publicUrl: config.PUBLIC_URL,
      limits: {
        maxActive: config.USER_MAX_ACTIVE_GENERATIONS,
        excessPolicy: config.USER_EXCESS_POLICY,
        dailyQuota: config.USER_DAILY_QUOTA,
        adminChatIds: config.ADMIN_CHAT_IDS,
      },
      prices: config.WAVESPEED_PRICES,
      defaultModel: config.WAVESPEED_MODEL,
      video: { deadlineMs: config.VIDEO_DEADLINE_MS, polling: { initialMs: config.VIDEO_POLL_INITIAL_MS, maxMs: config.VIDEO_POLL_MAX_MS } },
      wavespeedMaxConcurrency: config.WAVESPEED_MAX_CONCURRENCY,
      admissionShardSlots: config.WAVESPEED_ADMISSION_SHARD_SLOTS,
      wavespeedLine: { maxQueued: config.WAVESPEED_QUEUE_MAX, maxWaitMs: config.WAVESPEED_QUEUE_MAX_WAIT_MS, placeEveryMs: WAVESPEED_LINE_DEFAULTS.placeEveryMs },
    },
  });
  const release = async () => {
    await metricsServer.close();
    await clientConnection.close();
    await prisma.$disconnect();
    releaseLogger();
  };
  let connection: NativeConnection | undefined;
  let removeBundle: () => Promise<void> = async () => undefined;
  let workers: Worker[] = [];
  let runs: Array<Promise<void>> = [];
  let running: Promise<unknown> | undefined;
  let deployment: DeploymentVersion | undefined;
  let promotion: PromotionResult | undefined;
  try {
    connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
    await requireSearchAttributes(connection.operatorService, config.TEMPORAL_NAMESPACE);
    // Built in a child process: webpack's memory never stays in the worker's RSS.
    const built = await buildWorkflowBundle(new PinoTemporalLogger(() => logger));
    removeBundle = built.cleanup;
    const workflowBundle = built.bundle;
    // Before Worker.create makes the workflow threads.
    limitWorkflowThreadYoungGeneration();
    const version: DeploymentVersion | undefined =
      config.WORKER_VERSIONING === 'on'
        ? { deploymentName: config.WORKER_DEPLOYMENT_NAME, buildId: config.WORKER_BUILD_ID ?? (await bundleBuildId(workflowBundle)) }
        : undefined;
    const common = { connection, namespace: config.TEMPORAL_NAMESPACE, activities, dataConverter, ...workerTuning, ...workerDeploymentOptions(version) };
    const tuning = queueTuning({
      mediaActivities: config.WORKER_MEDIA_ACTIVITY_SLOTS,
      transferActivities: config.WORKER_TRANSFER_ACTIVITY_SLOTS,
      broadcastActivities: config.WORKER_BROADCAST_ACTIVITY_SLOTS,
      workflowTasks: config.WORKER_WORKFLOW_TASK_SLOTS,
      cachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    });
    const queues = [
      { name: TASK_QUEUES.media, workflows: true },
      { name: TASK_QUEUES.transfer, workflows: false },
      { name: TASK_QUEUES.broadcast, workflows: true },
      { name: TASK_QUEUES.admission, workflows: true },
    ] as const;
    workers = [];
    for (const queue of queues) {
      workers.push(
        await Worker.create({ ...common, ...(queue.workflows ? { workflowBundle } : {}), taskQueue: queue.name, ...tuning[queue.name], ...overrides }),
      );
    }
    // One worker failing stops the others: the connection closes only once none runs.
    runs = workers.map((w) =>
      w.run().catch((err: unknown) => {
        for (const other of workers) if (other.getState() === 'RUNNING') other.shutdown();
        throw err;
      }),
    );
    running = Promise.all(runs);
    if (version) {
      logger.info({ deployment: version.deploymentName, buildId: version.buildId }, 'Worker registering as a deployment version');
      const promoting = promoteWhenRegistered({
        service: connection.workflowService,
        namespace: config.TEMPORAL_NAMESPACE,
        version,
        queues: queues.map((q) => ({ name: q.name, workflows: q.workflows, activities: true })),
        promotion: config.WORKER_PROMOTION,
        onPromotionFailed: (err) =>
          logger.error({ err, buildId: version.buildId }, 'Could not make this build current: it serves the workflows pinned to it; new ones go to the current build'),
      });
      // A worker that stops while registering fails its start rather than waiting for the timeout.
      const stopped = running.then(() => Promise.reject(new Error('the worker stopped before its version registered')));
      // Whichever loses the race is settled later with nobody waiting for it.
      for (const p of [promoting, stopped]) p.catch(() => undefined);
      promotion = await Promise.race([promoting, stopped]);
      logger.info({ deployment: version.deploymentName, buildId: version.buildId, promotion }, 'Worker deployment version registered');
    }
    deployment = version;
  } catch (err) {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(runs);
    // Each step on its own, so the error the start failed with is the one the caller hears.
    const opened = connection;
    await cleanUp([() => opened?.close(), removeBundle, release], logger);
    throw err;
  }
  const open = connection;
  const done = Promise.allSettled(runs).then(async (results) => {
    await cleanUp([() => open.close(), removeBundle, release], logger);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  });
  return {
    workers,
    done,
    metricsUrl: metricsServer.url,
    metrics,
    version: deployment,
    promotion,
    async shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
    },
  };
}

/** Runs every step, logging (not throwing) a step that fails. */
async function cleanUp(steps: Array<() => Promise<unknown> | undefined>, logger: Logger): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      logger.warn({ err }, 'A step of the worker\'s clean-up failed');
    }
  }
}

async function main(): Promise<void> {
  const config = parseConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, secrets: secretsOf(config), base: { service: 'worker' } });
  // Nothing in the worker leaves a rejection unhandled on purpose: one is a bug, and the
  // process stops as Node's default would, but through the logger, which scrubs secrets
  // (Node would print the error as it is, a Bot API URL with the token included).
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'Unhandled promise rejection: the worker stops');
    process.exit(1);
  });
  try {
    const running = await startWorker(config, {}, { logger });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => void running.shutdown());
    }
    await running.done;
  } catch (err) {
    // Through the logger, so a secret in the error is scrubbed.
    logger.fatal({ err }, 'Worker stopped by an error');
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(describeBootError(err));
    process.exit(1);
  });
}
