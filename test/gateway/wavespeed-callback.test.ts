import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createBot } from '../../src/bot/bot.js';
import { parseConfig } from '../../src/config.js';
import { buildApp } from '../../src/gateway/app.js';
import { startGateway } from '../../src/gateway/server.js';
import type { Catalog } from '../../src/db/catalog.js';
import { CallbackTokens } from '../../src/integrations/wavespeed/callback-token.js';
import { signWebhook } from '../../src/integrations/wavespeed/webhook.js';
import { WebhookSecretCache } from '../../src/integrations/wavespeed/webhook-secret.js';
import { TEST_PAYLOAD_ENCRYPTION_KEYS } from '../helpers/encryption.js';
import { botInfo } from './bot-info.js';
import { CALLBACK_TOKENS, FakeWorkflows } from './fake-workflows.js';

const WHSEC = 'whsec_callback0123456789abcdef012345';
const NOW = 1_800_000_000;

const unusedCatalog: Catalog = {
  upsertSource: () => Promise.reject(new Error('no catalog in this test')),
  acceptSummary: () => Promise.reject(new Error('no catalog in this test')),
};

const closing: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

async function gateway(webhookSecret: () => Promise<string> = async () => WHSEC) {
  const workflows = new FakeWorkflows();
  const app = await buildApp({
    bot: createBot({ token: '1:test', apiRoot: 'http://127.0.0.1:9', workflows, botInfo }),
    workflows,
    telegramWebhookSecret: 'unused-secret',
    wavespeedWebhookSecret: webhookSecret,
    wavespeedCallbackTokens: CALLBACK_TOKENS,
    catalog: unusedCatalog,
    readiness: {},
    now: () => NOW,
  });
  closing.push(() => app.close());
  return { app, workflows };
}

const prediction = (id: string, status = 'completed') =>
  JSON.stringify({ id, model: 'wavespeed-ai/wan-2.2/i2v-480p', status, outputs: ['http://127.0.0.1/out.mp4'], has_nsfw_contents: [false], created_at: '', error: '' });

const signed = (body: string, deliveryId = 'msg_1', timestamp = NOW) => ({
  'webhook-id': deliveryId,
  'webhook-timestamp': String(timestamp),
  'webhook-signature': signWebhook(WHSEC, deliveryId, timestamp, body),
});

function post(app: FastifyInstance, workflowId: string, body: string | undefined, headers: Record<string, string>, token: string | null = CALLBACK_TOKENS.sign(workflowId)) {
  const query = token === null ? '' : `?t=${encodeURIComponent(token)}`;
  return app.inject({
    method: 'POST',
    url: `/webhooks/wavespeed/${workflowId}${query}`,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { payload: body }),
  });
}

describe('WaveSpeed callback bound to its workflow', () => {
  it('refuses a valid signed callback replayed to another workflow id with 401, signalling nothing', async () => {
    const { app, workflows } = await gateway();
    workflows.running.add('video-7-11').add('video-8-12');
    const body = prediction('pred-1');
    // The genuine delivery, to the URL issued for video-7-11.
    expect((await post(app, 'video-7-11', body, signed(body))).statusCode).toBe(200);

    // The same bytes and headers, sent on to another workflow: with the first URL's token, with none, with a made-up one.
    const replays = [
      await post(app, 'video-8-12', body, signed(body, 'msg_2'), CALLBACK_TOKENS.sign('video-7-11')),
      await post(app, 'video-8-12', body, signed(body, 'msg_3'), null),
      await post(app, 'video-8-12', body, signed(body, 'msg_4'), 'A'.repeat(43)),
      await post(app, 'video-8-12', body, signed(body, 'msg_5'), new CallbackTokens('another-api-key').sign('video-8-12')),
    ];
    for (const res of replays) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'Unauthorized', message: 'The callback URL is not the one issued for this workflow' });
    }
    expect(workflows.signals.map((s) => s.workflowId)).toEqual(['video-7-11']);
  });

  it('checks the token before asking for the webhook secret', async () => {
    let asked = 0;
    const { app } = await gateway(async () => {
      asked += 1;
      return WHSEC;
    });
    const body = prediction('pred-1');
    for (let i = 0; i < 20; i++) expect((await post(app, 'video-7-11', body, signed(body), null)).statusCode).toBe(401);
    // Signature headers missing: refused without the secret too.
    expect((await post(app, 'video-7-11', body, {})).statusCode).toBe(401);
    expect(asked).toBe(0);
  });
});

describe('WaveSpeed callback deduplicated by webhook-id', () => {
  it('signals a delivery once however often it is replayed, and still signals another delivery', async () => {
    const { app, workflows } = await gateway();
    workflows.running.add('video-7-11');
    const body = prediction('pred-1');
    const first = await post(app, 'video-7-11', body, signed(body, 'msg_a'));
    const again = [await post(app, 'video-7-11', body, signed(body, 'msg_a')), await post(app, 'video-7-11', body, signed(body, 'msg_a', NOW - 200))];
    expect(first.json()).toEqual({ ok: true, delivered: true });
    for (const res of again) {
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ ok: true, delivered: false, duplicate: true });
    }
    const other = await post(app, 'video-7-11', body, signed(body, 'msg_b'));
    expect(other.json()).toEqual({ ok: true, delivered: true });
    expect(workflows.signals).toHaveLength(2);
  });

  it('lets a delivery through again when signalling it failed (503), so its retry is not lost', async () => {
    const { app, workflows } = await gateway();
    workflows.running.add('video-7-11');
    const body = prediction('pred-1');
    workflows.unavailable = true;
    expect((await post(app, 'video-7-11', body, signed(body, 'msg_a'))).statusCode).toBe(503);
    workflows.unavailable = false;
    expect((await post(app, 'video-7-11', body, signed(body, 'msg_a'))).json()).toEqual({ ok: true, delivered: true });
    expect(workflows.signals).toHaveLength(1);
  });
});

describe('WaveSpeed callback without a body', () => {
  it.each([
    ['no body and no content type', undefined],
    ['an empty JSON body', ''],
  ])('answers %s with 400 and a message, signalling nothing', async (_what, body) => {
    const { app, workflows } = await gateway();
    workflows.running.add('video-7-11');
    const res = await post(app, 'video-7-11', body, signed(''));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'Bad Request', message: expect.stringContaining('no body') });
    expect(workflows.signals).toHaveLength(0);
  });

  it('reads a body of another content type as raw bytes too', async () => {
    const { app, workflows } = await gateway();
    workflows.running.add('video-7-11');
    const body = prediction('pred-1');
    const res = await app.inject({
      method: 'POST',
      url: `/webhooks/wavespeed/video-7-11?t=${CALLBACK_TOKENS.sign('video-7-11')}`,
      headers: { 'content-type': 'text/plain; charset=utf-8', ...signed(body) },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    expect(workflows.signals).toHaveLength(1);
  });
});

describe('WaveSpeed callback while the webhook secret cannot be fetched', () => {
  it('answers 503 with Retry-After, fetching once per backoff period however many callbacks arrive', async () => {
    let clock = 0;
    let fetches = 0;
    let failing = true;
    const secrets = new WebhookSecretCache(
      async () => {
        fetches += 1;
        if (failing) throw new Error('HTTP 502');
        return WHSEC;
      },
      { initialBackoffMs: 1_000, maxBackoffMs: 8_000, now: () => clock },
    );
    const { app, workflows } = await gateway(() => secrets.get());
    workflows.running.add('video-7-11');
    const body = prediction('pred-1');

    const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => post(app, 'video-7-11', body, signed(body, `msg_${i}`))));
    expect(burst.map((r) => r.statusCode)).toEqual(Array(50).fill(503));
    expect(burst[0]!.headers['retry-after']).toBe('1');
    expect(burst[0]!.json()).toEqual({ error: 'Service Unavailable', message: expect.stringContaining('try again') });
    expect(fetches).toBe(1);

    clock += 999;
    expect((await post(app, 'video-7-11', body, signed(body, 'msg_x'))).statusCode).toBe(503);
    expect(fetches).toBe(1);
    clock += 1;
    expect((await post(app, 'video-7-11', body, signed(body, 'msg_x'))).statusCode).toBe(503);
    expect(fetches).toBe(2);
    // The pause doubled.
    clock += 1_999;
    expect((await post(app, 'video-7-11', body, signed(body, 'msg_x'))).headers['retry-after']).toBe('1');
    expect(fetches).toBe(2);

    failing = false;
    clock += 1;
    expect((await post(app, 'video-7-11', body, signed(body, 'msg_x'))).json()).toEqual({ ok: true, delivered: true });
    for (let i = 0; i < 10; i++) await post(app, 'video-7-11', body, signed(body, `msg_y${i}`));
    expect(fetches).toBe(3);
    expect(workflows.signals).toHaveLength(11);
  });

  it('in the real gateway: forged posts while WaveSpeed fails make at most one call to WaveSpeed', async () => {
    let secretCalls = 0;
    const wavespeed = Fastify();
    wavespeed.get('/api/v3/webhook/secret', async (_request, reply) => {
      secretCalls += 1;
      return reply.code(502).send({ code: 502, message: 'bad gateway' });
    });
    const apiRoot = await wavespeed.listen({ host: '127.0.0.1', port: 0 });
    closing.push(() => wavespeed.close());
    const apiKey = 'ws-real-gateway-key';
    const config = parseConfig({
      TELEGRAM_BOT_TOKEN: '1:test',
      TELEGRAM_WEBHOOK_SECRET: 'secret',
      WAVESPEED_API_KEY: apiKey,
      WAVESPEED_API_ROOT: apiRoot,
      PAYLOAD_ENCRYPTION_KEYS: TEST_PAYLOAD_ENCRYPTION_KEYS,
      TEMPORAL_ADDRESS: '127.0.0.1:9',
      GATEWAY_PORT: '0',
      LOG_LEVEL: 'silent',
    });
    const running = await startGateway(config, { botInfo });
    closing.push(() => running.close());

    const tokens = new CallbackTokens(apiKey);
    const body = prediction('pred-1');
    const statuses = [];
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${running.url}/webhooks/wavespeed/video-7-11?t=${tokens.sign('video-7-11')}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': `msg_${i}`, 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': `v3,${'0'.repeat(64)}` },
        body,
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual(Array(30).fill(503));
    expect(secretCalls).toBe(1);
  });
});
