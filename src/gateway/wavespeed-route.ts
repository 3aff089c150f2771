import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { GatewayMetrics } from '../observability/metrics.js';
import { parsePrediction } from '../integrations/wavespeed/parse.js';
import { verifyWebhook, WebhookSignatureError } from '../integrations/wavespeed/webhook.js';
import type { WorkflowGateway } from '../temporal/starter.js';
import { parseVideoWorkflowId } from '../workflows/ids.js';

const CALLBACK_BODY_LIMIT = 64 * 1024;

const Params = Type.Object({ workflowId: Type.String({ minLength: 1, maxLength: 200 }) });
const Reply = Type.Object({ ok: Type.Boolean(), delivered: Type.Optional(Type.Boolean()) });
const Failure = Type.Object({ error: Type.String(), message: Type.String() });

export interface WavespeedRouteOptions {
  workflows: WorkflowGateway;
  /** Resolves the signing secret (`whsec_...`); cached by the caller. */
  webhookSecret: () => Promise<string>;
  /** Seconds; injectable for tests. */
  now?: () => number;
  metrics?: GatewayMetrics;
}

/**
 * `POST /webhooks/wavespeed/:workflowId`: verifies WaveSpeed's signature and
 * timestamp over the raw body (401), parses the prediction (400) and signals the
 * workflow. Duplicates are harmless (the workflow keeps the first result) and
 * unknown workflows are answered 200, since WaveSpeed cannot do anything about them.
 */
export async function wavespeedRoute(app: FastifyInstance, options: WavespeedRouteOptions): Promise<void> {
  // The signature covers the exact bytes, so this scope keeps the body raw.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: CALLBACK_BODY_LIMIT }, (_req, body, done) => done(null, body));

  app.post<{ Params: { workflowId: string }; Body: Buffer }>(
    '/webhooks/wavespeed/:workflowId',
    {
      bodyLimit: CALLBACK_BODY_LIMIT,
      schema: { params: Params, response: { 200: Reply, 400: Failure, 401: Failure } },
    },
    async (request, reply) => {
      const raw = request.body;
      try {
        verifyWebhook(await options.webhookSecret(), request.headers, raw, options.now?.());
      } catch (err) {
        if (!(err instanceof WebhookSignatureError)) throw err;
        options.metrics?.webhookRejections.inc({ source: 'wavespeed', reason: err.reason });
        request.log.warn({ reason: err.reason }, 'WaveSpeed webhook refused');
        return reply.code(401).send({ error: 'Unauthorized', message: `Signature check failed: ${err.reason}` });
      }
      let result;
      try {
        result = parsePrediction(JSON.parse(raw.toString('utf8')));
      } catch {
        return reply.code(400).send({ error: 'Bad Request', message: 'Body is not a WaveSpeed prediction' });
      }
      const { workflowId } = request.params;
      if (!parseVideoWorkflowId(workflowId)) return { ok: true, delivered: false };
      const delivered = await options.workflows.signalWavespeedResult(workflowId, result);
      if (!delivered) request.log.info({ workflowId, predictionId: result.id }, 'WaveSpeed result for no running workflow');
      return { ok: true, delivered };
    },
  );
}
