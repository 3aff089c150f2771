import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import { PROGRESS, UNCONFIRMED_CACHED_DELIVERY_TEXT, unconfirmedDeliveryText } from '../helpers/texts.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { startTestSystem, type TestSystem } from '../helpers/system.js';

/** Lost answers, end to end: WaveSpeed and Telegram act on a request and the caller never hears back. */

let sys: TestSystem;

beforeAll(async () => {
  // A video send (and a message send) waits 2 s for Telegram's answer here, so a delayed answer outlasts it quickly.
  sys = await startTestSystem({ env: { TELEGRAM_MEDIA_TIMEOUT_SECONDS: '2', TELEGRAM_SEND_TIMEOUT_SECONDS: '2' } });
}, 120_000);

afterAll(async () => {
  await sys?.teardown();
});

let nextChat = 9100;

async function photoToVideo(caption: string, seed?: number): Promise<{ chatId: number; workflowId: string; outcome: VideoOutcome }> {
  const chatId = nextChat++;
  const update = await sys.telegram!.makePhotoUpdate({ chatId, userId: chatId, caption, ...(seed === undefined ? {} : { seed }) });
  expect((await sys.telegram!.pushUpdate(update)).status).toBe(200);
  const workflowId = videoWorkflowId(chatId, update.message!.message_id);
  const outcome = (await sys.temporal.client.workflow.getHandle(workflowId).result()) as VideoOutcome;
  return { chatId, workflowId, outcome };
}

describe('lost answers, end to end', () => {
  it.each(['reset', 'server-error'] as const)('WaveSpeed accepts a submission and loses the answer (%s): one prediction, one video', async (how) => {
    const before = sys.wavespeed!.stats.submitted;
    sys.wavespeed!.loseNextSubmitAnswers(1, how);

    const { chatId, workflowId, outcome } = await photoToVideo(`the river flows (${how})`);

    expect(outcome).toMatchObject({ status: 'completed', resultVia: 'callback' });
    expect(sys.wavespeed!.stats.submitted - before).toBe(1);
    expect(sys.wavespeed!.stats.answersLost).toBeGreaterThanOrEqual(1);
    expect(sys.telegram!.messagesTo(chatId).filter((m) => m.video)).toHaveLength(1);
    const generation = await sys.db.prisma.generation.findUniqueOrThrow({ where: { id: workflowId } });
    expect(generation).toMatchObject({ status: 'completed', predictionId: outcome.predictionId });
    expect(sys.wavespeed!.predictions.has(outcome.predictionId!)).toBe(true);
  });

  it('Telegram answers sendVideo after the client gave up: one video in the chat, its link in the progress message', async () => {
    sys.telegram!.delayNext('sendVideo', 5_000);

    const { chatId, workflowId, outcome } = await photoToVideo('the leaves fall');

    expect(outcome).toMatchObject({ status: 'completed', deliveredBy: 'unconfirmed' });
    // A 429 of the chat's 1 message/s before it is retried as usual; after the one Telegram took, nothing more.
    expect(sys.telegram!.callsTo('sendVideo').filter((c) => c.chatId === chatId && c.ok)).toHaveLength(1);
    expect(sys.telegram!.callsTo('sendMessage').filter((c) => c.chatId === chatId)).toHaveLength(1);
    const messages = sys.telegram!.messagesTo(chatId);
    expect(messages.filter((m) => m.video)).toHaveLength(1);
    const videoUrl = sys.wavespeed!.predictions.get(outcome.predictionId!)!.outputs[0]!;
    expect(messages.map((m) => m.text)).toContain(unconfirmedDeliveryText(videoUrl));
    expect(messages.map((m) => m.text)).not.toContain(PROGRESS.completed);
    expect(await sys.db.prisma.generation.findUniqueOrThrow({ where: { id: workflowId } })).toMatchObject({ status: 'completed', deliveredBy: 'unconfirmed' });
  });

  it('Telegram answers a cached video\'s resend after the client gave up: one video in the chat, not resent, the user told', { timeout: 90_000 }, async () => {
    const caption = 'the kite climbs the wind';
    const first = await photoToVideo(caption, 77);
    expect(first.outcome).toMatchObject({ status: 'completed', deliveredBy: 'url' });
    const submitted = sys.wavespeed!.stats.submitted;
    // Past the 30 s an attempt of the resend used to have: a blind retry would have sent it twice.
    sys.telegram!.delayNext('sendVideo', 35_000);

    const { chatId, workflowId, outcome } = await photoToVideo(caption, 77);

    const messages = sys.telegram!.messagesTo(chatId);
    expect(messages.filter((m) => m.video)).toHaveLength(1);
    expect(sys.telegram!.callsTo('sendVideo').filter((c) => c.chatId === chatId && c.ok)).toHaveLength(1);
    expect(outcome).toMatchObject({ status: 'completed', deliveredBy: 'unconfirmed', cachedFrom: first.workflowId });
    expect(sys.wavespeed!.stats.submitted).toBe(submitted);
    expect(messages.map((m) => m.text).filter(Boolean)).toEqual([UNCONFIRMED_CACHED_DELIVERY_TEXT]);
    expect(await sys.db.prisma.generation.findUniqueOrThrow({ where: { id: workflowId } })).toMatchObject({
      status: 'completed',
      deliveredBy: 'unconfirmed',
      cacheHit: true,
      cachedFrom: first.workflowId,
    });
  });

  it('Telegram answers the progress message after the client gave up: one progress message, the video still arrives', { timeout: 90_000 }, async () => {
    // Past the 30 s an attempt has: the progress message used to be sent again on the retry.
    sys.telegram!.delayNext('sendMessage', 35_000);

    const { chatId, workflowId, outcome } = await photoToVideo('the candle flickers');

    const messages = sys.telegram!.messagesTo(chatId);
    expect(messages.filter((m) => m.text === PROGRESS.received)).toHaveLength(1);
    expect(sys.telegram!.callsTo('sendMessage').filter((c) => c.chatId === chatId && c.ok)).toHaveLength(1);
    expect(messages.filter((m) => m.video)).toHaveLength(1);
    expect(outcome).toMatchObject({ status: 'completed', deliveredBy: 'url' });
    // Its id never came back: nothing edits it, and the row has none.
    expect(messages.find((m) => m.text === PROGRESS.received)?.edits).toEqual([]);
    expect(await sys.db.prisma.generation.findUniqueOrThrow({ where: { id: workflowId } })).toMatchObject({ status: 'completed', progressMessageId: null });
  });
});
