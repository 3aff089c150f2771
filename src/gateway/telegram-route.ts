import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { webhookCallback, type Bot } from 'grammy';
import type { GatewayMetrics } from '../observability/metrics.js';
import { TelegramUpdateSchema } from './telegram-update-schema.js';

/** Telegram updates are small; photos arrive as file ids. */
const UPDATE_BODY_LIMIT = 256 * 1024;


function sameSecret(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface TelegramRouteOptions {
  bot: Bot;
  secretToken: string;
  metrics?: GatewayMetrics;
}

/**
 * `POST /telegram/webhook`: checks `X-Telegram-Bot-Api-Secret-Token` before
 * reading the body (401), validates the update's shape where the bot reads it
 * (400, see {@link TelegramUpdateSchema}) and hands it to the
 * bot, whose handlers start workflows. A 2xx means the update is safely in Temporal.
 */
export async function telegramRoute(app: FastifyInstance, { bot, secretToken, metrics }: TelegramRouteOptions): Promise<void> {
  const handle = webhookCallback(bot, 'fastify', { secretToken, onTimeout: 'throw', timeoutMilliseconds: 10_000 });
  app.post(
    '/telegram/webhook',
    {
      bodyLimit: UPDATE_BODY_LIMIT,
      schema: { body: TelegramUpdateSchema },
      onRequest: async (request, reply) => {
        if (!sameSecret(request.headers['x-telegram-bot-api-secret-token'], secretToken)) {
          metrics?.webhookRejections.inc({ source: 'telegram', reason: 'secret_mismatch' });
          return reply.code(401).send({ error: 'Unauthorized', message: 'Wrong or missing secret token' });
        }
      },
    },
    handle,
  );
}
