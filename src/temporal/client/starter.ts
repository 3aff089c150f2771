import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { WorkflowIdReusePolicy, type SearchAttributePair, type Workflow } from '@temporalio/common';
import { DEFAULT_WAVESPEED_MAX_CONCURRENCY, TASK_QUEUES, WORKFLOW_TYPE, type WorkflowTypeName } from '../../constants.js';
import type { PredictionResult } from '../../integrations/wavespeed/types.js';
import { MAX_ADMISSION_SHARDS, admissionShards, admissionWorkflowId, botCommandWorkflowId, shareOf, summaryWorkflowId, videoWorkflowId } from '../../workflows/ids.js';
import type { wavespeedAdmission } from '../../workflows/admission/workflow.js';
import {
  admissionStateQuery,
  setGenerationPausedSignal,
  type AdmissionInput,
  type AdmissionState,
} from '../../workflows/admission/messages.js';
import type { distributeSummary } from '../../workflows/distribution/workflow.js';
import type { BotCommandInput, botCommand } from '../../workflows/command/workflow.js';
import type { imageToVideo } from '../../workflows/video/workflow.js';
import { wavespeedResultSignal, type VideoRequest } from '../../workflows/video/messages.js';
import { TelewanChatId, TelewanKind, TelewanSourceSlug } from '../search-attributes.js';
import { commandSummary, distributionSummary, videoSummary } from './summaries.js';

/** Temporal did not answer: the caller should ask its peer to try again (HTTP 503). */
export class TemporalUnavailableError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('Temporal is unavailable', options);
    this.name = 'TemporalUnavailableError';
  }
}

export interface StartResult {
  workflowId: string;
  /** False when the workflow already existed (a redelivered update): success all the same. */
  started: boolean;
}

/** What the gateway and the bot may ask of Temporal: start workflows and forward signals. */
export interface WorkflowGateway {
  startVideo(request: Omit<VideoRequest, 'deadlineMs' | 'model' | 'polling'>): Promise<StartResult>;
  startCommand(input: BotCommandInput): Promise<StartResult>;
  /** Starts the distribution of a stored summary; a repeated call finds the same workflow. */
  startDistribution(summary: DistributionStart): Promise<StartResult>;
  /** Forwards WaveSpeed's result; `false` when no such workflow is running. */
  signalWavespeedResult(workflowId: string, result: PredictionResult): Promise<boolean>;
  /** Pauses (no new WaveSpeed submissions; requests wait in order) or resumes new video generation. Durable. */
  setGenerationPaused(paused: boolean): Promise<void>;
  /** Permits in flight, queue and pause flag of the fleet-wide WaveSpeed cap. */
  generationState(): Promise<AdmissionState>;
}

/** A stored summary to distribute, and its source (a search attribute of the workflow). */
export interface DistributionStart {
  summaryId: number;
  sourceSlug: string;
}

export interface TemporalWorkflowGatewayOptions {
  taskQueue?: string;
  model: string;
  deadlineMs: number;
  polling?: VideoRequest['polling'];
  /** `WAVESPEED_MAX_CONCURRENCY`: the cap the admission workflow starts with when a pause starts it. */
  maxConcurrency?: number;
  /** `WAVESPEED_ADMISSION_SHARD_SLOTS`: how the cap is split between admission shards. */
  admissionShardSlots?: number;
  /** Longest wait for one Temporal call before answering 503. */
  rpcTimeoutMs?: number;
  /** Told of every start this gateway asks for, started or found running (a redelivery): the gateway's metrics. */
  onStart?: (workflowType: WorkflowTypeName, result: StartResult) => void;
}

/** One start of a business workflow: its id comes from the business, so a repeat finds the running one. */
interface StartOnce<W extends Workflow> {
  workflowId: string;
  taskQueue: string;
  args: Parameters<W>;
  searchAttributes: SearchAttributePair[];
  summary: string;
}

/** {@link WorkflowGateway} over a Temporal client. */
export class TemporalWorkflowGateway implements WorkflowGateway {
  private readonly taskQueue: string;

  constructor(
    private readonly client: Client,
    private readonly options: TemporalWorkflowGatewayOptions,
  ) {
    this.taskQueue = options.taskQueue ?? TASK_QUEUES.media;
  }

  async startVideo(request: Omit<VideoRequest, 'deadlineMs' | 'model' | 'polling'>): Promise<StartResult> {
    const workflowId = videoWorkflowId(request.user.chatId, request.messageId);
    const { model, deadlineMs, polling } = this.options;
    const args: VideoRequest = { ...request, model, deadlineMs, ...(polling ? { polling } : {}) };
    return this.startOnce<typeof imageToVideo>(WORKFLOW_TYPE.video, {
      workflowId,
      taskQueue: this.taskQueue,
      args: [args],
      searchAttributes: [
        { key: TelewanKind, value: 'video' },
        { key: TelewanChatId, value: request.user.chatId },
      ],
      summary: videoSummary(request.user.chatId, request.prompt),
    });
  }

  async startCommand(input: BotCommandInput): Promise<StartResult> {
    const workflowId = botCommandWorkflowId(input);
    return this.startOnce<typeof botCommand>(WORKFLOW_TYPE.command, {
      workflowId,
      taskQueue: this.taskQueue,
      args: [input],
      searchAttributes: [
        { key: TelewanKind, value: 'command' },
        { key: TelewanChatId, value: input.user.chatId },
      ],
      summary: commandSummary(input),
    });
  }

  async startDistribution({ summaryId, sourceSlug }: DistributionStart): Promise<StartResult> {
    const workflowId = summaryWorkflowId(summaryId);
    return this.startOnce<typeof distributeSummary>(WORKFLOW_TYPE.distribution, {
      workflowId,
      taskQueue: TASK_QUEUES.broadcast,
      args: [{ summaryId }],
      searchAttributes: [
        { key: TelewanKind, value: 'distribution' },
        { key: TelewanSourceSlug, value: sourceSlug },
      ],
      summary: distributionSummary(summaryId, sourceSlug),
    });
  }

  async signalWavespeedResult(workflowId: string, result: PredictionResult): Promise<boolean> {
    try {
      await this.withDeadline(() => this.client.workflow.getHandle(workflowId).signal(wavespeedResultSignal, result));
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw new TemporalUnavailableError({ cause: err });
    }
  }

  /**
   * Pauses or resumes every admission shard: those the configured cap is split
   * into (started if need be, so a shard that starts later is not left
   * unpaused) and any further shard still running from a larger cap before.
   */
  async setGenerationPaused(paused: boolean): Promise<void> {
    const shards = admissionShards(this.maxConcurrency, this.options.admissionShardSlots);
    try {
      await this.withDeadline(() =>
        Promise.all(
          Array.from({ length: MAX_ADMISSION_SHARDS }, async (_, shard) => {
            const workflowId = admissionWorkflowId(shard);
            if (shard >= shards) {
              try {
                await this.client.workflow.getHandle(workflowId).signal(setGenerationPausedSignal, { paused });
              } catch (err) {
                if (!(err instanceof WorkflowNotFoundError)) throw err;
              }
              return;
            }
            await this.client.workflow.signalWithStart<typeof wavespeedAdmission, [{ paused: boolean }]>(WORKFLOW_TYPE.admission, {
              taskQueue: TASK_QUEUES.admission,
              workflowId,
              args: [{ maxConcurrency: shareOf(this.maxConcurrency, shards, shard), ...(shards > 1 ? { shards } : {}) } satisfies AdmissionInput],
              signal: setGenerationPausedSignal,
              signalArgs: [{ paused }],
            });
          }),
        ),
      );
    } catch (err) {
      throw new TemporalUnavailableError({ cause: err });
    }
  }

  /** The fleet's permits, line and pause, over every admission shard that is running (the line in arrival order). */
  async generationState(): Promise<AdmissionState> {
    let states: Array<AdmissionState | undefined>;
    try {
      states = await this.withDeadline(() =>
        Promise.all(
          Array.from({ length: MAX_ADMISSION_SHARDS }, async (_, shard) => {
            try {
              return await this.client.workflow.getHandle(admissionWorkflowId(shard)).query(admissionStateQuery);
            } catch (err) {
              // Nothing was ever asked of this shard: no permits, no queue.
              if (err instanceof WorkflowNotFoundError) return undefined;
              throw err;
            }
          }),
        ),
      );
    } catch (err) {
      throw new TemporalUnavailableError({ cause: err });
    }
    const running = states.filter((state) => state !== undefined);
    const maxQueued = running.some((state) => state.maxQueued !== undefined) ? running.reduce((sum, state) => sum + (state.maxQueued ?? 0), 0) : undefined;
    return {
      paused: running.some((state) => state.paused),
      // Split, each shard holds a share of the configured cap; one workflow says which cap the requests last brought.
      maxConcurrency: admissionShards(this.maxConcurrency, this.options.admissionShardSlots) > 1 ? this.maxConcurrency : (running[0]?.maxConcurrency ?? this.maxConcurrency),
      ...(maxQueued !== undefined ? { maxQueued } : {}),
      holders: running.flatMap((state) => state.holders),
      draining: running.flatMap((state) => state.draining),
      queue: running.flatMap((state) => state.queue).sort((a, b) => a.since - b.since),
    };
  }

  private get maxConcurrency(): number {
    return this.options.maxConcurrency ?? DEFAULT_WAVESPEED_MAX_CONCURRENCY;
  }

  /** The one start path: a workflow that already runs under this id is success (a redelivery), anything else 503. */
  private async startOnce<W extends Workflow>(workflowType: WorkflowTypeName, start: StartOnce<W>): Promise<StartResult> {
    const { workflowId } = start;
    let result: StartResult;
    try {
      await this.withDeadline(() =>
        this.client.workflow.start<W>(workflowType, {
          taskQueue: start.taskQueue,
          workflowId,
          args: start.args,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: start.searchAttributes,
          staticSummary: start.summary,
        } as unknown as WorkflowStartOptions<W>), // args typed by StartOnce<W>; the SDK's conditional type does not narrow on a generic W
      );
      result = { workflowId, started: true };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw new TemporalUnavailableError({ cause: err });
      result = { workflowId, started: false };
    }
    this.options.onStart?.(workflowType, result);
    return result;
  }

  private withDeadline<T>(fn: () => Promise<T>): Promise<T> {
    return this.client.withDeadline(Date.now() + (this.options.rpcTimeoutMs ?? 5_000), fn);
  }
}
