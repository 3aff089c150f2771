import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { useTestSystem } from '../helpers/system.js';
import { bundleWorkflows } from '../helpers/temporal.js';
import { testDataConverter } from '../helpers/encryption.js';

const sys = useTestSystem();

let nextChat = 6000;

/** One user sends the picture `seed` with `caption`; equal seeds are the same photo. */
async function sendPhoto(seed: number, caption: string) {
  const chatId = nextChat++;
  const update = await sys.telegram!.makePhotoUpdate({ chatId, userId: chatId, caption, seed, width: 1600, height: 1200 });
  const res = await sys.telegram!.pushUpdate(update);
  expect(res.status).toBe(200);
  return { chatId, workflowId: videoWorkflowId(chatId, update.message!.message_id) };
}

const outcomeOf = async (workflowId: string) => (await sys.temporal.client.workflow.getHandle(workflowId).result()) as VideoOutcome;
const predictionsFor = (caption: string) => [...sys.wavespeed!.predictions.values()].filter((p) => p.input.prompt === caption);
const videosTo = (chatId: number) => sys.telegram!.messagesTo(chatId).filter((m) => m.video);

describe('result cache, end to end', () => {
  it('resends the first user\'s video to a second user who sends the same photo and caption, with no second prediction', async () => {
    const caption = 'the lighthouse beam sweeps the fog';
    const a = await sendPhoto(11, caption);
    expect(await outcomeOf(a.workflowId)).toMatchObject({ status: 'completed', deliveredBy: 'url' });
    expect(predictionsFor(caption)).toHaveLength(1);
    const uploads = sys.wavespeed!.uploads.length;

    const b = await sendPhoto(11, `  ${caption.replace(' beam ', '  beam ')}`);
    const outcome = await outcomeOf(b.workflowId);

    expect(outcome).toMatchObject({ status: 'completed', deliveredBy: 'cache', cachedFrom: a.workflowId });
    expect(predictionsFor(caption)).toHaveLength(1);
    expect(sys.wavespeed!.uploads.length).toBe(uploads);
    const [videoA] = videosTo(a.chatId);
    const [videoB] = videosTo(b.chatId);
    expect(videoB?.video?.file_id).toBe(videoA?.video?.file_id);
    // The cached video is the only message to B: no progress message to spend the chat's 1 message/s.
    expect(sys.telegram!.messagesTo(b.chatId)).toHaveLength(1);
    expect(sys.telegram!.calls.filter((c) => Number(c.chatId) === b.chatId && c.errorCode === 429)).toEqual([]);

    const rowA = await sys.db.prisma.generation.findUniqueOrThrow({ where: { id: a.workflowId } });
    const rowB = await sys.db.prisma.generation.findUniqueOrThrow({ where: { id: b.workflowId } });
    expect(rowA).toMatchObject({ cacheHit: false, status: 'completed' });
    expect(rowB).toMatchObject({ cacheHit: true, cachedFrom: a.workflowId, status: 'completed', deliveredBy: 'cache', predictionId: null, imageMd5: rowA.imageMd5 });
    expect(rowB.telegramFileId).toBe(rowA.telegramFileId);

    // A different photo with the same caption is a different request.
    const c = await sendPhoto(12, caption);
    expect(await outcomeOf(c.workflowId)).toMatchObject({ status: 'completed', deliveredBy: 'url' });
    expect(predictionsFor(caption)).toHaveLength(2);
  });

  it('generates once for a burst of 5 identical requests from 5 users and delivers 5 videos', async () => {
    const caption = 'five people, one sunset';
    const senders = await Promise.all(Array.from({ length: 5 }, () => sendPhoto(21, caption)));

    const outcomes = await Promise.all(senders.map((s) => outcomeOf(s.workflowId)));

    expect(predictionsFor(caption)).toHaveLength(1);
    expect(outcomes.every((o) => o.status === 'completed')).toBe(true);
    expect(outcomes.filter((o) => o.deliveredBy === 'cache')).toHaveLength(4);
    const fileIds = senders.map((s) => {
      const videos = videosTo(s.chatId);
      expect(videos).toHaveLength(1);
      return videos[0]!.video!.file_id;
    });
    expect(new Set(fileIds).size).toBe(1);
    const rows = await sys.db.prisma.generation.findMany({ where: { id: { in: senders.map((s) => s.workflowId) } } });
    expect(rows.filter((r) => r.cacheHit === true)).toHaveLength(4);
    expect(rows.filter((r) => r.cacheHit === false)).toHaveLength(1);
    const leader = rows.find((r) => r.cacheHit === false)!;
    expect(rows.filter((r) => r.cacheHit).every((r) => r.cachedFrom === leader.id)).toBe(true);

    // The leader's and the waiters' histories replay against the workflow code (the patched branch is deterministic).
    const bundle = await bundleWorkflows();
    const histories = await Promise.all(
      senders.map(async (s) => ({ workflowId: s.workflowId, history: await sys.temporal.client.workflow.getHandle(s.workflowId).fetchHistory() })),
    );
    for await (const replay of Worker.runReplayHistories({ workflowBundle: bundle, dataConverter: testDataConverter() }, histories)) {
      expect(replay.error).toBeUndefined();
    }
  }, 60_000);
});
