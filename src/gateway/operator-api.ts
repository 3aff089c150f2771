import type { FastifyInstance } from 'fastify';
import type { Redriver } from '../temporal/client/redrive.js';
import type { WorkflowGateway } from '../temporal/client/starter.js';
import { adminAuth } from './admin-auth.js';
import { redriveRoute } from './redrive-route.js';
import { generationRoute } from './generation-route.js';
import type { Catalog } from '../db/catalog.js';
import type { StatsService } from './services/stats.js';
import { statsRoute } from './stats-route.js';
import { sourcesRoute } from './sources-route.js';
import { summariesRoute } from './summaries-route.js';

export interface OperatorApiOptions {
  /** Bearer token; undefined turns the API off (503). */
  adminToken: string | undefined;
  catalog: Catalog;
  workflows: WorkflowGateway;
  /** `GET /stats`; the route exists only when given. */
  stats?: StatsService;
  /** Re-drives failed workflows; without it `POST /workflows/:id/redrive` is not offered. */
  redriver?: Redriver;
}

/** The operators' API (register with a prefix, e.g. `/api`): every route behind {@link adminAuth}. */
export async function operatorApi(app: FastifyInstance, options: OperatorApiOptions): Promise<void> {
  app.addHook('onRequest', adminAuth(options.adminToken));
  await app.register(sourcesRoute, { catalog: options.catalog });
  await app.register(summariesRoute, { catalog: options.catalog, workflows: options.workflows });
  if (options.stats) await app.register(statsRoute, { stats: options.stats });
  if (options.redriver) await app.register(redriveRoute, { redriver: options.redriver });
  await app.register(generationRoute, { workflows: options.workflows });
}
