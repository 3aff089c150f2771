import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import type { Config } from '../config.js';

export type { Logger } from 'pino';

const REDACTED = '[REDACTED]';

/** Where a secret sits in a log object whatever its value: request headers and known config keys. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-telegram-bot-api-secret-token"]',
  'req.headers["webhook-signature"]',
  'headers.authorization',
  'headers["x-telegram-bot-api-secret-token"]',
  'token',
  'apiKey',
  'secret',
  'config.TELEGRAM_BOT_TOKEN',
  'config.TELEGRAM_WEBHOOK_SECRET',
  'config.WAVESPEED_API_KEY',
  'config.WAVESPEED_WEBHOOK_SECRET',
  'config.ADMIN_TOKEN',
];

/**
 * Secrets by shape, for values the process learns after boot (WaveSpeed's
 * signing secret fetched at start) or that arrive inside URLs and error texts.
 */
const SECRET_SHAPES: Array<[RegExp, string]> = [
  // Bot API and file URLs: /bot<id>:<secret>/ and /file/bot<id>:<secret>/
  [/bot\d+:[A-Za-z0-9_-]+/g, `bot${REDACTED}`],
  [/whsec_[A-Za-z0-9+/=_-]+/g, `whsec_${REDACTED}`],
  [/(Bearer\s+)[^\s"\\]+/gi, `$1${REDACTED}`],
];

/** The configured secret values: bot token, webhook secrets, API key, admin token, database password. */
export function secretsOf(config: Partial<Config>): string[] {
  const values = [
    config.TELEGRAM_BOT_TOKEN,
    config.TELEGRAM_WEBHOOK_SECRET,
    config.WAVESPEED_API_KEY,
    config.WAVESPEED_WEBHOOK_SECRET,
    config.ADMIN_TOKEN,
    databasePassword(config.DATABASE_URL),
    // The payload keys, as they are written in the environment.
    ...(config.PAYLOAD_ENCRYPTION_KEYS ?? []).map((k) => k.key.toString('base64')),
  ];
  return values.filter((v): v is string => typeof v === 'string' && v.length > 0);
}

function databasePassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Replaces every secret value (and every secret-shaped string) in a serialised
 * log line. Values are matched as written and as JSON escapes them, so a secret
 * inside an error message, a stack or a URL is caught wherever it sits.
 */
export function createScrubber(secrets: readonly string[]): (line: string) => string {
  const needles = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))]
    .filter((s) => s.length > 0)
    // Longest first, so a secret containing another is replaced whole.
    .sort((a, b) => b.length - a.length);
  return (line) => {
    let out = line;
    for (const needle of needles) if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    for (const [shape, replacement] of SECRET_SHAPES) out = out.replace(shape, replacement);
    return out;
  };
}

export interface LoggerOptions {
  level: Config['LOG_LEVEL'];
  /** Values that must never reach a log line; see {@link secretsOf}. */
  secrets: readonly string[];
  /** Where lines go; standard output by default. Tests pass a capturing stream. */
  destination?: DestinationStream;
  /** Fields on every line, e.g. `{ service: 'worker' }`. */
  base?: Record<string, unknown>;
}

/**
 * Telewan's one logger factory: pino JSON lines, known secret fields redacted by
 * path, and every line scrubbed of the configured secret values just before it
 * is written. The gateway hands it to Fastify; the worker routes Temporal's
 * runtime, workflow and activity logs into it.
 */
export function createLogger(options: LoggerOptions): Logger {
  const scrub = createScrubber(options.secrets);
  return pino(
    {
      level: options.level,
      base: { pid: process.pid, ...options.base },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      hooks: { streamWrite: scrub },
    },
    options.destination ?? defaultDestination(),
  );
}

/**
 * Standard output, written directly. Under the test runner (vitest sets
 * `VITEST`) lines go through `console` instead, which the runner keeps with the
 * test that wrote them and shows only when it fails.
 */
function defaultDestination(): DestinationStream {
  if (process.env.VITEST) return { write: (line: string) => console.log(line.replace(/\n$/, '')) };
  return pino.destination(1);
}

/** pino's level for one of Temporal's (`TRACE` … `ERROR`). */
export function pinoLevel(level: string): Level {
  const lower = level.toLowerCase();
  return lower === 'trace' || lower === 'debug' || lower === 'info' || lower === 'warn' || lower === 'error' ? lower : 'info';
}
