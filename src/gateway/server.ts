import { Client, Connection } from '@temporalio/client';
import { createBot, setBotCommands } from '../bot/bot.js';
import { UpdateRateLimiter } from '../bot/update-limiter.js';
import { describeBootError, parseConfig, type Config } from '../config.js';
import { createPrisma, disconnect, pingDatabase } from '../db/client.js';
import { WavespeedClient } from '../integrations/wavespeed/client.js';
import { WebhookSecretCache } from '../integrations/wavespeed/webhook-secret.js';
import { createLogger, secretsOf, type Logger } from '../observability/logger.js';
import { createGatewayMetrics } from '../observability/metrics.js';
import { recordRedrive } from '../db/generations.js';
import { TemporalRedriver } from '../temporal/client/redrive.js';
import { EncryptionCodec, encryptedDataConverter } from '../temporal/encryption.js';
import { InFlightCalls } from '../temporal/client/in-flight-calls.js';
import { TemporalWorkflowGateway } from '../temporal/client/starter.js';
import { TemporalWorkflowCounter } from '../temporal/client/visibility.js';
import { buildApp } from './app.js';
import { countWorkflowStarts } from './metrics.js';
import { createCatalog } from '../db/catalog.js';
import { createStatsService } from './services/stats.js';
import type { FastifyInstance } from 'fastify';
import type { UserFromGetMe } from 'grammy/types';

/** How often a closing gateway closes the connections that have gone idle. */
const IDLE_SWEEP_MS = 200;
/**
 * Longest wait, once the server is closed, for Temporal calls still retrying:
 * each has a deadline (5 s for a start), and a retry waits at most ~6 s before
 * failing on it.
 */
const TEMPORAL_DRAIN_MS = 15_000;

export interface RunningGateway {
  app: FastifyInstance;
  url: string;
  /** Settles once the command menu is set in every language (best effort: a failure is logged, never thrown). */
  commandsSet: Promise<void>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  botInfo?: UserFromGetMe;
  /** Where the gateway logs; by default a {@link createLogger} logger on standard output. */
  logger?: Logger;
}

/** Builds the gateway from config with real clients and listens. */
export async function startGateway(config: Config, options: GatewayOptions = {}): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL, secrets: secretsOf(config), base: { service: 'gateway' } });
  const metrics = createGatewayMetrics({ processMetrics: true });
  // Lazy: the gateway starts (and answers 503) while Temporal is down.
  // Counted, so that closing waits for calls still retrying (see InFlightCalls).
  const calls = new InFlightCalls();
  const connection = Connection.lazy({ address: config.TEMPORAL_ADDRESS, interceptors: calls.interceptors() });
  const codec = new EncryptionCodec(config.PAYLOAD_ENCRYPTION_KEYS);
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: encryptedDataConverter(codec) });
  const workflows = new TemporalWorkflowGateway(client, {
    model: config.WAVESPEED_MODEL,
    deadlineMs: config.VIDEO_DEADLINE_MS,
    polling: { initialMs: config.VIDEO_POLL_INITIAL_MS, maxMs: config.VIDEO_POLL_MAX_MS },
    maxConcurrency: config.WAVESPEED_MAX_CONCURRENCY,
    admissionShardSlots: config.WAVESPEED_ADMISSION_SHARD_SLOTS,
    onStart: countWorkflowStarts(metrics),
  });
  const prisma = createPrisma(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE });
  const wavespeed = new WavespeedClient({ apiKey: config.WAVESPEED_API_KEY, apiRoot: config.WAVESPEED_API_ROOT });

  const fixedSecret = config.WAVESPEED_WEBHOOK_SECRET;
  const webhookSecret = new WebhookSecretCache(fixedSecret ? () => Promise.resolve(fixedSecret) : () => wavespeed.getWebhookSecret());

  const rate = config.USER_UPDATE_RATE_LIMIT;
  const updateLimiter = rate ? new UpdateRateLimiter(rate) : undefined;
  const bot = createBot({
    token: config.TELEGRAM_BOT_TOKEN,
    apiRoot: config.TELEGRAM_API_ROOT,
    workflows,
    botInfo: options.botInfo,
    ...(updateLimiter ? { updateLimiter } : {}),
  });
  await bot.init();
  const app = await buildApp({
    bot,
    workflows,
    telegramWebhookSecret: config.TELEGRAM_WEBHOOK_SECRET,
    wavespeedWebhookSecret: () => webhookSecret.get(),
    wavespeedCallbackTokens: wavespeed.callbackTokens,
    catalog: createCatalog(prisma),
    adminToken: config.ADMIN_TOKEN,
    metrics,
    stats: createStatsService({ prisma, workflows: new TemporalWorkflowCounter(client) }),
    redriver: new TemporalRedriver(client, (event) => recordRedrive(prisma, event)),
    codec: { mode: config.CODEC_ENDPOINT, codec, uiOrigin: new URL(config.TEMPORAL_UI_URL).origin },
    readiness: {
      temporal: async () => {
        await client.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
      },
      database: () => pingDatabase(prisma),
    },
    loggerInstance: logger,
  });
  if (updateLimiter) {
    updateLimiter.onThrottled = (verdict) => metrics.updatesThrottled.inc({ verdict });
    updateLimiter.onSlowDown = (userId) =>
      app.log.warn({ userId, rate }, 'User over the update rate: answered "slow down", dropping their updates until the window ends');
  }
  const url = await app.listen({ host: config.GATEWAY_HOST, port: config.GATEWAY_PORT });
  // In the background: a Telegram that does not answer must not delay the webhook.
  const commandsSet = setBotCommands(bot.api).then(
    () => app.log.info('Command menu set in every language'),
    (err: unknown) => app.log.warn({ err }, 'Could not set the command menu; the commands still work'),
  );
  return {
    app,
    url,
    commandsSet,
    async close() {
      // A connection busy when closing began stays open after its answer until its
      // keep-alive times out (72 s): a shutdown during a Temporal outage, with
      // webhooks waiting on their starts, would hang that long. Close them as they go idle.
      const sweep = setInterval(() => app.server.closeIdleConnections(), IDLE_SWEEP_MS);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
      // A request its sender gave up on (a closed socket) no longer holds the
      // server open, but its start may still be retrying: closing the channel
      // under that retry's timer is an uncaught exception.
      if (!(await calls.drain(TEMPORAL_DRAIN_MS))) {
        app.log.warn({ inFlight: calls.size }, 'Closing the Temporal connection with calls still in flight');
      }
      await connection.close();
      await disconnect(prisma);
    },
  };
}

async function main(): Promise<void> {
  const config = parseConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, secrets: secretsOf(config), base: { service: 'gateway' } });
  const gateway = await startGateway(config, { logger }).catch((err: unknown) => {
    // Through the logger, so a secret in the error is scrubbed.
    logger.fatal({ err }, 'Gateway could not start');
    process.exit(1);
  });
  gateway.app.log.info(`Gateway listening on ${gateway.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void gateway.close());
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(describeBootError(err));
    process.exit(1);
  });
}
