import { describe, expect, it } from 'vitest';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import { PROGRESS, failureText, WELCOME_TEXT } from '../helpers/texts.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { eventually, useTestSystem } from '../helpers/system.js';

const sys = useTestSystem();

let nextChat = 5000;

async function sendPhoto(caption: string, chatId = nextChat++) {
  const update = await sys.telegram!.makePhotoUpdate({ chatId, userId: chatId, caption, width: 2000, height: 1500 });
  const res = await sys.telegram!.pushUpdate(update);
  expect(res.status).toBe(200);
  const messageId = update.message!.message_id;
  const workflowId = videoWorkflowId(chatId, messageId);
  return { chatId, messageId, workflowId, update };
}

async function outcomeOf(workflowId: string): Promise<VideoOutcome> {
  return (await sys.temporal.client.workflow.getHandle(workflowId).result()) as VideoOutcome;
}

describe('image to video, end to end', () => {
  it('turns a captioned photo into a video, recorded in the database', async () => {
    // Long enough for a beat of the fleet's presence loop (every 4 s) to show "sending video…",
    // with room for a busy machine (at 6 s a CI run once saw the video first).
    const { chatId, workflowId } = await sendPhoto('the waves roll in [slow:9000]');
    const outcome = await outcomeOf(workflowId);
    expect(outcome).toMatchObject({ status: 'completed', resultVia: 'callback', deliveredBy: 'url' });

    const sent = sys.telegram!.messagesTo(chatId);
    const videos = sent.filter((m) => m.video);
    expect(videos).toHaveLength(1);
    expect(sent.find((m) => m.text === PROGRESS.completed)).toBeTruthy();
    const videoAt = sys.telegram!.callsTo('sendVideo').find((c) => c.ok && c.chatId === chatId)!.at;
    expect(sys.telegram!.callsTo('sendChatAction').some((c) => c.chatId === chatId && c.at < videoAt)).toBe(true);

    const generation = await sys.db.prisma.generation.findUniqueOrThrow({ where: { id: workflowId } });
    expect(generation).toMatchObject({ status: 'completed', telegramFileId: videos[0]!.video!.file_id, deliveredBy: 'url' });
    expect(generation.predictionId).toBeTruthy();

    // WaveSpeed got a normalised JPEG from its own storage, never a Telegram URL or the token.
    const prediction = sys.wavespeed!.predictions.get(generation.predictionId!)!;
    expect(prediction.image?.md5).toBe(generation.imageMd5);
    expect(Math.max(prediction.image!.width!, prediction.image!.height!)).toBe(1024);
    const submitted = JSON.stringify(prediction.input);
    expect(submitted).not.toContain(sys.config.TELEGRAM_BOT_TOKEN);
    expect(submitted).not.toContain('/file/bot');

    const events = await sys.db.prisma.domainEvent.findMany({ where: { subject: `generation:${workflowId}` }, orderBy: { occurredAt: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(['video.requested', 'video.submitted', 'video.completed']);

    // The chat leaves the presence loop when its permit goes back, before the video: no "sending video…" after it.
    await new Promise((r) => setTimeout(r, 4_500));
    expect(sys.telegram!.callsTo('sendChatAction').filter((c) => c.chatId === chatId && c.at > videoAt)).toEqual([]);
  });

  it('finishes by polling when the callback is lost', async () => {
    const { chatId, workflowId } = await sendPhoto('slow pan [lose-callback]');
    const outcome = await outcomeOf(workflowId);
    expect(outcome).toMatchObject({ status: 'completed', resultVia: 'poll' });
    expect(sys.telegram!.messagesTo(chatId).filter((m) => m.video)).toHaveLength(1);
    expect(sys.wavespeed!.stats.callbacksLost).toBeGreaterThanOrEqual(1);
  });

  it('starts one workflow and sends one video when Telegram redelivers the update', async () => {
    const { chatId, workflowId, update } = await sendPhoto('twice delivered');
    expect((await sys.telegram!.pushUpdate(update)).status).toBe(200);
    await outcomeOf(workflowId);
    expect((await sys.telegram!.pushUpdate(update)).status).toBe(200);
    expect(sys.telegram!.messagesTo(chatId).filter((m) => m.video)).toHaveLength(1);
    expect(await sys.db.prisma.generation.count({ where: { chatId: BigInt(chatId) } })).toBe(1);
  });

  it('tells the user when generation fails', async () => {
    const { chatId, workflowId } = await sendPhoto('explode [fail]');
    const outcome = await outcomeOf(workflowId);
    expect(outcome).toMatchObject({ status: 'failed', reason: 'generation-failed' });
    const last = sys.telegram!.messagesTo(chatId).at(-1)!;
    expect(last.text).toBe(failureText('generation-failed', outcome.detail));
    expect(await sys.db.prisma.generation.findUniqueOrThrow({ where: { id: workflowId } })).toMatchObject({ status: 'failed', errorKind: 'generation-failed' });
  });

  it('cancels a request in progress on /cancel', async () => {
    const { chatId, workflowId } = await sendPhoto('very slow [slow:60000]');
    await eventually(async () => (await sys.db.prisma.generation.findUnique({ where: { id: workflowId } }))?.status === 'submitted' || undefined, 20_000, 'submission');
    const cancel = sys.telegram!.makeTextUpdate({ chatId, userId: chatId, text: '/cancel' });
    expect((await sys.telegram!.pushUpdate(cancel)).status).toBe(200);
    const outcome = await outcomeOf(workflowId);
    expect(outcome.status).toBe('cancelled');
    const texts = () => sys.telegram!.messagesTo(chatId).map((m) => m.text);
    await eventually(() => texts().includes('Cancelling your request in progress…') || undefined, 20_000, 'the /cancel reply');
    expect(texts()).toContain(failureText('cancelled'));
    expect(await sys.db.prisma.generation.findUniqueOrThrow({ where: { id: workflowId } })).toMatchObject({ status: 'cancelled' });
  });

  it('registers a user once on /start', async () => {
    const chatId = nextChat++;
    for (let i = 0; i < 2; i++) {
      const res = await sys.telegram!.pushUpdate(sys.telegram!.makeTextUpdate({ chatId, userId: chatId, text: '/start' }));
      expect(res.status).toBe(200);
    }
    await eventually(() => sys.telegram!.messagesTo(chatId).length === 2 || undefined, 20_000, 'two welcomes');
    expect(sys.telegram!.messagesTo(chatId).map((m) => m.text)).toEqual([WELCOME_TEXT, WELCOME_TEXT]);
    const events = await sys.db.prisma.domainEvent.findMany({ where: { type: 'user.registered', subject: `user:${chatId}` } });
    expect(events).toHaveLength(1);
  });
});
