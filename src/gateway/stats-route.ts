import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { StatsService } from './services/stats.js';

const Counts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }));
const WorkflowCounts = Type.Object({ running: Type.Integer({ minimum: 0 }), failed: Type.Integer({ minimum: 0 }) });
const CacheRate = Type.Object({ lookups: Type.Integer({ minimum: 0 }), hits: Type.Integer({ minimum: 0 }), rate: Type.Number({ minimum: 0, maximum: 1 }) });
/** Per-day figures; a new one is added here and in `dailyActivity`. */
const Daily = Type.Object({ date: Type.String(), generations: Counts, deliveries: Counts, cache: CacheRate });
const Spend = Type.Object({ day: Type.String(), costUsd: Type.Number({ minimum: 0 }), charged: Type.Integer({ minimum: 0 }) });
const StatsReply = Type.Object({ workflows: Type.Record(Type.String(), WorkflowCounts), today: Daily, spend: Type.Array(Spend) });

/** `GET /stats` (under `/api`): running and failed workflows per type, today's generations, deliveries and cache hits, spend per day. */
export async function statsRoute(app: FastifyInstance, { stats }: { stats: StatsService }): Promise<void> {
  app.get('/stats', { schema: { response: { 200: StatsReply } } }, async () => stats.collect());
}
