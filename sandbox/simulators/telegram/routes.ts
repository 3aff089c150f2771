import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { pickLatency, type Latency, type TimerSet } from '../shared/timers.js';
import type { DispatchResult, Dispatcher } from './dispatcher.js';
import { TelegramApiError } from './errors.js';
import type { FileStore } from './file-store.js';
import { MAX_UPLOAD_BYTES, Params, readParams } from './params.js';

/** What the Bot API routes need. */
export interface TelegramRoutesDeps {
  token: string;
  dispatcher: Dispatcher;
  files: FileStore;
  timers: TimerSet;
  latency: () => Latency | undefined;
}

const methodParams = {
  type: 'object',
  properties: { token: { type: 'string' }, method: { type: 'string' } },
  required: ['token', 'method'],
} as const;

const fileParams = {
  type: 'object',
  properties: { token: { type: 'string' }, '*': { type: 'string' } },
  required: ['token', '*'],
} as const;

const NOT_FOUND = { ok: false, error_code: 404, description: 'Not Found' };

function send(reply: FastifyReply, result: DispatchResult): FastifyReply {
  return reply.code(result.status).type(result.contentType).send(result.body);
}

/**
 * `/bot<token>/<method>` (GET or POST; JSON, urlencoded or multipart) and
 * `/file/bot<token>/<file_path>` downloads, as api.telegram.org serves them.
 */
export async function telegramRoutes(app: FastifyInstance, deps: TelegramRoutesDeps): Promise<void> {
  await app.register(formbody);
  await app.register(multipart, { limits: { fileSize: MAX_UPLOAD_BYTES + 1, files: 20, fieldSize: 1024 * 1024 }, throwFileSizeLimit: false });

  // Telegram accepts an empty JSON body and ignores bodies of other types.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body.trim() : '';
    if (text === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new TelegramApiError(400, "Bad Request: can't parse JSON object"), undefined);
    }
  });
  app.addContentTypeParser('*', (_req, payload, done) => {
    payload.resume();
    payload.on('end', () => done(null, {}));
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, _request, reply) => {
    if (err instanceof TelegramApiError) {
      return reply.code(err.errorCode).send({ ok: false, error_code: err.errorCode, description: err.description });
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    const description = status === 413 ? 'Request Entity Too Large' : status < 500 ? `Bad Request: ${err.message}` : 'Internal Server Error';
    return reply.code(status).send({ ok: false, error_code: status, description });
  });

  app.setNotFoundHandler((_request, reply) => reply.code(404).send(NOT_FOUND));

  app.route<{ Params: { token: string; method: string } }>({
    method: ['GET', 'POST'],
    url: '/bot:token/:method',
    schema: { params: methodParams },
    async handler(request, reply) {
      await deps.timers.sleep(pickLatency(deps.latency()));
      const { token, method } = request.params;
      if (token !== deps.token) {
        const unauthorized = new TelegramApiError(401, 'Unauthorized');
        return send(reply, deps.dispatcher.recordRejected(method, new Params({}), unauthorized));
      }
      let params: Params;
      try {
        params = await readParams(request);
      } catch (err) {
        if (!(err instanceof TelegramApiError)) throw err;
        return send(reply, deps.dispatcher.recordRejected(method, new Params({}), err));
      }
      return send(reply, await deps.dispatcher.dispatch(method, params));
    },
  });

  app.route<{ Params: { token: string; '*': string } }>({
    method: ['GET', 'HEAD'],
    url: '/file/bot:token/*',
    schema: { params: fileParams },
    exposeHeadRoute: false,
    async handler(request, reply) {
      await deps.timers.sleep(pickLatency(deps.latency()));
      const file = request.params.token === deps.token ? deps.files.byPath(request.params['*']) : undefined;
      if (!file?.bytes) return reply.code(404).send(NOT_FOUND);
      reply.type(file.mime_type ?? 'application/octet-stream').header('content-length', file.bytes.length);
      return request.method === 'HEAD' ? reply.send() : reply.send(file.bytes);
    },
  });
}
