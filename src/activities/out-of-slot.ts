import { CompleteAsyncError, Context } from '@temporalio/activity';
import type { WorkerMetrics } from '../observability/metrics.js';
import { toApplicationFailure } from './failure.js';

/** Where an activity that gave its slot back reports its end: Temporal's client, or a test's stand-in. */
export interface ActivityCompleter {
  complete(taskToken: Uint8Array, result: unknown): Promise<void>;
  fail(taskToken: Uint8Array, err: unknown): Promise<void>;
}

const HELD = Symbol('held');

/**
 * Runs `work` for the current activity, holding the activity's worker slot for at
 * most `holdMs`. Work still unfinished by then (a call waiting for its place in
 * the Telegram budget behind higher-priority calls) gives the slot back: the
 * activity completes asynchronously (`CompleteAsyncError`), and when `work`
 * settles its result or its failure (mapped as at the activity boundary, so a
 * busy budget's retry delay still applies) is reported through `completer`
 * (asked for only then).
 *
 * Waiting is then free for the worker: a hundred edits waiting their turn no
 * longer keep a video from its slot. What it costs: nothing more on the server
 * (the completion is the same one RPC, made by the client instead of the worker),
 * and the activity's cancellation no longer reaches `work`, so only idempotent
 * work belongs here (an edit: repeated, it is "not modified"). A worker that dies
 * with work out of its slot leaves it to the activity's start-to-close timeout
 * and a retry, as it would have had it died holding the slot.
 */
export async function withinSlot<T>(
  work: Promise<T>,
  options: { completer: () => ActivityCompleter; holdMs: number; metrics?: Pick<WorkerMetrics, 'activitiesOutOfSlot'> },
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const held = new Promise<typeof HELD>((resolve) => {
    timer = setTimeout(() => resolve(HELD), options.holdMs);
  });
  const first = await Promise.race([work, held]).finally(() => clearTimeout(timer));
  if (first !== HELD) return first as T;
  const { info, log } = Context.current();
  const { taskToken, activityType } = info;
  options.metrics?.activitiesOutOfSlot.inc({ activity: activityType });
  work
    .then(
      (result) => options.completer().complete(taskToken, result),
      (err: unknown) => options.completer().fail(taskToken, toApplicationFailure(err)),
    )
    // The activity timed out or its workflow ended meanwhile: its timeout and retry policy take over.
    .catch((err: unknown) => log.warn('Could not report an activity finished out of its slot', { activityType, error: String(err) }));
  throw new CompleteAsyncError();
}
