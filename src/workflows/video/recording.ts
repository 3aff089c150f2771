import { proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import { RECORDING_LOCAL } from '../activity-options.js';

/**
 * The quick database writes of a video request (records, the result cache's
 * claim, the per-user limits, the permit request) run as local activities: in
 * the workflow task that asks for them, with no task of their own on the
 * queue. A video delivered by webhook went from 118 history events and 14
 * workflow tasks to 90 and 10 when they did: what the Temporal server spends
 * its CPU on at thousands in flight (docs/PERFORMANCE.md §5).
 *
 * Each of these is idempotent, as an activity's retry already required: a
 * local activity also runs again when the server refuses its workflow task's
 * completion (an event arrived as the workflow was ending) and the task is
 * replayed.
 */
type Recording = Pick<
  Activities,
  'admitRequest' | 'claimResult' | 'recordPhase' | 'recordOutcome' | 'storeResult' | 'releaseClaim' | 'markUserBlocked' | 'requestPermit'
>;

/** The recording steps of a video request. */
export const recording: Recording = proxyLocalActivities<Activities>(RECORDING_LOCAL);
