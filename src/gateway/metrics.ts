import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { TemporalWorkflowGatewayOptions } from '../temporal/client/starter.js';

/**
 * Counts and times every answered request by route pattern, method and status.
 * Call on the root instance, so the hook sees every route.
 */
export function instrumentRequests(app: FastifyInstance, metrics: GatewayMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.requestDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
  });
}

/**
 * `GET /metrics`: Prometheus text format. Unauthenticated like `/healthz`: it
 * holds counts and timings only (route patterns, never URLs or secrets); keep it
 * off the public internet at the proxy.
 */
export async function metricsRoute(app: FastifyInstance, { metrics }: { metrics: GatewayMetrics }): Promise<void> {
  app.get('/metrics', async (_request, reply) => {
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}

/** The start hook of {@link TemporalWorkflowGatewayOptions}: counts each start (started or duplicate) by workflow type. */
export function countWorkflowStarts(metrics: GatewayMetrics): NonNullable<TemporalWorkflowGatewayOptions['onStart']> {
  return (workflowType, result) => metrics.workflowStarts.inc({ workflow_type: workflowType, result: result.started ? 'started' : 'duplicate' });
}
