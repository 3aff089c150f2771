import { WorkflowNotFoundError } from '@temporalio/client';
import { DEFAULT_WAVESPEED_MAX_CONCURRENCY, TASK_QUEUES, WORKFLOW_TYPE } from '../constants.js';
import { isTerminalStatus } from '../domain/prediction.js';
import { recordEvent } from '../db/events.js';
import { WavespeedNotFoundError } from '../errors.js';
import { acquirePermitSignal, releasePermitSignal, UNKNOWN_PREDICTION, type AcquirePermit, type AdmissionInput, type ReleasePermit } from '../workflows/admission/messages.js';
import type { wavespeedAdmission } from '../workflows/admission/workflow.js';
import { ADMISSION_WORKFLOW_ID, admissionShardOf, admissionShards, admissionWorkflowId, shareOf } from '../workflows/ids.js';
import type { ActivityDeps } from './deps.js';

/** How many holders are described at once by {@link findClosedWorkflows}. */
const DESCRIBE_AT_ONCE = 16;


export function createAdmissionActivities({ temporal, prisma, wavespeed, config }: Pick<ActivityDeps, 'temporal' | 'prisma' | 'wavespeed' | 'config'>) {
  return {
    /**
     * Asks the admission workflow for a WaveSpeed permit, starting it if it is
     * not running; the grant (or a refusal, when the line is full) comes back
     * later as a signal. A large cap is split between shards
     * ({@link admissionShards}): the requester asks the one its id hashes to,
     * for that shard's share of the cap and of the line, and gives back to the
     * shard this returns. Carries this worker's configured cap and longest line,
     * so a changed `WAVESPEED_MAX_CONCURRENCY` or `WAVESPEED_QUEUE_MAX` takes
     * effect, and returns the longest wait in line it allows and how often a
     * waiting user's place is edited at most. Retrying is safe:
     * a repeated request keeps its place.
     */
    async requestPermit(input: { requesterId: string }): Promise<{ admissionId?: string; maxWaitMs?: number; placeEveryMs?: number }> {
      const fleetCap = config.wavespeedMaxConcurrency ?? DEFAULT_WAVESPEED_MAX_CONCURRENCY;
      const shards = admissionShards(fleetCap, config.admissionShardSlots);
      const shard = admissionShardOf(input.requesterId, shards);
      const admissionId = admissionWorkflowId(shard);
      const maxConcurrency = shareOf(fleetCap, shards, shard);
      const line = config.wavespeedLine;
      const ask: AcquirePermit = {
        requesterId: input.requesterId,
        maxConcurrency,
        ...(line ? { maxQueued: shareOf(line.maxQueued, shards, shard) } : {}),
      };
      await temporal.workflow.signalWithStart<typeof wavespeedAdmission, [AcquirePermit]>(WORKFLOW_TYPE.admission, {
        workflowId: admissionId,
        taskQueue: TASK_QUEUES.admission,
        args: [{ maxConcurrency, ...(shards > 1 ? { shards } : {}) } satisfies AdmissionInput],
        signal: acquirePermitSignal,
        signalArgs: [ask],
      });
      return { admissionId, ...(line ? { maxWaitMs: line.maxWaitMs, ...(line.placeEveryMs !== undefined ? { placeEveryMs: line.placeEveryMs } : {}) } : {}) };
    },

    /**
     * Gives a permit back (or leaves the queue) to the shard that was asked (the
     * first, for a request that asked before there were shards). Nothing to do
     * when that workflow is not running.
     */
    async releasePermit({ admissionId, ...input }: ReleasePermit & { admissionId?: string }): Promise<void> {
      try {
        await temporal.workflow.getHandle(admissionId ?? ADMISSION_WORKFLOW_ID).signal(releasePermitSignal, input);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    },

    /** Which of these workflows are closed or unknown: their permits can be reclaimed. */
    async findClosedWorkflows(input: { workflowIds: string[] }): Promise<string[]> {
      const closed: string[] = [];
      for (let i = 0; i < input.workflowIds.length; i += DESCRIBE_AT_ONCE) {
        const batch = input.workflowIds.slice(i, i + DESCRIBE_AT_ONCE);
        const states = await Promise.all(
          batch.map(async (workflowId) => {
            try {
              return (await temporal.workflow.getHandle(workflowId).describe()).status.name;
            } catch (err) {
              if (err instanceof WorkflowNotFoundError) return 'NOT_FOUND';
              throw err;
            }
          }),
        );
        states.forEach((state, j) => {
          if (state !== 'RUNNING') closed.push(batch[j]!);
        });
      }
      return closed;
    },

    /** Which of these predictions have ended at WaveSpeed (or are unknown to it): their slots are free. */
    async findEndedPredictions(input: { predictionIds: string[] }): Promise<string[]> {
      const states = await Promise.all(
        input.predictionIds.map(async (id) => {
          // Nothing to ask WaveSpeed about: such a slot is held until its deadline.
          if (id === UNKNOWN_PREDICTION) return false;
          try {
            return isTerminalStatus((await wavespeed.getResult(id)).status);
          } catch (err) {
            if (err instanceof WavespeedNotFoundError) return true;
            throw err;
          }
        }),
      );
      return input.predictionIds.filter((_, i) => states[i]);
    },

    /** Records `generation.paused` or `generation.resumed`, once per change. */
    async recordGenerationPause(input: { eventId: string; paused: boolean; queued: number; inFlight: number; admissionId?: string }): Promise<void> {
      const type = input.paused ? 'generation.paused' : 'generation.resumed';
      await recordEvent(prisma, {
        id: `${type}:${input.eventId}`,
        type,
        subject: `admission:${input.admissionId ?? ADMISSION_WORKFLOW_ID}`,
        payload: { queued: input.queued, inFlight: input.inFlight },
      });
    },
  };
}
