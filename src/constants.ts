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
