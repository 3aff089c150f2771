import { WAVESPEED_DEFAULT_DURATION_SECONDS, WAVESPEED_MODELS, type WavespeedModel } from '../constants.js';

/** The video lengths each model Telewan offers accepts, in seconds (WaveSpeed's model pages; the first is its default). */
export const WAVESPEED_DURATIONS: Readonly<Record<WavespeedModel, readonly number[]>> = {
  'wavespeed-ai/wan-2.2/i2v-480p': [5, 8],
  'wavespeed-ai/wan-2.2/i2v-720p': [5, 8],
  'kwaivgi/kling-v2.1-i2v-pro': [5, 10],
};

/** Short names for the settings keyboard and the caption's short form. */
export const MODEL_LABELS: Readonly<Record<WavespeedModel, string>> = {
  'wavespeed-ai/wan-2.2/i2v-480p': 'Wan 2.2 480p',
  'wavespeed-ai/wan-2.2/i2v-720p': 'Wan 2.2 720p',
  'kwaivgi/kling-v2.1-i2v-pro': 'Kling 2.1 Pro',
};

export function isWavespeedModel(value: unknown): value is WavespeedModel {
  return typeof value === 'string' && (WAVESPEED_MODELS as readonly string[]).includes(value);
}

/** What a request is made with: a model and a length it accepts. */
export interface VideoSettings {
  model: string;
  durationSeconds: number;
}

/**
 * The settings a request is made with: the user's stored choice where it is one
 * Telewan offers, else the configured model; their length where that model
 * accepts it, else the model's default. A stored choice that no longer fits
 * (a model withdrawn, a length the new model lacks) falls back, never fails.
 */
export function effectiveSettings(stored: { videoModel?: string | null; videoDuration?: number | null }, configuredModel: string): VideoSettings {
  const model = isWavespeedModel(stored.videoModel) ? stored.videoModel : configuredModel;
  const lengths = isWavespeedModel(model) ? WAVESPEED_DURATIONS[model] : [WAVESPEED_DEFAULT_DURATION_SECONDS];
  const durationSeconds = stored.videoDuration != null && lengths.includes(stored.videoDuration) ? stored.videoDuration : (lengths[0] ?? WAVESPEED_DEFAULT_DURATION_SECONDS);
  return { model, durationSeconds };
}
