import type { FastifyInstance } from 'fastify';
import { API_BODY_LIMIT, Failure, SourceBody, SourceReply } from './api-schemas.js';
import type { Catalog } from '../db/catalog.js';

/** `POST /sources`: creates a source (201) or retitles the one with that slug (200). */
export async function sourcesRoute(app: FastifyInstance, { catalog }: { catalog: Catalog }): Promise<void> {
  app.post<{ Body: SourceBody }>(
    '/sources',
    {
      bodyLimit: API_BODY_LIMIT,
      schema: { body: SourceBody, response: { 200: SourceReply, 201: SourceReply, '4xx': Failure, '5xx': Failure } },
    },
    async (request, reply) => {
      const { source, created } = await catalog.upsertSource(request.body);
      return reply.code(created ? 201 : 200).send(source);
    },
  );
}
