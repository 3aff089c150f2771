/** Task queue names: the one place they are spelled. */
export const TASK_QUEUES = {
  /** Image-to-video workflows, bot command workflows and their activities. */
  media: 'telewan-media',
  /** Summary distributions and their sends, apart so a broadcast never delays a video. */
  broadcast: 'telewan-broadcast',
} as const;

export type TaskQueue = (typeof TASK_QUEUES)[keyof typeof TASK_QUEUES];

/** WaveSpeed image-to-video models Telewan offers. The first is the default. */
export const WAVESPEED_MODELS = [
  'wavespeed-ai/wan-2.2/i2v-480p',
  'wavespeed-ai/wan-2.2/i2v-720p',
  'kwaivgi/kling-v2.1-i2v-pro',
] as const;

export type WavespeedModel = (typeof WAVESPEED_MODELS)[number];

/** WaveSpeed's lowest tier runs 3 tasks at once (higher tiers 100 and 2,000). */
export const DEFAULT_WAVESPEED_MAX_CONCURRENCY = 3;

/** Telegram's limits on what a bot may send. */
export const TELEGRAM_LIMITS = {
  /** Largest video Telegram fetches itself from a URL. */
  videoByUrlBytes: 20 * 1024 * 1024,
  /** Largest video a bot may upload as multipart. */
  videoUploadBytes: 50 * 1024 * 1024,
  /** Largest file a bot may download with getFile. */
  downloadBytes: 20 * 1024 * 1024,
} as const;

/**
 * WaveSpeed's list prices in US dollars per video, by model and video length in
 * seconds (wavespeed.ai model pages, November 2026). `WAVESPEED_PRICES`
 * overrides them. Resolution is part of the model (480p, 720p, Kling's 1080p).
 */
export const WAVESPEED_LIST_PRICES: Readonly<Record<WavespeedModel, Readonly<Record<number, number>>>> = {
  'wavespeed-ai/wan-2.2/i2v-480p': { 5: 0.15, 8: 0.24 },
  'wavespeed-ai/wan-2.2/i2v-720p': { 5: 0.3, 8: 0.48 },
  'kwaivgi/kling-v2.1-i2v-pro': { 5: 0.45, 10: 0.9 },
};

/** Video length WaveSpeed makes when a submission names none (Telewan's submissions name none). */
export const WAVESPEED_DEFAULT_DURATION_SECONDS = 5;

/** Per-user limits on video generations, unless configured otherwise. */
export const USER_LIMIT_DEFAULTS = {
  maxActive: 2,
  dailyQuota: 20,
  excessPolicy: 'refuse',
} as const;
