import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import proto, { type temporal as protos } from '@temporalio/proto';

// Node's ESM loader sees only the default export of this CommonJS package.
const { temporal } = proto;
import { TASK_QUEUES, WORKFLOW_TYPE } from '../../constants.js';
import type { DomainEventInput } from '../../db/events.js';
import type { DistributionCounts, distributeSummary } from '../../workflows/distribution/workflow.js';
import { parseSummaryWorkflowId } from '../../workflows/ids.js';
import type { VideoOutcome } from '../../workflows/video/messages.js';
import { TemporalUnavailableError } from './starter.js';
import { TelewanKind, TelewanSourceSlug } from '../search-attributes.js';
import { distributionSummary } from './summaries.js';

const { EventType, ResetReapplyType } = temporal.api.enums.v1;
type HistoryEvent = protos.api.history.v1.IHistoryEvent;
type ResetRequest = protos.api.workflowservice.v1.IResetWorkflowExecutionRequest;

/** Why a re-drive was refused: `not-found` is answered 404, the others 409. */
export type RedriveRefusal = 'not-found' | 'running' | 'not-failed' | 'unsupported';

/** The workflow cannot be re-driven; the message says why, for the operator. */
export class RedriveRefusedError extends Error {
  constructor(
    readonly refusal: RedriveRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'RedriveRefusedError';
  }
}

export interface RedriveResult {
  workflowId: string;
  kind: 'video' | 'distribution';
  /** The run that failed. */
  failedRunId: string;
  /** The run that carries on. */
  runId: string;
  /** How: a reset of the failed run (videos) or a new run that retries failed deliveries (distributions). */
  how: 'reset' | 'new-run';
  /** Where the new run starts: the step that is run again. */
  from: string;
}

/** What the operators' API asks: retry a failed generation or distribution from where it failed. */
export interface Redriver {
  redrive(workflowId: string, options?: { reason?: string }): Promise<RedriveResult>;
}

/**
 * Activities that fail without failing the request: the chat action is best
 * effort, and a failed poll is polled again.
 */
const TOLERATED_FAILURES = new Set(['keepChatAction', 'pollPrediction']);

/**
 * Re-drives over a Temporal client, recording `generation.redriven` or
 * `summary.redriven` through `record`.
 *
 * - A video (`imageToVideo`) that failed — the execution failed, or it completed
 *   telling the user it failed — is **reset** to the workflow task that
 *   scheduled the failing step. What came before (photo prepared, prediction
 *   submitted, WaveSpeed's result) stays in the history and is not done again;
 *   the failing step and what follows run anew.
 * - A distribution (`distributeSummary`) that failed or left deliveries
 *   `failed` gets a **new run** of the same workflow id with `redrive: true`: it
 *   reopens the failed deliveries and walks the subscribers again, skipping
 *   every delivery already finished, so nobody gets the summary twice.
 */
export class TemporalRedriver implements Redriver {
  constructor(
    private readonly client: Client,
    private readonly record: (event: DomainEventInput) => Promise<void>,
  ) {}

  async redrive(workflowId: string, options: { reason?: string } = {}): Promise<RedriveResult> {
    const reason = options.reason?.trim() || 'operator re-drive';
    let result: RedriveResult;
    try {
      const description = await this.describe(workflowId);
      if (description.status.name === 'RUNNING') throw new RedriveRefusedError('running', `${workflowId} is still running`);
      if (description.type === WORKFLOW_TYPE.video) result = await this.resetVideo(description, reason);
      else if (description.type === WORKFLOW_TYPE.distribution) result = await this.rerunDistribution(description);
      else throw new RedriveRefusedError('unsupported', `${workflowId} is a ${description.type}: only video generations and summary distributions can be re-driven`);
    } catch (err) {
      if (err instanceof RedriveRefusedError) throw err;
      throw new TemporalUnavailableError({ cause: err });
    }
    const generation = result.kind === 'video';
    await this.record({
      id: `${generation ? 'generation' : 'summary'}.redriven:${workflowId}:${result.runId}`,
      type: generation ? 'generation.redriven' : 'summary.redriven',
      subject: generation ? `generation:${workflowId}` : `summary:${parseSummaryWorkflowId(workflowId)}`,
      payload: { failedRunId: result.failedRunId, runId: result.runId, how: result.how, from: result.from, reason },
    });
    return result;
  }

  private async describe(workflowId: string): Promise<WorkflowExecutionDescription> {
    try {
      return await this.client.workflow.getHandle(workflowId).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new RedriveRefusedError('not-found', `There is no workflow ${workflowId}`);
      throw err;
    }
  }

  private async resetVideo(description: WorkflowExecutionDescription, reason: string): Promise<RedriveResult> {
    const { workflowId, runId } = description;
    const handle = this.client.workflow.getHandle(workflowId, runId);
    let outcome: VideoOutcome | undefined;
    switch (description.status.name) {
      case 'FAILED':
      case 'TIMED_OUT':
        break;
      case 'COMPLETED':
        outcome = (await handle.result()) as VideoOutcome;
        if (outcome.status !== 'failed') throw new RedriveRefusedError('not-failed', `${workflowId} did not fail: it ended ${outcome.status}`);
        if (outcome.reason === 'blocked') throw new RedriveRefusedError('not-failed', `${workflowId} ended because the user blocked the bot`);
        break;
      default:
        throw new RedriveRefusedError('not-failed', `${workflowId} did not fail: it was ${description.status.name.toLowerCase()}`);
    }
    const events = (await handle.fetchHistory()).events ?? [];
    const point = videoResetPoint(events, outcome?.reason);
    if (!point) throw new RedriveRefusedError('not-failed', `${workflowId} has no failed step to run again`);
    const request: ResetRequest = {
      namespace: this.client.options.namespace,
      workflowExecution: { workflowId, runId },
      reason: `${reason} (from ${point.step})`,
      // protobufjs takes a plain number for an int64.
      workflowTaskFinishEventId: point.eventId as unknown as ResetRequest['workflowTaskFinishEventId'],
      requestId: randomUUID(),
      // A signal that came after the reset point (a late webhook) is delivered to the new run.
      resetReapplyType: ResetReapplyType.RESET_REAPPLY_TYPE_SIGNAL,
    };
    const response: protos.api.workflowservice.v1.IResetWorkflowExecutionResponse = await this.client.workflowService.resetWorkflowExecution(request);
    return { workflowId, kind: 'video', failedRunId: runId, runId: response.runId ?? '', how: 'reset', from: point.step };
  }

  private async rerunDistribution(description: WorkflowExecutionDescription): Promise<RedriveResult> {
    const { workflowId, runId } = description;
    const summaryId = parseSummaryWorkflowId(workflowId);
    if (summaryId === undefined) throw new RedriveRefusedError('unsupported', `${workflowId} is not a summary distribution`);
    switch (description.status.name) {
      case 'FAILED':
      case 'TIMED_OUT':
        break;
      case 'COMPLETED': {
        const counts = (await this.client.workflow.getHandle(workflowId, runId).result()) as DistributionCounts;
        if (counts.failed === 0) throw new RedriveRefusedError('not-failed', `${workflowId} has no failed deliveries`);
        break;
      }
      default:
        throw new RedriveRefusedError('not-failed', `${workflowId} did not fail: it was ${description.status.name.toLowerCase()}`);
    }
    const sourceSlug = description.typedSearchAttributes.get(TelewanSourceSlug);
    try {
      const handle = await this.client.workflow.start<typeof distributeSummary>(WORKFLOW_TYPE.distribution, {
        taskQueue: TASK_QUEUES.broadcast,
        workflowId,
        args: [{ summaryId, redrive: true }],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        typedSearchAttributes: [
          { key: TelewanKind, value: 'distribution' },
          ...(sourceSlug ? [{ key: TelewanSourceSlug, value: sourceSlug }] : []),
        ],
        staticSummary: distributionSummary(summaryId, sourceSlug, true),
      });
      return { workflowId, kind: 'distribution', failedRunId: runId, runId: handle.firstExecutionRunId, how: 'new-run', from: 'failed deliveries' };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new RedriveRefusedError('running', `${workflowId} is running again already`);
      throw err;
    }
  }
}

/**
 * The workflow task to reset a failed video to, and the step that runs again:
 * the first step whose activity failed; otherwise, from the outcome, the wait
 * for WaveSpeed (deadline passed) or the submission (WaveSpeed's generation
 * failed or was refused as NSFW). A point after the permit request that would
 * submit again moves back to the permit request, so the new run waits for a
 * slot of the fleet cap before it submits (the failed run gave its permit back).
 */
export function videoResetPoint(events: HistoryEvent[], reason: string | undefined): { eventId: number; step: string } | undefined {
  const point = failedStep(events, reason);
  if (!point) return undefined;
  const permit = permitRequestBefore(events, point.eventId);
  return permit ? { eventId: permit, step: `${point.step} (after a new WaveSpeed permit)` } : point;
}

/**
 * The workflow task that asked for the WaveSpeed permit, when `resetTo` lies
 * after it and the submission scheduled after it has not completed by then;
 * undefined when the reset would not submit again under that permit.
 */
function permitRequestBefore(events: HistoryEvent[], resetTo: number): number | undefined {
  const activities = new Map<number, string>();
  let permitTask: number | undefined;
  let submitted = false;
  for (const event of events) {
    const id = Number(event.eventId);
    if (id > resetTo) break;
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const attrs = event.activityTaskScheduledEventAttributes!;
      const activity = attrs.activityType?.name ?? 'activity';
      activities.set(id, activity);
      if (activity === 'requestPermit') {
        permitTask = Number(attrs.workflowTaskCompletedEventId);
        submitted = false;
      }
    } else if (event.eventType === EventType.EVENT_TYPE_MARKER_RECORDED && localActivityType(event) === 'requestPermit') {
      // Asked as a local activity (since `recording-in-workflow-task`): inside the workflow task it completes.
      permitTask = Number(event.markerRecordedEventAttributes!.workflowTaskCompletedEventId);
      submitted = false;
    } else if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      if (activities.get(Number(event.activityTaskCompletedEventAttributes!.scheduledEventId)) === 'submitGeneration') submitted = true;
    }
  }
  return permitTask !== undefined && permitTask < resetTo && !submitted ? permitTask : undefined;
}

/** The activity a local activity's marker records, from the marker's own (unencrypted) data. */
export function localActivityType(event: HistoryEvent): string | undefined {
  const attrs = event.markerRecordedEventAttributes;
  if (attrs?.markerName !== 'core_local_activity') return undefined;
  const data = attrs.details?.data?.payloads?.[0]?.data;
  if (!data) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: unknown };
    return typeof parsed.activity_type === 'string' ? parsed.activity_type : undefined;
  } catch {
    return undefined;
  }
}

function failedStep(events: HistoryEvent[], reason: string | undefined): { eventId: number; step: string } | undefined {
  const scheduled = new Map<number, { activity: string; taskCompletedId: number }>();
  let submittedAt: number | undefined;
  let submission: { eventId: number; step: string } | undefined;
  let firstWait: { eventId: number; step: string } | undefined;
  for (const event of events) {
    const id = Number(event.eventId);
    switch (event.eventType) {
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const attrs = event.activityTaskScheduledEventAttributes!;
        const activity = attrs.activityType?.name ?? 'activity';
        const taskCompletedId = Number(attrs.workflowTaskCompletedEventId);
        scheduled.set(id, { activity, taskCompletedId });
        if (activity === 'submitGeneration') submission ??= { eventId: taskCompletedId, step: activity };
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        if (scheduled.get(Number(event.activityTaskCompletedEventAttributes!.scheduledEventId))?.activity === 'submitGeneration') submittedAt = id;
        break;
      case EventType.EVENT_TYPE_TIMER_STARTED:
        if (submittedAt !== undefined) {
          firstWait ??= { eventId: Number(event.timerStartedEventAttributes!.workflowTaskCompletedEventId), step: 'wait for WaveSpeed' };
        }
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
        const scheduledId = event.activityTaskFailedEventAttributes?.scheduledEventId ?? event.activityTaskTimedOutEventAttributes?.scheduledEventId;
        const step = scheduled.get(Number(scheduledId));
        if (step && !TOLERATED_FAILURES.has(step.activity)) return { eventId: step.taskCompletedId, step: step.activity };
        break;
      }
    }
  }
  if (reason === 'deadline') return firstWait;
  if (reason === 'generation-failed' || reason === 'nsfw') return submission;
  return undefined;
}
