import { Api } from 'grammy';
import { describe, expect, it } from 'vitest';
import { CATALOGS, MENU_COMMANDS } from '../../src/i18n/index.js';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { eventually, useTestSystem } from '../helpers/system.js';

const sys = useTestSystem();
const { en, es } = CATALOGS;

const CHAT = 6400;

/** Every text the bot sent to the chat (messages and the edits that replaced them), in order. */
function textsTo(chatId: number): string[] {
  return sys.telegram!
    .callsTo('sendMessage')
    .concat(sys.telegram!.callsTo('editMessageText'))
    .filter((c) => c.ok && c.chatId === chatId)
    .sort((a, b) => a.at - b.at)
    .map((c) => String(c.params.text));
}

async function say(text: string, languageCode: string) {
  const before = sys.telegram!.messagesTo(CHAT).length;
  expect((await sys.telegram!.pushUpdate(sys.telegram!.makeTextUpdate({ chatId: CHAT, userId: CHAT, text, languageCode }))).status).toBe(200);
  return eventually(() => sys.telegram!.messagesTo(CHAT)[before], 20_000, `the reply to ${text}`);
}

describe('languages, end to end', () => {
  it('sets the command menu in English and in Spanish at start-up', async () => {
    await sys.gateway.commandsSet;
    const api = new Api(sys.config.TELEGRAM_BOT_TOKEN, { apiRoot: sys.config.TELEGRAM_API_ROOT });
    expect(await api.getMyCommands()).toEqual(MENU_COMMANDS.map((command) => ({ command, description: en.commands[command] })));
    expect(await api.getMyCommands({ language_code: 'es' })).toEqual(MENU_COMMANDS.map((command) => ({ command, description: es.commands[command] })));
  });

  it('a Spanish-speaking user gets a video, chooses English with a button, and is answered in English from then on; every text before is Spanish', async () => {
    const photo = await sys.telegram!.makePhotoUpdate({ chatId: CHAT, userId: CHAT, caption: 'las olas rompen despacio', languageCode: 'es' });
    expect((await sys.telegram!.pushUpdate(photo)).status).toBe(200);
    const outcome = (await sys.temporal.client.workflow.getHandle(videoWorkflowId(CHAT, photo.message!.message_id)).result()) as VideoOutcome;
    expect(outcome.status).toBe('completed');
    expect(textsTo(CHAT)).toEqual([es.progress.received, es.progress.completed]);

    const help = await say('/help', 'es');
    expect(help.text).toBe(es.help);

    const prompt = await say('/language', 'es');
    expect(prompt.text).toBe(es.languagePrompt);
    expect(prompt.reply_markup).toEqual({ inline_keyboard: [[{ text: 'English', callback_data: 'lang:en' }], [{ text: 'Español', callback_data: 'lang:es' }]] });
    const everythingSpanish = textsTo(CHAT);

    const before = sys.telegram!.messagesTo(CHAT).length;
    const press = sys.telegram!.makeCallbackQueryUpdate({ chatId: CHAT, userId: CHAT, messageId: prompt.message_id, data: 'lang:en', languageCode: 'es' });
    expect((await sys.telegram!.pushUpdate(press)).status).toBe(200);
    const chosen = await eventually(() => sys.telegram!.messagesTo(CHAT)[before], 20_000, 'the answer to the choice');
    expect(chosen.text).toBe(en.languageChosen);
    const answers = sys.telegram!.callsTo('answerCallbackQuery').filter((c) => c.params.callback_query_id === press.callback_query!.id);
    expect(answers).toEqual([expect.objectContaining({ ok: true, params: expect.objectContaining({ text: en.languageChosen }) })]);
    expect(await sys.db.prisma.telegramUser.findUniqueOrThrow({ where: { id: BigInt(CHAT) } })).toMatchObject({ language: 'en', languageCode: 'es' });
    expect(await sys.db.prisma.domainEvent.count({ where: { type: 'user.language_changed', subject: `user:${CHAT}` } })).toBe(1);

    // Telegram still says Spanish; the choice wins, in commands and in videos.
    expect((await say('/help', 'es')).text).toBe(en.help);
    const second = await sys.telegram!.makePhotoUpdate({ chatId: CHAT, userId: CHAT, caption: 'the tide comes in [fail]', languageCode: 'es' });
    expect((await sys.telegram!.pushUpdate(second)).status).toBe(200);
    await sys.temporal.client.workflow.getHandle(videoWorkflowId(CHAT, second.message!.message_id)).result();
    expect(textsTo(CHAT).at(-1)).toMatch(/^❌ The video could not be generated/);

    for (const text of everythingSpanish) expect(Object.values(en.progress)).not.toContain(text);

    // Every command and the button press recorded for operators, and the user's last activity kept.
    const commands = await sys.db.prisma.domainEvent.findMany({ where: { type: 'user.command_executed', subject: `user:${CHAT}` }, orderBy: { occurredAt: 'asc' } });
    expect(commands.map((e) => e.payload)).toEqual([
      { command: 'help', button: false },
      { command: 'language', button: false },
      { command: 'language', button: true },
      { command: 'help', button: false },
    ]);
    const lastActiveAt = (await sys.db.prisma.telegramUser.findUniqueOrThrow({ where: { id: BigInt(CHAT) } })).lastActiveAt;
    expect(Date.now() - lastActiveAt!.getTime()).toBeLessThan(120_000);
  });

  it('/history lists a delivered video and its button resends it by file_id, with no new generation', async () => {
    const chatId = 6401;
    const photo = await sys.telegram!.makePhotoUpdate({ chatId, userId: chatId, caption: 'a lighthouse at dusk', languageCode: 'en' });
    expect((await sys.telegram!.pushUpdate(photo)).status).toBe(200);
    const generationId = videoWorkflowId(chatId, photo.message!.message_id);
    await sys.temporal.client.workflow.getHandle(generationId).result();
    const submitted = sys.wavespeed!.stats.submitted;

    const before = sys.telegram!.messagesTo(chatId).length;
    expect((await sys.telegram!.pushUpdate(sys.telegram!.makeTextUpdate({ chatId, userId: chatId, text: '/history' }))).status).toBe(200);
    const list = await eventually(() => sys.telegram!.messagesTo(chatId)[before], 20_000, 'the /history reply');
    expect(list.text).toContain('a lighthouse at dusk');
    expect(list.reply_markup).toEqual({ inline_keyboard: [[{ text: '🔁 1', callback_data: `vid:${generationId}` }]] });

    const press = sys.telegram!.makeCallbackQueryUpdate({ chatId, userId: chatId, messageId: list.message_id, data: `vid:${generationId}` });
    expect((await sys.telegram!.pushUpdate(press)).status).toBe(200);
    const videos = await eventually(() => {
      const sent = sys.telegram!.messagesTo(chatId).filter((m) => m.video);
      return sent.length === 2 ? sent : undefined;
    }, 20_000, 'the resent video');
    expect(videos[1]!.video!.file_id).toBe(videos[0]!.video!.file_id);
    expect(sys.wavespeed!.stats.submitted).toBe(submitted);
    // Someone else's video is not theirs to resend.
    const foreign = sys.telegram!.makeCallbackQueryUpdate({ chatId: 6402, userId: 6402, messageId: list.message_id, data: `vid:${generationId}` });
    expect((await sys.telegram!.pushUpdate(foreign)).status).toBe(200);
    const gone = await eventually(() => sys.telegram!.messagesTo(6402)[0], 20_000, 'the answer to a foreign button');
    expect(gone.text).toBe(en.resendGone);
    expect(sys.telegram!.messagesTo(6402).filter((m) => m.video)).toHaveLength(0);
  });
});
