import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBot } from '../../src/bot/bot.js';
import { buildApp } from '../../src/gateway/app.js';
import { botInfo } from './bot-info.js';
import { CALLBACK_TOKENS, FakeWorkflows, UNUSED_CATALOG } from './fake-workflows.js';

const SECRET = 'telegram-secret_123';
const NOW = 1_800_000_000;

let app: FastifyInstance;
let workflows: FakeWorkflows;
beforeEach(async () => {
  workflows = new FakeWorkflows();
  const bot = createBot({ token: '1:test', apiRoot: 'http://127.0.0.1:9', workflows, botInfo });
  app = await buildApp({
    bot,
    workflows,
    telegramWebhookSecret: SECRET,
    wavespeedWebhookSecret: async () => 'whsec_0123456789abcdef0123456789abcdef',
    wavespeedCallbackTokens: CALLBACK_TOKENS,
    catalog: UNUSED_CATALOG,
    readiness: { temporal: async () => {}, database: async () => {} },
    now: () => NOW,
  });
});
afterEach(async () => {
  await app.close();
});

const from = { id: 8, is_bot: false, first_name: 'Lucía', language_code: 'es' };
const chat = { id: 8, type: 'private', first_name: 'Lucía' };
let updateId = 1;
let messageId = 100;
const photo = [
  { file_id: 'small', file_unique_id: 's', width: 90, height: 67, file_size: 1000 },
  { file_id: 'large', file_unique_id: 'l', width: 1280, height: 960, file_size: 90000 },
];
const message = (fields: Record<string, unknown>) => ({ update_id: updateId++, message: { message_id: messageId++, from, chat, date: NOW, ...fields } });
const post = (body: unknown) =>
  app.inject({ method: 'POST', url: '/telegram/webhook', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, payload: JSON.stringify(body) });

describe('what people send besides a captioned photo', () => {
  it('an album (one update per photo): one video from the captioned photo and one hint for the rest, however many', async () => {
    const album = [message({ photo, media_group_id: '777', caption: 'las olas' }), message({ photo, media_group_id: '777' }), message({ photo, media_group_id: '777' })];
    for (const update of album) expect((await post(update)).statusCode).toBe(200);
    // Telegram redelivers one of them: still one of each.
    expect((await post(album[2])).statusCode).toBe(200);
    expect(workflows.videos).toEqual([expect.objectContaining({ prompt: 'las olas', messageId: album[0]!.message.message_id })]);
    expect(workflows.commands.map((c) => c.command)).toEqual(['album']);
    expect([...workflows.running].filter((id) => id.startsWith('command-'))).toEqual(['command-8-album-777']);
  });

  it.each([
    ['video', { video: { file_id: 'v', file_unique_id: 'v', width: 1, height: 1, duration: 3 } }],
    ['animation', { animation: { file_id: 'a', file_unique_id: 'a', width: 1, height: 1, duration: 3 }, document: { file_id: 'a', file_unique_id: 'a', mime_type: 'video/mp4' } }],
    ['sticker', { sticker: { file_id: 's', file_unique_id: 's', type: 'regular', width: 512, height: 512, is_animated: false, is_video: false } }],
    ['voice', { voice: { file_id: 'o', file_unique_id: 'o', duration: 2 } }],
    ['audio', { audio: { file_id: 'm', file_unique_id: 'm', duration: 200 } }],
    ['video_note', { video_note: { file_id: 'n', file_unique_id: 'n', length: 240, duration: 5 } }],
    ['document', { document: { file_id: 'd', file_unique_id: 'd', mime_type: 'application/pdf', file_name: 'notes.pdf' } }],
  ])('a %s gets a hint that names it, and starts no video', async (kind, fields) => {
    expect((await post(message(fields))).statusCode).toBe(200);
    expect(workflows.videos).toHaveLength(0);
    expect(workflows.commands).toEqual([expect.objectContaining({ command: 'unsupported-media', args: kind })]);
  });

  it('an edited caption gets one hint per edit and starts nothing new', async () => {
    const original = message({ photo, caption: 'first idea' });
    expect((await post(original)).statusCode).toBe(200);
    const edit = (editDate: number) => ({ update_id: updateId++, edited_message: { ...original.message, caption: 'second idea', edit_date: editDate } });
    const first = edit(NOW + 10);
    expect((await post(first)).statusCode).toBe(200);
    expect((await post(first)).statusCode).toBe(200);
    expect((await post(edit(NOW + 20))).statusCode).toBe(200);
    expect(workflows.videos).toHaveLength(1);
    expect(workflows.commands.map((c) => [c.command, c.once])).toEqual([
      ['edited', `edit-${original.message.message_id}-${NOW + 10}`],
      ['edited', `edit-${original.message.message_id}-${NOW + 20}`],
    ]);
  });

  it('an edited text message is left alone', async () => {
    expect((await post({ update_id: updateId++, edited_message: { message_id: messageId++, from, chat, date: NOW, edit_date: NOW + 1, text: 'hola' } })).statusCode).toBe(200);
    expect(workflows.commands).toEqual([]);
  });
});
