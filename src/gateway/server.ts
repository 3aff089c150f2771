import { Client, Connection } from '@temporalio/client';
import { createBot } from '../bot/bot.js';
import { describeBootError, parseConfig, type Config } from '../config.js';
import { createPrisma, disconnect } from '../db/client.js';
import { WavespeedClient } from '../integrations/wavespeed/client.js';
import { TemporalWorkflowGateway } from '../temporal/starter.js';
import { buildApp } from './app.js';
import { createCatalog } from './services/catalog.js';
import type { FastifyInstance } from 'fastify';
import type { UserFromGetMe } from 'grammy/types';

export interface RunningGateway {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** Builds the gateway from config with real clients and listens. */
export async function startGateway(config: Config, options: { botInfo?: UserFromGetMe } = {}): Promise<RunningGateway> {
  // Lazy: the gateway starts (and answers 503) while Temporal is down.
  const connection = Connection.lazy({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const workflows = new TemporalWorkflowGateway(client, {
    model: config.WAVESPEED_MODEL,
    deadlineMs: config.VIDEO_DEADLINE_MS,
    polling: { initialMs: config.VIDEO_POLL_INITIAL_MS, maxMs: config.VIDEO_POLL_MAX_MS },
  });
  const prisma = createPrisma(config.DATABASE_URL);
  const wavespeed = new WavespeedClient({ apiKey: config.WAVESPEED_API_KEY, apiRoot: config.WAVESPEED_API_ROOT });

  let secret: Promise<string> | undefined = config.WAVESPEED_WEBHOOK_SECRET ? Promise.resolve(config.WAVESPEED_WEBHOOK_SECRET) : undefined;
  const webhookSecret = () => {
    secret ??= wavespeed.getWebhookSecret().catch((err: unknown) => {
      secret = undefined;
      throw err;
    });
    return secret;
  };

  const bot = createBot({ token: config.TELEGRAM_BOT_TOKEN, apiRoot: config.TELEGRAM_API_ROOT, workflows, botInfo: options.botInfo });
  await bot.init();
  const app = await buildApp({
    bot,
    workflows,
    telegramWebhookSecret: config.TELEGRAM_WEBHOOK_SECRET,
    wavespeedWebhookSecret: webhookSecret,
    catalog: createCatalog(prisma),
    adminToken: config.ADMIN_TOKEN,
    readiness: {
      temporal: async () => {
        await client.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
      },
      database: async () => {
        await prisma.$queryRaw`select 1`;
      },
    },
    logger: { level: config.LOG_LEVEL, redact: ['req.headers["x-telegram-bot-api-secret-token"]', 'req.headers.authorization'] },
  });
  const url = await app.listen({ host: config.GATEWAY_HOST, port: config.GATEWAY_PORT });
  return {
    app,
    url,
    async close() {
      await app.close();
      await connection.close();
      await disconnect(prisma);
    },
  };
}

async function main(): Promise<void> {
  const config = parseConfig();
  const gateway = await startGateway(config);
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
