import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * An `onRequest` hook guarding the operators' API with `Authorization: Bearer
 * <ADMIN_TOKEN>`. It runs before the body is read. Tokens are compared as
 * SHA-256 digests in constant time, so neither content nor length leaks.
 * Without a configured token the API is off: 503, saying how to turn it on.
 */
export function adminAuth(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (expected === undefined) {
      return reply
        .code(503)
        .send({ error: 'Service Unavailable', message: "The operators' API is disabled: set ADMIN_TOKEN to enable it" });
    }
    const given = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'Unauthorized', message: 'Send Authorization: Bearer <ADMIN_TOKEN>' });
    }
  };
}
