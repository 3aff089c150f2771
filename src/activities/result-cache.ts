import * as cache from '../db/result-cache.js';
import type { ActivityDeps } from './deps.js';
import type { UserImages } from './images.js';
import { generationParams } from './wavespeed.js';

/** The normalised image's fingerprint; nothing is uploaded. */
export interface ImageFingerprint {
  md5: string;
  bytes: number;
  width: number;
  height: number;
}

/** What identifies a request's result: the image fingerprint, the prompt and the model. */
export interface ResultIdentity {
  imageMd5: string;
  prompt: string;
  model: string;
  /** The length asked for; a video of another length is another result. */
  durationSeconds?: number;
  /** 🔁 Again's seed: another video of the same request. */
  seed?: number;
}

export function createResultCacheActivities({ prisma, images }: Pick<ActivityDeps, 'prisma'> & { images: UserImages }) {
  const keyOf = (input: ResultIdentity) => cache.resultCacheKey({ ...input, params: generationParams(input.model, input.durationSeconds, input.seed) });
  return {
    /**
     * Downloads the user's photo and normalises it exactly as `prepareImage` does,
     * returning the MD5 the result cache is keyed by. No WaveSpeed call. A picture
     * that is not a JPEG, PNG or WebP, or over 40 MP, fails non-retryably
     * (`InvalidImageError`) before it is decoded.
     */
    async fingerprintImage(input: { fileId: string }): Promise<ImageFingerprint> {
      const image = await images.normalised(input.fileId);
      return { md5: image.md5, bytes: image.jpeg.length, width: image.width, height: image.height };
    },

    /**
     * Looks the request up in the result cache and claims it when absent: a `hit`
     * carries the stored Telegram file_id, `leader` means this generation must
     * produce the video, `follower` that another one is producing it. Idempotent
     * for the leader; a claim older than `leaseMs` is taken over.
     */
    async claimResult(input: ResultIdentity & { generationId: string; leaseMs: number }): Promise<cache.ClaimResult & { key: string }> {
      const key = keyOf(input);
      const claim = await cache.claimResult(prisma, { ...input, key, params: generationParams(input.model, input.durationSeconds, input.seed) });
      return { ...claim, key };
    },

    /** Stores a delivered video for identical requests, ending this generation's claim. */
    async storeResult(input: ResultIdentity & { generationId: string; telegramFileId: string; videoUrl?: string }): Promise<void> {
      await cache.storeResult(prisma, { ...input, key: keyOf(input), params: generationParams(input.model, input.durationSeconds, input.seed) });
    },

    /** Gives up this generation's claim after a failure, so a waiting request generates instead. */
    async releaseClaim(input: ResultIdentity & { generationId: string }): Promise<void> {
      await cache.releaseClaim(prisma, { key: keyOf(input), generationId: input.generationId });
    },

    /** Forgets a stored video whose file_id Telegram refused. */
    async forgetResult(input: ResultIdentity & { telegramFileId: string }): Promise<void> {
      await cache.forgetResult(prisma, { key: keyOf(input), telegramFileId: input.telegramFileId });
    },
  };
}
