import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

/**
 * Timeouts and retry policies shared by the workflows, one per kind of step,
 * so the same activity is never proxied with two policies.
 *
 * None has a schedule-to-close give-up: an outage of PostgreSQL or Telegram of
 * any length is waited out, retried at least once a minute, and the request
 * carries on where it was. Errors that say trying again is useless are
 * non-retryable at the activity boundary and still fail at once.
 */

/** Database writes (records, claims, admission): quick, retried until the database is back. */
export const RECORDING: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '60s' },
};

/** Messages to the user (and edits of them): Telegram's 429s back off up to a minute; an outage is waited out. */
export const MESSAGING: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '60s' },
};

/**
 * `sendVideo`, on the media queue (it is one call, never behind a burst of photos). One attempt may wait for Telegram to
 * fetch a 20 MB video by URL (the client allows it `TELEGRAM_MEDIA_TIMEOUT_SECONDS`, 3 minutes),
 * then probe, download and upload it (≤ 50 MB): the attempt's timeout is above
 * all of those. An answer lost after the request went out is not retried (the
 * activity fails with `TelegramAmbiguousSendError`).
 */
export const SENDING_VIDEO: ActivityOptions = {
  startToCloseTimeout: '10m',
  // The attempt beats every 5 s: one whose completion was lost (Temporal down as it answered) is retried
  // after 30 s, not 10 minutes, and the retry finds the delivery recorded.
  heartbeatTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '60s' },
};

/**
 * `submitGeneration`, the paid call. An attempt writes a marker before its POST, so
 * a retry after a crash or a lost completion never submits again (it fails as
 * ambiguous and the workflow adopts the prediction from the webhook). It beats
 * every 2 s while WaveSpeed has the POST: an attempt whose worker died is
 * retried after 10 s, not its 2 minute start-to-close timeout.
 */
export const SUBMITTING: ActivityOptions = {
  startToCloseTimeout: '2m',
  heartbeatTimeout: '10s',
  scheduleToCloseTimeout: '15m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '60s' },
};

/**
 * The database writes of {@link RECORDING}, as local activities: run by the
 * worker inside the workflow task that asks for them, so a record costs one
 * marker in the history instead of an activity's three events and the workflow
 * task that follows its completion. The same timeout and retries: an outage is
 * waited out. The first retries (1, 2 and 4 s apart) run in the worker; a
 * longer backoff is a timer in the history, so an outage of an hour neither
 * holds the workflow task open nor keeps signals from the workflow meanwhile.
 */
export const RECORDING_LOCAL: LocalActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '60s' },
  localRetryThreshold: '5s',
};
