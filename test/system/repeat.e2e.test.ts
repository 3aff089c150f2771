import { describe, expect, it } from 'vitest';
import { CATALOGS } from '../../src/i18n/index.js';
import { againWorkflowId, videoWorkflowId } from '../../src/workflows/ids.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { eventually, useTestSystem } from '../helpers/system.js';

const sys = useTestSystem({ env: { USER_DAILY_QUOTA: '3' } });
const { en } = CATALOGS;
const CHAT = 6600;

type Keyboard = { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> };
const videos = () => sys.telegram!.messagesTo(CHAT).filter((m) => m.video);
const outcome = async (id: string) => (await sys.temporal.client.workflow.getHandle(id).result()) as VideoOutcome;

async function press(messageId: number, data: string) {
  const update = sys.telegram!.makeCallbackQueryUpdate({ chatId: CHAT, userId: CHAT, messageId, data });
  expect((await sys.telegram!.pushUpdate(update)).status).toBe(200);
  const answer = await eventually(
    () => sys.telegram!.callsTo('answerCallbackQuery').find((c) => c.ok && c.params.callback_query_id === update.callback_query!.id),
    20_000,
    `the answer to ${data}`,
  );
  return { update, notice: answer.params.text };
}

describe('the buttons under a video, end to end', () => {
  it('🔁 Again makes another video of the same photo and prompt with a new seed, once per press; ✏️ New prompt takes the next text as the caption; the quota applies', async () => {
    const photo = await sys.telegram!.makePhotoUpdate({ chatId: CHAT, userId: CHAT, caption: 'the waves roll in' });
    expect((await sys.telegram!.pushUpdate(photo)).status).toBe(200);
    const first = videoWorkflowId(CHAT, photo.message!.message_id);
    expect((await outcome(first)).status).toBe('completed');
    const [video] = videos();
    const buttons = (video!.reply_markup as Keyboard).inline_keyboard.flat();
    expect(buttons).toEqual([
      { text: en.againButton, callback_data: `again:${first}` },
      { text: en.newPromptButton, callback_data: `newp:${first}` },
    ]);
    const submittedBefore = sys.wavespeed!.stats.submitted;

    const again = await press(video!.message_id, `again:${first}`);
    expect(again.notice).toBe(en.makingAgain);
    const second = againWorkflowId(CHAT, again.update.callback_query!.id);
    expect((await outcome(second)).status).toBe('completed');
    // Telegram redelivers the press: nothing more (given the time a second video would take).
    expect((await sys.telegram!.pushUpdate(again.update)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(videos()).toHaveLength(2);
    expect(sys.wavespeed!.stats.submitted).toBe(submittedBefore + 1);
    const [a, b] = await Promise.all([first, second].map((id) => sys.db.prisma.generation.findUniqueOrThrow({ where: { id } })));
    expect(b).toMatchObject({ prompt: 'the waves roll in', photoFileId: a!.photoFileId, messageId: a!.messageId });
    const seed = sys.wavespeed!.predictions.get(b!.predictionId!)!.input['seed'];
    expect(typeof seed === 'number' && seed >= 0).toBe(true);

    const ask = await press(video!.message_id, `newp:${first}`);
    expect(ask.notice).toBeUndefined();
    await eventually(() => sys.telegram!.messagesTo(CHAT).find((m) => m.text === en.newPromptAsk), 20_000, 'the question for the new caption');
    const text = sys.telegram!.makeTextUpdate({ chatId: CHAT, userId: CHAT, text: 'a slow zoom out' });
    expect((await sys.telegram!.pushUpdate(text)).status).toBe(200);
    const third = videoWorkflowId(CHAT, text.message!.message_id);
    expect((await eventually(() => sys.temporal.client.workflow.getHandle(third).describe().then(() => true, () => undefined), 20_000, 'the new-prompt video'))).toBe(true);
    expect((await outcome(third)).status).toBe('completed');
    const c = await sys.db.prisma.generation.findUniqueOrThrow({ where: { id: third } });
    expect(c).toMatchObject({ prompt: 'a slow zoom out', photoFileId: a!.photoFileId });
    // The next text is just a text again.
    const after = sys.telegram!.makeTextUpdate({ chatId: CHAT, userId: CHAT, text: 'hello?' });
    expect((await sys.telegram!.pushUpdate(after)).status).toBe(200);
    await eventually(() => sys.telegram!.messagesTo(CHAT).find((m) => m.text === en.unknown), 20_000, 'the unknown-text answer');

    // Three videos today: the quota (3) refuses a fourth Again like any request.
    const refused = await press(video!.message_id, `again:${first}`);
    expect(await outcome(againWorkflowId(CHAT, refused.update.callback_query!.id))).toMatchObject({ status: 'refused', reason: 'daily-quota' });
    expect(videos()).toHaveLength(3);
  });
});
