import { Api, GrammyError, InputFile } from 'grammy';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { mp4Header } from '../../sandbox/simulators/shared/mp4.js';
import { TelegramSimulator } from '../../sandbox/simulators/telegram.js';

const TOKEN = '777000:test-token';

function fakeMp4(bytes: number, info = { durationSeconds: 5, width: 832, height: 480 }): Buffer {
  const header = mp4Header(info);
  return Buffer.concat([header, Buffer.alloc(Math.max(0, bytes - header.length), 7)]);
}

async function rejection(p: Promise<unknown>): Promise<GrammyError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GrammyError);
  return err as GrammyError;
}

describe('TelegramSimulator with grammY', () => {
  const sim = new TelegramSimulator({ token: TOKEN, rateLimitMode: 'off' });
  let api: Api;

  beforeAll(async () => {
    api = new Api(TOKEN, { apiRoot: await sim.start() });
  });
  afterAll(() => sim.stop());
  beforeEach(() => sim.reset());

  it('answers getMe with the bot from the token', async () => {
    const me = await api.getMe();
    expect(me).toMatchObject({ id: 777000, is_bot: true, username: 'telewan_sandbox_bot' });
  });

  it('sends messages with sequential ids per chat and records them', async () => {
    const a = await api.sendMessage(101, 'first');
    const b = await api.sendMessage(101, 'second', { reply_parameters: { message_id: a.message_id } });
    const c = await api.sendMessage(102, 'other chat');
    expect([a.message_id, b.message_id, c.message_id]).toEqual([1, 2, 1]);
    expect(b.reply_to_message?.message_id).toBe(a.message_id);
    expect(a.chat).toMatchObject({ id: 101, type: 'private' });
    expect(sim.messagesTo(101).map((m) => m.text)).toEqual(['first', 'second']);
    expect(sim.callsTo('sendMessage')).toHaveLength(3);
  });

  it('delayNext: the call takes effect at once and only its answer is late, so an impatient client misses it', async () => {
    sim.delayNext('sendMessage', 1_500);
    const impatient = new Api(TOKEN, { apiRoot: sim.apiRoot, timeoutSeconds: 0.3 });
    await expect(impatient.sendMessage(104, 'late answer')).rejects.toThrow(/sendMessage/);
    expect(sim.messagesTo(104).map((m) => m.text)).toEqual(['late answer']);
    // One call only: the next is answered at once.
    const started = Date.now();
    await api.sendMessage(104, 'prompt answer');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('refuses an empty text and a reply to a missing message', async () => {
    const empty = await rejection(api.sendMessage(103, '   '));
    expect(empty.error_code).toBe(400);
    expect(empty.description).toBe('Bad Request: message text is empty');
    const reply = await rejection(api.sendMessage(103, 'x', { reply_parameters: { message_id: 999 } }));
    expect(reply.description).toBe('Bad Request: message to be replied not found');
  });

  it('parses parse_mode and fails like Telegram on bad MarkdownV2', async () => {
    const ok = await api.sendMessage(104, '<b>Done</b> in 5 s', { parse_mode: 'HTML' });
    expect(ok.text).toBe('Done in 5 s');
    expect(ok.entities).toEqual([{ type: 'bold', offset: 0, length: 4 }]);
    const bad = await rejection(api.sendMessage(104, 'Progress: 50.5%', { parse_mode: 'MarkdownV2' }));
    expect(bad.description).toMatch(/^Bad Request: can't parse entities: Character '\.' is reserved/);
  });

  it('edits a message and reports "message is not modified" for an identical edit', async () => {
    const sent = await api.sendMessage(105, 'Generating… 0%');
    const edited = await api.editMessageText(105, sent.message_id, 'Generating… 50%');
    expect(edited).toMatchObject({ message_id: sent.message_id, text: 'Generating… 50%' });
    const same = await rejection(api.editMessageText(105, sent.message_id, 'Generating… 50%'));
    expect(same.error_code).toBe(400);
    expect(same.description).toMatch(/^Bad Request: message is not modified/);
    const missing = await rejection(api.editMessageText(105, 999, 'x'));
    expect(missing.description).toBe('Bad Request: message to edit not found');
    const [record] = sim.messagesTo(105);
    expect(record?.text).toBe('Generating… 50%');
    expect(record?.edits.map((e) => e.text)).toEqual(['Generating… 0%']);
  });

  it('treats a changed inline keyboard as a modification', async () => {
    const keyboard = { inline_keyboard: [[{ text: 'Cancel', callback_data: 'cancel:1' }]] };
    const sent = await api.sendMessage(106, 'Working', { reply_markup: keyboard });
    expect(sent.reply_markup).toEqual(keyboard);
    const edited = await api.editMessageText(106, sent.message_id, 'Working');
    expect(edited).not.toHaveProperty('reply_markup');
    const tooLong = await rejection(
      api.sendMessage(106, 'x', { reply_markup: { inline_keyboard: [[{ text: 'a', callback_data: 'x'.repeat(65) }]] } }),
    );
    expect(tooLong.description).toBe('Bad Request: BUTTON_DATA_INVALID');
  });

  it('validates chat actions', async () => {
    await expect(api.sendChatAction(107, 'upload_video')).resolves.toBe(true);
    await expect(api.sendChatAction(107, 'typing')).resolves.toBe(true);
    const bad = await rejection(api.sendChatAction(107, 'dancing' as 'typing'));
    expect(bad.description).toBe('Bad Request: wrong parameter action in request');
  });

  it('resolves getFile for a user photo and serves the download', async () => {
    const update = await sim.makePhotoUpdate({ chatId: 108, caption: 'make it move' });
    const photos = update.message?.photo ?? [];
    expect(photos.map((p) => p.width)).toEqual([90, 320, 800, 1280]);
    expect(update.message).toMatchObject({ caption: 'make it move', chat: { id: 108, type: 'private' }, from: { is_bot: false } });
    const largest = photos[photos.length - 1];
    const file = await api.getFile(largest?.file_id ?? '');
    expect(file.file_path).toMatch(/^photos\/file_\d+\.jpg$/);
    const res = await fetch(sim.fileUrl(file.file_path ?? ''));
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(file.file_size);
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));

    const wrongToken = await fetch(`${sim.apiRoot}/file/bot1:nope/${file.file_path}`);
    expect(wrongToken.status).toBe(404);
    const invalid = await rejection(api.getFile('no-such-file'));
    expect(invalid.description).toBe('Bad Request: invalid file_id');
  });

  it('registers files with addFile', async () => {
    const added = sim.addFile(Buffer.from('hello'), { fileName: 'a.txt' });
    const file = await api.getFile(added.file_id);
    expect(file).toEqual(added);
    expect(await (await fetch(sim.fileUrl(added.file_path))).text()).toBe('hello');
  });

  it('sends a video by multipart upload, then again by its file_id', async () => {
    const video = fakeMp4(200_000);
    const first = await api.sendVideo(109, new InputFile(video, 'clip.mp4'), { caption: 'Here you go' });
    expect(first.video).toMatchObject({ duration: 5, width: 832, height: 480, mime_type: 'video/mp4', file_size: 200_000 });
    expect(first.caption).toBe('Here you go');
    const again = await api.sendVideo(110, first.video.file_id);
    expect(again.video.file_id).toBe(first.video.file_id);
    expect(again.video.file_unique_id).toBe(first.video.file_unique_id);
    const reupload = await api.sendVideo(111, new InputFile(video, 'clip.mp4'));
    expect(reupload.video.file_id).toBe(first.video.file_id);
    const recorded = sim.callsTo('sendVideo')[0]?.params ?? {};
    const attached = String(recorded['video']).replace('attach://', '');
    expect(recorded[attached]).toMatchObject({ filename: 'clip.mp4', size: 200_000 });
  });

  it('refuses uploads over 50 MB with 413', async () => {
    const big = fakeMp4(50 * 1024 * 1024 + 10);
    const err = await rejection(api.sendVideo(112, new InputFile(big, 'big.mp4')));
    expect(err.error_code).toBe(413);
    expect(err.description).toBe('Request Entity Too Large');
  });

  it('sends a video by URL, refusing unreachable URLs and files over 20 MB', async () => {
    const host = Fastify({ forceCloseConnections: true });
    host.get('/small.mp4', async (_req, reply) => reply.type('video/mp4').send(fakeMp4(300_000)));
    host.get('/big.mp4', async (_req, reply) => reply.type('video/mp4').send(fakeMp4(21 * 1024 * 1024)));
    const base = await host.listen({ host: '127.0.0.1', port: 0 });
    try {
      const sent = await api.sendVideo(113, `${base}/small.mp4`);
      expect(sent.video).toMatchObject({ file_size: 300_000, duration: 5, width: 832 });
      const big = await rejection(api.sendVideo(113, `${base}/big.mp4`));
      expect(big.description).toBe('Bad Request: failed to get HTTP URL content');
      const missing = await rejection(api.sendVideo(113, 'http://127.0.0.1:1/nothing.mp4'));
      expect(missing.description).toBe('Bad Request: wrong file identifier/HTTP URL specified');
      const badId = await rejection(api.sendVideo(113, 'BAACAgIAAxkBAAI-not-a-real-id'));
      expect(badId.description).toBe('Bad Request: wrong file identifier/HTTP URL specified');
    } finally {
      await host.close();
    }
  });

  it('answers 401 for a wrong token and 404 for an unknown method', async () => {
    const wrong = new Api('1:wrong', { apiRoot: sim.apiRoot });
    const unauthorized = await rejection(wrong.getMe());
    expect(unauthorized.error_code).toBe(401);
    expect(unauthorized.description).toBe('Unauthorized');
    const res = await fetch(`${sim.apiRoot}/bot${TOKEN}/sendTelepathy`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ ok: false, error_code: 404, description: 'Not Found: method not found' });
  });

  it('accepts urlencoded bodies and query strings, with case-insensitive method names', async () => {
    const form = await fetch(`${sim.apiRoot}/bot${TOKEN}/SENDMESSAGE`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ chat_id: '114', text: 'form', reply_markup: JSON.stringify({ inline_keyboard: [[{ text: 'ok', callback_data: 'ok' }]] }) }),
    });
    expect(await form.json()).toMatchObject({ ok: true, result: { text: 'form', reply_markup: { inline_keyboard: [[{ text: 'ok' }]] } } });
    const query = await fetch(`${sim.apiRoot}/bot${TOKEN}/sendMessage?chat_id=114&text=query`);
    expect(await query.json()).toMatchObject({ ok: true, result: { text: 'query', message_id: 2 } });
  });

  it('answers a callback query once', async () => {
    const sent = await api.sendMessage(115, 'pick', { reply_markup: { inline_keyboard: [[{ text: 'Go', callback_data: 'go' }]] } });
    const update = sim.makeCallbackQueryUpdate({ chatId: 115, messageId: sent.message_id, data: 'go' });
    const id = update.callback_query?.id ?? '';
    expect(update.callback_query?.message?.message_id).toBe(sent.message_id);
    await expect(api.answerCallbackQuery(id)).resolves.toBe(true);
    const twice = await rejection(api.answerCallbackQuery(id));
    expect(twice.description).toMatch(/query is too old/);
    await expect(api.setMyCommands([{ command: 'start', description: 'Start' }])).resolves.toBe(true);
    await expect(api.getMyCommands()).resolves.toEqual([{ command: 'start', description: 'Start' }]);
  });

  it('builds text updates with bot_command entities and sequential update ids', () => {
    const a = sim.makeTextUpdate({ chatId: 116, text: '/start hello' });
    const b = sim.makeTextUpdate({ chatId: 116, text: 'plain' });
    expect(a.message?.entities).toEqual([{ type: 'bot_command', offset: 0, length: 6 }]);
    expect(b.message?.entities).toBeUndefined();
    expect(b.update_id).toBe(a.update_id + 1);
    expect(b.message?.message_id).toBe((a.message?.message_id ?? 0) + 1);
  });
});
