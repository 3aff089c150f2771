import type { WorkflowHandle } from '@temporalio/client';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
export type HistoryEvent = NonNullable<History['events']>[number];

/** protobuf int64 (a Long or a number) as a number. */
function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(String(value));
}

/** An event's time in epoch milliseconds, with the sub-millisecond part. */
export function eventMs(event: HistoryEvent): number {
  const t = event.eventTime;
  return num(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
}

const id = (event: HistoryEvent): number => num(event.eventId);

/**
 * The steps between WaveSpeed's webhook and the sendVideo call, in the order
 * they happen. Workflows from before the 'send-video-at-once' patch edit the
 * progress message first, which adds the updateProgress steps and a second
 * workflow task.
 */
export const CALLBACK_STEPS = [
  ['webhook POST → signal recorded', 'gateway: HTTP, signature check, parse, SignalWorkflowExecution RPC'],
  ['signal → task scheduled', 'server (waits while a workflow task is already running)'],
  ['task scheduled → started', 'server: transfer queue, matching, the worker\'s poller'],
  ['workflow task', 'worker: activation (signal, condition), completion RPC'],
  ['updateProgress scheduled → started', 'server: matching (0 when eagerly dispatched)'],
  ['updateProgress runs', 'activity: editMessageText "Sending your video…", completion RPC'],
  ['activity done → task 2 scheduled', 'server: history records the completion'],
  ['task 2 scheduled → started', 'server: transfer queue, matching, the worker\'s poller'],
  ['workflow task 2', 'worker: activation, completion RPC'],
  ['sendVideo scheduled → started', 'server: matching (0 when eagerly dispatched)'],
  ['sendVideo started → Telegram call', 'activity: until its Bot API request arrives'],
] as const;

export type CallbackStep = (typeof CALLBACK_STEPS)[number][0];

/** One job's callback path: the step durations, and whether its workflow tasks went to the sticky queue. */
export interface CallbackSplit {
  steps: Partial<Record<CallbackStep, number>>;
  /** Whether the progress message was edited before sending (workflows older than 'send-video-at-once'). */
  editFirst: boolean;
  /** TaskQueueKind of each workflow task on the path: 1 normal, 2 sticky. */
  taskQueueKinds: number[];
}

/**
 * Splits one job's callback path into {@link CALLBACK_STEPS}, in milliseconds,
 * from its history and the two outside timestamps. Undefined when the history
 * does not have either shape (e.g. the result came by polling).
 */
export function callbackSteps(events: readonly HistoryEvent[], webhookAt: number, sendVideoAt: number): CallbackSplit | undefined {
  const after = (from: HistoryEvent | undefined, test: (e: HistoryEvent) => boolean) =>
    from === undefined ? undefined : events.find((e) => id(e) > id(from) && test(e));
  const nameOf = (e: HistoryEvent | undefined) => e?.activityTaskScheduledEventAttributes?.activityType?.name;
  // The permit's give-back is scheduled in the same workflow task, beside the video: not on the path.
  const firstActivity = (from: HistoryEvent | undefined) => after(from, (e) => !!e.activityTaskScheduledEventAttributes && nameOf(e) !== 'releasePermit');
  const byScheduled = (scheduled: HistoryEvent, test: (e: HistoryEvent) => unknown) =>
    events.find((e) => {
      const ref = e.activityTaskStartedEventAttributes?.scheduledEventId ?? e.activityTaskCompletedEventAttributes?.scheduledEventId;
      return ref !== undefined && ref !== null && num(ref) === id(scheduled) && test(e);
    });
  // The workflow task that saw an event: the first one started after it, its scheduling and completion.
  const taskAfter = (from: HistoryEvent | undefined) => {
    const started = after(from, (e) => !!e.workflowTaskStartedEventAttributes);
    const scheduledId = started ? num(started.workflowTaskStartedEventAttributes?.scheduledEventId) : undefined;
    const scheduled = events.find((e) => id(e) === scheduledId);
    const completed = after(started, (e) => !!e.workflowTaskCompletedEventAttributes);
    return scheduled && started && completed ? { scheduled, started, completed } : undefined;
  };
  const kind = (task: { scheduled: HistoryEvent }) => task.scheduled.workflowTaskScheduledEventAttributes?.taskQueue?.kind ?? 0;

  const signal = events.find((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'wavespeedResult');
  const task1 = taskAfter(signal);
  if (!signal || !task1) return undefined;
  const t = eventMs;
  const steps: CallbackSplit['steps'] = {
    'webhook POST → signal recorded': t(signal) - webhookAt,
    'signal → task scheduled': Math.max(0, t(task1.scheduled) - t(signal)),
    // A task scheduled before the signal (already running) counts from the signal.
    'task scheduled → started': t(task1.started) - Math.max(t(task1.scheduled), t(signal)),
    'workflow task': t(task1.completed) - t(task1.started),
  };
  const kinds = [kind(task1)];
  let next = firstActivity(task1.completed);
  const editFirst = nameOf(next) === 'updateProgress';
  if (next && editFirst) {
    const started = byScheduled(next, (e) => e.activityTaskStartedEventAttributes);
    const completed = byScheduled(next, (e) => e.activityTaskCompletedEventAttributes);
    const task2 = taskAfter(completed);
    if (!started || !completed || !task2) return undefined;
    Object.assign(steps, {
      'updateProgress scheduled → started': t(started) - t(next),
      'updateProgress runs': t(completed) - t(started),
      'activity done → task 2 scheduled': t(task2.scheduled) - t(completed),
      'task 2 scheduled → started': t(task2.started) - t(task2.scheduled),
      'workflow task 2': t(task2.completed) - t(task2.started),
    });
    kinds.push(kind(task2));
    next = firstActivity(task2.completed);
  }
  if (!next || nameOf(next) !== 'sendVideo') return undefined;
  const sendStarted = byScheduled(next, (e) => e.activityTaskStartedEventAttributes);
  if (!sendStarted) return undefined;
  steps['sendVideo scheduled → started'] = t(sendStarted) - t(next);
  steps['sendVideo started → Telegram call'] = sendVideoAt - t(sendStarted);
  return { steps, editFirst, taskQueueKinds: kinds };
}

/** Activity scheduled → started and started → completed for every activity of a history, by type. */
export function activityTimings(events: readonly HistoryEvent[]): Array<{ type: string; queued: number; ran: number }> {
  const byScheduled = new Map<number, HistoryEvent>();
  const started = new Map<number, HistoryEvent>();
  const out: Array<{ type: string; queued: number; ran: number }> = [];
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes) byScheduled.set(id(e), e);
    if (e.activityTaskStartedEventAttributes) started.set(num(e.activityTaskStartedEventAttributes.scheduledEventId), e);
    const done = e.activityTaskCompletedEventAttributes;
    if (!done) continue;
    const scheduled = byScheduled.get(num(done.scheduledEventId));
    const start = started.get(num(done.scheduledEventId));
    if (!scheduled || !start) continue;
    out.push({
      type: scheduled.activityTaskScheduledEventAttributes?.activityType?.name ?? '?',
      queued: eventMs(start) - eventMs(scheduled),
      ran: eventMs(e) - eventMs(start),
    });
  }
  return out;
}

/** Workflow task started → completed durations (the worker's share of each step). */
export function workflowTaskDurations(events: readonly HistoryEvent[]): number[] {
  const out: number[] = [];
  let startedAt: number | undefined;
  for (const e of events) {
    if (e.workflowTaskStartedEventAttributes) startedAt = eventMs(e);
    if (e.workflowTaskCompletedEventAttributes && startedAt !== undefined) {
      out.push(eventMs(e) - startedAt);
      startedAt = undefined;
    }
  }
  return out;
}
