/** Prediction states WaveSpeed reports (src/domain/prediction.ts). */
export type { PredictionStatus } from '../../domain/prediction.js';
import type { PredictionStatus } from '../../domain/prediction.js';

/** Input for WaveSpeed's image-to-video models (Wan 2.2 shape). */
export interface ImageToVideoInput {
  image: string;
  prompt: string;
  negative_prompt?: string;
  size?: string;
  /** Seconds: Wan 2.2 takes 5 or 8, Kling 5 or 10 (src/domain/video-settings.ts). */
  duration?: number;
  seed?: number;
}

/** What Telewan needs of a prediction, from polling or a webhook alike. */
export interface PredictionResult {
  id: string;
  status: PredictionStatus;
  outputs: string[];
  error?: string;
  nsfw: boolean;
  inferenceMs?: number;
}
