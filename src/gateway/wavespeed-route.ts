import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { CallbackTokens } from '../integrations/wavespeed/callback-token.js';
import { parsePrediction } from '../integrations/wavespeed/parse.js';
import { readWebhookHeaders, verifyWebhookSignature, WebhookSignatureError } from '../integrations/wavespeed/webhook.js';
import { WebhookSecretUnavailableError } from '../integrations/wavespeed/webhook-secret.js';
import type { WorkflowGateway } from '../temporal/client/starter.js';
import { parseVideoWorkflowId } from '../workflows/ids.js';
import { RecentKeys } from './recent-keys.js';

const CALLBACK_BODY_LIMIT = 64 * 1024;
/**
 * A delivery is accepted while its timestamp is within 300 s of now, either
 * side: remembering its `webhook-id` a little over 600 s outlives every replay
 * the signature check would let through.
 */
const DELIVERY_MEMORY = { capacity: 10_000, ttlMs: 11 * 60 * 1000 };

const Params = Type.Object({ workflowId: Type.String({ minLength: 1, maxLength: 200 }) });
const Query = Type.Object({ t: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: true });
const Reply = Type.Object({ ok: Type.Boolean(), delivered: Type.Optional(Type.Boolean()), duplicate: Type.Optional(Type.Boolean()) });
const Failure = Type.Object({ error: Type.String(), message: Type.String() });

export interface WavespeedRouteOptions {
  workflows: WorkflowGateway;
  /** Resolves the signing secret (`whsec_...`); cached and backed off by the caller (see `WebhookSecretCache`). */
  webhookSecret: () => Promise<string>;
  /** Checks the `?t=` token that binds a callback URL to its workflow. */
  callbackTokens: CallbackTokens;
  /** Seconds; injectable for tests. */
  now?: () => number;
  metrics?: GatewayMetrics;
  /** How many recent `webhook-id`s are remembered, and how long; tests shrink it. */
  deliveryMemory?: { capacity: number; ttlMs: number };
}

/**
 * `POST /webhooks/wavespeed/:workflowId?t=<token>`, in order of cost: the token
 * must be the one for this workflow (401, nothing else looked at), the body must
 * not be empty (400), the signature headers present and fresh (401), the
 * signature valid over the raw body (401; 503 while the secret cannot be had),
 * and the body a prediction (400). A `webhook-id` already delivered is answered
 * 200 without a second signal. Unknown workflows are answered 200, since
 * WaveSpeed cannot do anything about them.
 */
export async function wavespeedRoute(app: FastifyInstance, options: WavespeedRouteOptions): Promise<void> {
  // The signature covers the exact bytes, so this scope keeps every body raw, whatever its content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: CALLBACK_BODY_LIMIT }, (_req, body, done) => done(null, body));
  const delivered = new RecentKeys<string>(options.deliveryMemory?.capacity ?? DELIVERY_MEMORY.capacity, options.deliveryMemory?.ttlMs ?? DELIVERY_MEMORY.ttlMs);

  app.post<{ Params: { workflowId: string }; Querystring: { t?: string }; Body: Buffer | undefined }>(
    '/webhooks/wavespeed/:workflowId',
    {
      bodyLimit: CALLBACK_BODY_LIMIT,
      schema: { params: Params, querystring: Query, response: { 200: Reply, 400: Failure, 401: Failure, 503: Failure } },
    },
    async (request, reply) => {
      const { workflowId } = request.params;
      const refuse = (reason: string, message: string) => {
        options.metrics?.webhookRejections.inc({ source: 'wavespeed', reason });
        request.log.warn({ reason }, 'WaveSpeed webhook refused');
        return reply.code(401).send({ error: 'Unauthorized', message });
      };
      if (!options.callbackTokens.verify(workflowId, request.query.t)) {
        return refuse('bad-token', 'The callback URL is not the one issued for this workflow');
      }
      const raw = request.body;
      if (!Buffer.isBuffer(raw) || raw.length === 0) {
        return reply.code(400).send({ error: 'Bad Request', message: 'The callback has no body: WaveSpeed posts the prediction as JSON' });
      }
      let deliveryId: string;
      try {
        const signed = readWebhookHeaders(request.headers, options.now?.());
        verifyWebhookSignature(await options.webhookSecret(), signed, raw);
        deliveryId = signed.id;
      } catch (err) {
        if (err instanceof WebhookSecretUnavailableError) {
          request.log.warn({ err: err.cause }, 'WaveSpeed webhook secret unavailable');
          return reply
            .code(503)
            .header('retry-after', String(err.retryAfterSeconds))
            .send({ error: 'Service Unavailable', message: 'The signature cannot be checked right now; try again shortly' });
        }
        if (!(err instanceof WebhookSignatureError)) throw err;
        return refuse(err.reason, `Signature check failed: ${err.reason}`);
      }
      let result;
      try {
        result = parsePrediction(JSON.parse(raw.toString('utf8')));
      } catch {
        return reply.code(400).send({ error: 'Bad Request', message: 'Body is not a WaveSpeed prediction' });
      }
      if (!parseVideoWorkflowId(workflowId)) return { ok: true, delivered: false };
      if (!delivered.addIfAbsent(deliveryId)) {
        request.log.info({ workflowId, deliveryId }, 'WaveSpeed webhook delivery already handled');
        return { ok: true, delivered: false, duplicate: true };
      }
      let signalled: boolean;
      try {
        signalled = await options.workflows.signalWavespeedResult(workflowId, result);
      } catch (err) {
        // Not handled after all: a retry of this delivery must get through.
        delivered.take(deliveryId);
        throw err;
      }
      if (!signalled) request.log.info({ workflowId, predictionId: result.id }, 'WaveSpeed result for no running workflow');
      return { ok: true, delivered: signalled };
    },
  );
}
