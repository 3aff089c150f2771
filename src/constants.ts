/**
 * Workflow type names: the one place they are spelled (each is the name of the
 * function src/workflows/index.ts exports; test/workflows/workflow-types.test.ts checks it).
 */
export const WORKFLOW_TYPE = {
  video: 'imageToVideo',
  command: 'botCommand',
  distribution: 'distributeSummary',
  admission: 'wavespeedAdmission',
} as const;
export type WorkflowTypeName = (typeof WORKFLOW_TYPE)[keyof typeof WORKFLOW_TYPE];

/** Task queue names: the one place they are spelled. */
export const TASK_QUEUES = {
  /** Image-to-video workflows, bot command workflows and their quick activities (records, messages). */
  media: 'telewan-media',
  /** The slow activities of videos (photo download and resize, video upload), apart so they cannot starve the quick ones. */
  transfer: 'telewan-transfer',
  /** Summary distributions and their sends, apart so a broadcast never delays a video. */
  broadcast: 'telewan-broadcast',
  /**
   * The fleet's one admission workflow (the WaveSpeed cap's line, the presence
   * loop) and its activities, apart so its grants never wait behind thousands of
   * video workflows' tasks.
   */
  admission: 'telewan-admission',
} as const;

export type TaskQueue = (typeof TASK_QUEUES)[keyof typeof TASK_QUEUES];

/** WaveSpeed image-to-video models Telewan offers. The first is the default. */
export const WAVESPEED_MODELS = [
  'wavespeed-ai/wan-2.2/i2v-480p',
  'wavespeed-ai/wan-2.2/i2v-720p',
  'kwaivgi/kling-v2.1-i2v-pro',
] as const;

export type WavespeedModel = (typeof WAVESPEED_MODELS)[number];

/** WaveSpeed's Bronze tier (the default account) runs 2 tasks at once; Silver 300, Gold 3,000, Ultra 10,000. */
export const DEFAULT_WAVESPEED_MAX_CONCURRENCY = 2;

/**
 * The line for a WaveSpeed slot. At Bronze's 2 slots and about a minute a video,
 * 100 waiting requests is close to an hour of work: more would only wait to be
 * dropped. Nobody waits longer than 30 minutes.
 */
export const WAVESPEED_LINE_DEFAULTS = {
  maxQueued: 100,
  maxWaitMs: 30 * 60 * 1000,
  /** A waiting user's place is edited at most this often: each edit is a Bot API call, and a long line moves often. */
  placeEveryMs: 15_000,
} as const;

/**
 * Polling WaveSpeed for a result whose webhook has not come: first after 90 s
 * (most videos are done, their webhook in, before that), then ×1.5 up to every
 * 2 minutes. A lost webhook costs at most that much delay.
 */
export const POLLING_DEFAULTS = {
  initialMs: 90_000,
  maxMs: 120_000,
} as const;

/**
 * Slots per worker process and task queue (see src/temporal/worker/worker-tuning.ts
 * for the reasoning). Requests waiting hold none of them.
 */
export const WORKER_SLOT_DEFAULTS = {
  mediaActivities: 100,
  transferActivities: 8,
  broadcastActivities: 32,
  workflowTasks: 40,
  cachedWorkflows: 4_000,
} as const;

/**
 * Database connections per process (worker or gateway): pg's own default. At
 * 2,000 requests in flight (docs/PERFORMANCE.md §5, runs M and O) a statement
 * waited 0.3 ms for one of 25 connections on average and 0.6 ms for one of 10
 * (0.1 % of them over 100 ms): the pool is not what a request waits for, and 10
 * a process leaves PostgreSQL's default `max_connections` of 100 for many
 * workers and gateways (and for a test suite running two systems at once).
 */
export const DATABASE_POOL_SIZE = 10;

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
 * How long a Bot API call that sends a video may take. By URL, Telegram
 * fetches up to 20 MB from the video's host before it answers, which a slow
 * host stretches to minutes; an upload sends up to 50 MB. Other calls keep the
 * client's short timeout.
 */
export const TELEGRAM_MEDIA_TIMEOUT_SECONDS = 180;

/**
 * How long a message send (`sendMessage`, not a broadcast) waits for Telegram's
 * answer. With the budget's longest wait for a slot (10 s) it stays under the
 * 30 s its activity attempt has, so a slow answer ends as the client's
 * ambiguous failure, never as a Temporal timeout retried blindly.
 */
export const TELEGRAM_SEND_TIMEOUT_SECONDS = 15;

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

/** How long a video request waits for WaveSpeed after submitting (`VIDEO_DEADLINE_MS`). */
export const VIDEO_DEADLINE_DEFAULT_MS = 15 * 60 * 1000;

/** Video length WaveSpeed makes when a submission names none (Telewan's submissions name none). */
export const WAVESPEED_DEFAULT_DURATION_SECONDS = 5;

/** Per-user limits on video generations, unless configured otherwise. */
export const USER_LIMIT_DEFAULTS = {
  maxActive: 2,
  dailyQuota: 20,
  excessPolicy: 'refuse',
} as const;

/** Most admission workflows the fleet's WaveSpeed cap is split between. */
export const MAX_ADMISSION_SHARDS = 8;
/** Slots of the cap each admission shard holds at least (`WAVESPEED_ADMISSION_SHARD_SLOTS`): a cap below twice this has one workflow and one line. */
export const ADMISSION_SLOTS_PER_SHARD = 300;
