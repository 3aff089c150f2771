import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBot } from '../../src/bot/bot.js';
import { buildApp } from '../../src/gateway/app.js';
import type { Catalog } from '../../src/db/catalog.js';
import type { Stats, StatsService } from '../../src/gateway/services/stats.js';
import { signWebhook } from '../../src/integrations/wavespeed/webhook.js';
import { createGatewayMetrics } from '../../src/observability/metrics.js';
import { TemporalUnavailableError } from '../../src/temporal/client/starter.js';
import { botInfo } from './bot-info.js';
import { CALLBACK_TOKENS, FakeWorkflows } from './fake-workflows.js';

const SECRET = 'telegram-secret_metrics';
const WHSEC = 'whsec_metrics0123456789abcdef0123456789';
const ADMIN = 'metrics-test-admin-token-0123456789';
const NOW = 1_800_000_000;

const unusedCatalog: Catalog = {
  upsertSource: () => Promise.reject(new Error('no catalog in this test')),
  acceptSummary: () => Promise.reject(new Error('no catalog in this test')),
};

const STATS: Stats = {
  workflows: {
    imageToVideo: { running: 3, failed: 1 },
    botCommand: { running: 0, failed: 0 },
    distributeSummary: { running: 1, failed: 2 },
  },
  today: {
    date: '2026-11-22',
    generations: { completed: 5, failed: 1 },
    deliveries: { sent: 120, blocked: 2 },
    cache: { lookups: 4, hits: 1, rate: 0.25 },
  },
  spend: [
    { day: '2026-11-21', costUsd: 0.3, charged: 2 },
    { day: '2026-11-22', costUsd: 0.75, charged: 5 },
  ],
};

let app: FastifyInstance;
let workflows: FakeWorkflows;
let statsCalls: Date[];
let temporalDown: boolean;

beforeEach(async () => {
  workflows = new FakeWorkflows();
  statsCalls = [];
  temporalDown = false;
  const metrics = createGatewayMetrics();
  const stats: StatsService = {
    async collect(now = new Date()) {
      statsCalls.push(now);
      if (temporalDown) throw new TemporalUnavailableError();
      return STATS;
    },
  };
  app = await buildApp({
    bot: createBot({ token: '1:test', apiRoot: 'http://127.0.0.1:9', workflows, botInfo }),
    workflows,
    telegramWebhookSecret: SECRET,
    wavespeedWebhookSecret: async () => WHSEC,
    wavespeedCallbackTokens: CALLBACK_TOKENS,
    catalog: unusedCatalog,
    readiness: {},
    adminToken: ADMIN,
    metrics,
    stats,
    now: () => NOW,
  });
});

afterEach(async () => {
  await app.close();
});

let updateId = 1;
const from = { id: 7, is_bot: false, first_name: 'Ada' };
const photo = () => ({
  update_id: updateId++,
  message: {
    message_id: 100 + updateId,
    from,
    chat: { id: 7, type: 'private', first_name: 'Ada' },
    date: NOW,
    caption: 'go',
    photo: [{ file_id: 'large', file_unique_id: 'l', width: 1280, height: 960, file_size: 90000 }],
  },
});
const postUpdate = (body: unknown, secret = SECRET) =>
  app.inject({ method: 'POST', url: '/telegram/webhook', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret }, payload: JSON.stringify(body) });

async function scrape(): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.body;
}

/** The value of one sample, `undefined` when the series does not exist. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  it('counts requests by route pattern, method and status, and times them', async () => {
    await app.inject({ method: 'GET', url: '/healthz' });
    await app.inject({ method: 'GET', url: '/healthz' });
    await app.inject({ method: 'GET', url: '/no/such/page?token=x' });
    const first = await scrape();
    expect(sample(first, 'telewan_http_requests_total{route="/healthz",method="GET",status="200"}')).toBe(2);
    expect(sample(first, 'telewan_http_requests_total{route="unmatched",method="GET",status="404"}')).toBe(1);
    expect(sample(first, 'telewan_http_request_duration_seconds_count{route="/healthz",method="GET"}')).toBe(2);
    expect(first).not.toContain('/no/such/page');

    await app.inject({ method: 'GET', url: '/healthz' });
    const second = await scrape();
    expect(sample(second, 'telewan_http_requests_total{route="/healthz",method="GET",status="200"}')).toBe(3);
    // The first scrape is counted too.
    expect(sample(second, 'telewan_http_requests_total{route="/metrics",method="GET",status="200"}')).toBe(1);
  });

  it('counts the webhook requests that start workflows (the starts themselves: test/temporal/starter.test.ts)', async () => {
    const update = photo();
    expect((await postUpdate(update)).statusCode).toBe(200);
    expect((await postUpdate(update)).statusCode).toBe(200);
    expect((await postUpdate(photo())).statusCode).toBe(200);
    const text = await scrape();
    expect(sample(text, 'telewan_http_requests_total{route="/telegram/webhook",method="POST",status="200"}')).toBe(3);
  });

  it('counts refused webhooks: wrong Telegram secret, bad and stale WaveSpeed signatures', async () => {
    expect((await postUpdate(photo(), 'wrong-secret')).statusCode).toBe(401);
    const body = JSON.stringify({ id: 'p', model: 'm', status: 'completed', outputs: [], has_nsfw_contents: [], created_at: '', error: '' });
    const post = (headers: Record<string, string>) =>
      app.inject({ method: 'POST', url: `/webhooks/wavespeed/video-7-1?t=${CALLBACK_TOKENS.sign('video-7-1')}`, headers: { 'content-type': 'application/json', ...headers }, payload: body });
    const signed = (timestamp: number, secret = WHSEC) => ({
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(secret, 'msg_1', timestamp, body),
    });
    expect((await post(signed(NOW, 'whsec_other'))).statusCode).toBe(401);
    expect((await post(signed(NOW - 1000))).statusCode).toBe(401);
    expect((await post(signed(NOW))).statusCode).toBe(200);
    const text = await scrape();
    expect(sample(text, 'telewan_webhook_rejections_total{source="telegram",reason="secret_mismatch"}')).toBe(1);
    expect(sample(text, 'telewan_webhook_rejections_total{source="wavespeed",reason="bad-signature"}')).toBe(1);
    expect(sample(text, 'telewan_webhook_rejections_total{source="wavespeed",reason="stale"}')).toBe(1);
    for (const secret of [SECRET, WHSEC, ADMIN, 'wrong-secret']) expect(text).not.toContain(secret);
  });
});

describe('GET /api/stats', () => {
  it('answers the figures behind the admin token', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/stats', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(STATS);
  });

  it('refuses a missing or wrong token without collecting anything', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/stats' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/stats', headers: { authorization: `Bearer ${ADMIN}x` } })).statusCode).toBe(401);
    expect(statsCalls).toHaveLength(0);
  });

  it('answers 503 when Temporal does not answer', async () => {
    temporalDown = true;
    const res = await app.inject({ method: 'GET', url: '/api/stats', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.statusCode).toBe(503);
  });
});
