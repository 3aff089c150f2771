import type { FastifyError, FastifyInstance } from 'fastify';
import { BotError } from 'grammy';
import { SummaryTooLongError } from '../domain/summary-text.js';
import { RedriveRefusedError } from '../temporal/client/redrive.js';
import { TemporalUnavailableError } from '../temporal/client/starter.js';
import { UnknownSourceError } from '../db/catalog.js';

/** Whether an error means "try again later" (Temporal down): answered 503. */
function unwrap(err: unknown): unknown {
  return err instanceof BotError ? err.error : err;
}

/**
 * The gateway's one error handler: client errors keep their status and message;
 * Temporal being unreachable is 503 so Telegram redelivers the update (and an
 * operator retries the POST); an unknown source or workflow is 404, a summary
 * too long for one message 422, a refused re-drive 409; anything else is a 500
 * whose details stay in the log.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const cause = unwrap(error);
    if (cause instanceof TemporalUnavailableError) {
      request.log.warn({ err: cause.cause }, 'Temporal unavailable');
      return reply.code(503).header('retry-after', '5').send({ error: 'Service Unavailable', message: 'Try again shortly' });
    }
    if (cause instanceof UnknownSourceError) {
      return reply.code(404).send({ error: 'Not Found', message: cause.message });
    }
    if (cause instanceof SummaryTooLongError) {
      return reply.code(422).send({ error: 'Unprocessable Entity', message: cause.message });
    }
    if (cause instanceof RedriveRefusedError) {
      return cause.refusal === 'not-found'
        ? reply.code(404).send({ error: 'Not Found', message: cause.message })
        : reply.code(409).send({ error: 'Conflict', message: cause.message });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: error.code ?? 'Bad Request', message: error.message });
    }
    request.log.error({ err: cause }, 'request failed');
    return reply.code(500).send({ error: 'Internal Server Error', message: 'Something went wrong' });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'Not Found', message: `${request.method} ${request.url.split('?')[0]} is not a route` }));
}
