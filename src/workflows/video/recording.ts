import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import { changed } from './path.js';
import type { Activities } from '../../activities/index.js';
import { RECORDING, RECORDING_LOCAL } from '../activity-options.js';

/**
 * The quick database writes of a video request (records, the result cache's
 * claim, the per-user limits, the permit request) run as local activities: in
 * the workflow task that asks for them, with no task of their own on the
 * queue. A video delivered by webhook went from 118 history events and 14
 * workflow tasks to 90 and 10 (test/replay/encrypted/video-callback.v5.json
 * against video-callback.v6.json): what the Temporal server spends its CPU on at
 * thousands in flight. Workflows started before this change keep their activities.
 *
 * Each of these is idempotent, as an activity's retry already required: a
 * local activity also runs again when the server refuses its workflow task's
 * completion (an event arrived as the workflow was ending) and the task is
 * replayed.
 */
export const RECORD_IN_WORKFLOW_TASK = 'recording-in-workflow-task';

type Recording = Pick<
  Activities,
  'admitRequest' | 'claimResult' | 'recordPhase' | 'recordOutcome' | 'storeResult' | 'releaseClaim' | 'markUserBlocked' | 'requestPermit'
>;

const remote: Recording = proxyActivities<Activities>(RECORDING);
const local: Recording = proxyLocalActivities<Activities>(RECORDING_LOCAL);

/** The recording steps as this workflow runs them: local activities, or activities for a workflow started before. */
export function recording(): Recording {
  return changed(RECORD_IN_WORKFLOW_TASK) ? local : remote;
}
