import { setFlagsFromString } from 'node:v8';
import type { WorkerOptions } from '@temporalio/worker';
import { TASK_QUEUES, type TaskQueue } from '../../constants.js';

/**
 * Worker settings every Telewan worker uses (tests included).
 *
 * Heartbeats are throttled to 80% of the heartbeat timeout by default; capping
 * the throttle at 2 s lets a cancelled or timed-out broadcast batch learn of it
 * quickly, so a zombie attempt never sends beside its retry for long.
 */
export const workerTuning = {
  maxHeartbeatThrottleInterval: '2s',
} satisfies Partial<WorkerOptions>;

/**
 * V8's young generation, per isolate, in MB: the worker's main thread and each
 * workflow thread. On a machine with a lot of memory V8 sizes it at 64 MB a
 * semi-space (128 MB a thread, resident once touched), which the worker's
 * short-lived objects (payloads, activations) fill between collections: 16 MB,
 * V8's size for smaller machines, keeps collections short and that memory out of
 * the worker's RSS.
 */
export const WORKER_SEMI_SPACE_MB = 16;
/** The flag that sets it, for a worker process's command line (its main thread). */
export const WORKER_NODE_FLAGS = [`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`] as const;

/**
 * Where the production image puts jemalloc, which its worker process runs on
 * (`LD_PRELOAD`, docker-compose.yml; the Dockerfile installs Debian's
 * libjemalloc2 and links it here). glibc's malloc keeps what the worker's
 * threads free in per-thread arenas: at 2,000 requests in flight the worker
 * held ~230 MB more RSS with it (docs/PERFORMANCE.md §5).
 */
export const WORKER_JEMALLOC = '/usr/local/lib/libjemalloc.so.2';

/**
 * Sizes the young generation of the workflow threads a worker creates from now
 * on (V8 reads the flag when an isolate is made; the main thread's is set on the
 * command line, {@link WORKER_NODE_FLAGS}).
 */
export function limitWorkflowThreadYoungGeneration(): void {
  for (const flag of WORKER_NODE_FLAGS) setFlagsFromString(flag);
}

/**
 * The admission queue's worker: one workflow for the fleet, run by one worker at
 * a time; a task slot of its own per worker is all it needs, and its few
 * activities (lease checks, the presence beat) a few. Not configurable.
 */
export const ADMISSION_QUEUE_TUNING = {
  maxConcurrentActivityTaskExecutions: 10,
  maxConcurrentWorkflowTaskExecutions: 2,
  maxCachedWorkflows: 2,
} as const satisfies Partial<WorkerOptions>;

/** How many of each kind of slot one worker process has (the `WORKER_*` settings). */
export interface WorkerSlots {
  mediaActivities: number;
  transferActivities: number;
  broadcastActivities: number;
  workflowTasks: number;
  cachedWorkflows: number;
}

/**
 * The explicit size of each of a worker process's task-queue workers.
 *
 * - **media**: every workflow of a video or command, and their quick
 *   activities (database writes, Telegram messages, each one call). No activity
 *   on it waits for anything but its call: a request waiting in line or for
 *   WaveSpeed is workflow state and holds no slot, so 100 slots serve thousands
 *   of requests in flight. Its workflow cache holds them all
 *   (`cachedWorkflows`), so a signal or timer does not replay a history.
 * - **transfer**: downloading and resizing photos, downloading and uploading
 *   videos: CPU and bandwidth bound, a few at once, apart so a burst of photos
 *   never delays a message or a record.
 * - **broadcast**: summary batches, each about a second of paced sends; no
 *   workflows of its own worth caching (one per summary).
 * - **admission**: the fleet's one `wavespeedAdmission` workflow, which every
 *   request asks for a WaveSpeed permit and which signals every grant. On the
 *   media queue its tasks waited in line behind the videos' own: at 2,000
 *   requests in flight a grant came up to 5.5 minutes after its request, and
 *   the requests behind it piled up (docs/PERFORMANCE.md §5). Its own queue
 *   gives it task slots nobody else takes.
 *
 * Workflow tasks are CPU work on one workflow thread, and since the database
 * writes became local activities (`recording-in-workflow-task`) a task also
 * waits for its writes: 40 slots (the SDK's default) let other tasks run
 * meanwhile. With 10, at 2,000 requests in flight a webhook's workflow task
 * waited 6.7 s (p50) to start while neither the worker nor the server used a
 * whole core (docs/PERFORMANCE.md §5).
 */
export function queueTuning(slots: WorkerSlots): Record<TaskQueue, Partial<WorkerOptions>> {
  return {
    [TASK_QUEUES.media]: {
      maxConcurrentActivityTaskExecutions: slots.mediaActivities,
      maxConcurrentWorkflowTaskExecutions: slots.workflowTasks,
      maxCachedWorkflows: slots.cachedWorkflows,
      // Two workflow threads, not the SDK's one: at 2,000 requests in flight the
      // webhook's workflow task waited 7.5 s p50 for a slot with one, 3.7 s with two
      // (docs/PERFORMANCE.md §5, runs J and K), for 30 MB more RSS.
      workflowThreadPoolSize: 2,
    },
    // Activities only: no workflow runs on it.
    [TASK_QUEUES.transfer]: { maxConcurrentActivityTaskExecutions: slots.transferActivities },
    [TASK_QUEUES.broadcast]: {
      maxConcurrentActivityTaskExecutions: slots.broadcastActivities,
      maxConcurrentWorkflowTaskExecutions: Math.min(2, slots.workflowTasks),
      maxCachedWorkflows: 100,
    },
    [TASK_QUEUES.admission]: ADMISSION_QUEUE_TUNING,
  };
}
