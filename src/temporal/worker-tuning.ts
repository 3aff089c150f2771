import type { WorkerOptions } from '@temporalio/worker';

/**
 * Worker settings every Telewan worker uses (tests included).
 *
 * `keepChatAction` learns it was cancelled only when a heartbeat reaches the
 * server, and heartbeats are throttled to 80% of the heartbeat timeout by
 * default (16 s here): the user would keep seeing "sending video…" that long
 * after the video arrived. Capping the throttle at 2 s bounds that.
 */
export const workerTuning = {
  maxHeartbeatThrottleInterval: '2s',
} satisfies Partial<WorkerOptions>;
