import { createServer } from 'node:net';
import { Runtime, type Logger as TemporalLogger, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { pinoLevel, type Logger } from './logger.js';

/**
 * Temporal's logger interface over pino. Temporal's `error` metadata becomes
 * pino's `err`, so errors keep their message and stack.
 */
export class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly target: () => Logger) {}

  log(level: LogLevel, message: string, meta: LogMetadata = {}): void {
    const { error, ...fields } = meta as Record<string, unknown>;
    const logger = this.target();
    const lvl = pinoLevel(level);
    if (!logger.isLevelEnabled(lvl)) return;
    logger[lvl](error instanceof Error ? { ...fields, err: error } : error === undefined ? fields : { ...fields, error }, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/** What the process-wide Temporal runtime offers Telewan. */
export interface TemporalTelemetry {
  /** Core's Prometheus endpoint (`temporal_*` metrics); absent when another runtime was installed first. */
  sdkMetricsUrl?: string;
  /**
   * Sends the runtime's logs (SDK, Core, workflow `log`, activity `log`) to this
   * logger until the returned function is called.
   */
  useLogger(logger: Logger): () => void;
}

let telemetry: Promise<TemporalTelemetry> | undefined;

/**
 * Installs Temporal's runtime once per process, with its logs (Core's included)
 * forwarded to pino and Core's metrics served in Prometheus format on a loopback
 * port. `Runtime.install` may be called only once, yet tests and the dev stack
 * start several workers in one process, so this is idempotent and the log target
 * is switched per worker (the runtime, not Telewan, is the singleton here).
 * When something created a runtime before (a test environment, a benchmark),
 * that runtime stays: logs go where it sends them and there are no SDK metrics.
 */
export function installTemporalRuntime(fallback: Logger): Promise<TemporalTelemetry> {
  telemetry ??= install(fallback);
  return telemetry;
}

async function install(fallback: Logger): Promise<TemporalTelemetry> {
  const targets: Logger[] = [];
  const current = () => targets.at(-1) ?? fallback;
  const useLogger = (logger: Logger) => {
    targets.push(logger);
    return () => {
      const i = targets.lastIndexOf(logger);
      if (i >= 0) targets.splice(i, 1);
    };
  };
  const bindAddress = `127.0.0.1:${await freePort()}`;
  try {
    Runtime.install({
      logger: new PinoTemporalLogger(current),
      telemetryOptions: {
        logging: { forward: {}, filter: { core: coreLevel(fallback), other: 'ERROR' } },
        metrics: { prometheus: { bindAddress, countersTotalSuffix: true, useSecondsForDurations: true } },
      },
    });
  } catch (err) {
    fallback.warn({ err }, 'Temporal runtime already created: its logs and metrics are not routed to Telewan');
    return { useLogger };
  }
  return { sdkMetricsUrl: `http://${bindAddress}/metrics`, useLogger };
}

/** Core forwards from INFO up (DEBUG when asked): each worker's logger filters further by its own level. */
function coreLevel(logger: Logger): LogLevel {
  return logger.level === 'trace' || logger.level === 'debug' ? 'DEBUG' : 'INFO';
}

/** A loopback port free right now, for Core's metrics server (which cannot report the one it bound). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
