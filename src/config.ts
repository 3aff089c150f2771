import { z } from 'zod';
import {
  VIDEO_DEADLINE_DEFAULT_MS,
  TELEGRAM_MEDIA_TIMEOUT_SECONDS,
  TELEGRAM_SEND_TIMEOUT_SECONDS,
  ADMISSION_SLOTS_PER_SHARD,
  DATABASE_POOL_SIZE,
  DEFAULT_WAVESPEED_MAX_CONCURRENCY,
  POLLING_DEFAULTS,
  USER_LIMIT_DEFAULTS,
  WAVESPEED_LINE_DEFAULTS,
  WAVESPEED_MODELS,
  WORKER_SLOT_DEFAULTS,
} from './constants.js';
import { wavespeedPricesSetting } from './pricing.js';
import { parseEncryptionKeys, type EncryptionKey } from './temporal/encryption.js';

const secretToken = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,256}$/, 'must be 1-256 characters of A-Z, a-z, 0-9, _ and -');

const durationMs = z.coerce.number().int().positive();

/** A comma-separated list of Telegram chat ids (`123,-100456`); empty is none. */
const chatIdList = z
  .string()
  .regex(/^\s*(-?\d+\s*(,\s*-?\d+\s*)*)?$/, 'must be chat ids separated by commas, e.g. 123,456')
  .transform((text) => text.split(',').map((id) => id.trim()).filter(Boolean).map(Number));

/** `<updates>/<seconds>s` (`20/60s`, the default: at most 20 updates a minute), or `off`. */
const updateRate = z
  .string()
  .regex(/^(off|[1-9]\d*\/[1-9]\d*s)$/, 'must be <updates>/<seconds>s, e.g. 20/60s, or off')
  .default('20/60s')
  .transform((text) => {
    if (text === 'off') return undefined;
    const [limit, seconds] = text.slice(0, -1).split('/').map(Number);
    return { limit: limit!, windowSeconds: seconds! };
  });

/**
 * Where the database is when `DATABASE_URL` is unset. The `postgres` role exists
 * on every PostgreSQL server (initdb creates it on Debian's packages); local
 * connections here use trust auth, so no password. The scripts (`db:deploy`,
 * `npm run dev`) and the tests fall back to it too.
 */
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/telewan';

/**
 * Every environment variable Telewan reads, validated once at boot.
 * `parseConfig` throws a {@link ConfigError} that names each bad variable.
 */
export const configSchema = z.object({
  DATABASE_URL: z.string().url().default(DEFAULT_DATABASE_URL),
  /**
   * Connections each process's pool may open (pg's own default is 10). A worker's
   * statements come from its media activities, the local activities of its workflow
   * tasks and the Telegram budget's statement per Bot API call; keep the sum over all
   * processes under PostgreSQL's `max_connections` (100 by default).
   */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(DATABASE_POOL_SIZE),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_UI_URL: z.string().url().default('http://127.0.0.1:8233'),

  TELEGRAM_BOT_TOKEN: z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'is not a bot token (<id>:<secret>)'),
  TELEGRAM_API_ROOT: z.string().url().default('https://api.telegram.org'),
  /** How long a video send waits for Telegram's answer (Telegram fetches up to 20 MB by URL first). */
  TELEGRAM_MEDIA_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(TELEGRAM_MEDIA_TIMEOUT_SECONDS),
  /**
   * How long a message send waits for Telegram's answer. At most 19: with the budget's 10 s wait for a
   * slot it must end within the 30 s attempt, so a slow answer is the client's ambiguous failure, never a timeout retried blindly.
   */
  TELEGRAM_SEND_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(19).default(TELEGRAM_SEND_TIMEOUT_SECONDS),
  TELEGRAM_WEBHOOK_SECRET: secretToken,

  WAVESPEED_API_KEY: z.string().min(1),
  WAVESPEED_API_ROOT: z.string().url().default('https://api.wavespeed.ai'),
  /** Optional: when unset the gateway asks WaveSpeed for it at boot. */
  WAVESPEED_WEBHOOK_SECRET: z.string().startsWith('whsec_').optional(),
  WAVESPEED_MODEL: z.enum(WAVESPEED_MODELS).default(WAVESPEED_MODELS[0]),
  /** Predictions in flight at WaveSpeed, all workers together: the account tier's limit (Bronze 2, Silver 300, Gold 3,000, Ultra 10,000). */
  WAVESPEED_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_WAVESPEED_MAX_CONCURRENCY),
  /**
   * Slots of the cap each admission workflow holds: a cap of at least twice this is split between
   * `cap / this` workflows (at most 8), each granting its share in arrival order; one line below it.
   */
  WAVESPEED_ADMISSION_SHARD_SLOTS: z.coerce.number().int().min(1).max(10_000).default(ADMISSION_SLOTS_PER_SHARD),
  /** Requests that may wait in line for a WaveSpeed slot; one more is told "very busy, try again in a few minutes". */
  WAVESPEED_QUEUE_MAX: z.coerce.number().int().nonnegative().max(100_000).default(WAVESPEED_LINE_DEFAULTS.maxQueued),
  /** Longest wait in that line; then the request is dropped and the user told so. */
  WAVESPEED_QUEUE_MAX_WAIT_MS: durationMs.default(WAVESPEED_LINE_DEFAULTS.maxWaitMs),

  /** Public https base URL of the gateway, used in the WaveSpeed webhook URL. */
  PUBLIC_URL: z.string().url().default('http://127.0.0.1:8080'),
  GATEWAY_HOST: z.string().default('127.0.0.1'),
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(8080),

  VIDEO_DEADLINE_MS: durationMs.default(VIDEO_DEADLINE_DEFAULT_MS),
  /**
   * First poll of WaveSpeed after submitting, should the webhook not come; the pause grows ×1.5 up to the max.
   * Polling is the fallback: most videos are done, and their webhook in, before the first poll.
   */
  VIDEO_POLL_INITIAL_MS: durationMs.default(POLLING_DEFAULTS.initialMs),
  VIDEO_POLL_MAX_MS: durationMs.default(POLLING_DEFAULTS.maxMs),
  /** Bearer token for the operators' API (`/api/*`). Unset: the API answers 503. */
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),

  /**
   * Fleet-wide ceiling on the bot's ordinary Bot API calls per second: answers, videos,
   * progress edits, chat actions and free broadcasts together, every worker together.
   */
  TELEGRAM_RATE_PER_SECOND: z.coerce.number().positive().max(1000).default(30),
  /**
   * Fleet-wide ceiling on summary messages per second: within TELEGRAM_RATE_PER_SECOND,
   * or with BROADCAST_PAID the paid-broadcast rate that all sends together stay under.
   */
  BROADCAST_RATE_PER_SECOND: z.coerce.number().positive().max(1000).default(25),
  /** Use Telegram's paid broadcasts (`allow_paid_broadcast`, 0.1 Stars a message, up to ~1,000/s). */
  BROADCAST_PAID: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),

  /** Where the worker serves `GET /metrics` (Telewan's and Temporal's); port 0 picks a free one. */
  WORKER_METRICS_HOST: z.string().default('127.0.0.1'),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** Activities at once on the media queue: database writes and Telegram messages, each a short call (see src/temporal/worker/worker-tuning.ts). */
  WORKER_MEDIA_ACTIVITY_SLOTS: z.coerce.number().int().positive().default(WORKER_SLOT_DEFAULTS.mediaActivities),
  /** Activities at once on the transfer queue: photo download and resize, video download and upload. */
  WORKER_TRANSFER_ACTIVITY_SLOTS: z.coerce.number().int().positive().default(WORKER_SLOT_DEFAULTS.transferActivities),
  /** Activities at once on the broadcast queue: summary batches, each mostly waiting for its send slots. */
  WORKER_BROADCAST_ACTIVITY_SLOTS: z.coerce.number().int().positive().default(WORKER_SLOT_DEFAULTS.broadcastActivities),
  /** Workflow tasks at once per queue: CPU work, so about the cores a worker has. */
  WORKER_WORKFLOW_TASK_SLOTS: z.coerce.number().int().positive().default(WORKER_SLOT_DEFAULTS.workflowTasks),
  /** Workflows kept in a worker's cache: at least the requests one worker has in flight, or each event replays its history. */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().nonnegative().default(WORKER_SLOT_DEFAULTS.cachedWorkflows),
  /**
   * Worker Versioning (docs/operations.md, "Deploying a new build"): `on` registers the
   * worker as a version of WORKER_DEPLOYMENT_NAME, so a video or command runs to its end on
   * the build that started it; `off` for a Temporal server without worker deployments.
   */
  WORKER_VERSIONING: z.enum(['on', 'off']).default('on'),
  /** The worker deployment every build of this bot belongs to (no dots). */
  WORKER_DEPLOYMENT_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, - and _ only')
    .default('telewan'),
  /** This build's id; unset, `wf-` and a hash of the workflow bundle, so the same workflow code is always the same build. */
  WORKER_BUILD_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'letters, digits, ., - and _ only')
    .optional(),
  /** `newest`: a worker makes its build current once registered, unless a newer build is; `manual`: an operator does. */
  WORKER_PROMOTION: z.enum(['newest', 'manual']).default('newest'),
  /** Video generations one user may have under way at once; admins are exempt. */
  USER_MAX_ACTIVE_GENERATIONS: z.coerce.number().int().positive().default(USER_LIMIT_DEFAULTS.maxActive),
  /** What happens to a request beyond that: turned away, or queued until a slot frees. */
  USER_EXCESS_POLICY: z.enum(['refuse', 'queue']).default(USER_LIMIT_DEFAULTS.excessPolicy),
  /** Video generations one user may start per UTC day; admins are exempt. */
  USER_DAILY_QUOTA: z.coerce.number().int().nonnegative().default(USER_LIMIT_DEFAULTS.dailyQuota),
  /** Chats exempt from the per-user limits (private chats: the user's id). */
  ADMIN_CHAT_IDS: chatIdList.default([]),
  /** Incoming updates one user may send per window before the gateway drops them (per gateway process). */
  USER_UPDATE_RATE_LIMIT: updateRate,
  /** Price overrides per model and video length, laid over the list prices in src/constants.ts. */
  WAVESPEED_PRICES: wavespeedPricesSetting,
  /**
   * AES-256-GCM keys for Temporal payloads, `id:<base64 of 32 bytes>` comma-separated,
   * the active key first; older keys stay listed so their payloads still decode.
   */
  PAYLOAD_ENCRYPTION_KEYS: z
    .string({ error: 'is not set: give "<id>:<base64 of 32 bytes>", e.g. "k1:$(openssl rand -base64 32)"' })
    .transform((value, ctx): EncryptionKey[] => {
    try {
      return parseEncryptionKeys(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }),
  /** `/codec/*` for the Temporal UI: `off`, `token` (Bearer ADMIN_TOKEN) or `open` (loopback or behind an authenticating proxy only). */
  CODEC_ENDPOINT: z.enum(['off', 'token', 'open']).default('off'),

  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof configSchema>;

/** Raised at boot when the environment does not describe a runnable service. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses and validates the environment. */
export function parseConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return result.data;
}

/**
 * What an entry point prints when it cannot start: a {@link ConfigError} as its
 * message alone (it names every bad variable), anything else with its stack.
 */
export function describeBootError(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
