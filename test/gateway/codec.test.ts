import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createBot } from '../../src/bot/bot.js';
import { buildApp } from '../../src/gateway/app.js';
import type { CodecEndpointMode } from '../../src/gateway/codec-route.js';
import type { Catalog } from '../../src/db/catalog.js';
import { EncryptionCodec } from '../../src/temporal/encryption.js';
import { botInfo } from './bot-info.js';
import { CALLBACK_TOKENS, FakeWorkflows } from './fake-workflows.js';

const ADMIN_TOKEN = 'codec-test-admin-token-0123456789';
const UI = 'http://127.0.0.1:8233';
const codec = new EncryptionCodec([{ id: 'k1', key: randomBytes(32) }]);
const unusedCatalog: Catalog = {
  upsertSource: () => Promise.reject(new Error('no catalog in this test')),
  acceptSummary: () => Promise.reject(new Error('no catalog in this test')),
};

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
});

async function makeApp(mode: CodecEndpointMode | undefined): Promise<FastifyInstance> {
  const workflows = new FakeWorkflows();
  app = await buildApp({
    bot: createBot({ token: '1:test', apiRoot: 'http://127.0.0.1:9', workflows, botInfo }),
    workflows,
    telegramWebhookSecret: 'unused-secret',
    wavespeedWebhookSecret: async () => 'whsec_unused',
    wavespeedCallbackTokens: CALLBACK_TOKENS,
    readiness: {},
    catalog: unusedCatalog,
    adminToken: ADMIN_TOKEN,
    codec: mode === undefined ? undefined : { mode, codec, uiOrigin: UI },
  });
  return app;
}

/** A payload as the UI sends it: metadata values and data in base64. */
const asJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});
const fromJson = (p: { metadata: Record<string, string>; data: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});

const post = (target: FastifyInstance, url: string, payloads: Payload[], headers: Record<string, string> = {}) =>
  target.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers }, payload: { payloads: payloads.map(asJson) } });

describe('POST /codec/decode and /codec/encode', () => {
  it('decodes what the workers encrypted, as the UI expects', async () => {
    const target = await makeApp('open');
    const encrypted = await codec.encode([defaultPayloadConverter.toPayload({ chatId: 7, caption: 'hello sea' })]);
    const res = await post(target, '/codec/decode', encrypted, { origin: UI });
    expect(res.statusCode).toBe(200);
    const [decoded] = res.json<{ payloads: Array<{ metadata: Record<string, string>; data: string }> }>().payloads;
    expect(Buffer.from(decoded!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    expect(defaultPayloadConverter.fromPayload(fromJson(decoded!))).toEqual({ chatId: 7, caption: 'hello sea' });
    expect(res.headers['access-control-allow-origin']).toBe(UI);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
  });

  it('encodes so the workers can decode, and passes plaintext payloads through decode', async () => {
    const target = await makeApp('open');
    const plain = defaultPayloadConverter.toPayload('signal input typed in the UI');
    const res = await post(target, '/codec/encode', [plain]);
    expect(res.statusCode).toBe(200);
    const encoded = res.json<{ payloads: Array<{ metadata: Record<string, string>; data: string }> }>().payloads.map(fromJson);
    expect(Buffer.from(encoded[0]!.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect((await codec.decode(encoded)).map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(['signal input typed in the UI']);

    const passthrough = await post(target, '/codec/decode', [plain]);
    expect(passthrough.json<{ payloads: unknown[] }>().payloads).toEqual([asJson(plain)]);
  });

  it('answers 422 naming the key when a payload cannot be decrypted', async () => {
    const target = await makeApp('open');
    const foreign = await new EncryptionCodec([{ id: 'old-key', key: randomBytes(32) }]).encode([defaultPayloadConverter.toPayload('x')]);
    const res = await post(target, '/codec/decode', foreign);
    expect(res.statusCode).toBe(422);
    expect(res.json<{ message: string }>().message).toMatch(/"old-key", which is not configured/);
  });

  it('rejects a body that is not the codec protocol', async () => {
    const target = await makeApp('open');
    const res = await target.inject({ method: 'POST', url: '/codec/decode', headers: { 'content-type': 'application/json' }, payload: { nope: [] } });
    expect(res.statusCode).toBe(400);
  });

  it('answers the UI’s preflight without a token, allowing its headers and credentials', async () => {
    const target = await makeApp('token');
    const res = await target.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: { origin: UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace,authorization' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(UI);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-allow-headers']).toBe('Content-Type, X-Namespace, Authorization');
    expect(res.headers['access-control-allow-methods']).toMatch(/POST/);
  });

  it('gives other origins no CORS grant', async () => {
    const target = await makeApp('open');
    const res = await post(target, '/codec/decode', [], { origin: 'https://evil.example' });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('in token mode wants Bearer ADMIN_TOKEN', async () => {
    const target = await makeApp('token');
    const encrypted = await codec.encode([defaultPayloadConverter.toPayload('secret')]);
    expect((await post(target, '/codec/decode', encrypted)).statusCode).toBe(401);
    expect((await post(target, '/codec/decode', encrypted, { authorization: 'Bearer wrong-token-wrong-token' })).statusCode).toBe(401);
    const ok = await post(target, '/codec/decode', encrypted, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(ok.statusCode).toBe(200);
  });

  it.each([['off' as const], [undefined]])('is disabled when the mode is %s (503 when off, no route without a codec)', async (mode) => {
    const target = await makeApp(mode);
    const encrypted = await codec.encode([defaultPayloadConverter.toPayload('secret')]);
    const res = await post(target, '/codec/decode', encrypted, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(res.statusCode).toBe(mode === 'off' ? 503 : 404);
    expect(res.body).not.toContain('secret');
  });
});
