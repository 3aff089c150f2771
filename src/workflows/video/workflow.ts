import { ActivityCancellationType, ApplicationFailure, CancellationScope, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import { MESSAGING, RECORDING, SENDING_VIDEO, SUBMITTING } from '../activity-options.js';
import { recording } from './recording.js';
import { UNKNOWN_PREDICTION } from '../admission/messages.js';
import { ErrorType } from '../../errors.js';
import { activityFailureType } from '../failures.js';
import { TASK_QUEUES } from '../../constants.js';
import type { PredictionResult } from '../../integrations/wavespeed/types.js';
import type { ResultIdentity } from '../../activities/result-cache.js';
import { serveFromCache, waitForIdentical } from './result-cache.js';
import { markOutcome } from '../outcome.js';
import { changed, onVideoPath } from './path.js';
import { WavespeedPermit } from './permit.js';
import { admitUnderLimits } from './user-limits.js';
import { PROGRESS, queuedText, unconfirmedDeliveryText } from '../texts.js';
import {
  cancelVideoSignal,
  progressQuery,
  wavespeedResultSignal,
  type VideoOutcome,
  type VideoProgress,
  type VideoRequest,
} from './messages.js';

import { isTerminalStatus } from '../../domain/prediction.js';
import { VideoFailed, adoptFromCallback, awaitResult, explain, finishUnsuccessfully, tellUser } from './steps.js';

export * from './messages.js';

const { registerRequest } = proxyActivities<Activities>(RECORDING);

const { sendMessage, updateProgress } = proxyActivities<Activities>(MESSAGING);

const { submitGeneration } = proxyActivities<Activities>(SUBMITTING);

/**
 * Downloads, resizes and uploads photos: on their own queue, so they never take
 * the quick activities' slots. No give-up: a Telegram outage of any length is
 * waited out (a photo that cannot be used fails at once, non-retryably).
 */
const { prepareImage } = proxyActivities<Activities>({
  taskQueue: TASK_QUEUES.transfer,
  startToCloseTimeout: '2m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '60s' },
});
/**
 * `sendVideo` is one call (Telegram fetches the URL itself); only its rare
 * fallback uploads. It stays on the media queue, never behind a burst of photos.
 */
const { sendVideo } = proxyActivities<Activities>(SENDING_VIDEO);

const chatActionOptions = {
  startToCloseTimeout: '2h',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 },
} as const;

/**
 * The chat-action loop is abandoned rather than cancelled: the workflow sends no
 * cancel request (racing one against the loop's own completion is what the
 * time-skipping test server mishandles), and the loop still stops within a
 * heartbeat of the workflow closing, when Temporal no longer knows it.
 * Workflows started before this change keep requesting cancellation.
 */
const ABANDON_CHAT_ACTION = 'abandon-chat-action-loop';
/** The video goes out as soon as the result is in, without a "sending" edit first. */
const SEND_VIDEO_AT_ONCE = 'send-video-at-once';
/**
 * Result cache before the upload: an identical request's video is resent by its
 * file_id, a request identical to one in progress waits for it, and a delivered
 * video is stored for the next ones.
 */
const RESULT_CACHE = 'result-cache';
/** Requests pass the per-user limits (`admitRequest`, which also records them) before any work. */
const USER_LIMITS = 'user-limits';
/** A permit of the fleet-wide WaveSpeed cap (`wavespeedAdmission`) is held from submission until the prediction ends. */
const WAVESPEED_ADMISSION = 'wavespeed-admission';
/**
 * No chat-action activity per request: the admission workflow shows "sending
 * video…" in every permit holder's chat, one activity a beat for the fleet. A
 * request waiting in line or for WaveSpeed holds no worker slot.
 */
const FLEET_PRESENCE = 'fleet-presence';
/**
 * The progress message is edited after submission only when it showed a place
 * in line: its first text already says the video is being made. One Bot API
 * call less per request, which at Telegram's 30 messages/s is 10 requests a
 * second more for the fleet.
 */
const EDIT_ONLY_WHEN_CHANGED = 'progress-edit-only-when-changed';
/**
 * WaveSpeed's "processing" is shown only over a progress message that showed a
 * place in line: otherwise it still reads "Making your video…", and the edit
 * was one Bot API call, one activity and one workflow task per request for
 * nothing (at 10 requests a second, 10 of Telegram's 30 calls a second).
 */
const PROCESSING_EDIT_ONLY_WHEN_CHANGED = 'processing-edit-only-when-changed';
/** The permit goes back in the same workflow task that sends the video: one round trip less between result and video. */
const RELEASE_BESIDE_VIDEO = 'release-beside-video';
/**
 * A submission whose answer was lost is not sent again (WaveSpeed has no
 * idempotency key): the request adopts the prediction its webhook reports,
 * holding its permit meanwhile, or ends `unconfirmed` at the deadline.
 */
const AMBIGUOUS_SUBMIT = 'ambiguous-submit-adopts-callback';
/**
 * A sendVideo Telegram may have delivered is not sent again: the progress
 * message says the video was sent and gives its link in case it was not.
 */
const AMBIGUOUS_SEND = 'ambiguous-send-gives-link';
/** Once the video is in the chat, a failing record or edit after it is logged, never turned into a failure the user sees. */
const DELIVERED_STAYS_DELIVERED = 'delivered-stays-delivered';
/**
 * The progress message is sent once: its id is recorded on the generation as
 * Telegram answers (a retry after a lost completion finds it and sends
 * nothing), and one Telegram may have delivered without saying so is not sent
 * again: the request carries on without a message to edit, and the video
 * still goes out.
 */
const PROGRESS_MESSAGE_ONCE = 'progress-message-sent-once';
const { keepChatAction: keepChatActionAbandoned } = proxyActivities<Activities>({
  ...chatActionOptions,
  cancellationType: ActivityCancellationType.ABANDON,
});
const { keepChatAction: keepChatActionCancelled } = proxyActivities<Activities>({
  ...chatActionOptions,
  cancellationType: ActivityCancellationType.TRY_CANCEL,
});

/**
 * Turns a photo and its caption into a video sent back to the chat.
 *
 * Per-user limits come first: a request beyond them is refused, or waits for a
 * slot (see {@link admitUnderLimits}).
 *
 * Guarantees: the request and its outcome are recorded; the user hears how it
 * ended (video, or a message saying why not) unless they blocked the bot, in
 * which case they are marked blocked. WaveSpeed's webhook arrives as
 * {@link wavespeedResultSignal}; polling on a backoff finishes the job when it
 * does not, until `deadlineMs` after submission. {@link cancelVideoSignal} or a
 * Temporal cancellation stops it at any step.
 */
export async function imageToVideo(req: VideoRequest): Promise<VideoOutcome> {
  onVideoPath();
  const generationId = workflowInfo().workflowId;
  const chatId = req.user.chatId;
  const progress: VideoProgress = { phase: 'requested', polls: 0 };
  const results = new Map<string, PredictionResult>();
  /** Results WaveSpeed's webhook brought, so a result is credited to the callback only when it is this request's. */
  const viaCallback = new Set<string>();
  const work = new CancellationScope();
  const presence = new CancellationScope();
  let progressMessageId: number | undefined;
  /** Set while this request holds the result cache's claim: stored on success, released on failure. */
  let leading: ResultIdentity | undefined;
  const permit = new WavespeedPermit(generationId);
  let waitDeadlineAt: number | undefined;
  /** The progress message showed a place in line, so it needs a new text once submitted. */
  let toldPlace = false;
  /** Submitted without an answer and no webhook yet: a prediction of ours may be running under an id we do not know. */
  let unconfirmed = false;

  setHandler(wavespeedResultSignal, (result) => {
    // Kept by id: only the result of this request's own prediction is ever used.
    if (isTerminalStatus(result.status) && !results.has(result.id)) {
      results.set(result.id, result);
      viaCallback.add(result.id);
    }
  });
  setHandler(cancelVideoSignal, () => work.cancel());
  setHandler(progressQuery, () => progress);

  if (changed(USER_LIMITS)) {
    const ended = await admitUnderLimits(req, generationId, progress, work);
    if (ended) {
      markOutcome(ended.status, changed);
      return ended;
    }
  } else {
    await registerRequest({ generationId, user: req.user, messageId: req.messageId, prompt: req.prompt, model: req.model });
  }

  try {
    const outcome = await work.run(async () => {
      progress.phase = 'preparing';
      // A cache hit sends only the video: a progress message first would also spend the chat's 1 message/s.
      const pending = changed(RESULT_CACHE) ? await serveFromCache({ generationId, req, progress }) : undefined;
      if (pending && 'status' in pending) return pending;
      if (pending?.kind === 'leader') leading = pending.identity;
      const progressOnce = changed(PROGRESS_MESSAGE_ONCE);
      try {
        progressMessageId = (
          await sendMessage.executeWithOptions({ summary: `progress message to chat ${chatId}` }, [
            { chatId, text: PROGRESS.received, replyToMessageId: req.messageId, ...(progressOnce ? { progressOf: generationId } : {}) },
          ])
        ).messageId;
      } catch (err) {
        if (!progressOnce || activityFailureType(err) !== ErrorType.TelegramAmbiguousSend) throw err;
        // Most likely in the chat, under an id we do not know: the request goes on with nothing to edit.
        log.warn('Telegram lost the answer to the progress message; going on without it', { generationId });
      }
      /** Edits the progress message, when there is one. */
      const showProgress = async (text: string): Promise<void> => {
        if (progressMessageId !== undefined) await updateProgress({ chatId, messageId: progressMessageId, text });
      };
      if (!changed(FLEET_PRESENCE)) {
        // Best effort: the chat action must never fail the request.
        const keepChatAction = changed(ABANDON_CHAT_ACTION) ? keepChatActionAbandoned : keepChatActionCancelled;
        void presence
          .run(() => keepChatAction.executeWithOptions({ summary: `"sending video…" in chat ${chatId}` }, [{ chatId, action: 'upload_video' }]))
          .catch(() => undefined);
      }

      if (pending?.kind === 'follower') {
        const waited = await waitForIdentical({ generationId, req, progress, progressMessageId, presence }, pending);
        if ('status' in waited) return waited;
        leading = waited;
      }

      const image = await prepareImage.executeWithOptions({ summary: `fetch and resize the photo from chat ${chatId}` }, [{ fileId: req.fileId }]);
      if (changed(WAVESPEED_ADMISSION)) {
        progress.phase = 'queued';
        const admitted = await permit.acquire(async (place) => {
          toldPlace = true;
          progress.queuePosition = place.position;
          await showProgress(queuedText(place));
        });
        progress.queuePosition = undefined;
        if (admitted === 'busy') throw new VideoFailed('busy');
        if (admitted === 'timed-out') throw new VideoFailed('line-timeout');
      }
      let predictionId: string;
      try {
        ({ predictionId } = await submitGeneration.executeWithOptions({ summary: `submit to WaveSpeed (${req.model})` }, [
          { model: req.model, imageUrl: image.imageUrl, prompt: req.prompt },
        ]));
      } catch (err) {
        if (activityFailureType(err) !== ErrorType.WavespeedSubmitAmbiguous || !changed(AMBIGUOUS_SUBMIT)) throw err;
        progress.phase = 'submitted';
        unconfirmed = true;
        waitDeadlineAt = Date.now() + req.deadlineMs;
        predictionId = await adoptFromCallback(viaCallback, waitDeadlineAt);
        unconfirmed = false;
      }
      progress.phase = 'submitted';
      progress.predictionId = predictionId;
      const cacheHit = leading ? { cacheHit: false } : {};
      await recording().recordPhase({ generationId, status: 'submitted', predictionId, imageMd5: image.md5, imageBytes: image.bytes, progressMessageId, ...cacheHit });
      if (toldPlace || !changed(EDIT_ONLY_WHEN_CHANGED)) await showProgress(PROGRESS.submitted);

      waitDeadlineAt ??= Date.now() + req.deadlineMs;
      const result = await awaitResult(predictionId, req, progress, results, waitDeadlineAt, async () => {
        await recording().recordPhase({ generationId, status: 'processing' });
        // Unless it showed a place in line, the progress message still reads "Making your video…".
        if (toldPlace || !changed(PROCESSING_EDIT_ONLY_WHEN_CHANGED)) await showProgress(PROGRESS.processing);
      });
      progress.resultVia ??= viaCallback.has(predictionId) ? 'callback' : 'poll';
      // The prediction has ended at WaveSpeed: its slot is free for the next request,
      // given back while the video goes out (awaited below, and on every other way out).
      const released = permit.release();
      const releaseBeside = changed(RELEASE_BESIDE_VIDEO);
      if (!releaseBeside) await released;
      if (result.status !== 'completed') throw new VideoFailed('generation-failed', result.error ?? result.status);
      if (result.nsfw) throw new VideoFailed('nsfw');
      const videoUrl = result.outputs[0];
      if (!videoUrl) throw new VideoFailed('generation-failed', 'no video in the result');

      progress.phase = 'sending';
      // The chat already shows "sending video…"; editing the progress message first
      // only delayed the video by a round trip.
      if (!changed(SEND_VIDEO_AT_ONCE)) await showProgress(PROGRESS.sending);
      let sent: { fileId?: string; deliveredBy: NonNullable<VideoOutcome['deliveredBy']> };
      try {
        sent = await sendVideo.executeWithOptions({ summary: `send the video to chat ${chatId}` }, [
          { chatId, videoUrl, caption: req.prompt.slice(0, 1000), replyToMessageId: req.messageId, generationId },
        ]);
      } catch (err) {
        if (activityFailureType(err) !== ErrorType.TelegramAmbiguousSend || !changed(AMBIGUOUS_SEND)) throw err;
        sent = { deliveredBy: 'unconfirmed' };
      }
      presence.cancel();
      // Only when patched: an await here would reorder older histories' commands after the cancel.
      if (releaseBeside) await released;
      const delivered = sent;
      const messageId = progressMessageId;
      const afterDelivery = async (): Promise<void> => {
        if (leading) {
          const identity = leading;
          leading = undefined;
          // Only a video Telegram holds can be resent; a link is not.
          if (delivered.fileId) await recording().storeResult({ ...identity, generationId, telegramFileId: delivered.fileId, videoUrl });
          else await recording().releaseClaim({ ...identity, generationId });
        }
        progress.phase = 'completed';
        await recording().recordOutcome({
          generationId,
          status: 'completed',
          videoUrl,
          telegramFileId: delivered.fileId,
          deliveredBy: delivered.deliveredBy,
          inferenceMs: result.inferenceMs,
        });
        const unconfirmedVideo = delivered.deliveredBy === 'unconfirmed';
        const text = unconfirmedVideo ? unconfirmedDeliveryText(videoUrl) : PROGRESS.completed;
        if (messageId !== undefined) await updateProgress({ chatId, messageId, text });
        // No progress message to carry the link: a reply does; a video that surely arrived needs no word.
        else if (unconfirmedVideo) await tellUser(req, text, undefined);
      };
      if (changed(DELIVERED_STAYS_DELIVERED)) {
        // The user has the video: nothing after it may say otherwise, and a cancel now changes nothing.
        await CancellationScope.nonCancellable(async () => {
          try {
            await afterDelivery();
          } catch (err) {
            progress.phase = 'completed';
            log.warn('A step after delivering the video failed; the request stays completed', { generationId, error: String(err) });
          }
        });
      } else {
        await afterDelivery();
      }
      return {
        status: 'completed',
        predictionId,
        telegramFileId: sent.fileId,
        deliveredBy: sent.deliveredBy,
        resultVia: progress.resultVia,
      } satisfies VideoOutcome;
    });
    markOutcome(outcome.status, changed);
    return outcome;
  } catch (err) {
    const { reason, detail } = explain(err);
    progress.phase = reason === 'cancelled' ? 'cancelled' : 'failed';
    presence.cancel();
    const claim = leading;
    await CancellationScope.nonCancellable(async () => {
      try {
        // Another request identical to this one takes over the generation.
        if (claim) await recording().releaseClaim({ ...claim, generationId });
        await finishUnsuccessfully(req, generationId, progressMessageId, reason, detail);
      } finally {
        // WaveSpeed cannot be told to stop: a prediction still running keeps its slot until it ends.
        const predictionId = progress.predictionId;
        const running = predictionId !== undefined && reason !== 'deadline' && !results.has(predictionId);
        const until = waitDeadlineAt ?? Date.now() + req.deadlineMs;
        // Cancelled while a submission is unconfirmed: a prediction may be running under an unknown id until the deadline.
        const unknown = unconfirmed && reason !== 'unconfirmed';
        await permit.release(running ? { predictionId, until } : unknown ? { predictionId: UNKNOWN_PREDICTION, until } : undefined);
      }
    });
    markOutcome(reason === 'cancelled' ? 'cancelled' : 'failed', changed);
    if (reason === 'internal') {
      throw ApplicationFailure.create({ type: 'VideoGenerationError', message: detail ?? 'internal error', nonRetryable: true, cause: err as Error });
    }
    return { status: reason === 'cancelled' ? 'cancelled' : 'failed', reason, detail, predictionId: progress.predictionId, resultVia: progress.resultVia };
  }
}
