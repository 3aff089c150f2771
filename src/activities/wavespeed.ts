import { Context } from '@temporalio/activity';
import type { ImageToVideoInput, PredictionResult } from '../integrations/wavespeed/types.js';
import type { ActivityDeps } from './deps.js';
import type { UserImages } from './images.js';

/** Everything submitted besides the image and the prompt; part of the result cache key. */
export const GENERATION_PARAMS = { seed: -1 } as const satisfies Omit<ImageToVideoInput, 'image' | 'prompt'>;

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

export function createWavespeedActivities({ images, wavespeed, config }: Pick<ActivityDeps, 'wavespeed' | 'config'> & { images: UserImages }) {
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

    /** Submits the generation with a webhook that routes back to the calling workflow. */
    async submitGeneration(input: { model: string; imageUrl: string; prompt: string }): Promise<{ predictionId: string }> {
      const workflowId = Context.current().info.workflowExecution?.workflowId;
      if (!workflowId) throw new Error('submitGeneration must run inside a workflow');
      const prediction = await wavespeed.submit(
        input.model,
        { ...GENERATION_PARAMS, image: input.imageUrl, prompt: input.prompt },
        wavespeedWebhookUrl(config.publicUrl, workflowId, wavespeed.callbackTokens.sign(workflowId)),
      );
      return { predictionId: prediction.id };
    },

    /** Reads the prediction's state: the fallback for a webhook that never came. */
    async pollPrediction(input: { predictionId: string }): Promise<PredictionResult> {
      return wavespeed.getResult(input.predictionId);
    },
  };
}
