import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import proto from '@temporalio/proto';
import type { NativeConnection, WorkerDeploymentOptions } from '@temporalio/worker';
import type { WorkflowBundle } from './workflow-bundle.js';

// Node's ESM loader sees only the default export of this CommonJS package.
const { temporal } = proto;
type WorkflowService = NativeConnection['workflowService'];
const { TaskQueueType } = temporal.api.enums.v1;

/**
 * Worker Versioning: every worker registers as one version (`deploymentName`,
 * `buildId`) of a worker deployment. The server sends a new workflow to the
 * deployment's current version; a **pinned** workflow (`imageToVideo`,
 * `botCommand`: minutes long) runs to its end on the build that started it, so
 * its code changes need no `patched()`; an **auto-upgrade** workflow
 * (`wavespeedAdmission`, `distributeSummary`: long-lived, across
 * continue-as-new) moves to the current build at its next workflow task and so
 * still changes through `patched()`. docs/operations.md, "Deploying a new build".
 */
export interface DeploymentSettings {
  /** Off: an unversioned worker, as before (a server without worker deployments). */
  versioning: boolean;
  deploymentName: string;
  /** Unset: derived from the workflow bundle ({@link bundleBuildId}). */
  buildId?: string;
  /**
   * `newest`: once registered, the worker makes its version current unless a
   * version registered after it is current already. `manual`: an operator does
   * (`temporal worker deployment set-current-version`).
   */
  promotion: 'newest' | 'manual';
}

export interface DeploymentVersion {
  deploymentName: string;
  buildId: string;
}

/**
 * The build id of a workflow bundle: `wf-` and 16 hex digits of its SHA-256.
 * Workers running the same workflow code are the same build (the bundle is
 * reproducible: same sources, same bytes), and a change to any workflow module
 * is a new build, so a pinned workflow can never meet code it did not start on.
 */
export async function bundleBuildId(bundle: WorkflowBundle): Promise<string> {
  const code = 'code' in bundle ? bundle.code : await readFile(bundle.codePath, 'utf8');
  return `wf-${createHash('sha256').update(code).digest('hex').slice(0, 16)}`;
}

/** The worker option for a version, or none for an unversioned worker. Short workflows default to pinned; each workflow also says its own behaviour. */
export function workerDeploymentOptions(version: DeploymentVersion | undefined): { workerDeploymentOptions?: WorkerDeploymentOptions } {
  if (!version) return {};
  return { workerDeploymentOptions: { useWorkerVersioning: true, version, defaultVersioningBehavior: 'PINNED' } };
}

/** A task queue this worker polls, and for what. */
export interface PolledQueue {
  name: string;
  workflows: boolean;
  activities: boolean;
}

/** `failed`: the server refused to make it current (logged through `onPromotionFailed`); the worker still serves what is pinned to it. */
export type PromotionResult = 'made-current' | 'already-current' | 'newer-is-current' | 'manual' | 'failed';

export class DeploymentVersionNotRegisteredError extends Error {
  constructor(version: DeploymentVersion, missing: string[], waitedMs: number) {
    super(`Worker deployment version ${version.deploymentName}.${version.buildId} did not register ${missing.join(', ')} within ${waitedMs} ms`);
    this.name = 'DeploymentVersionNotRegisteredError';
  }
}

export interface PromotionOptions {
  service: WorkflowService;
  namespace: string;
  version: DeploymentVersion;
  queues: PolledQueue[];
  promotion: DeploymentSettings['promotion'];
  identity?: string;
  /** How long the worker's polls may take to register the version's task queues. */
  registerTimeoutMs?: number;
  pollEveryMs?: number;
  /** Told why the version could not be made current. */
  onPromotionFailed?: (err: unknown) => void;
}

/**
 * Waits until the server knows this version on every task queue the worker
 * polls, then (with `newest`) makes it the deployment's current version unless
 * a version created after it is current: a worker of an older build that
 * restarts during a roll-out does not take the deployment back. Setting the
 * current version before every queue registered would leave the missing
 * queues' tasks with no versioned worker to go to.
 */
export async function promoteWhenRegistered(options: PromotionOptions): Promise<PromotionResult> {
  await waitUntilRegistered(options);
  if (options.promotion === 'manual') return 'manual';
  try {
    return await makeCurrent(options);
  } catch (err) {
    // A refused promotion must not stop a worker that can serve its pinned workflows (and restart it in a loop).
    options.onPromotionFailed?.(err);
    return 'failed';
  }
}

async function makeCurrent(options: PromotionOptions): Promise<PromotionResult> {
  const { service, namespace, version } = options;
  for (let attempt = 0; ; attempt++) {
    const { workerDeploymentInfo, conflictToken } = await service.describeWorkerDeployment({ namespace, deploymentName: version.deploymentName });
    const current = workerDeploymentInfo?.routingConfig?.currentDeploymentVersion;
    if (current?.buildId === version.buildId) return 'already-current';
    const created = (buildId: string | null | undefined): number => {
      const summary = workerDeploymentInfo?.versionSummaries?.find((s) => s.deploymentVersion?.buildId === buildId);
      return Number(summary?.createTime?.seconds ?? 0) * 1000 + Math.floor((summary?.createTime?.nanos ?? 0) / 1e6);
    };
    if (current?.buildId && created(current.buildId) > created(version.buildId)) return 'newer-is-current';
    try {
      await service.setWorkerDeploymentCurrentVersion({
        namespace,
        deploymentName: version.deploymentName,
        buildId: version.buildId,
        conflictToken,
        identity: options.identity,
      });
      return 'made-current';
    } catch (err) {
      // Another worker changed the deployment since the describe: look again, after a pause.
      if (attempt < 5 && isConflict(err)) {
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
        continue;
      }
      throw err;
    }
  }
}

async function waitUntilRegistered(options: PromotionOptions): Promise<void> {
  const { service, namespace, version, queues } = options;
  const timeoutMs = options.registerTimeoutMs ?? 60_000;
  const wanted = queues.flatMap((q) => [
    ...(q.workflows ? [`${q.name}:${TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW}`] : []),
    ...(q.activities ? [`${q.name}:${TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY}`] : []),
  ]);
  const started = Date.now();
  let missing = wanted;
  for (;;) {
    try {
      const { workerDeploymentVersionInfo } = await service.describeWorkerDeploymentVersion({ namespace, deploymentVersion: version });
      const known = new Set((workerDeploymentVersionInfo?.taskQueueInfos ?? []).map((t) => `${t.name}:${t.type}`));
      missing = wanted.filter((w) => !known.has(w));
      if (missing.length === 0) return;
    } catch (err) {
      // Not found until the first poll of this version reached the server.
      if (!isNotFound(err)) throw err;
    }
    if (Date.now() - started > timeoutMs) throw new DeploymentVersionNotRegisteredError(version, missing, timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, options.pollEveryMs ?? 200));
  }
}

function grpcCode(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number' ? err.code : undefined;
}

/** NOT_FOUND */
function isNotFound(err: unknown): boolean {
  return grpcCode(err) === 5;
}

/** FAILED_PRECONDITION or ABORTED: the conflict token no longer matches. */
function isConflict(err: unknown): boolean {
  const code = grpcCode(err);
  return code === 9 || code === 10;
}
