import { z } from 'zod';
import { WAVESPEED_MODELS } from './constants.js';

const secretToken = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,256}$/, 'must be 1-256 characters of A-Z, a-z, 0-9, _ and -');

const durationMs = z.coerce.number().int().positive();

/**
 * Every environment variable Telewan reads, validated once at boot.
 * `parseConfig` throws a {@link ConfigError} that names each bad variable.
 */
export const configSchema = z.object({
  DATABASE_URL: z.string().url().default('postgresql://postgres@127.0.0.1:5432/telewan'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_UI_URL: z.string().url().default('http://127.0.0.1:8233'),

  TELEGRAM_BOT_TOKEN: z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'is not a bot token (<id>:<secret>)'),
  TELEGRAM_API_ROOT: z.string().url().default('https://api.telegram.org'),
  TELEGRAM_WEBHOOK_SECRET: secretToken,

  WAVESPEED_API_KEY: z.string().min(1),
  WAVESPEED_API_ROOT: z.string().url().default('https://api.wavespeed.ai'),
  /** Optional: when unset the gateway asks WaveSpeed for it at boot. */
  WAVESPEED_WEBHOOK_SECRET: z.string().startsWith('whsec_').optional(),
  WAVESPEED_MODEL: z.enum(WAVESPEED_MODELS).default('wavespeed-ai/wan-2.2/i2v-480p'),

  /** Public https base URL of the gateway, used in the WaveSpeed webhook URL. */
  PUBLIC_URL: z.string().url().default('http://127.0.0.1:8080'),
  GATEWAY_HOST: z.string().default('127.0.0.1'),
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(8080),

  VIDEO_DEADLINE_MS: durationMs.default(15 * 60 * 1000),
  /** First poll of WaveSpeed after submitting, should the webhook not come; the pause grows ×1.5 up to the max. */
  VIDEO_POLL_INITIAL_MS: durationMs.default(5_000),
  VIDEO_POLL_MAX_MS: durationMs.default(30_000),
  /** Bearer token for the operators' API (`/api/*`). Unset: the API answers 503. */
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),

  /** Fleet-wide ceiling on Telegram sends for summary distribution, messages per second. */
  BROADCAST_RATE_PER_SECOND: z.coerce.number().positive().max(1000).default(25),
  /** Use Telegram's paid broadcasts (`allow_paid_broadcast`, 0.1 Stars a message, up to ~1,000/s). */
  BROADCAST_PAID: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),

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
