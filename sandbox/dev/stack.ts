import { parseConfig, type Config } from '../../src/config.js';
import type { DestinationStream } from 'pino';
import { startGateway, type RunningGateway } from '../../src/gateway/server.js';
import { createLogger, secretsOf } from '../../src/observability/logger.js';
import { TelegramSimulator, type TelegramSimulatorOptions } from '../simulators/telegram.js';
import { WavespeedSimulator, type WavespeedSimulatorOptions } from '../simulators/wavespeed.js';
import { generateEncryptionKeyEntry } from '../../src/temporal/encryption.js';
import { startWorker, type RunningWorker } from '../../src/worker.js';

export interface StackOptions {
  /** Environment-style settings; simulator URLs and secrets are filled in when sandboxed. */
  env: Record<string, string | undefined>;
  /** Run against simulated Telegram and WaveSpeed (when no real tokens are configured). */
  sandbox: boolean;
  telegram?: Partial<TelegramSimulatorOptions>;
  /**
   * In sandbox mode, a Telegram simulator already running elsewhere (a process of
   * its own, so what it measures is not slowed by the stack's own work): its API
   * root. No simulator is started here and `Stack.telegram` is unset.
   */
  telegramApiRoot?: string;
  wavespeed?: Partial<WavespeedSimulatorOptions>;
  /** Start a worker in this process (default true). */
  worker?: boolean;
  /** Where gateway and worker log (JSON lines); standard output by default. */
  logDestination?: DestinationStream;
}

export interface Stack {
  config: Config;
  /** The environment `config` was parsed from (sandbox values filled in): for a worker process started beside this stack. */
  env: Readonly<Record<string, string | undefined>>;
  gateway: RunningGateway;
  worker?: RunningWorker;
  telegram?: TelegramSimulator;
  wavespeed?: WavespeedSimulator;
  stop(): Promise<void>;
}

export const SANDBOX_TOKEN = '123456:sandbox-token';
export const SANDBOX_WEBHOOK_SECRET = 'sandbox-webhook-secret';
export const SANDBOX_API_KEY = 'sandbox-key';

/** What sandbox mode fills in when unset, for checking a configuration before starting anything. */
export const SANDBOX_DEFAULTS = {
  TELEGRAM_BOT_TOKEN: SANDBOX_TOKEN,
  TELEGRAM_WEBHOOK_SECRET: SANDBOX_WEBHOOK_SECRET,
  WAVESPEED_API_KEY: SANDBOX_API_KEY,
} as const;

/**
 * Gateway, worker and (in sandbox mode) both simulators, wired together, against
 * an already running Temporal server and database. Used by `npm run dev`, the
 * end-to-end tests and the benchmarks.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const env = { ...options.env };
  let telegram: TelegramSimulator | undefined;
  let wavespeed: WavespeedSimulator | undefined;
  if (options.sandbox) {
    env.TELEGRAM_BOT_TOKEN ??= SANDBOX_TOKEN;
    env.TELEGRAM_WEBHOOK_SECRET ??= SANDBOX_WEBHOOK_SECRET;
    env.WAVESPEED_API_KEY ??= SANDBOX_API_KEY;
    // Simulated data only; a throwaway key unless the caller brings one.
    env.PAYLOAD_ENCRYPTION_KEYS ??= generateEncryptionKeyEntry('sandbox');
    if (options.telegramApiRoot) env.TELEGRAM_API_ROOT = options.telegramApiRoot;
    else {
      telegram = new TelegramSimulator({ token: env.TELEGRAM_BOT_TOKEN, control: true, ...options.telegram });
      env.TELEGRAM_API_ROOT = await telegram.start();
    }
    wavespeed = new WavespeedSimulator({ apiKey: env.WAVESPEED_API_KEY, ...options.wavespeed });
    env.WAVESPEED_API_ROOT = await wavespeed.start();
  }
  // Stacks on a free gateway port (tests, benchmarks) run side by side: so do their workers' metrics.
  if (env.GATEWAY_PORT === '0') env.WORKER_METRICS_PORT ??= '0';
  const gatewayConfig = parseConfig(env);
  const logger = createLogger({ level: gatewayConfig.LOG_LEVEL, secrets: secretsOf(gatewayConfig), destination: options.logDestination });
  const gateway = await startGateway(gatewayConfig, { logger: logger.child({ service: 'gateway' }) });
  // The worker needs the gateway's address for WaveSpeed's webhook.
  if (!env.PUBLIC_URL || gatewayConfig.GATEWAY_PORT === 0) env.PUBLIC_URL = gateway.url;
  const config = parseConfig(env);
  const worker = options.worker === false ? undefined : await startWorker(config, {}, { logger: logger.child({ service: 'worker' }) });
  telegram?.setWebhookTarget(`${gateway.url}/telegram/webhook`, config.TELEGRAM_WEBHOOK_SECRET);

  return {
    config,
    env,
    gateway,
    worker,
    telegram,
    wavespeed,
    async stop() {
      await worker?.shutdown();
      await gateway.close();
      await telegram?.stop();
      await wavespeed?.stop();
    },
  };
}
