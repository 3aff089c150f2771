import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createBot } from '../../src/bot/bot.js';
import { UpdateRateLimiter, type UpdateRate } from '../../src/bot/update-limiter.js';
import { buildApp } from '../../src/gateway/app.js';
import type { Catalog } from '../../src/db/catalog.js';
import { TelegramSimulator } from '../../sandbox/simulators/telegram.js';
import { SLOW_DOWN_TEXT } from '../helpers/texts.js';
import { botInfo } from './bot-info.js';
import { CALLBACK_TOKENS, FakeWorkflows } from './fake-workflows.js';

const SECRET = 'telegram-secret_123';
const TOKEN = '616161:update-limit';
const NOW = 1_800_000_000;

const unusedCatalog: Catalog = {
  upsertSource: () => Promise.reject(new Error('no catalog in this test')),
  acceptSummary: () => Promise.reject(new Error('no catalog in this test')),
};

let app: FastifyInstance | undefined;
let sim: TelegramSimulator | undefined;

afterEach(async () => {
  await app?.close();
  await sim?.stop();
  app = undefined;
  sim = undefined;
});

async function gateway(rate: UpdateRate, apiRoot = 'http://127.0.0.1:9') {
  const workflows = new FakeWorkflows();
  const limiter = new UpdateRateLimiter(rate);
  const slowedDown: number[] = [];
  const throttled: string[] = [];
  limiter.onSlowDown = (userId) => slowedDown.push(userId);
  limiter.onThrottled = (verdict) => throttled.push(verdict);
  const bot = createBot({ token: TOKEN, apiRoot, workflows, botInfo, updateLimiter: limiter });
  app = await buildApp({
    bot,
    workflows,
    telegramWebhookSecret: SECRET,
    wavespeedWebhookSecret: async () => 'whsec_unused',
    wavespeedCallbackTokens: CALLBACK_TOKENS,
    catalog: unusedCatalog,
    readiness: {},
  });
  return { app, workflows, limiter, slowedDown, throttled };
}

let updateId = 1;
function photoFrom(userId: number) {
  const id = updateId++;
  return {
    update_id: id,
    message: {
      message_id: id,
      from: { id: userId, is_bot: false, first_name: `User${userId}` },
      chat: { id: userId, type: 'private', first_name: `User${userId}` },
      date: NOW,
      photo: [{ file_id: `photo-${id}`, file_unique_id: `u${id}`, width: 1280, height: 960 }],
      caption: 'the cat turns its head',
    },
  };
}

const post = (target: FastifyInstance, body: unknown) =>
  target.inject({
    method: 'POST',
    url: '/telegram/webhook',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
    payload: JSON.stringify(body),
  });

describe('per-user ceiling on incoming updates', () => {
  it('answers the first update over the ceiling with one "slow down", drops the rest, and leaves other users alone', async () => {
    const { app, workflows, limiter, slowedDown, throttled } = await gateway({ limit: 3, windowSeconds: 60 });

    const burst = [];
    for (let i = 0; i < 8; i++) burst.push(await post(app, photoFrom(7)));
    const other = await post(app, photoFrom(8));

    expect(burst.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
    expect(workflows.videos.map((v) => v.user.userId)).toEqual([7, 7, 7, 8]);
    expect(other.statusCode).toBe(200);
    // The slow-down goes back as the webhook's answer: Telegram sends it, the gateway makes no API call.
    const replies = burst.map((r) => (r.body ? (JSON.parse(r.body) as Record<string, unknown>) : undefined));
    expect(replies[3]).toEqual({ method: 'sendMessage', chat_id: 7, text: SLOW_DOWN_TEXT });
    expect(replies.filter((r) => r?.method !== undefined)).toHaveLength(1);
    expect(slowedDown).toEqual([7]);
    expect(limiter.dropped).toBe(5);
    // What telewan_updates_throttled_total{verdict} counts.
    expect(throttled).toEqual(['slow-down', 'drop', 'drop', 'drop', 'drop']);
  });

  it('counts commands too, and accepts the user again in the next window', async () => {
    const { app, workflows } = await gateway({ limit: 2, windowSeconds: 1 });
    const command = (text: string) => {
      const id = updateId++;
      return {
        update_id: id,
        message: { message_id: id, from: { id: 9, is_bot: false, first_name: 'Nine' }, chat: { id: 9, type: 'private' }, date: NOW, text, entities: [{ type: 'bot_command', offset: 0, length: text.length }] },
      };
    };

    for (const text of ['/status', '/usage', '/help', '/help']) expect((await post(app, command(text))).statusCode).toBe(200);
    expect(workflows.commands.map((c) => c.command)).toEqual(['status', 'usage']);

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const again = await post(app, command('/usage'));
    expect(again.body).toBe('');
    expect(workflows.commands.map((c) => c.command)).toEqual(['status', 'usage', 'usage']);
  });

  it('gets the "slow down" to the chat through a simulated Telegram running the webhook reply', async () => {
    sim = new TelegramSimulator({ token: TOKEN });
    const apiRoot = await sim.start();
    const { app, workflows } = await gateway({ limit: 2, windowSeconds: 60 }, apiRoot);
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    sim.setWebhookTarget(`${url}/telegram/webhook`, SECRET);

    const results = [];
    for (let i = 0; i < 5; i++) results.push(await sim.pushUpdate(sim.makeTextUpdate({ chatId: 46, userId: 46, text: `hello ${i}` })));

    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(results.map((r) => r.webhookReply)).toEqual([undefined, undefined, { method: 'sendMessage', ok: true }, undefined, undefined]);
    expect(sim.messagesTo(46).map((m) => m.text)).toEqual([SLOW_DOWN_TEXT]);
    expect(workflows.commands).toHaveLength(2);
  });
});
