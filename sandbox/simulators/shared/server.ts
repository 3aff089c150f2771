import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';

/** `false` (default) for silence, `true` for Fastify's own pino logger, or a logger instance. */
export type SimulatorLogger = boolean | FastifyBaseLogger;

/** A Fastify instance configured for a simulator: quiet, and closing every socket on stop. */
export function createServer(logger: SimulatorLogger | undefined, bodyLimit = 1024 * 1024): FastifyInstance {
  const common = { bodyLimit, forceCloseConnections: true, routerOptions: { ignoreTrailingSlash: true } } as const;
  if (typeof logger === 'object') return Fastify({ ...common, loggerInstance: logger });
  return Fastify({ ...common, logger: logger ?? false });
}

/** Listens and returns the base URL (`http://host:port`, with the real port when 0 was asked). */
export async function listen(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('simulator: server has no TCP address');
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return `http://${shownHost}:${address.port}`;
}
