import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBot } from '../../src/bot/bot.js';
import { buildApp } from '../../src/gateway/app.js';
import { createCatalog } from '../../src/db/catalog.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { botInfo } from './bot-info.js';
import { CALLBACK_TOKENS, FakeWorkflows } from './fake-workflows.js';

const TOKEN = 'operators-api-token-0123456789ab';

let db: TestDatabase;
let app: FastifyInstance;
let workflows: FakeWorkflows;

async function makeApp({ adminToken }: { adminToken?: string } = { adminToken: TOKEN }): Promise<FastifyInstance> {
  const bot = createBot({ token: '1:test', apiRoot: 'http://127.0.0.1:9', workflows, botInfo });
  return buildApp({
    bot,
    workflows,
    telegramWebhookSecret: 'unused-secret',
    wavespeedWebhookSecret: async () => 'whsec_unused',
    wavespeedCallbackTokens: CALLBACK_TOKENS,
    readiness: {},
    catalog: createCatalog(db.prisma),
    adminToken,
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  workflows = new FakeWorkflows();
  app = await makeApp();
});
afterEach(async () => {
  await app.close();
});

let nextSlug = 1;
const freshSlug = () => `src-${nextSlug++}`;

const post = (url: string, body: unknown, token: string | null = TOKEN, target = app) =>
  target.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });

async function createSource(slug = freshSlug(), title = `Title of ${slug}`) {
  const res = await post('/api/sources', { slug, title });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: number; slug: string; title: string }>();
}

const summary = (source: string, extra: Record<string, unknown> = {}) => ({
  source,
  externalId: 'yt-abc123',
  title: 'Why the sky is blue',
  text: 'Rayleigh scattering, in three minutes.',
  videoUrl: 'https://www.youtube.com/watch?v=abc123',
  ...extra,
});

describe('operators\' API: authentication', () => {
  it('refuses a missing, wrong or non-Bearer token with 401, before touching the database', async () => {
    const slug = freshSlug();
    for (const headers of [{}, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Bearer ${TOKEN.slice(0, -1)}` }, { authorization: `Basic ${TOKEN}` }, { authorization: 'Bearer' }]) {
      const res = await app.inject({ method: 'POST', url: '/api/sources', headers: { 'content-type': 'application/json', ...headers }, payload: { slug, title: 'x' } });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'Unauthorized', message: expect.stringContaining('Bearer') });
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
    expect(await db.prisma.source.count({ where: { slug } })).toBe(0);
  });

  it('answers 503 with a clear message when ADMIN_TOKEN is not configured', async () => {
    const closed = await makeApp({});
    try {
      const res = await post('/api/summaries', summary('anything'), TOKEN, closed);
      expect(res.statusCode).toBe(503);
      expect(res.json().message).toMatch(/ADMIN_TOKEN/);
      expect((await post('/api/sources', { slug: freshSlug(), title: 't' }, null, closed)).statusCode).toBe(503);
    } finally {
      await closed.close();
    }
  });
});

describe('POST /api/sources', () => {
  it('creates a source (201, source.created) and retitles it on a repeated slug (200)', async () => {
    const slug = freshSlug();
    const created = await post('/api/sources', { slug, title: 'Tech News' });
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toEqual({ id: expect.any(Number), slug, title: 'Tech News' });

    const again = await post('/api/sources', { slug, title: 'Tech News Daily' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ id: body.id, slug, title: 'Tech News Daily' });

    expect(await db.prisma.source.findMany({ where: { slug } })).toEqual([expect.objectContaining({ id: body.id, title: 'Tech News Daily' })]);
    const events = await db.prisma.domainEvent.findMany({ where: { type: 'source.created', subject: `source:${slug}` } });
    expect(events).toHaveLength(1);
  });

  it.each([
    ['an upper-case slug', { slug: 'Tech', title: 't' }],
    ['a one-character slug', { slug: 'a', title: 't' }],
    ['a slug starting with a dash', { slug: '-tech', title: 't' }],
    ['a slug of 33 characters', { slug: 'a'.repeat(33), title: 't' }],
    ['a slug with a space', { slug: 'tech news', title: 't' }],
    ['no title', { slug: 'tech' }],
    ['an empty title', { slug: 'tech', title: '' }],
    ['no slug', { title: 't' }],
  ])('refuses %s with 400', async (_what, body) => {
    const res = await post('/api/sources', body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: expect.any(String), message: expect.any(String) });
  });

  it('refuses malformed JSON with 400 and a body over 64 KB with 413', async () => {
    expect((await post('/api/sources', '{"slug":')).statusCode).toBe(400);
    expect((await post('/api/sources', { slug: freshSlug(), title: 't', pad: 'x'.repeat(65 * 1024) })).statusCode).toBe(413);
  });
});

describe('POST /api/summaries', () => {
  it('stores the summary, records summary.received and starts its distribution (202)', async () => {
    const source = await createSource();

    const res = await post('/api/summaries', summary(source.slug));

    expect(res.statusCode).toBe(202);
    const body = res.json<{ summaryId: number; workflowId: string; created: boolean }>();
    expect(body).toEqual({ summaryId: expect.any(Number), workflowId: `summary-${body.summaryId}`, created: true });
    expect(await db.prisma.summary.findUniqueOrThrow({ where: { id: body.summaryId } })).toMatchObject({
      sourceId: source.id,
      externalId: 'yt-abc123',
      title: 'Why the sky is blue',
      videoUrl: 'https://www.youtube.com/watch?v=abc123',
      sent: false,
    });
    expect(workflows.distributions).toEqual([body.summaryId]);
    expect(workflows.distributionSources).toEqual([source.slug]);
    expect(await db.prisma.domainEvent.count({ where: { type: 'summary.received', subject: `summary:${body.summaryId}` } })).toBe(1);
  });

  it('answers a repeated POST with the same summary and workflow, without overwriting or starting anything new', async () => {
    const source = await createSource();
    const first = (await post('/api/summaries', summary(source.slug))).json();

    const again = await post('/api/summaries', summary(source.slug, { title: 'A retitled repeat', text: 'other text' }));

    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual({ summaryId: first.summaryId, workflowId: first.workflowId, created: false });
    expect(workflows.distributions).toEqual([first.summaryId]);
    const rows = await db.prisma.summary.findMany({ where: { sourceId: source.id } });
    expect(rows).toEqual([expect.objectContaining({ id: first.summaryId, title: 'Why the sky is blue', text: 'Rayleigh scattering, in three minutes.' })]);
    expect(await db.prisma.domainEvent.count({ where: { type: 'summary.received', subject: `summary:${first.summaryId}` } })).toBe(1);
  });

  it('keeps summaries of different sources or external ids apart', async () => {
    const a = await createSource();
    const b = await createSource();
    const ids = new Set<number>();
    for (const [slug, externalId] of [[a.slug, 'v1'], [a.slug, 'v2'], [b.slug, 'v1']] as const) {
      const res = await post('/api/summaries', summary(slug, { externalId }));
      expect(res.statusCode).toBe(202);
      ids.add(res.json().summaryId);
    }
    expect(ids.size).toBe(3);
    expect(workflows.distributions).toHaveLength(3);
  });

  it('answers 404 for an unknown source and stores nothing', async () => {
    const before = await db.prisma.summary.count();
    const res = await post('/api/summaries', summary('no-such-source'));
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'Not Found', message: expect.stringContaining('no-such-source') });
    expect(await db.prisma.summary.count()).toBe(before);
    expect(workflows.distributions).toEqual([]);
  });

  it('answers 503 when Temporal is down, keeps the summary, and a retried POST starts the distribution', async () => {
    const source = await createSource();
    workflows.unavailable = true;

    const down = await post('/api/summaries', summary(source.slug));

    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toBeDefined();
    expect(down.body).not.toContain('Temporal');
    const [kept] = await db.prisma.summary.findMany({ where: { sourceId: source.id } });
    expect(kept).toBeDefined();

    workflows.unavailable = false;
    const retried = await post('/api/summaries', summary(source.slug));
    expect(retried.statusCode).toBe(202);
    expect(retried.json()).toEqual({ summaryId: kept!.id, workflowId: `summary-${kept!.id}`, created: false });
    expect(workflows.distributions).toEqual([kept!.id]);
  });

  it.each([
    ['no source', { source: undefined }],
    ['an empty externalId', { externalId: '' }],
    ['an externalId of 201 characters', { externalId: 'x'.repeat(201) }],
    ['no title', { title: undefined }],
    ['a title of 257 characters', { title: 't'.repeat(257) }],
    ['an empty text', { text: '' }],
    ['a text of 3,501 characters', { text: 'x'.repeat(3501) }],
    ['a videoUrl that is not a URL', { videoUrl: 'not a url' }],
    ['a videoUrl that is not http(s)', { videoUrl: 'javascript:alert(1)' }],
  ])('refuses %s with 400', async (_what, change) => {
    const source = await createSource();
    const body: Record<string, unknown> = summary(source.slug, change);
    for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
    const res = await post('/api/summaries', body);
    expect(res.statusCode).toBe(400);
    expect(await db.prisma.summary.count({ where: { sourceId: source.id } })).toBe(0);
    expect(workflows.distributions).toEqual([]);
  });

  describe('a summary too long for one Telegram message', () => {
    // 1,750 emoji: 1,750 characters for the schema's maxLength, 3,500 UTF-16 code units for Telegram.
    const text = '😀'.repeat(1750);
    const title = 't'.repeat(256);
    const link = (length: number) => `https://example.com/${'a'.repeat(length - 'https://example.com/'.length)}`;
    // title + blank line + text + blank line + link = 256 + 2 + 3,500 + 2 + 336 = 4,096.
    const fitting = link(336);

    it('accepts a message of exactly 4,096 UTF-16 code units', async () => {
      const source = await createSource();
      const res = await post('/api/summaries', summary(source.slug, { title, text, videoUrl: fitting }));
      expect(res.statusCode).toBe(202);
    });

    it('refuses one code unit more with 422 naming the limit and the length, storing and starting nothing', async () => {
      const source = await createSource();
      const res = await post('/api/summaries', summary(source.slug, { title, text, videoUrl: link(337) }));
      expect(res.statusCode).toBe(422);
      expect(res.json()).toEqual({ error: 'Unprocessable Entity', message: expect.stringMatching(/4097 characters.*at most 4096/) });
      expect(await db.prisma.summary.count({ where: { sourceId: source.id } })).toBe(0);
      expect(workflows.distributions).toEqual([]);
    });

    it('refuses every field at its own maximum, which together exceed the limit', async () => {
      const source = await createSource();
      const res = await post('/api/summaries', summary(source.slug, { title, text: 'x'.repeat(3500), videoUrl: link(2048) }));
      expect(res.statusCode).toBe(422);
      expect(res.json<{ message: string }>().message).toContain('5808 characters');
      expect(workflows.distributions).toEqual([]);
    });
  });

  it('accepts a text of exactly 3,500 characters and no videoUrl', async () => {
    const source = await createSource();
    const body: Record<string, unknown> = summary(source.slug, { text: 'é'.repeat(3500) });
    delete body.videoUrl;
    const res = await post('/api/summaries', body);
    expect(res.statusCode).toBe(202);
    expect((await db.prisma.summary.findUniqueOrThrow({ where: { id: res.json().summaryId } })).videoUrl).toBeNull();
  });
});

describe('/api/generation', () => {
  const get = (token: string | null = TOKEN) =>
    app.inject({ method: 'GET', url: '/api/generation', headers: token === null ? {} : { authorization: `Bearer ${token}` } });

  it('needs the admin token for pausing, resuming and reading', async () => {
    expect((await post('/api/generation/pause', {}, null)).statusCode).toBe(401);
    expect((await post('/api/generation/resume', {}, `${TOKEN}x`)).statusCode).toBe(401);
    expect((await get(null)).statusCode).toBe(401);
    expect(workflows.generation.paused).toBe(false);
  });

  it('pauses and resumes through the admission workflow and reports permits and queue in order', async () => {
    const pause = await app.inject({ method: 'POST', url: '/api/generation/pause', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(pause.statusCode).toBe(200);
    expect(pause.json()).toEqual({ paused: true });
    expect(workflows.generation.paused).toBe(true);

    workflows.generation = {
      ...workflows.generation,
      holders: [{ requesterId: 'video-1-1', since: 1 }],
      queue: Array.from({ length: 150 }, (_, i) => ({ requesterId: `video-2-${i}`, since: 2 + i })),
    };
    const state = await get();
    expect(state.statusCode).toBe(200);
    const body = state.json<{ queue: string[] }>();
    expect(body).toMatchObject({ paused: true, maxConcurrency: 3, inFlight: 1, holders: ['video-1-1'], queueLength: 150 });
    expect(body.queue).toHaveLength(100);
    expect(body.queue.slice(0, 2)).toEqual(['video-2-0', 'video-2-1']);

    expect((await post('/api/generation/resume', {})).json()).toEqual({ paused: false });
    expect(workflows.generation.paused).toBe(false);
  });

  it('answers 503 when Temporal is down', async () => {
    workflows.unavailable = true;
    expect((await post('/api/generation/pause', {})).statusCode).toBe(503);
    expect((await get()).statusCode).toBe(503);
  });
});
