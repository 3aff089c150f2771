import Fastify, { type FastifyInstance } from 'fastify';
import { Api, Bot, GrammyError, webhookCallback } from 'grammy';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TelegramSimulator, type TgUpdate } from '../../sandbox/simulators/telegram.js';

const TOKEN = '515151:webhook';

interface Received {
  secret: string | undefined;
  update: TgUpdate;
}

describe('webhook delivery', () => {
  const sim = new TelegramSimulator({ token: TOKEN });
  let api: Api;
  let receiver: FastifyInstance;
  let receiverUrl: string;
  const received: Received[] = [];
  let answers: number[] = [];

  beforeAll(async () => {
    api = new Api(TOKEN, { apiRoot: await sim.start() });
    receiver = Fastify({ forceCloseConnections: true });
    receiver.post<{ Body: TgUpdate }>('/tg', async (request, reply) => {
      const header = request.headers['x-telegram-bot-api-secret-token'];
      received.push({ secret: typeof header === 'string' ? header : undefined, update: request.body });
      return reply.code(answers.shift() ?? 200).send({ ok: true });
    });
    receiver.post('/hang', () => new Promise(() => undefined));
    receiver.post('/reply', async () => ({ method: 'sendMessage', chat_id: 46, text: 'ack via webhook reply' }));
    receiverUrl = await receiver.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await sim.stop();
    await receiver.close();
  });
  beforeEach(() => {
    received.length = 0;
    answers = [];
    sim.reset();
  });

  it('pushes updates with the secret header after the bot calls setWebhook', async () => {
    await api.setWebhook(`${receiverUrl}/tg`, { secret_token: 'S3cret_token-1' });
    expect(await api.getWebhookInfo()).toMatchObject({ url: `${receiverUrl}/tg`, pending_update_count: 0 });
    const update = await sim.makePhotoUpdate({ chatId: 42, caption: 'dance', width: 640, height: 480 });
    const result = await sim.pushUpdate(update);
    expect(result).toMatchObject({ status: 200, attempts: 1 });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(received).toEqual([{ secret: 'S3cret_token-1', update }]);
    expect(received[0]?.update.message?.photo?.at(-1)).toMatchObject({ width: 640, height: 480 });
  });

  it('refuses a malformed secret token', async () => {
    const err = (await api.setWebhook(`${receiverUrl}/tg`, { secret_token: 'bad token!' }).catch((e: unknown) => e)) as GrammyError;
    expect(err).toBeInstanceOf(GrammyError);
    expect(err.error_code).toBe(400);
  });

  it('resends the same update on non-2xx when asked, and reports the error', async () => {
    sim.setWebhookTarget(`${receiverUrl}/tg`, 'abc');
    answers = [500, 502];
    const update = sim.makeTextUpdate({ chatId: 43, text: '/start' });
    const result = await sim.pushUpdate(update, { retries: 3, retryDelayMs: 5 });
    expect(result).toMatchObject({ status: 200, attempts: 3 });
    expect(received.map((r) => r.update.update_id)).toEqual([update.update_id, update.update_id, update.update_id]);

    answers = [503];
    const once = await sim.pushUpdate(sim.makeTextUpdate({ chatId: 43, text: 'hi' }));
    expect(once).toMatchObject({ status: 503, attempts: 1 });
    expect(sim.webhookInfo.last_error_message).toMatch(/^Wrong response from the webhook: 503/);
  });

  it('gives up on a webhook that does not answer in time', async () => {
    sim.setWebhookTarget(`${receiverUrl}/hang`);
    const result = await sim.pushUpdate(sim.makeTextUpdate({ chatId: 44, text: 'x' }), { timeoutMs: 50 });
    expect(result.status).toBe(0);
    expect(result.error).toBe('Read timeout expired');
  });

  it('serves getUpdates long polling when no webhook is set', async () => {
    await api.deleteWebhook();
    const polling = api.getUpdates({ timeout: 5 });
    await new Promise((r) => setTimeout(r, 30));
    const update = sim.makeTextUpdate({ chatId: 45, text: 'poll me' });
    sim.queueUpdate(update);
    expect(await polling).toEqual([update]);
    expect(await api.getUpdates({ offset: update.update_id + 1, timeout: 0 })).toEqual([]);

    await api.setWebhook(`${receiverUrl}/tg`);
    const conflict = (await api.getUpdates().catch((e: unknown) => e)) as GrammyError;
    expect(conflict.error_code).toBe(409);
  });

  it('runs a method the bot returns in its webhook answer', async () => {
    sim.setWebhookTarget(`${receiverUrl}/reply`);
    const result = await sim.pushUpdate(sim.makeTextUpdate({ chatId: 46, text: 'hi' }));
    expect(result.webhookReply).toEqual({ method: 'sendMessage', ok: true });
    expect(sim.messagesTo(46).map((m) => m.text)).toEqual(['ack via webhook reply']);
  });

  it('drives a grammY bot behind webhookCallback end to end', async () => {
    const bot = new Bot(TOKEN, { botInfo: sim.botInfo as never, client: { apiRoot: sim.apiRoot } });
    bot.command('start', (ctx) => ctx.reply(`Welcome, ${ctx.from?.first_name ?? 'stranger'}!`));
    bot.on('message:photo', async (ctx) => {
      const file = await ctx.getFile();
      await ctx.reply(`got ${file.file_path}`, { reply_parameters: { message_id: ctx.msg.message_id } });
    });
    const app = Fastify({ forceCloseConnections: true });
    app.post('/bot', webhookCallback(bot, 'fastify', { secretToken: 'gw-secret' }));
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    // Two replies to one chat within a second would (rightly) hit the per-chat flood limit.
    sim.configure({ rateLimitMode: 'off' });
    try {
      await bot.api.setWebhook(`${url}/bot`, { secret_token: 'gw-secret' });
      expect((await sim.pushUpdate(sim.makeTextUpdate({ chatId: 47, text: '/start', firstName: 'Ada' }))).status).toBe(200);
      const photo = await sim.makePhotoUpdate({ chatId: 47 });
      expect((await sim.pushUpdate(photo)).status).toBe(200);
      const texts = sim.messagesTo(47).map((m) => m.text);
      expect(texts[0]).toBe('Welcome, Ada!');
      expect(texts[1]).toMatch(/^got photos\/file_\d+\.jpg$/);
      expect(sim.messagesTo(47)[1]?.message.reply_to_message?.message_id).toBe(photo.message?.message_id);

      sim.setWebhookTarget(`${url}/bot`, 'wrong-secret');
      expect((await sim.pushUpdate(sim.makeTextUpdate({ chatId: 47, text: '/start' }))).status).toBe(401);
    } finally {
      sim.configure({ rateLimitMode: 'enforce' });
      await app.close();
    }
  });
});
