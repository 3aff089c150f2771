import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBot } from '../../src/bot/bot.js';
import { IMAGE_TOO_LARGE_TEXT, unsupportedImageText } from '../helpers/texts.js';
import { buildApp } from '../../src/gateway/app.js';
import { signWebhook } from '../../src/integrations/wavespeed/webhook.js';
import { botInfo } from './bot-info.js';
import { CALLBACK_TOKENS, FakeWorkflows, UNUSED_CATALOG } from './fake-workflows.js';

const SECRET = 'telegram-secret_123';
const WHSEC = 'whsec_0123456789abcdef0123456789abcdef';
const NOW = 1_800_000_000;


let app: FastifyInstance;
let workflows: FakeWorkflows;
let readyDb = true;

beforeEach(async () => {
  workflows = new FakeWorkflows();
  readyDb = true;
  const bot = createBot({ token: '1:test', apiRoot: 'http://127.0.0.1:9', workflows, botInfo });
  app = await buildApp({
    bot,
    workflows,
    telegramWebhookSecret: SECRET,
    wavespeedWebhookSecret: async () => WHSEC,
    wavespeedCallbackTokens: CALLBACK_TOKENS,
    catalog: UNUSED_CATALOG,
    readiness: {
      temporal: async () => {},
      database: async () => {
        if (!readyDb) throw new Error('down');
      },
    },
    now: () => NOW,
  });
});

afterEach(async () => {
  await app.close();
});

const from = { id: 7, is_bot: false, first_name: 'Ada', username: 'ada', language_code: 'en' };
const chat = { id: 7, type: 'private', first_name: 'Ada' };
let updateId = 1;

function photoUpdate(caption?: string) {
  return {
    update_id: updateId++,
    message: {
      message_id: 10 + updateId,
      from,
      chat,
      date: NOW,
      photo: [
        { file_id: 'small', file_unique_id: 's', width: 90, height: 67, file_size: 1000 },
        { file_id: 'large', file_unique_id: 'l', width: 1280, height: 960, file_size: 90000 },
      ],
      ...(caption ? { caption } : {}),
    },
  };
}

function textUpdate(text: string) {
  const entities = text.startsWith('/') ? [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }] : undefined;
  return { update_id: updateId++, message: { message_id: 10 + updateId, from, chat, date: NOW, text, entities } };
}

const postUpdate = (body: unknown, secret: string | null = SECRET) =>
  app.inject({
    method: 'POST',
    url: '/telegram/webhook',
    headers: { 'content-type': 'application/json', ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}) },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('Telegram webhook', () => {
  it('starts a video workflow for a captioned photo, with the largest size', async () => {
    const res = await postUpdate(photoUpdate('make it move'));
    expect(res.statusCode).toBe(200);
    expect(workflows.videos).toEqual([
      expect.objectContaining({ fileId: 'large', prompt: 'make it move', user: expect.objectContaining({ userId: 7, chatId: 7 }) }),
    ]);
  });

  it('absorbs a redelivered update: one workflow, still 200', async () => {
    const update = photoUpdate('again');
    expect((await postUpdate(update)).statusCode).toBe(200);
    expect((await postUpdate(update)).statusCode).toBe(200);
    expect(workflows.videos).toHaveLength(1);
  });

  it('answers a photo without a caption with a hint instead of a video', async () => {
    expect((await postUpdate(photoUpdate())).statusCode).toBe(200);
    expect(workflows.videos).toHaveLength(0);
    expect(workflows.commands.map((c) => c.command)).toEqual(['no-caption']);
  });

  it.each(['start', 'help', 'status', 'cancel'])('starts the /%s command workflow', async (command) => {
    expect((await postUpdate(textUpdate(`/${command}`))).statusCode).toBe(200);
    expect(workflows.commands.map((c) => c.command)).toEqual([command]);
  });

  it.each([
    ['/sources', 'sources', undefined],
    ['/mysubs', 'mysubs', undefined],
    ['/subscribe tech-news', 'subscribe', 'tech-news'],
    ['/subscribe   Tech-News  ', 'subscribe', 'Tech-News'],
    ['/subscribe', 'subscribe', undefined],
    ['/unsubscribe science', 'unsubscribe', 'science'],
  ])('starts the command workflow for "%s" with its arguments', async (text, command, args) => {
    const update = textUpdate(text);
    expect((await postUpdate(update)).statusCode).toBe(200);
    expect(workflows.commands).toEqual([
      { command, user: expect.objectContaining({ userId: 7, chatId: 7 }), messageId: update.message.message_id, ...(args ? { args } : {}) },
    ]);
    expect([...workflows.running]).toEqual([`command-7-${update.message.message_id}`]);
  });

  function callbackUpdate(data: string, id = `cbq-${updateId}`) {
    const message = { message_id: 500, from: { id: 1, is_bot: true, first_name: 'Telewan' }, chat, date: NOW, text: 'Sources: …' };
    return { update_id: updateId++, callback_query: { id, from, message, chat_instance: '42', data } };
  }

  it('starts one subscribe workflow per button press, named after the callback query, replying to the button\'s message', async () => {
    const press = callbackUpdate('sub:tech-news', '9001');
    expect((await postUpdate(press)).statusCode).toBe(200);
    expect((await postUpdate(press)).statusCode).toBe(200);
    expect(workflows.commands).toEqual([
      { command: 'subscribe', args: 'tech-news', user: expect.objectContaining({ userId: 7, chatId: 7 }), messageId: 500, callbackQueryId: '9001' },
    ]);
    expect([...workflows.running]).toEqual(['command-7-cb-9001']);
    // Another press of the same button is another request.
    expect((await postUpdate(callbackUpdate('sub:tech-news', '9002'))).statusCode).toBe(200);
    expect(workflows.commands).toHaveLength(2);
  });

  it('answers a press on a button it does not know, so its spinner stops', async () => {
    expect((await postUpdate(callbackUpdate('vote:42', '77'))).statusCode).toBe(200);
    expect(workflows.commands).toEqual([expect.objectContaining({ command: 'unknown', callbackQueryId: '77', messageId: 500 })]);
  });

  it('accepts an image sent as a file, and answers other files with a hint', async () => {
    const doc = (mime: string) => ({
      update_id: updateId++,
      message: { message_id: 10 + updateId, from, chat, date: NOW, caption: 'zoom out', document: { file_id: `doc-${mime}`, file_unique_id: 'u', mime_type: mime } },
    });
    expect((await postUpdate(doc('image/png'))).statusCode).toBe(200);
    expect((await postUpdate(doc('application/pdf'))).statusCode).toBe(200);
    expect(workflows.videos).toEqual([expect.objectContaining({ fileId: 'doc-image/png', prompt: 'zoom out' })]);
    expect(workflows.commands.map((c) => [c.command, c.args])).toEqual([['unsupported-media', 'document']]);
  });

  it.each([
    ['image/svg+xml', 'an SVG image'],
    ['image/gif', 'a GIF'],
    ['image/heic', 'a HEIC'],
    ['image/x-portable-anymap', 'of type image/x-portable-anymap'],
  ])('refuses a %s document in the webhook reply, starting nothing', async (mime, named) => {
    const update = {
      update_id: updateId++,
      message: { message_id: 10 + updateId, from, chat, date: NOW, caption: 'zoom out', document: { file_id: 'doc', file_unique_id: 'u', mime_type: mime, file_size: 2048 } },
    };
    const res = await postUpdate(update);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ method: 'sendMessage', chat_id: 7, text: unsupportedImageText(mime) });
    expect(res.json().text).toContain(`this file is ${named}`);
    expect(workflows.videos).toHaveLength(0);
    expect(workflows.commands).toHaveLength(0);
  });

  it('refuses an image document over the 20 MB download limit in the webhook reply, starting nothing', async () => {
    const update = {
      update_id: updateId++,
      message: { message_id: 10 + updateId, from, chat, date: NOW, caption: 'zoom out', document: { file_id: 'big', file_unique_id: 'u', mime_type: 'image/jpeg', file_size: 20 * 1024 * 1024 + 1 } },
    };
    const res = await postUpdate(update);
    expect(res.json()).toEqual({ method: 'sendMessage', chat_id: 7, text: IMAGE_TOO_LARGE_TEXT });
    expect(workflows.videos).toHaveLength(0);
  });

  it('refuses a wrong or missing secret token with 401 and starts nothing', async () => {
    expect((await postUpdate(photoUpdate('x'), 'wrong')).statusCode).toBe(401);
    expect((await postUpdate(photoUpdate('x'), null)).statusCode).toBe(401);
    expect(workflows.videos).toHaveLength(0);
  });

  it('refuses malformed JSON and bodies that are not updates with 400', async () => {
    const bad = await postUpdate('{"update_id": 1,');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ message: expect.any(String) });
    expect((await postUpdate({ message: {} })).statusCode).toBe(400);
    expect((await postUpdate([1, 2])).statusCode).toBe(400);
    expect(workflows.videos).toHaveLength(0);
    expect(workflows.commands).toHaveLength(0);
  });

  // Found by test/gateway/fuzz.test.ts: such bodies failed inside a handler (500) or reached one with nonsense.
  it.each([
    ['a photo that is not a list', { photo: false, caption: 'x' }],
    ['a sender that is a string', { from: 'ada', text: '/start' }],
    ['a message_id that is a list', { message_id: [], text: '/start' }],
    ['a caption that is an object', { photo: [{ file_id: 'f', file_unique_id: 'u', width: 1, height: 1 }], caption: {} }],
    ['a command entity with a negative offset', { text: '/start', entities: [{ type: 'bot_command', offset: -1, length: 6 }] }],
  ])('refuses an update with %s with 400 before any handler runs', async (_what, change) => {
    const update = { update_id: updateId++, message: { message_id: 10 + updateId, from, chat, date: NOW, ...change } };
    const res = await postUpdate(update);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ message: expect.stringContaining('body/message') });
    expect(workflows.videos).toHaveLength(0);
    expect(workflows.commands).toHaveLength(0);
  });

  it('refuses a button press whose callback query id is not a string with 400', async () => {
    const res = await postUpdate({ update_id: updateId++, callback_query: { id: { x: 1 }, from, chat_instance: '1', data: 'sub:x', message: { message_id: 1, date: NOW, chat } } });
    expect(res.statusCode).toBe(400);
    expect(workflows.commands).toHaveLength(0);
  });

  it('refuses an oversized body with 413', async () => {
    const res = await postUpdate({ update_id: 1, padding: 'x'.repeat(300 * 1024) });
    expect(res.statusCode).toBe(413);
  });

  it('acknowledges update types it does not handle and starts nothing', async () => {
    const res = await postUpdate({ update_id: updateId++, poll: { id: 'p', question: 'q', options: [], total_voter_count: 0, is_closed: false, is_anonymous: true, type: 'regular', allows_multiple_answers: false } });
    expect(res.statusCode).toBe(200);
    expect(workflows.videos).toHaveLength(0);
    expect(workflows.commands).toHaveLength(0);
  });

  it('answers 503 when Temporal is unreachable, so Telegram redelivers', async () => {
    workflows.unavailable = true;
    const res = await postUpdate(photoUpdate('later'));
    expect(res.statusCode).toBe(503);
    expect(res.body).not.toContain('Temporal');
  });
});

describe('WaveSpeed callback', () => {
  const workflowId = 'video-7-11';
  const body = JSON.stringify({
    id: 'pred-9',
    model: 'wavespeed-ai/wan-2.2/i2v-480p',
    status: 'completed',
    outputs: ['http://127.0.0.1/out.mp4'],
    has_nsfw_contents: [false],
    created_at: '2026-11-22T00:00:00Z',
    error: '',
  });

  const post = (payload: string, headers: Record<string, string>, id = workflowId) =>
    app.inject({ method: 'POST', url: `/webhooks/wavespeed/${id}?t=${CALLBACK_TOKENS.sign(id)}`, headers: { 'content-type': 'application/json', ...headers }, payload });

  const signed = (payload: string, timestamp = NOW, secret = WHSEC) => ({
    'webhook-id': 'msg_1',
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(secret, 'msg_1', timestamp, payload),
  });

  it('forwards a correctly signed result to the workflow', async () => {
    workflows.running.add(workflowId);
    const res = await post(body, signed(body));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true, delivered: true });
    expect(workflows.signals).toEqual([
      { workflowId, result: { id: 'pred-9', status: 'completed', outputs: ['http://127.0.0.1/out.mp4'], nsfw: false } },
    ]);
  });

  it('refuses forged, re-signed-with-another-secret, stale and unsigned callbacks with 401', async () => {
    workflows.running.add(workflowId);
    const forged = { ...signed(body), 'webhook-signature': `v3,${'0'.repeat(64)}` };
    expect((await post(body, forged)).statusCode).toBe(401);
    expect((await post(body, signed(body, NOW, 'whsec_other'))).statusCode).toBe(401);
    expect((await post(body, signed(body, NOW - 301))).statusCode).toBe(401);
    expect((await post(body, signed(body, NOW + 301))).statusCode).toBe(401);
    expect((await post(body, {})).statusCode).toBe(401);
    // A valid signature over other bytes does not cover this body.
    expect((await post(body.replace('completed', 'failed'), signed(body))).statusCode).toBe(401);
    expect(workflows.signals).toHaveLength(0);
  });

  it('accepts a callback at the edge of the 300 s window', async () => {
    workflows.running.add(workflowId);
    expect((await post(body, signed(body, NOW - 300))).statusCode).toBe(200);
  });

  it('answers 400 to a signed body that is not a prediction', async () => {
    const junk = '{"hello":';
    expect((await post(junk, signed(junk))).statusCode).toBe(400);
    const noId = '{"status":"completed"}';
    expect((await post(noId, signed(noId))).statusCode).toBe(400);
    expect(workflows.signals).toHaveLength(0);
  });

  it('answers unknown workflows without error', async () => {
    const res = await post(body, signed(body), 'video-1-1');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true, delivered: false });
    const odd = await post(body, signed(body), 'not-a-video');
    expect(odd.statusCode).toBe(200);
  });

  it('refuses an oversized callback with 413', async () => {
    const big = JSON.stringify({ id: 'x', status: 'completed', pad: 'x'.repeat(100 * 1024) });
    expect((await post(big, signed(big))).statusCode).toBe(413);
  });
});

describe('health', () => {
  it('reports liveness and readiness', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ status: 'ready' });
    readyDb = false;
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ checks: { database: 'unavailable', temporal: 'ok' } });
  });

  it('answers unknown routes with 404 and a message', async () => {
    const res = await app.inject({ method: 'GET', url: '/nope?token=secret' });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('secret');
  });
});
