import { ApplicationFailure, CancellationScope, log, proxyActivities, setHandler, setWorkflowOptions, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import { MESSAGING, SENDING_VIDEO, SUBMITTING } from '../activity-options.js';
import { recording } from './recording.js';
import { UNKNOWN_PREDICTION } from '../admission/messages.js';
import { ErrorType } from '../../errors.js';
import { activityFailureType } from '../failures.js';
import { TASK_QUEUES } from '../../constants.js';
import type { PredictionResult } from '../../integrations/wavespeed/types.js';
import type { ResultIdentity } from '../../activities/result-cache.js';
import { serveFromCache, waitForIdentical } from './result-cache.js';
import { markOutcome } from '../outcome.js';
import { WavespeedPermit } from './permit.js';
import { admitUnderLimits } from './user-limits.js';
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
import { repeatButtons } from '../../i18n/catalog.js';

export * from './messages.js';

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
export async function imageToVideo(input: VideoRequest): Promise<VideoOutcome> {
  const generationId = workflowInfo().workflowId;
  const chatId = input.user.chatId;
  const progress: VideoProgress = { phase: 'requested', polls: 0 };
  const results = new Map<string, PredictionResult>();
  /** Results WaveSpeed's webhook brought, so a result is credited to the callback only when it is this request's. */
  const viaCallback = new Set<string>();
  const work = new CancellationScope();
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

  const { t, ended, settings } = await admitUnderLimits(input, generationId, progress, work);
  /** The request as it is made: with the model and length it was recorded with. */
  const req: VideoRequest = { ...input, ...settings };
  if (ended) {
    markOutcome(ended.status, { patchedOnly: false });
    return ended;
  }

  try {
    const outcome = await work.run(async () => {
      progress.phase = 'preparing';
      // A cache hit sends only the video: a progress message first would also spend the chat's 1 message/s.
      // An identical request's video is resent by its file_id; a request identical to one in progress waits for it.
      const pending = await serveFromCache({ generationId, req, t, progress });
      if ('status' in pending) return pending;
      if (pending.kind === 'leader') leading = pending.identity;
      // Sent once: its id is recorded on the generation as Telegram answers (a retry after a lost completion finds it).
      try {
        progressMessageId = (
          await sendMessage.executeWithOptions({ summary: `progress message to chat ${chatId}` }, [
            { chatId, text: t.progress.received, replyToMessageId: req.messageId, progressOf: generationId },
          ])
        ).messageId;
      } catch (err) {
        if (activityFailureType(err) !== ErrorType.TelegramAmbiguousSend) throw err;
        // Most likely in the chat, under an id we do not know: the request goes on with nothing to edit.
        log.warn('Telegram lost the answer to the progress message; going on without it', { generationId });
      }
      /** Edits the progress message, when there is one. */
      const showProgress = async (text: string): Promise<void> => {
        if (progressMessageId !== undefined) await updateProgress({ chatId, messageId: progressMessageId, text });
      };
      if (pending.kind === 'follower') {
        const waited = await waitForIdentical({ generationId, req, t, progress, progressMessageId }, pending);
        if ('status' in waited) return waited;
        leading = waited;
      }

      const image = await prepareImage.executeWithOptions({ summary: `fetch and resize the photo from chat ${chatId}` }, [{ fileId: req.fileId }]);
      // A permit of the fleet-wide WaveSpeed cap is held from submission until the prediction ends;
      // the admission workflow shows "sending video…" in every holder's chat. Waiting for it is
      // workflow state: no worker slot is held.
      progress.phase = 'queued';
      const admitted = await permit.acquire(async (place) => {
        toldPlace = true;
        progress.queuePosition = place.position;
        await showProgress(t.queued(place));
      });
      progress.queuePosition = undefined;
      if (admitted === 'busy') throw new VideoFailed('busy');
      if (admitted === 'timed-out') throw new VideoFailed('line-timeout');
      let predictionId: string;
      try {
        ({ predictionId } = await submitGeneration.executeWithOptions({ summary: `submit to WaveSpeed (${req.model})` }, [
          {
            model: req.model,
            imageUrl: image.imageUrl,
            prompt: req.prompt,
            ...(req.durationSeconds !== undefined ? { durationSeconds: req.durationSeconds } : {}),
            ...(req.seed !== undefined ? { seed: req.seed } : {}),
          },
        ]));
      } catch (err) {
        // Not sent again (WaveSpeed has no idempotency key): the request adopts the prediction its
        // webhook reports, holding its permit meanwhile, or ends `unconfirmed` at the deadline.
        if (activityFailureType(err) !== ErrorType.WavespeedSubmitAmbiguous) throw err;
        progress.phase = 'submitted';
        unconfirmed = true;
        waitDeadlineAt = Date.now() + req.deadlineMs;
        predictionId = await adoptFromCallback(viaCallback, waitDeadlineAt);
        unconfirmed = false;
      }
      progress.phase = 'submitted';
      progress.predictionId = predictionId;
      const cacheHit = leading ? { cacheHit: false } : {};
      await recording.recordPhase({ generationId, status: 'submitted', predictionId, imageMd5: image.md5, imageBytes: image.bytes, progressMessageId, ...cacheHit });
      // Its first text already says the video is being made, unless it showed a place in line: no edit,
      // one Bot API call less per request out of the bot's 30 a second.
      if (toldPlace) await showProgress(t.progress.submitted);

      waitDeadlineAt ??= Date.now() + req.deadlineMs;
      const result = await awaitResult(predictionId, req, progress, results, waitDeadlineAt, async () => {
        await recording.recordPhase({ generationId, status: 'processing' });
        // Unless it showed a place in line, the progress message still reads "Making your video…".
        if (toldPlace) await showProgress(t.progress.processing);
      });
      progress.resultVia ??= viaCallback.has(predictionId) ? 'callback' : 'poll';
      // The prediction has ended at WaveSpeed: its slot is free for the next request,
      // given back while the video goes out (awaited below, and on every other way out).
      const released = permit.release();
      if (result.status !== 'completed') throw new VideoFailed('generation-failed', result.error ?? result.status);
      if (result.nsfw) throw new VideoFailed('nsfw');
      const videoUrl = result.outputs[0];
      if (!videoUrl) throw new VideoFailed('generation-failed', 'no video in the result');

      progress.phase = 'sending';
      // The chat already shows "sending video…": no edit of the progress message first.
      let sent: { fileId?: string; deliveredBy: NonNullable<VideoOutcome['deliveredBy']> };
      try {
        sent = await sendVideo.executeWithOptions({ summary: `send the video to chat ${chatId}` }, [
          { chatId, videoUrl, caption: req.prompt.slice(0, 1000), replyToMessageId: req.messageId, generationId, buttons: repeatButtons(t, generationId), tooLargeText: t.videoTooLarge(videoUrl) },
        ]);
      } catch (err) {
        // Telegram may have delivered it: not sent again; the progress message gives its link in case it did not.
        if (activityFailureType(err) !== ErrorType.TelegramAmbiguousSend) throw err;
        sent = { deliveredBy: 'unconfirmed' };
      }
      await released;
      const delivered = sent;
      const messageId = progressMessageId;
      const afterDelivery = async (): Promise<void> => {
        if (leading) {
          const identity = leading;
          leading = undefined;
          // Only a video Telegram holds can be resent; a link is not.
          if (delivered.fileId) await recording.storeResult({ ...identity, generationId, telegramFileId: delivered.fileId, videoUrl });
          else await recording.releaseClaim({ ...identity, generationId });
        }
        progress.phase = 'completed';
        await recording.recordOutcome({
          generationId,
          status: 'completed',
          videoUrl,
          telegramFileId: delivered.fileId,
          deliveredBy: delivered.deliveredBy,
          inferenceMs: result.inferenceMs,
        });
        const unconfirmedVideo = delivered.deliveredBy === 'unconfirmed';
        const text = unconfirmedVideo ? t.unconfirmedDelivery(videoUrl) : t.progress.completed;
        if (messageId !== undefined) await updateProgress({ chatId, messageId, text });
        // No progress message to carry the link: a reply does; a video that surely arrived needs no word.
        else if (unconfirmedVideo) await tellUser(req, text, undefined);
      };
      // The user has the video: nothing after it may say otherwise, and a cancel now changes nothing.
      await CancellationScope.nonCancellable(async () => {
        try {
          await afterDelivery();
        } catch (err) {
          progress.phase = 'completed';
          log.warn('A step after delivering the video failed; the request stays completed', { generationId, error: String(err) });
        }
      });
      return {
        status: 'completed',
        predictionId,
        telegramFileId: sent.fileId,
        deliveredBy: sent.deliveredBy,
        resultVia: progress.resultVia,
      } satisfies VideoOutcome;
    });
    markOutcome(outcome.status, { patchedOnly: false });
    return outcome;
  } catch (err) {
    const { reason, detail } = explain(err);
    progress.phase = reason === 'cancelled' ? 'cancelled' : 'failed';
    const claim = leading;
    await CancellationScope.nonCancellable(async () => {
      try {
        // Another request identical to this one takes over the generation.
        if (claim) await recording.releaseClaim({ ...claim, generationId });
        await finishUnsuccessfully(t, req, generationId, progressMessageId, reason, detail);
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
    markOutcome(reason === 'cancelled' ? 'cancelled' : 'failed', { patchedOnly: false });
    if (reason === 'internal') {
      throw ApplicationFailure.create({ type: 'VideoGenerationError', message: detail ?? 'internal error', nonRetryable: true, cause: err as Error });
    }
    return { status: reason === 'cancelled' ? 'cancelled' : 'failed', reason, detail, predictionId: progress.predictionId, resultVia: progress.resultVia };
  }
}

/**
 * Pinned (Worker Versioning): a request runs to its end on the build that
 * started it, so a change to this workflow needs no `patched()` branch; the
 * deployment sends new requests to the current build (src/temporal/worker/deployment.ts).
 */
setWorkflowOptions({ versioningBehavior: 'PINNED' }, imageToVideo);
