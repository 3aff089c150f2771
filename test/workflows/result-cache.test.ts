import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Context } from '@temporalio/activity';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TelegramAmbiguousSendError, TelegramRequestError } from '../../src/errors.js';
import type { PredictionResult } from '../../src/integrations/wavespeed/types.js';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import { PROGRESS, UNCONFIRMED_CACHED_DELIVERY_TEXT, failureText } from '../helpers/texts.js';
import { progressQuery, wavespeedResultSignal, type VideoOutcome, type VideoRequest } from '../../src/workflows/video/messages.js';
import { workerTuning } from '../../src/temporal/worker/worker-tuning.js';
import { bundleWorkflows, createTimeSkippingEnv, createTestWorkers } from '../helpers/temporal.js';
import { fakeActivities, type ActivityOverrides, type FakeWorld } from './fake-activities.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let nextMessage = 1;
let nextQueue = 1;

beforeAll(async () => {
  [env, bundle] = await Promise.all([createTimeSkippingEnv(), bundleWorkflows()]);
});

afterAll(async () => {
  await env?.teardown();
});

const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
const MODEL = 'wavespeed-ai/wan-2.2/i2v-480p';

function request(chatId: number, prompt = 'the cat turns its head'): VideoRequest {
  return {
    user: { userId: chatId, chatId, firstName: 'Ada' },
    messageId: nextMessage++,
    fileId: `photo-of-${chatId}`,
    prompt,
    model: MODEL,
    deadlineMs: 15 * 60 * 1000,
  };
}

const idOf = (req: VideoRequest) => videoWorkflowId(req.user.chatId, req.messageId);

const result = (id: string, status: PredictionResult['status']): PredictionResult => ({
  id,
  status,
  outputs: status === 'completed' ? [`http://wavespeed.test/outputs/${id}.mp4`] : [],
  nsfw: false,
  ...(status === 'failed' ? { error: 'model crashed' } : {}),
});

/** Every prediction is named after the workflow that submitted it, and stays `processing` unless told. */
function predictions(world: FakeWorld, finished: (predictionId: string) => PredictionResult['status'] = () => 'processing'): ActivityOverrides {
  return {
    async submitGeneration() {
      const workflowId = Context.current().info.workflowExecution!.workflowId;
      world.submits.push(workflowId);
      return { predictionId: `pred-${workflowId}` };
    },
    async pollPrediction({ predictionId }) {
      world.polls += 1;
      return result(predictionId, finished(predictionId));
    },
  };
}

/** Runs the requests as workflows on one worker sharing one fake world (and so one result cache). */
async function runAll(
  overrides: (world: FakeWorld) => ActivityOverrides,
  requests: VideoRequest[],
  during?: (world: FakeWorld) => Promise<void>,
  prime?: (world: FakeWorld) => void,
): Promise<{ outcomes: VideoOutcome[]; world: FakeWorld }> {
  const { activities, world } = fakeActivities(overrides, { temporal: env.client });
  prime?.(world);
  const taskQueue = `cache-${nextQueue++}`;
  const worker = await createTestWorkers({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities, ...workerTuning });
  const outcomes = await worker.runUntil(async () => {
    const handles = [];
    for (const req of requests) handles.push(await env.client.workflow.start('imageToVideo', { taskQueue, workflowId: idOf(req), args: [req] }));
    if (during) await during(world);
    // One result at a time: the time-skipping server's lock is not balanced when several are awaited at once,
    // and time then skips while activities run (they time out and run again).
    const outcomes: VideoOutcome[] = [];
    for (const h of handles) outcomes.push((await h.result()) as VideoOutcome);
    return outcomes;
  });
  return { outcomes, world };
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const phaseOf = (req: VideoRequest) => env.client.workflow.getHandle(idOf(req)).query(progressQuery);

describe('imageToVideo with the result cache', () => {
  it('resends a stored video by its file_id without calling WaveSpeed', async () => {
    const req = request(7001);
    const { outcomes, world } = await runAll(
      (w) => ({ ...predictions(w) }),
      [req],
      undefined,
      (w) => w.cache.set(`${MD5}|${req.prompt}|${MODEL}`, { status: 'ready', leaderId: 'video-1-1', telegramFileId: 'BAAD-stored-video' }),
    );
    expect(outcomes[0]).toMatchObject({ status: 'completed', deliveredBy: 'cache', telegramFileId: 'BAAD-stored-video', cachedFrom: 'video-1-1' });
    expect(outcomes[0]!.predictionId).toBeUndefined();
    expect(world.submits).toEqual([]);
    expect(world.resent).toEqual([{ chatId: 7001, fileId: 'BAAD-stored-video' }]);
    expect(world.videos).toEqual([]);
    expect(world.outcomes).toEqual([
      expect.objectContaining({ status: 'completed', cacheHit: true, cachedFrom: 'video-1-1', deliveredBy: 'cache', imageMd5: MD5 }),
    ]);
    // The video is the only message: no progress message, no chat action.
    expect(world.userSaw).toEqual([]);
  });

  it('generates on a miss and stores the delivered video for the next request', async () => {
    const first = request(7002);
    const second = request(7003);
    const { outcomes, world } = await runAll((w) => predictions(w, () => 'completed'), [first]);
    expect(outcomes[0]).toMatchObject({ status: 'completed', deliveredBy: 'url', telegramFileId: 'file-video-1' });
    expect(world.submits).toEqual([idOf(first)]);
    expect([...world.cache.values()]).toEqual([{ status: 'ready', leaderId: idOf(first), telegramFileId: 'file-video-1' }]);

    // The same world (cache) serves the next identical request.
    const again = await runAll((w) => predictions(w, () => 'completed'), [second], undefined, (w) => {
      for (const [k, v] of world.cache) w.cache.set(k, v);
    });
    expect(again.outcomes[0]).toMatchObject({ status: 'completed', deliveredBy: 'cache', cachedFrom: idOf(first) });
    expect(again.world.submits).toEqual([]);
  });

  it('does not cache a failed generation', async () => {
    const req = request(7004);
    const { outcomes, world } = await runAll((w) => predictions(w, () => 'failed'), [req]);
    expect(outcomes[0]).toMatchObject({ status: 'failed', reason: 'generation-failed' });
    expect(world.cache.size).toBe(0);
    expect(world.userSaw.at(-1)).toBe(failureText('generation-failed', 'model crashed'));
  });

  it('generates once for identical concurrent requests: the follower gets the leader\'s video', async () => {
    const a = request(7005);
    const b = request(7006);
    // Each request passes admitRequest first, so either may claim first: the one that submits leads.
    let leaderId = '';
    const { outcomes, world } = await runAll(
      (w) => predictions(w),
      [a, b],
      async (w) => {
        await until(() => w.submits.length === 1, 'the leader to submit');
        leaderId = w.submits[0]!;
        const follower = leaderId === idOf(a) ? b : a;
        await until(async () => (await phaseOf(follower)).phase === 'waiting-for-identical', 'the follower to wait');
        await env.client.workflow.getHandle(leaderId).signal(wavespeedResultSignal, result(`pred-${leaderId}`, 'completed'));
      },
    );
    const [leader, follower] = leaderId === idOf(a) ? [0, 1] : [1, 0];
    const followerChat = [a, b][follower]!.user.chatId;
    expect(world.submits).toEqual([leaderId]);
    expect(outcomes[leader]).toMatchObject({ status: 'completed', deliveredBy: 'url' });
    expect(outcomes[follower]).toMatchObject({ status: 'completed', deliveredBy: 'cache', cachedFrom: leaderId, telegramFileId: 'file-video-1' });
    expect(world.resent).toEqual([{ chatId: followerChat, fileId: 'file-video-1' }]);
    expect(world.outcomes).toContainEqual(expect.objectContaining({ status: 'completed', cacheHit: true, cachedFrom: leaderId }));
    // Both users saw their progress message; the follower's ends as completed too.
    expect(world.userSaw.filter((t) => t === PROGRESS.received)).toHaveLength(2);
    expect(world.userSaw.filter((t) => t === PROGRESS.completed)).toHaveLength(2);
  });

  it('lets a follower generate when the leader fails', async () => {
    const a = request(7007);
    const b = request(7008);
    let leaderId = '';
    let followerId = '';
    const { outcomes, world } = await runAll(
      (w) => predictions(w, (id) => (followerId && id === `pred-${followerId}` ? 'completed' : 'processing')),
      [a, b],
      async (w) => {
        await until(() => w.submits.length === 1, 'the leader to submit');
        leaderId = w.submits[0]!;
        const follower = leaderId === idOf(a) ? b : a;
        followerId = idOf(follower);
        await until(async () => (await phaseOf(follower)).phase === 'waiting-for-identical', 'the follower to wait');
        await env.client.workflow.getHandle(leaderId).signal(wavespeedResultSignal, result(`pred-${leaderId}`, 'failed'));
      },
    );
    const [leader, follower] = leaderId === idOf(a) ? [0, 1] : [1, 0];
    expect(outcomes[leader]).toMatchObject({ status: 'failed', reason: 'generation-failed' });
    expect(outcomes[follower]).toMatchObject({ status: 'completed', deliveredBy: 'url' });
    expect(world.submits).toEqual([leaderId, followerId]);
    expect([...world.cache.values()]).toEqual([expect.objectContaining({ status: 'ready', leaderId: followerId })]);
  });

  it('generates afresh when Telegram refuses the stored file_id', async () => {
    const req = request(7009);
    const { outcomes, world } = await runAll(
      (w) => ({
        ...predictions(w, () => 'completed'),
        async sendCachedVideo() {
          throw new TelegramRequestError('sendVideo', 'Bad Request: wrong file identifier/HTTP URL specified');
        },
      }),
      [req],
      undefined,
      (w) => w.cache.set(`${MD5}|${req.prompt}|${MODEL}`, { status: 'ready', leaderId: 'video-1-1', telegramFileId: 'stale' }),
    );
    expect(outcomes[0]).toMatchObject({ status: 'completed', deliveredBy: 'url' });
    expect(world.submits).toEqual([idOf(req)]);
    expect([...world.cache.values()]).toEqual([{ status: 'ready', leaderId: idOf(req), telegramFileId: 'file-video-1' }]);
  });

  it('does not resend a cached video Telegram lost the answer to: completes unconfirmed and tells the user how to get it', async () => {
    const req = request(7010);
    const inputs: unknown[] = [];
    const { outcomes, world } = await runAll(
      (w) => ({
        ...predictions(w),
        async sendCachedVideo(input) {
          inputs.push(input);
          w.resent.push({ chatId: input.chatId, fileId: input.fileId });
          throw new TelegramAmbiguousSendError('sendVideo', input.chatId, 'no answer in time');
        },
      }),
      [req],
      undefined,
      (w) => w.cache.set(`${MD5}|${req.prompt}|${MODEL}`, { status: 'ready', leaderId: 'video-1-1', telegramFileId: 'BAAD-stored-video' }),
    );
    expect(outcomes[0]).toMatchObject({ status: 'completed', deliveredBy: 'unconfirmed', cachedFrom: 'video-1-1' });
    // Sent once, recorded against this generation; never again, and nothing generated instead.
    expect(inputs).toEqual([expect.objectContaining({ generationId: idOf(req), fileId: 'BAAD-stored-video' })]);
    expect(world.submits).toEqual([]);
    expect(world.userSaw).toEqual([UNCONFIRMED_CACHED_DELIVERY_TEXT]);
    expect(world.outcomes).toEqual([expect.objectContaining({ status: 'completed', cacheHit: true, cachedFrom: 'video-1-1', deliveredBy: 'unconfirmed' })]);
  });
});
