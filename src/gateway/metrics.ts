import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { StartResult, WorkflowGateway } from '../temporal/starter.js';

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

/**
 * The same {@link WorkflowGateway}, counting the starts it passes on (started or
 * duplicate) by workflow type. Every other method goes straight through.
 */
export function countWorkflowStarts<T extends WorkflowGateway>(workflows: T, metrics: GatewayMetrics): T {
  const counted = async (workflowType: string, start: Promise<StartResult>): Promise<StartResult> => {
    const result = await start;
    metrics.workflowStarts.inc({ workflow_type: workflowType, result: result.started ? 'started' : 'duplicate' });
    return result;
  };
  const starts: Partial<Record<PropertyKey, unknown>> = {
    startVideo: (request: Parameters<WorkflowGateway['startVideo']>[0]) => counted('imageToVideo', workflows.startVideo(request)),
    startCommand: (input: Parameters<WorkflowGateway['startCommand']>[0]) => counted('botCommand', workflows.startCommand(input)),
    startDistribution: (summary: Parameters<WorkflowGateway['startDistribution']>[0]) => counted('distributeSummary', workflows.startDistribution(summary)),
  };
  return new Proxy(workflows, {
    get: (target, key) => {
      if (key in starts) return starts[key];
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
