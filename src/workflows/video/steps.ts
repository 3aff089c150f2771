import { condition, isCancellation, log, proxyActivities } from '@temporalio/workflow';
import { isTerminalStatus } from '../../domain/prediction.js';
import type { Activities } from '../../activities/index.js';
import { activityFailureCause, activityFailureType } from '../failures.js';
import { ErrorType } from '../../errors.js';
import type { PredictionResult } from '../../integrations/wavespeed/types.js';
import { MESSAGING } from '../activity-options.js';
import { recording } from './recording.js';
import type { FailureReason } from '../../domain/failure-reason.js';
import type { Catalog } from '../../i18n/catalog.js';
import type { VideoProgress, VideoRequest } from './messages.js';

/** The steps of {@link imageToVideo} that wait for WaveSpeed and that end a request without a video. */

const { sendMessage, updateProgress } = proxyActivities<Activities>(MESSAGING);
const { pollPrediction } = proxyActivities<Activities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});

const DEFAULT_POLLING = { initialMs: 5_000, maxMs: 30_000 };

/** A request that ends without a video, for a reason the user is told. */
export class VideoFailed extends Error {
  constructor(readonly reason: FailureReason, readonly detail?: string) {
    super(detail ?? reason);
    this.name = 'VideoFailed';
  }
}

/** Waits for the webhook's result, polling on a backoff meanwhile, until `deadlineAt`. */
export async function awaitResult(
  predictionId: string,
  req: VideoRequest,
  progress: VideoProgress,
  results: Map<string, PredictionResult>,
  deadlineAt: number,
  onProcessing: () => Promise<void>,
): Promise<PredictionResult> {
  const polling = req.polling ?? DEFAULT_POLLING;
  let delay = polling.initialMs;
  for (;;) {
    const known = results.get(predictionId);
    if (known) return known;
    const remaining = deadlineAt - Date.now();
    if (remaining <= 0) throw new VideoFailed('deadline');
    const summary = `wait for WaveSpeed's webhook for ${predictionId}, then poll`;
    if (await condition(() => results.has(predictionId), Math.min(delay, remaining), { summary })) continue;
    delay = Math.min(Math.round(delay * 1.5), polling.maxMs);
    progress.polls += 1;
    let polled: PredictionResult;
    try {
      polled = await pollPrediction.executeWithOptions({ summary: `poll WaveSpeed for ${predictionId}` }, [{ predictionId }]);
    } catch (err) {
      if (activityFailureType(err) === ErrorType.WavespeedNotFound) throw new VideoFailed('generation-failed', 'the prediction disappeared');
      if (isCancellation(err)) throw err;
      log.warn('Polling WaveSpeed failed; will poll again', { predictionId, error: String(err) });
      continue;
    }
    if (isTerminalStatus(polled.status)) {
      if (!results.has(predictionId)) results.set(predictionId, polled);
    } else if (polled.status === 'processing' && progress.phase === 'submitted') {
      progress.phase = 'processing';
      await onProcessing();
    }
  }
}

/**
 * After a submission whose answer was lost: WaveSpeed may have accepted it, and
 * then its webhook (bound to this workflow) brings the prediction's result. The
 * first result a callback brought is this request's prediction; none by
 * `deadlineAt` ends the request as `unconfirmed`. No id, so nothing to poll.
 */
export async function adoptFromCallback(viaCallback: ReadonlySet<string>, deadlineAt: number): Promise<string> {
  const summary = 'wait for WaveSpeed\'s webhook after a submission whose answer was lost';
  const arrived = await condition(() => viaCallback.size > 0, Math.max(1, deadlineAt - Date.now()), { summary });
  const [predictionId] = viaCallback;
  if (!arrived || predictionId === undefined) throw new VideoFailed('unconfirmed', 'WaveSpeed never confirmed the submission');
  return predictionId;
}

/**
 * Shows `text` in the progress message, or replies with it when there is none;
 * false when the user has blocked the bot. A reply Telegram may have delivered
 * (`TelegramAmbiguousSendError`) counts as told.
 */
export async function tellUser(req: VideoRequest, text: string, progressMessageId: number | undefined): Promise<boolean> {
  const chatId = req.user.chatId;
  try {
    if (progressMessageId !== undefined) await updateProgress({ chatId, messageId: progressMessageId, text });
    else await sendMessage({ chatId, text, replyToMessageId: req.messageId });
    return true;
  } catch (err) {
    const type = activityFailureType(err);
    if (type === ErrorType.TelegramAmbiguousSend) {
      log.warn('Telegram lost the answer to a reply; not sending it again', { chatId });
      return true;
    }
    if (type !== ErrorType.BotBlocked) throw err;
    return false;
  }
}

/** Tells the user in their language `t` (unless they blocked us) and records the outcome. */
export async function finishUnsuccessfully(
  t: Catalog,
  req: VideoRequest,
  generationId: string,
  progressMessageId: number | undefined,
  reason: FailureReason,
  detail: string | undefined,
): Promise<void> {
  const blocked = reason === 'blocked' || !(await tellUser(req, t.failure(reason, reason === 'internal' ? undefined : detail), progressMessageId));
  if (blocked) await recording.markUserBlocked({ userId: req.user.userId, reason: 'telegram-403' });
  await recording.recordOutcome({
    generationId,
    status: reason === 'cancelled' ? 'cancelled' : 'failed',
    errorKind: blocked ? 'blocked' : reason,
    error: detail,
  });
}

/** Maps whatever ended the request to the reason the user is told. */
export function explain(err: unknown): { reason: FailureReason; detail?: string } {
  if (err instanceof VideoFailed) return { reason: err.reason, detail: err.detail };
  if (isCancellation(err)) return { reason: 'cancelled' };
  const cause = activityFailureCause(err);
  switch (cause?.type) {
    case ErrorType.WavespeedRejected:
      return { reason: 'rejected', detail: String((cause.details?.[0] as { reason?: string } | undefined)?.reason ?? cause.message) };
    case ErrorType.InvalidImage:
    case ErrorType.TelegramFileTooLarge:
      return { reason: 'bad-image', detail: cause.message };
    case ErrorType.BotBlocked:
      return { reason: 'blocked', detail: cause.message };
    default:
      return { reason: 'internal', detail: err instanceof Error ? err.message : String(err) };
  }
}
