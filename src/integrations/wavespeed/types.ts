/** Prediction states WaveSpeed reports; the last four are terminal. */
export type PredictionStatus = 'created' | 'processing' | 'completed' | 'failed' | 'cancelled' | 'timeout';

export const TERMINAL_STATUSES: ReadonlySet<PredictionStatus> = new Set(['completed', 'failed', 'cancelled', 'timeout']);

/** Input for WaveSpeed's image-to-video models (Wan 2.2 shape). */
export interface ImageToVideoInput {
  image: string;
  prompt: string;
  negative_prompt?: string;
  size?: string;
  duration?: 5 | 8;
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
