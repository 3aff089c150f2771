import proto from '@temporalio/proto';

// Node's ESM loader sees only the default export of this CommonJS package.
const { temporal } = proto;
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll } from 'vitest';
import { DefaultLogger, Runtime, Worker, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { TASK_QUEUES } from '../../src/constants.js';
import { workerTuning } from '../../src/temporal/worker/worker-tuning.js';
import { testingExecutable } from '../../sandbox/dev/binaries.js';
import { devServerArgs } from '../../sandbox/dev/dev-server-config.js';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes.js';
import { bundleHere } from '../../src/temporal/worker/workflow-bundle.js';
import { testDataConverter } from './encryption.js';

/**
 * The time-skipping test server, from the pinned binary when installed, with
 * Telewan's search attributes registered (it refuses unknown ones, like a real server).
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  routeCoreLogsThroughConsole();
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: testingExecutable('test-server') } });
  const { IndexedValueType } = temporal.api.enums.v1;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      SEARCH_ATTRIBUTES.map((key) => [key.name, key.type === 'INT' ? IndexedValueType.INDEXED_VALUE_TYPE_INT : IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
  return env;
}

/**
 * Core's own log lines (Rust, written straight to standard error unless
 * forwarded) go through the SDK's logger, which writes to `process.stderr`, and so
 * through `console` (test/setup/console-output.ts): shown only for a failing
 * test. The time-skipping server lacks a capability Core warns about on every
 * worker start. Once per process; a runtime made before keeps its own logging.
 */
let coreLogsRouted = false;
function routeCoreLogsThroughConsole(): void {
  if (coreLogsRouted) return;
  coreLogsRouted = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } } } });
  } catch {
    // A runtime exists already.
  }
}

/** A real Temporal dev server (the CLI), from the pinned binary when installed; its client encrypts with the test key. */
export function createLocalEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: { executable: testingExecutable('cli'), extraArgs: devServerArgs() },
    client: { dataConverter: testDataConverter() },
  });
}

/** Bundles Telewan's workflows once per test file. */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  // As the worker bundles them (shared modules included).
  return bundleHere({ log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never) as Promise<WorkflowBundleWithSourceMap>;
}

/**
 * A worker for a test's own task queue together with one on Telewan's transfer
 * queue (the slow activities: photo and video transfers) and one on its
 * admission queue (the WaveSpeed cap's workflow, with the same workflows), all
 * with the same activities, as `src/worker.ts` runs them. `runUntil` runs them
 * until `fn` ends.
 */
export async function createTestWorkers(options: WorkerOptions): Promise<{ runUntil<T>(fn: () => Promise<T>): Promise<T>; run(): Promise<void>; shutdown(): void }> {
  const main = await Worker.create(options);
  const shared = { connection: options.connection, namespace: options.namespace, activities: options.activities, ...workerTuning };
  const transfer = await Worker.create({ ...shared, taskQueue: TASK_QUEUES.transfer });
  const { workflowBundle, workflowsPath, dataConverter } = options;
  const admission = await Worker.create({ ...shared, workflowBundle, workflowsPath, dataConverter, taskQueue: TASK_QUEUES.admission });
  const workers = [main, transfer, admission];
  return {
    runUntil: (fn) => main.runUntil(() => transfer.runUntil(() => admission.runUntil(fn))),
    run: async () => {
      await Promise.all(workers.map((w) => w.run()));
    },
    shutdown() {
      for (const w of workers) w.shutdown();
    },
  };
}

/** A test file's time-skipping server and workflow bundle: started before its tests, torn down after them. */
export interface WorkflowTestEnvironment {
  env: TestWorkflowEnvironment;
  bundle: WorkflowBundleWithSourceMap;
}

/** Registers the file's `beforeAll` and `afterAll` for a {@link WorkflowTestEnvironment}; its fields are set once `beforeAll` ran. */
export function useWorkflowEnvironment(): WorkflowTestEnvironment {
  const t = {} as WorkflowTestEnvironment;
  beforeAll(async () => {
    [t.env, t.bundle] = await Promise.all([createTimeSkippingEnv(), bundleWorkflows()]);
  });
  afterAll(async () => {
    await t.env?.teardown();
  });
  return t;
}
