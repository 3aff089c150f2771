import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { StatsService } from './services/stats.js';

const Counts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }));
const WorkflowCounts = Type.Object({ running: Type.Integer({ minimum: 0 }), failed: Type.Integer({ minimum: 0 }) });
/** Per-day figures; a new one (e.g. spend) is added here and in `dailyActivity`. */
const Daily = Type.Object({ date: Type.String(), generations: Counts, deliveries: Counts });
const StatsReply = Type.Object({ workflows: Type.Record(Type.String(), WorkflowCounts), today: Daily });

/** `GET /stats` (under `/api`): running and failed workflows per type, today's generations and deliveries by status. */
export async function statsRoute(app: FastifyInstance, { stats }: { stats: StatsService }): Promise<void> {
  app.get('/stats', { schema: { response: { 200: StatsReply } } }, async () => stats.collect());
}
