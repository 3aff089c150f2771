import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { digestStream } from '../shared/digest.js';
import { mp4Size, mp4Stream } from '../shared/mp4.js';
import type { SlidingWindow } from '../shared/sliding-window.js';
import type { PredictionEngine } from './engine.js';
import { MODELS, readMarkers, validateInput, WavespeedApiError, type ModelSpec } from './models.js';
import type { LostAnswer, MediaUpload, PlannedOutcome, Prediction } from './types.js';
import { mediaType, safeFilename, uploadTicketRoutes } from './uploads.js';

const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;

/** Per-submission settings the routes read from the simulator at submit time. */
export interface SubmitSettings {
  latencyMs: () => number;
  failureRate: () => number;
  nsfwRate: () => number;
  lostCallbackRate: () => number;
  perMinuteLimit: () => number;
  outputBytes: (model: string, prompt: string) => number;
  /** How long a submission with `enable_sync_mode: true` waits for its result before answering code 5004. */
  syncTimeoutMs: () => number;
  /** Whether (and how) the answer to this accepted submission is lost; consumed once per call. */
  loseAnswer: () => LostAnswer | undefined;
}

/** What the WaveSpeed routes need. */
export interface WavespeedRoutesDeps {
  apiKey: string;
  engine: PredictionEngine;
  uploads: MediaUpload[];
  secret: () => string;
  baseUrl: () => string;
  submit: SubmitSettings;
  extraModels: Map<string, ModelSpec>;
  submitWindow: SlidingWindow;
  /** Whether the current upload flow (`POST /api/v3/media/uploads`) exists; off, it answers 404. */
  ticketUploads: () => boolean;
}

const ok = (data: unknown): { code: number; message: string; data: unknown } => ({ code: 200, message: 'success', data });

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' } },
  required: ['id'],
} as const;

/**
 * The parts of api.wavespeed.ai Telewan and WaveSpeed's own SDKs use: bearer
 * auth, media upload (the presigned-PUT tickets of `/media/uploads` and the older
 * multipart `/media/upload/binary`), model submission (`?webhook=` or
 * `webhook_url`; `enable_sync_mode`), polling, the webhook secret,
 * plus the CDN-like `/media/…` and `/outputs/…` downloads.
 */
export async function wavespeedRoutes(app: FastifyInstance, deps: WavespeedRoutesDeps): Promise<void> {
  await app.register(multipart, { limits: { fileSize: MAX_UPLOAD_BYTES, files: 1 } });

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/v3/')) return;
    if (request.headers.authorization !== `Bearer ${deps.apiKey}`) {
      return reply.code(401).send({ code: 401, message: 'Unauthorized' });
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, _request, reply) => {
    if (err instanceof WavespeedApiError) return reply.code(err.code).send({ code: err.code, message: err.message });
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(status).send({ code: status, message: status === 500 ? 'internal server error' : err.message });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ code: 404, message: 'not found' }));

  app.post('/api/v3/media/upload/binary', async (request) => {
    const file = request.isMultipart() ? await request.file() : undefined;
    if (!file || file.fieldname !== 'file') throw new WavespeedApiError(400, 'file is required');
    const digest = await digestStream(file.file, MAX_UPLOAD_BYTES);
    if (file.file.truncated || !digest.bytes) throw new WavespeedApiError(413, 'file too large');
    const id = randomUUID().replace(/-/g, '');
    const filename = safeFilename(file.filename);
    const upload: MediaUpload = {
      id,
      filename,
      mimetype: file.mimetype,
      type: mediaType(file.mimetype, filename),
      size: digest.size,
      md5: digest.md5,
      bytes: digest.bytes,
      downloadUrl: `${deps.baseUrl()}/media/${id}/${encodeURIComponent(filename)}`,
      at: Date.now(),
      flow: 'binary',
    };
    deps.uploads.push(upload);
    deps.engine.stats.uploads++;
    return ok({ download_url: upload.downloadUrl, type: upload.type, filename, size: upload.size });
  });

  await uploadTicketRoutes(app, {
    uploads: deps.uploads,
    baseUrl: deps.baseUrl,
    counted: () => deps.engine.stats.uploads++,
    enabled: deps.ticketUploads,
  });

  app.get('/api/v3/webhook/secret', async () => ok({ secret: deps.secret() }));

  const result = async (request: { params: { id: string } }): Promise<unknown> => {
    const p = deps.engine.predictions.get(request.params.id);
    if (!p) throw new WavespeedApiError(404, 'prediction not found');
    return ok(predictionView(p, deps.baseUrl()));
  };
  app.get<{ Params: { id: string } }>('/api/v3/predictions/:id/result', { schema: { params: idParams } }, result);
  app.get<{ Params: { id: string } }>('/api/v3/predictions/:id', { schema: { params: idParams } }, result);

  app.post<{ Params: { '*': string }; Querystring: { webhook?: string } }>('/api/v3/*', async (request, reply) => {
    const model = request.params['*'].replace(/\/+$/, '');
    const limit = deps.submit.perMinuteLimit();
    const now = Date.now();
    if (deps.submitWindow.count(now) >= limit) {
      deps.engine.stats.rateLimited++;
      return reply.code(429).send({ code: 429, message: 'Too Many Requests' });
    }
    const spec = MODELS[model] ?? deps.extraModels.get(model);
    if (!spec) throw new WavespeedApiError(404, `model not found: ${model}`);
    const { input, width, height, durationSeconds } = validateInput(spec, request.body);
    const prompt = String(input['prompt']);
    const markers = readMarkers(prompt);
    if (markers.reject) throw new WavespeedApiError(400, 'prompt rejected by content policy');
    const body = request.body as Record<string, unknown>;
    const sync = body['enable_sync_mode'];
    if (sync !== undefined && typeof sync !== 'boolean') throw new WavespeedApiError(400, 'enable_sync_mode must be a boolean');
    const webhookUrl = request.query.webhook ?? (typeof body['webhook_url'] === 'string' ? body['webhook_url'] : undefined);
    if (webhookUrl !== undefined && !/^https?:\/\/[^\s]+$/i.test(webhookUrl)) {
      throw new WavespeedApiError(400, 'webhook must be a valid http(s) URL');
    }

    deps.submitWindow.record(now);
    const id = randomUUID().replace(/-/g, '');
    const prediction: Prediction = {
      id,
      model,
      input,
      status: 'created',
      outputs: [],
      error: '',
      has_nsfw_contents: [],
      created_at: new Date(now).toISOString(),
      planned: plan(markers, deps.submit),
      loseCallback: markers.loseCallback || Math.random() < deps.submit.lostCallbackRate(),
      latencyMs: markers.slowMs ?? deps.submit.latencyMs(),
      outputBytes: markers.outputBytes ?? deps.submit.outputBytes(model, prompt),
      width,
      height,
      durationSeconds,
      submittedAt: now,
    };
    if (webhookUrl !== undefined) prediction.webhookUrl = webhookUrl;
    deps.engine.submit(prediction);
    const lost = deps.submit.loseAnswer();
    if (lost) {
      deps.engine.stats.answersLost++;
      // The prediction is stored and runs (its webhook will come); only the caller never learns its id.
      if (lost === 'server-error') return reply.code(502).send({ code: 502, message: 'Bad Gateway' });
      reply.hijack();
      if (lost === 'reset') request.raw.socket.destroy();
      // 'timeout': the socket stays open and silent until the caller gives up (or the simulator stops).
      return reply;
    }
    if (sync === true) return syncAnswer(deps, prediction);
    return ok(predictionView(prediction, deps.baseUrl()));
  });

  app.get<{ Params: { id: string; filename: string } }>('/media/:id/:filename', async (request, reply) => {
    const upload = deps.uploads.find((u) => u.id === request.params.id);
    if (!upload) throw new WavespeedApiError(404, 'not found');
    return reply.type(upload.mimetype).send(upload.bytes);
  });

  app.route<{ Params: { file: string } }>({
    method: ['GET', 'HEAD'],
    url: '/outputs/:file',
    exposeHeadRoute: false,
    async handler(request, reply) {
      const id = /^([A-Za-z0-9]+)\.mp4$/.exec(request.params.file)?.[1];
      const p = id === undefined ? undefined : deps.engine.predictions.get(id);
      if (!p || p.status !== 'completed') throw new WavespeedApiError(404, 'not found');
      const info = { durationSeconds: p.durationSeconds, width: p.width, height: p.height };
      reply.type('video/mp4').header('content-length', String(mp4Size(info, p.outputBytes)));
      if (request.method === 'HEAD') return reply.send();
      return reply.send(mp4Stream(info, p.outputBytes, p.id));
    },
  });
}

/**
 * Sync mode: the submission's answer waits for the result. When it does not
 * come within the sync timeout the prediction goes on, and the answer says so
 * the way WaveSpeed's SDKs look for it: HTTP 200, code 5004, status
 * `processing` and "Sync mode timed out" in `error` (the SDKs read `data.code`
 * and `data.error`), so the caller polls `urls.get` from there.
 */
async function syncAnswer(deps: WavespeedRoutesDeps, prediction: Prediction): Promise<unknown> {
  const waitMs = deps.submit.syncTimeoutMs();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), waitMs);
  });
  const settled = await Promise.race([deps.engine.whenSettled(prediction.id).catch(() => 'timeout' as const), timedOut]);
  clearTimeout(timer);
  const view = predictionView(prediction, deps.baseUrl());
  if (settled !== 'timeout') return ok(view);
  const error = `Sync mode timed out after ${Math.round(waitMs / 1000)} s; the task is still processing, query its result later`;
  return { code: 5004, message: error, data: { ...view, code: 5004, status: 'processing', error } };
}

function plan(markers: ReturnType<typeof readMarkers>, settings: SubmitSettings): PlannedOutcome {
  if (markers.fail) return 'fail';
  if (markers.timeout) return 'timeout';
  if (markers.nsfw) return 'nsfw';
  if (Math.random() < settings.failureRate()) return 'fail';
  if (Math.random() < settings.nsfwRate()) return 'nsfw';
  return 'complete';
}

/** The `data` of a submit or result answer. */
export function predictionView(p: Prediction, baseUrl: string): Record<string, unknown> {
  return {
    id: p.id,
    model: p.model,
    status: p.status,
    outputs: p.outputs,
    urls: { get: `${baseUrl}/api/v3/predictions/${p.id}/result` },
    has_nsfw_contents: p.has_nsfw_contents,
    error: p.error,
    timings: { inference: p.inferenceMs ?? 0 },
    created_at: p.created_at,
  };
}
