import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Bot } from 'grammy';
import type { CallbackTokens } from '../integrations/wavespeed/callback-token.js';
import type { Redriver } from '../temporal/client/redrive.js';
import type { WorkflowGateway } from '../temporal/client/starter.js';
import { codecRoute, type CodecEndpointOptions } from './codec-route.js';
import { registerErrorHandler } from './errors.js';
import { healthRoutes, type ReadinessCheck } from './health-route.js';
import { createGatewayMetrics, type GatewayMetrics } from '../observability/metrics.js';
import { instrumentRequests, metricsRoute } from './metrics.js';
import { operatorApi } from './operator-api.js';
import type { Catalog } from '../db/catalog.js';
import type { StatsService } from './services/stats.js';
import { telegramRoute } from './telegram-route.js';
import { wavespeedRoute } from './wavespeed-route.js';

export interface AppDeps {
  bot: Bot;
  workflows: WorkflowGateway;
  telegramWebhookSecret: string;
  /** The secret of WaveSpeed's webhook signatures; a `WebhookSecretCache` in production. */
  wavespeedWebhookSecret: () => Promise<string>;
  /** Checks that a WaveSpeed callback URL was issued for the workflow it names (the client's `callbackTokens`). */
  wavespeedCallbackTokens: CallbackTokens;
  readiness: Record<string, ReadinessCheck>;
  /** Database work of the operators' API. */
  catalog: Catalog;
  /** Bearer token of the operators' API; unset, the API answers 503. */
  adminToken?: string;
  /** Re-drives failed workflows for the operators' API. */
  redriver?: Redriver;
  logger?: FastifyServerOptions['logger'];
  /** A ready logger (see `createLogger`); wins over `logger`. */
  loggerInstance?: FastifyBaseLogger;
  /** Counters behind `GET /metrics`; a fresh set when omitted. Pass the same set to `countWorkflowStarts` (the start hook of `TemporalWorkflowGateway`). */
  metrics?: GatewayMetrics;
  /** Figures behind `GET /api/stats`; without it that route does not exist. */
  stats?: StatsService;
  /** The Temporal UI's Remote Codec Endpoint under `/codec`; absent, there is no such route. */
  codec?: Omit<CodecEndpointOptions, 'adminToken'>;
  /** Seconds since the epoch; injectable for signature-window tests. */
  now?: () => number;
}

/**
 * The gateway: verifies what Telegram and WaveSpeed send, starts workflows and
 * forwards signals; operators post sources and summaries under `/api`. It does
 * no work itself, so it answers within milliseconds.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.loggerInstance ? { loggerInstance: deps.loggerInstance } : { logger: deps.logger ?? false }),
    bodyLimit: 256 * 1024,
  });
  const metrics = deps.metrics ?? createGatewayMetrics();
  registerErrorHandler(app);
  instrumentRequests(app, metrics);
  await app.register(metricsRoute, { metrics });
  await app.register(healthRoutes, { checks: deps.readiness });
  await app.register(telegramRoute, { bot: deps.bot, secretToken: deps.telegramWebhookSecret, metrics });
  await app.register(wavespeedRoute, {
    workflows: deps.workflows,
    webhookSecret: deps.wavespeedWebhookSecret,
    callbackTokens: deps.wavespeedCallbackTokens,
    now: deps.now,
    metrics,
  });
  await app.register(operatorApi, {
    prefix: '/api',
    adminToken: deps.adminToken,
    catalog: deps.catalog,
    workflows: deps.workflows,
    stats: deps.stats,
    redriver: deps.redriver,
  });
  if (deps.codec) await app.register(codecRoute, { prefix: '/codec', ...deps.codec, adminToken: deps.adminToken });
  return app;
}
