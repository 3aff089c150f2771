import type { FastifyInstance } from 'fastify';
import { assertSummaryFits } from '../domain/summary-text.js';
import type { WorkflowGateway } from '../temporal/client/starter.js';
import { API_BODY_LIMIT, Failure, SummaryBody, SummaryReply } from './api-schemas.js';
import type { Catalog } from '../db/catalog.js';

/**
 * `POST /summaries`: refuses a summary too long for one Telegram message (422,
 * nothing stored or started), stores it once per (source, externalId), then
 * starts its distribution (202). A repeated POST finds the same summary and
 * workflow, so an intake that got a 503 (Temporal down) is simply sent again.
 */
export async function summariesRoute(app: FastifyInstance, { catalog, workflows }: { catalog: Catalog; workflows: WorkflowGateway }): Promise<void> {
  app.post<{ Body: SummaryBody }>(
    '/summaries',
    {
      bodyLimit: API_BODY_LIMIT,
      schema: { body: SummaryBody, response: { 202: SummaryReply, '4xx': Failure, '5xx': Failure } },
    },
    async (request, reply) => {
      assertSummaryFits(request.body);
      const { summaryId, created } = await catalog.acceptSummary(request.body);
      const { workflowId } = await workflows.startDistribution({ summaryId, sourceSlug: request.body.source });
      return reply.code(202).send({ summaryId, workflowId, created });
    },
  );
}
