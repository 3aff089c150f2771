import { describe, expect, it } from 'vitest';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { eventually, useTestSystem } from '../helpers/system.js';

const sys = useTestSystem();
const CHAT = 6500;
const MODEL_720 = 'wavespeed-ai/wan-2.2/i2v-720p';

async function press(messageId: number, data: string) {
  const update = sys.telegram!.makeCallbackQueryUpdate({ chatId: CHAT, userId: CHAT, messageId, data });
  expect((await sys.telegram!.pushUpdate(update)).status).toBe(200);
  return eventually(
    () => sys.telegram!.callsTo('answerCallbackQuery').find((c) => c.ok && c.params.callback_query_id === update.callback_query!.id),
    20_000,
    `the answer to ${data}`,
  );
}

async function video(caption: string) {
  const photo = await sys.telegram!.makePhotoUpdate({ chatId: CHAT, userId: CHAT, caption });
  expect((await sys.telegram!.pushUpdate(photo)).status).toBe(200);
  const id = videoWorkflowId(CHAT, photo.message!.message_id);
  expect(((await sys.temporal.client.workflow.getHandle(id).result()) as VideoOutcome).status).toBe('completed');
  return sys.db.prisma.generation.findUniqueOrThrow({ where: { id } });
}

describe('/settings, end to end', () => {
  it('shows the prices, edits itself in place on each choice, and the next video is made and priced with them', async () => {
    const first = await video('the waves roll in');
    expect(first).toMatchObject({ model: 'wavespeed-ai/wan-2.2/i2v-480p', durationSeconds: 5 });
    expect(Number(first.costUsd)).toBeCloseTo(0.15);

    const before = sys.telegram!.messagesTo(CHAT).length;
    expect((await sys.telegram!.pushUpdate(sys.telegram!.makeTextUpdate({ chatId: CHAT, userId: CHAT, text: '/settings' }))).status).toBe(200);
    const menu = await eventually(() => sys.telegram!.messagesTo(CHAT)[before], 20_000, 'the /settings message');
    expect(menu.text).toContain('Wan 2.2 480p');
    expect(menu.text).toContain('$0.15');
    const buttons = () => (sys.telegram!.messagesTo(CHAT).find((m) => m.message_id === menu.message_id)!.reply_markup as { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> }).inline_keyboard.flat();
    expect(buttons().map((b) => b.text)).toEqual(['✅ Wan 2.2 480p · $0.15', 'Wan 2.2 720p · $0.30', 'Kling 2.1 Pro · $0.45', '✅ 5 s · $0.15', '8 s · $0.24']);

    expect((await press(menu.message_id, `set:m:${MODEL_720}`)).params.text).toBe('Saved ✅');
    expect((await press(menu.message_id, 'set:d:8')).params.text).toBe('Saved ✅');
    // Edited in place: no second settings message, and the keyboard ticks the choices.
    expect(sys.telegram!.messagesTo(CHAT).length).toBe(before + 1);
    expect(buttons().filter((b) => b.text.startsWith('✅')).map((b) => b.text)).toEqual(['✅ Wan 2.2 720p · $0.48', '✅ 8 s · $0.48']);

    const second = await video('the tide comes in');
    expect(second).toMatchObject({ model: MODEL_720, durationSeconds: 8 });
    expect(Number(second.costUsd)).toBeCloseTo(0.48);
    const prediction = sys.wavespeed!.predictions.get(second.predictionId!)!;
    expect(prediction.model).toBe(MODEL_720);
    expect(prediction.input).toMatchObject({ duration: 8 });
    expect(await sys.db.prisma.domainEvent.count({ where: { type: 'user.settings_changed', subject: `user:${CHAT}` } })).toBe(2);

    // Kling takes 5 or 10 s: the 8 s chosen for Wan becomes Kling's default.
    await press(menu.message_id, 'set:m:kwaivgi/kling-v2.1-i2v-pro');
    expect(await sys.db.prisma.telegramUser.findUniqueOrThrow({ where: { id: BigInt(CHAT) } })).toMatchObject({ videoModel: 'kwaivgi/kling-v2.1-i2v-pro', videoDuration: 5 });
  });
});
