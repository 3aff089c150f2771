import type { PayloadCodec } from '@temporalio/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { PayloadDecryptionError } from '../temporal/encryption.js';
import { adminAuth } from './admin-auth.js';
import { Failure } from './api-schemas.js';

/** How `/codec/*` is exposed: not at all, behind `Bearer <ADMIN_TOKEN>`, or to anyone who can reach it. */
export type CodecEndpointMode = 'off' | 'token' | 'open';

export interface CodecEndpointOptions {
  mode: CodecEndpointMode;
  codec: PayloadCodec;
  /** Origin of the Temporal Web UI, the only origin allowed to call from a browser. */
  uiOrigin: string;
  /** Checked when `mode` is `token`. */
  adminToken?: string;
}

const JsonPayload = Type.Object({
  metadata: Type.Optional(Type.Record(Type.String(), Type.String({ contentEncoding: 'base64' }))),
  data: Type.Optional(Type.String({ contentEncoding: 'base64' })),
});
const CodecBody = Type.Object({ payloads: Type.Array(JsonPayload, { maxItems: 1000 }) });
type CodecBody = Static<typeof CodecBody>;
type JsonPayload = Static<typeof JsonPayload>;

const fromJson = ({ metadata, data }: JsonPayload) => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(data ?? '', 'base64'),
});
const toJson = ({ metadata, data }: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(data ?? []).toString('base64'),
});

/**
 * The Temporal Web UI's (and `temporal --codec-endpoint`'s) Remote Codec Endpoint:
 * `POST /codec/decode` and `/codec/encode` take and give `{ payloads: [{ metadata, data }] }`
 * with base64 values. The UI calls it from the operator's browser, so the UI's
 * origin gets CORS with credentials; preflights pass without a token.
 */
export async function codecRoute(app: FastifyInstance, options: CodecEndpointOptions): Promise<void> {
  const guard = options.mode === 'token' ? adminAuth(options.adminToken) : undefined;

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.headers.origin === options.uiOrigin) {
      reply
        .header('access-control-allow-origin', options.uiOrigin)
        .header('access-control-allow-credentials', 'true')
        .header('vary', 'Origin');
    }
    if (request.method === 'OPTIONS') return;
    if (options.mode === 'off') {
      return reply.code(503).send({ error: 'Service Unavailable', message: 'The codec endpoint is disabled: set CODEC_ENDPOINT to token or open' });
    }
    await guard?.(request, reply);
  });

  for (const direction of ['encode', 'decode'] as const) {
    app.options(`/${direction}`, async (_request, reply) =>
      reply
        .code(204)
        .header('access-control-allow-methods', 'POST, OPTIONS')
        .header('access-control-allow-headers', 'Content-Type, X-Namespace, Authorization')
        .header('access-control-max-age', '600')
        .send(),
    );
    app.post<{ Body: CodecBody }>(
      `/${direction}`,
      { bodyLimit: 4 * 1024 * 1024, schema: { body: CodecBody, response: { 200: CodecBody, '4xx': Failure, '5xx': Failure } } },
      async (request, reply) => {
        const payloads = request.body.payloads.map(fromJson);
        try {
          const result = await options.codec[direction](payloads);
          return { payloads: result.map(toJson) };
        } catch (err) {
          if (err instanceof PayloadDecryptionError) return reply.code(422).send({ error: 'Unprocessable Entity', message: err.message });
          throw err;
        }
      },
    );
  }
}
