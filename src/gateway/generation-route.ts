import type { FastifyInstance } from 'fastify';
import type { WorkflowGateway } from '../temporal/client/starter.js';
import { Failure, GENERATION_QUEUE_LISTED, GenerationState, PauseReply } from './api-schemas.js';

/**
 * `GET /generation`, `POST /generation/pause`, `POST /generation/resume`: the
 * fleet-wide WaveSpeed cap. Pausing stops new submissions; requests keep
 * arriving and wait in order; resuming lets them through. Both are durable
 * (the admission workflow keeps the flag) and repeating one changes nothing.
 */
export async function generationRoute(app: FastifyInstance, { workflows }: { workflows: WorkflowGateway }): Promise<void> {
  const failures = { '4xx': Failure, '5xx': Failure };
  app.get('/generation', { schema: { response: { 200: GenerationState, ...failures } } }, async () => {
    const state = await workflows.generationState();
    return {
      paused: state.paused,
      maxConcurrency: state.maxConcurrency,
      inFlight: state.holders.length + state.draining.length,
      holders: state.holders.map((h) => h.requesterId),
      draining: state.draining.map((d) => d.requesterId),
      queueLength: state.queue.length,
      queue: state.queue.slice(0, GENERATION_QUEUE_LISTED).map((q) => q.requesterId),
    } satisfies GenerationState;
  });
  for (const [action, paused] of [['pause', true], ['resume', false]] as const) {
    app.post(`/generation/${action}`, { schema: { response: { 200: PauseReply, ...failures } } }, async () => {
      await workflows.setGenerationPaused(paused);
      return { paused };
    });
  }
}
