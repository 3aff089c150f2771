import { createServer } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createBot } from '../../src/bot/bot.js';
import { UpdateRateLimiter } from '../../src/bot/update-limiter.js';
import { buildApp } from '../../src/gateway/app.js';
import type { Catalog } from '../../src/db/catalog.js';
import { TemporalWorkflowGateway, type WorkflowGateway } from '../../src/temporal/client/starter.js';
import { SLOW_DOWN_TEXT } from '../helpers/texts.js';
import { botInfo } from './bot-info.js';
import { CALLBACK_TOKENS, FakeWorkflows } from './fake-workflows.js';

const SECRET = 'telegram-secret_123';
const NOW = 1_800_000_000;

const unusedCatalog: Catalog = {
  upsertSource: () => Promise.reject(new Error('no catalog in this test')),
  acceptSummary: () => Promise.reject(new Error('no catalog in this test')),
};

const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

async function gateway(workflows: WorkflowGateway, limiter?: UpdateRateLimiter): Promise<FastifyInstance> {
  const bot = createBot({ token: '1:test', apiRoot: 'http://127.0.0.1:9', workflows, botInfo, ...(limiter ? { updateLimiter: limiter } : {}) });
  const app = await buildApp({ bot, workflows, telegramWebhookSecret: SECRET, wavespeedWebhookSecret: async () => 'whsec_unused', wavespeedCallbackTokens: CALLBACK_TOKENS, catalog: unusedCatalog, readiness: {} });
  closing.push(() => app.close());
  return app;
}

let nextId = 1;
function photo(userId: number) {
  const id = nextId++;
  return {
    update_id: id,
    message: {
      message_id: id,
      from: { id: userId, is_bot: false, first_name: 'Ada' },
      chat: { id: userId, type: 'private', first_name: 'Ada' },
      date: NOW,
      photo: [{ file_id: `photo-${id}`, file_unique_id: `u${id}`, width: 1280, height: 960 }],
      caption: 'the cat turns its head',
    },
  };
}

const post = (app: FastifyInstance, body: unknown) =>
  app.inject({
    method: 'POST',
    url: '/telegram/webhook',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
    payload: JSON.stringify(body),
  });

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("Telegram's redeliveries while Temporal is unreachable", () => {
  it('answers 503 with a Retry-After when the real Temporal client cannot reach its server, and starts nothing', async () => {
    const connection = Connection.lazy({ address: `127.0.0.1:${await closedPort()}` });
    closing.push(() => connection.close());
    const temporal = new TemporalWorkflowGateway(new Client({ connection }), { model: 'wavespeed-ai/wan-2.2/i2v-480p', deadlineMs: 60_000, rpcTimeoutMs: 1_000 });
    const app = await gateway(temporal);

    const started = Date.now();
    const res = await post(app, photo(7));
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toEqual({ error: 'Service Unavailable', message: 'Try again shortly' });
    // Well inside Telegram's ~60 s wait for an answer.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('counts an update once however often Telegram redelivers it, so it still starts when Temporal is back', async () => {
    const workflows = new FakeWorkflows();
    const limiter = new UpdateRateLimiter({ limit: 2, windowSeconds: 60 });
    const app = await gateway(workflows, limiter);
    const update = photo(7);

    workflows.unavailable = true;
    for (let attempt = 0; attempt < 5; attempt++) expect((await post(app, update)).statusCode).toBe(503);
    workflows.unavailable = false;
    const delivered = await post(app, update);

    expect(delivered.statusCode).toBe(200);
    expect(delivered.body).toBe('');
    expect(workflows.videos.map((v) => v.fileId)).toEqual([update.message.photo[0]!.file_id]);
    expect(limiter.redeliveriesPassed).toBe(5);
    expect(limiter.dropped).toBe(0);

    // The six deliveries were one update: the user has one more before the ceiling.
    expect((await post(app, photo(7))).statusCode).toBe(200);
    const over = await post(app, photo(7));
    expect(over.json()).toEqual({ method: 'sendMessage', chat_id: 7, text: SLOW_DOWN_TEXT });
    expect(workflows.videos).toHaveLength(2);
  });

  it('still counts distinct updates, and a redelivery of an update that succeeded, as new', async () => {
    const workflows = new FakeWorkflows();
    const limiter = new UpdateRateLimiter({ limit: 2, windowSeconds: 60 });
    const app = await gateway(workflows, limiter);
    const update = photo(8);
    expect((await post(app, update)).statusCode).toBe(200);
    // A repeat of a delivered update (its 200 was lost) counts: it cannot start anything new anyway.
    expect((await post(app, update)).statusCode).toBe(200);
    expect((await post(app, photo(8))).json()).toMatchObject({ method: 'sendMessage', text: SLOW_DOWN_TEXT });
    expect(workflows.videos).toHaveLength(1);
    expect(limiter.redeliveriesPassed).toBe(0);
  });

  it('remembers a bounded number of failed updates', async () => {
    const workflows = new FakeWorkflows();
    const limiter = new UpdateRateLimiter({ limit: 1_000, windowSeconds: 60 }, { capacity: 3, ttlMs: 60_000 });
    const app = await gateway(workflows, limiter);
    workflows.unavailable = true;
    const updates = [photo(9), photo(9), photo(9), photo(9)];
    for (const u of updates) expect((await post(app, u)).statusCode).toBe(503);
    workflows.unavailable = false;
    for (const u of updates) expect((await post(app, u)).statusCode).toBe(200);
    // The oldest was forgotten and counted again; the three others passed uncounted.
    expect(limiter.redeliveriesPassed).toBe(3);
    expect(workflows.videos).toHaveLength(4);
  });
});
