import Fastify, { type FastifyInstance } from 'fastify';
import { Api } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TelegramSimulator, type TgUpdate } from '../../sandbox/simulators/telegram.js';

const TOKEN = '616161:control';
const SECRET = 'control-secret';

describe('sandbox control routes', () => {
  const sim = new TelegramSimulator({ token: TOKEN, control: true, rateLimitMode: 'off' });
  const plain = new TelegramSimulator({ token: TOKEN });
  let root: string;
  let api: Api;
  let receiver: FastifyInstance;
  const received: Array<{ secret: unknown; update: TgUpdate }> = [];

  beforeAll(async () => {
    root = await sim.start();
    api = new Api(TOKEN, { apiRoot: root });
    receiver = Fastify({ forceCloseConnections: true });
    receiver.post<{ Body: TgUpdate }>('/tg', async (request) => {
      received.push({ secret: request.headers['x-telegram-bot-api-secret-token'], update: request.body });
      return { ok: true };
    });
    sim.setWebhookTarget(`${await receiver.listen({ host: '127.0.0.1', port: 0 })}/tg`, SECRET);
  });
  afterAll(async () => {
    await sim.stop();
    await plain.stop();
    await receiver.close();
  });

  const post = (body: unknown) =>
    fetch(`${root}/sandbox/updates`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('pushes a photo with a caption to the webhook as Telegram would, and the bot can fetch the photo', async () => {
    const res = await post({ chatId: 71, photo: { caption: 'a lighthouse at dusk' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { update: TgUpdate; webhook: { status: number } };
    expect(body.webhook.status).toBe(200);
    expect(received.at(-1)).toEqual({ secret: SECRET, update: body.update });
    const message = body.update.message!;
    expect(message).toMatchObject({ chat: { id: 71, type: 'private' }, from: { id: 71 }, caption: 'a lighthouse at dusk' });
    const largest = message.photo!.at(-1)!;
    const file = await api.getFile(largest.file_id);
    const download = await fetch(`${root}/file/bot${TOKEN}/${file.file_path}`);
    expect(download.headers.get('content-type')).toBe('image/jpeg');
  });

  it('pushes a command with its entity', async () => {
    const res = await post({ chatId: 72, text: '/subscribe tech-news' });
    const { update } = (await res.json()) as { update: TgUpdate };
    expect(update.message).toMatchObject({ text: '/subscribe tech-news', entities: [{ type: 'bot_command', offset: 0, length: 10 }] });
    expect(received.at(-1)?.update.update_id).toBe(update.update_id);
  });

  it('lists what the bot sent to a chat, videos included, and only that chat', async () => {
    await api.sendMessage(73, 'hello 73');
    const video = sim.addFile(Buffer.from('not really an mp4'), { kind: 'video', mimeType: 'video/mp4' });
    await api.sendVideo(73, video.file_id, { caption: 'your video' });
    await api.sendMessage(74, 'hello 74');
    const res = await fetch(`${root}/sandbox/chats/73/messages`);
    const { messages } = (await res.json()) as { messages: Array<Record<string, unknown>> };
    expect(messages).toEqual([
      expect.objectContaining({ method: 'sendMessage', text: 'hello 73', edits: 0, deleted: false }),
      expect.objectContaining({ method: 'sendVideo', caption: 'your video', video: expect.objectContaining({ file_id: expect.any(String) }) }),
    ]);
  });

  it('rejects a body that is neither a photo nor a text', async () => {
    expect((await post({ chatId: 75 })).status).toBe(400);
    expect((await post({ chatId: 75, text: 'hi', photo: {} })).status).toBe(400);
    expect((await post({ chatId: 0, text: 'hi' })).status).toBe(400);
  });

  it('starts message ids after firstMessageId, so a restarted sandbox does not reuse workflow ids', async () => {
    const later = new TelegramSimulator({ token: TOKEN, firstMessageId: 5_000 });
    try {
      await later.start();
      expect(later.makeTextUpdate({ chatId: 76, text: '/start' }).message!.message_id).toBe(5_001);
      expect(later.makeTextUpdate({ chatId: 76, text: '/help' }).message!.message_id).toBe(5_002);
    } finally {
      await later.stop();
    }
  });

  it('is not served unless the simulator is started with control: true', async () => {
    const plainRoot = await plain.start();
    const res = await fetch(`${plainRoot}/sandbox/chats/73/messages`);
    expect(res.status).toBe(404);
  });
});
