import { WorkflowNotFoundError } from '@temporalio/client';
import { DEFAULT_WAVESPEED_MAX_CONCURRENCY, TASK_QUEUES } from '../constants.js';
import { recordEvent } from '../db/events.js';
import { WavespeedNotFoundError } from '../errors.js';
import { acquirePermitSignal, releasePermitSignal, UNKNOWN_PREDICTION, type AcquirePermit, type AdmissionInput, type ReleasePermit } from '../workflows/admission-messages.js';
import type { wavespeedAdmission } from '../workflows/admission.js';
import { ADMISSION_WORKFLOW_ID } from '../workflows/ids.js';
import type { ActivityDeps } from './deps.js';

/** How many holders are described at once by {@link findClosedWorkflows}. */
const DESCRIBE_AT_ONCE = 16;

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'timeout']);

export function createAdmissionActivities({ temporal, prisma, wavespeed, config }: Pick<ActivityDeps, 'temporal' | 'prisma' | 'wavespeed' | 'config'>) {
  return {
    /**
     * Asks the admission workflow for a WaveSpeed permit, starting it if it is
     * not running; the grant (or a refusal, when the line is full) comes back
     * later as a signal. Carries this worker's configured cap and longest line,
     * so a changed `WAVESPEED_MAX_CONCURRENCY` or `WAVESPEED_QUEUE_MAX` takes
     * effect, and returns the longest wait in line it allows and how often a
     * waiting user's place is edited at most. Retrying is safe:
     * a repeated request keeps its place.
     */
    async requestPermit(input: { requesterId: string }): Promise<{ maxWaitMs?: number; placeEveryMs?: number }> {
      const maxConcurrency = config.wavespeedMaxConcurrency ?? DEFAULT_WAVESPEED_MAX_CONCURRENCY;
      const line = config.wavespeedLine;
      const ask: AcquirePermit = { requesterId: input.requesterId, maxConcurrency, ...(line ? { maxQueued: line.maxQueued } : {}) };
      await temporal.workflow.signalWithStart<typeof wavespeedAdmission, [AcquirePermit]>('wavespeedAdmission', {
        workflowId: ADMISSION_WORKFLOW_ID,
        taskQueue: TASK_QUEUES.admission,
        args: [{ maxConcurrency } satisfies AdmissionInput],
        signal: acquirePermitSignal,
        signalArgs: [ask],
      });
      return line ? { maxWaitMs: line.maxWaitMs, ...(line.placeEveryMs !== undefined ? { placeEveryMs: line.placeEveryMs } : {}) } : {};
    },

    /** Gives a permit back (or leaves the queue). Nothing to do when the admission workflow is not running. */
    async releasePermit(input: ReleasePermit): Promise<void> {
      try {
        await temporal.workflow.getHandle(ADMISSION_WORKFLOW_ID).signal(releasePermitSignal, input);
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
            return TERMINAL.has((await wavespeed.getResult(id)).status);
          } catch (err) {
            if (err instanceof WavespeedNotFoundError) return true;
            throw err;
          }
        }),
      );
      return input.predictionIds.filter((_, i) => states[i]);
    },

    /** Records `generation.paused` or `generation.resumed`, once per change. */
    async recordGenerationPause(input: { eventId: string; paused: boolean; queued: number; inFlight: number }): Promise<void> {
      const type = input.paused ? 'generation.paused' : 'generation.resumed';
      await recordEvent(prisma, {
        id: `${type}:${input.eventId}`,
        type,
        subject: `admission:${ADMISSION_WORKFLOW_ID}`,
        payload: { queued: input.queued, inFlight: input.inFlight },
      });
    },
  };
}
