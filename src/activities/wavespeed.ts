import { Context } from '@temporalio/activity';
import { claimSubmission, recordSubmissionAccepted, recordSubmissionNotSent } from '../db/submissions.js';
import {
  WavespeedAuthError,
  WavespeedRateLimitError,
  WavespeedRejectedError,
  WavespeedSubmitAmbiguousError,
  WavespeedUnavailableError,
} from '../errors.js';
import type { ImageToVideoInput, PredictionResult } from '../integrations/wavespeed/types.js';
import type { ActivityDeps } from './deps.js';
import type { UserImages } from './images.js';
import { WAVESPEED_DURATIONS, isWavespeedModel } from '../domain/video-settings.js';

/** Everything submitted besides the image and the prompt, whatever the request's settings. */
export const GENERATION_PARAMS = { seed: -1 } as const satisfies Omit<ImageToVideoInput, 'image' | 'prompt'>;

/**
 * Everything submitted besides the image and the prompt; part of the result cache
 * key. The model's default length is not named, so a default request's key is
 * what it was before lengths could be chosen.
 */
export function generationParams(model: string, durationSeconds: number | undefined, seed?: number): Omit<ImageToVideoInput, 'image' | 'prompt'> {
  const lengths = isWavespeedModel(model) ? WAVESPEED_DURATIONS[model] : [];
  const duration = durationSeconds === undefined || durationSeconds === lengths[0] ? {} : { duration: durationSeconds };
  // 🔁 Again's own seed: another video of the same photo and prompt, so another key.
  const seeded = seed === undefined ? {} : { seed };
  return Object.keys(duration).length === 0 && seed === undefined ? GENERATION_PARAMS : { ...GENERATION_PARAMS, ...duration, ...seeded };
}

export interface PreparedImage {
  /** Where WaveSpeed fetches the image: its own media storage, never a Telegram URL. */
  imageUrl: string;
  md5: string;
  bytes: number;
  width: number;
  height: number;
}

/**
 * The URL WaveSpeed calls back; it routes the result to this workflow, and its
 * token (an HMAC of the workflow id, no secret) lets the gateway refuse the
 * callback when it arrives for any other workflow.
 */
export function wavespeedWebhookUrl(publicUrl: string, workflowId: string, token: string): string {
  return `${publicUrl.replace(/\/$/, '')}/webhooks/wavespeed/${encodeURIComponent(workflowId)}?t=${encodeURIComponent(token)}`;
}

/** How often `submitGeneration` heartbeats while WaveSpeed has its POST (the workflow's heartbeat timeout is 10 s). */
export const SUBMIT_HEARTBEAT_MS = 2_000;

/** Failures of a submit that WaveSpeed answered, or could not be reached for, without creating a task. */
function createdNothing(err: unknown): boolean {
  return (
    err instanceof WavespeedUnavailableError ||
    err instanceof WavespeedRateLimitError ||
    err instanceof WavespeedAuthError ||
    err instanceof WavespeedRejectedError
  );
}

export function createWavespeedActivities({ images, wavespeed, config, prisma }: Pick<ActivityDeps, 'wavespeed' | 'config' | 'prisma'> & { images: UserImages }) {
  return {
    /**
     * Fetches the user's photo from Telegram, normalises it (JPEG, PNG or WebP
     * of at most 40 MP, else a non-retryable `InvalidImageError`) and uploads it
     * to WaveSpeed's media storage, so no Telegram URL (which holds the bot
     * token) ever leaves Telewan. The photo `fingerprintImage` normalised on this
     * worker is reused, not downloaded and decoded again.
     */
    async prepareImage(input: { fileId: string }): Promise<PreparedImage> {
      const image = await images.normalised(input.fileId);
      const { downloadUrl } = await wavespeed.uploadMedia(image.jpeg, `${image.md5}.jpg`, 'image/jpeg');
      return { imageUrl: downloadUrl, md5: image.md5, bytes: image.jpeg.length, width: image.width, height: image.height };
    },

    /**
     * Submits the generation with a webhook that routes back to the calling
     * workflow, at most once per activity of a run: a marker written before the
     * POST (see {@link claimSubmission}) tells a retry that an earlier attempt
     * may have sent it (its worker killed, its completion lost). Such a retry
     * sends nothing: it returns the prediction that attempt recorded, or fails
     * with the non-retryable `WavespeedSubmitAmbiguousError`, and the workflow
     * adopts the prediction WaveSpeed's webhook reports. A failure that surely
     * created nothing (no connection, 429, 401/403, a 4xx) hands the marker back
     * before it is thrown, so its retry submits. Heartbeats while it waits for
     * WaveSpeed, so a dead attempt is retried within the heartbeat timeout.
     */
    async submitGeneration(input: { model: string; imageUrl: string; prompt: string; durationSeconds?: number; seed?: number }): Promise<{ predictionId: string }> {
      const ctx = Context.current();
      const { workflowExecution, activityId, attempt } = ctx.info;
      if (!workflowExecution?.workflowId) throw new Error('submitGeneration must run inside a workflow');
      const { workflowId, runId } = workflowExecution;
      const key = { workflowId, runId, activityId };
      // From the start: a database slow to answer must not look like a dead attempt.
      const beat = setInterval(() => ctx.heartbeat(), SUBMIT_HEARTBEAT_MS);
      try {
        // A failure here is retried by policy: nothing was sent.
        const claim = await claimSubmission(prisma, key, attempt);
        if (claim.kind === 'accepted') return { predictionId: claim.predictionId };
        if (claim.kind === 'maybe-sent') {
          throw new WavespeedSubmitAmbiguousError(input.model, `an earlier attempt (before attempt ${attempt}) may have submitted it; not sent again`);
        }
        let prediction: PredictionResult;
        try {
          prediction = await wavespeed.submit(
            input.model,
            { ...generationParams(input.model, input.durationSeconds, input.seed), image: input.imageUrl, prompt: input.prompt },
            wavespeedWebhookUrl(config.publicUrl, workflowId, wavespeed.callbackTokens.sign(workflowId)),
          );
        } catch (err) {
          if (createdNothing(err)) {
            // If this write fails the marker stays `sending` and the retry fails as ambiguous: a video lost, never money.
            await recordSubmissionNotSent(prisma, key, attempt).catch((recordErr: unknown) => {
              ctx.log.warn('Could not hand back the submission marker', { workflowId, error: String(recordErr) });
            });
          }
          throw err;
        }
        // If this write fails the answer still reaches the workflow; only a retry after a lost completion then fails as ambiguous.
        await recordSubmissionAccepted(prisma, key, prediction.id).catch((recordErr: unknown) => {
          ctx.log.warn('Could not record the submitted prediction', { workflowId, predictionId: prediction.id, error: String(recordErr) });
        });
        return { predictionId: prediction.id };
      } finally {
        clearInterval(beat);
      }
    },

    /** Reads the prediction's state: the fallback for a webhook that never came. */
    async pollPrediction(input: { predictionId: string }): Promise<PredictionResult> {
      return wavespeed.getResult(input.predictionId);
    },
  };
}
