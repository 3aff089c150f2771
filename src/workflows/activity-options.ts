import type { ActivityOptions } from '@temporalio/workflow';

/**
 * Timeouts and retry policies shared by the workflows, one per kind of step,
 * so the same activity is never proxied with two policies.
 */

/** Database writes (records, claims, admission): quick, retried for up to 10 minutes. */
export const RECORDING: ActivityOptions = {
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '10m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
};

/** Messages to the user (and edits of them): Telegram's 429s back off up to a minute. */
export const MESSAGING: ActivityOptions = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '10m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '60s' },
};
