import type { FastifyInstance } from 'fastify';
import type { Redriver } from '../temporal/client/redrive.js';
import { API_BODY_LIMIT, Failure, RedriveBody, RedriveParams, RedriveReply } from './api-schemas.js';

/**
 * `POST /workflows/:workflowId/redrive`: retries a failed video generation or
 * summary distribution from where it failed (202). Unknown workflow 404; still
 * running or not failed 409 (see {@link Redriver}).
 */
export async function redriveRoute(app: FastifyInstance, { redriver }: { redriver: Redriver }): Promise<void> {
  app.post<{ Params: RedriveParams; Body: RedriveBody }>(
    '/workflows/:workflowId/redrive',
    {
      bodyLimit: API_BODY_LIMIT,
      schema: { params: RedriveParams, body: RedriveBody, response: { 202: RedriveReply, '4xx': Failure, '5xx': Failure } },
      // The body is optional: a bare POST re-drives with the default reason.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const result = await redriver.redrive(request.params.workflowId, { reason: request.body.reason });
      request.log.info({ redrive: result }, 'workflow re-driven');
      return reply.code(202).send(result);
    },
  );
}
