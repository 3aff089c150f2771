import { Context } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import { TelegramAmbiguousSendError, TelegramRequestError, TelegramUnavailableError, WavespeedSubmitAmbiguousError } from '../../src/errors.js';
import type { PredictionResult } from '../../src/integrations/wavespeed/types.js';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import { UNKNOWN_PREDICTION } from '../../src/workflows/admission/messages.js';
import { cancelVideoSignal, wavespeedResultSignal, type VideoOutcome, type VideoRequest } from '../../src/workflows/video/messages.js';
import { PROGRESS, failureText, unconfirmedDeliveryText } from '../helpers/texts.js';
import { workerTuning } from '../../src/temporal/worker/worker-tuning.js';
import { useWorkflowEnvironment, createTestWorkers } from '../helpers/temporal.js';
import { fakeActivities, type ActivityOverrides, type FakeWorld } from './fake-activities.js';

/** Faults of WaveSpeed, Telegram and the database as the video workflow sees them: lost answers and long outages. */

const t = useWorkflowEnvironment();
let nextMessage = 1;

const DEADLINE_MS = 15 * 60 * 1000;

function request(): VideoRequest {
  return {
    user: { userId: 42, chatId: 42, firstName: 'Ada' },
    messageId: nextMessage++,
    fileId: 'photo-file-id',
    prompt: 'the cat turns its head',
    model: 'wavespeed-ai/wan-2.2/i2v-480p',
    deadlineMs: DEADLINE_MS,
  };
}

const completed = (id: string): PredictionResult => ({ id, status: 'completed', outputs: [`http://wavespeed.test/outputs/${id}.mp4`], nsfw: false, inferenceMs: 30_000 });

async function run(
  overrides: (world: FakeWorld) => ActivityOverrides,
  during?: (workflowId: string, world: FakeWorld) => Promise<void>,
): Promise<{ outcome: VideoOutcome; world: FakeWorld; elapsedMs: number }> {
  const req = request();
  const { activities, world } = fakeActivities(overrides, { temporal: t.env.client });
  const taskQueue = `faults-${req.messageId}`;
  const worker = await createTestWorkers({ connection: t.env.nativeConnection, taskQueue, workflowBundle: t.bundle, activities, ...workerTuning });
  const started = await t.env.currentTimeMs();
  const outcome = await worker.runUntil(async () => {
    const handle = await t.env.client.workflow.start('imageToVideo', { taskQueue, workflowId: videoWorkflowId(42, req.messageId), args: [req] });
    // Time is skipped only while the result is awaited: `during` acts in real time.
    if (during) await during(handle.workflowId, world);
    return (await handle.result()) as VideoOutcome;
  });
  return { outcome, world, elapsedMs: (await t.env.currentTimeMs()) - started };
}

/** Throws `error` for every attempt scheduled within `ms` (server time) of the first one, then runs `then`. */
function downFor<A extends unknown[], R>(ms: number, error: () => Error, then: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let firstAt: number | undefined;
  return async (...args: A) => {
    // The test server's (skipped) time: recording steps are local activities, scheduled on the worker's own clock.
    const at = await t.env.currentTimeMs();
    firstAt ??= at;
    if (at - firstAt < ms) throw error();
    return then(...args);
  };
}

describe('imageToVideo under faults', () => {
  it('adopts the prediction whose webhook arrives after a submission with a lost answer: one submit, one video', async () => {
    const { outcome, world } = await run((w) => ({
      async submitGeneration() {
        w.submits.push('submit');
        // WaveSpeed accepted it; its webhook comes, the HTTP answer does not.
        const { workflowId } = Context.current().info.workflowExecution!;
        await t.env.client.workflow.getHandle(workflowId).signal(wavespeedResultSignal, completed('pred-lost'));
        throw new WavespeedSubmitAmbiguousError('wavespeed-ai/wan-2.2/i2v-480p', 'TimeoutError: no answer');
      },
    }));
    expect(outcome).toMatchObject({ status: 'completed', predictionId: 'pred-lost', resultVia: 'callback' });
    expect(world.submits).toHaveLength(1);
    expect(world.videos).toEqual([{ chatId: 42, videoUrl: 'http://wavespeed.test/outputs/pred-lost.mp4' }]);
    expect(world.phases).toEqual(['submitted']);
    expect(world.userSaw).toEqual([PROGRESS.received, PROGRESS.completed]);
    expect(world.permitsReleased).toEqual([{ requesterId: expect.stringMatching(/^video-42-/) }]);
  });

  it('ends as unconfirmed at the deadline when no webhook follows a lost answer, holding the permit until then: one submit', async () => {
    const { outcome, world, elapsedMs } = await run((w) => ({
      async submitGeneration() {
        w.submits.push('submit');
        throw new WavespeedSubmitAmbiguousError('wavespeed-ai/wan-2.2/i2v-480p', 'connection reset after sending');
      },
    }));
    expect(outcome).toMatchObject({ status: 'failed', reason: 'unconfirmed' });
    expect(world.submits).toHaveLength(1);
    expect(world.polls).toBe(0);
    expect(elapsedMs).toBeGreaterThanOrEqual(DEADLINE_MS);
    expect(world.videos).toEqual([]);
    expect(world.userSaw).toEqual([PROGRESS.received, failureText('unconfirmed')]);
    expect(world.outcomes).toEqual([expect.objectContaining({ status: 'failed', errorKind: 'unconfirmed' })]);
    // The deadline has passed, so any prediction of that submission has ended: the slot is free at once.
    expect(world.permitsReleased).toEqual([{ requesterId: expect.stringMatching(/^video-42-/) }]);
  });

  it('keeps the permit until the deadline when cancelled while a submission is unconfirmed: its prediction may be running', async () => {
    const { outcome, world } = await run(
      (w) => ({
        async submitGeneration() {
          w.submits.push('submit');
          throw new WavespeedSubmitAmbiguousError('wavespeed-ai/wan-2.2/i2v-480p', 'connection reset after sending');
        },
      }),
      async (workflowId, w) => {
        while (w.submits.length === 0) await new Promise((r) => setTimeout(r, 20));
        await new Promise((r) => setTimeout(r, 500));
        await t.env.client.workflow.getHandle(workflowId).signal(cancelVideoSignal, { by: 'user' });
      },
    );
    expect(outcome).toMatchObject({ status: 'cancelled' });
    expect(world.submits).toHaveLength(1);
    expect(world.permitsReleased).toEqual([
      { requesterId: expect.stringMatching(/^video-42-/), running: { predictionId: UNKNOWN_PREDICTION, until: expect.any(Number) } },
    ]);
  });

  it('does not send the video again after Telegram lost the answer to sendVideo: the progress message gives its link', async () => {
    const { outcome, world } = await run((w) => ({
      async submitGeneration() {
        const { workflowId } = Context.current().info.workflowExecution!;
        await t.env.client.workflow.getHandle(workflowId).signal(wavespeedResultSignal, completed('pred-1'));
        return { predictionId: 'pred-1' };
      },
      async sendVideo({ chatId, videoUrl }) {
        (w.attempts['sendVideo'] ??= []).push({ attempt: Context.current().info.attempt, scheduledAt: 0 });
        w.videos.push({ chatId, videoUrl });
        throw new TelegramAmbiguousSendError('sendVideo', chatId, 'no answer in time');
      },
    }));
    expect(outcome).toMatchObject({ status: 'completed', deliveredBy: 'unconfirmed' });
    expect(world.attempts['sendVideo']).toHaveLength(1);
    expect(world.videos).toHaveLength(1);
    expect(world.userSaw).toEqual([PROGRESS.received, unconfirmedDeliveryText('http://wavespeed.test/outputs/pred-1.mp4')]);
    expect(world.outcomes).toEqual([expect.objectContaining({ status: 'completed', deliveredBy: 'unconfirmed' })]);
  });

  it('goes on without a progress message Telegram lost the answer to: sent once, the video still arrives', async () => {
    const inputs: unknown[] = [];
    const { outcome, world } = await run((w) => ({
      async submitGeneration() {
        const { workflowId } = Context.current().info.workflowExecution!;
        await t.env.client.workflow.getHandle(workflowId).signal(wavespeedResultSignal, completed('pred-1'));
        return { predictionId: 'pred-1' };
      },
      async sendMessage(input) {
        inputs.push(input);
        w.userSaw.push(input.text);
        throw new TelegramAmbiguousSendError('sendMessage', input.chatId, 'no answer in time');
      },
    }));
    expect(outcome).toMatchObject({ status: 'completed', deliveredBy: 'url' });
    expect(inputs).toEqual([expect.objectContaining({ text: PROGRESS.received, progressOf: expect.stringMatching(/^video-42-/) })]);
    expect(world.videos).toHaveLength(1);
    // No message to edit: nothing more is said, the video is the answer.
    expect(world.userSaw).toEqual([PROGRESS.received]);
    expect(world.outcomes).toEqual([expect.objectContaining({ status: 'completed', deliveredBy: 'url' })]);
  });

  it('ends a failed request as told when Telegram lost the answers to the progress message and the failure reply: each sent once', async () => {
    const texts: string[] = [];
    const { outcome, world } = await run(() => ({
      async submitGeneration() {
        const { workflowId } = Context.current().info.workflowExecution!;
        await t.env.client.workflow.getHandle(workflowId).signal(wavespeedResultSignal, { id: 'pred-1', status: 'failed', outputs: [], nsfw: false, error: 'model crashed' });
        return { predictionId: 'pred-1' };
      },
      async sendMessage({ chatId, text }) {
        texts.push(text);
        throw new TelegramAmbiguousSendError('sendMessage', chatId, 'the answer was lost');
      },
    }));
    expect(outcome).toMatchObject({ status: 'failed', reason: 'generation-failed' });
    expect(texts).toEqual([PROGRESS.received, failureText('generation-failed', 'model crashed')]);
    expect(world.blockedUsers).toEqual([]);
    expect(world.outcomes).toEqual([expect.objectContaining({ status: 'failed', errorKind: 'generation-failed' })]);
  });

  it('waits out a database outage of 40 minutes before and after the video: completed, no failure text', async () => {
    const outage = 40 * 60 * 1000;
    const dbDown = () => new Error('connect ECONNREFUSED 127.0.0.1:5432');
    const { outcome, world, elapsedMs } = await run((w) => ({
      recordPhase: downFor(outage, dbDown, async ({ status }) => {
        w.phases.push(status);
      }),
      recordOutcome: downFor(outage, dbDown, async (input) => {
        w.outcomes.push(input);
      }),
      async pollPrediction({ predictionId }) {
        w.polls += 1;
        return completed(predictionId);
      },
    }));
    expect(outcome).toMatchObject({ status: 'completed' });
    expect(elapsedMs).toBeGreaterThanOrEqual(2 * outage);
    expect(world.videos).toHaveLength(1);
    expect(world.outcomes).toEqual([expect.objectContaining({ status: 'completed' })]);
    expect(world.userSaw).toEqual([PROGRESS.received, PROGRESS.completed]);
  });

  it('waits out Telegram down for 40 minutes for the photo and after the video, and a refused edit after it changes nothing the user sees', async () => {
    const outage = 40 * 60 * 1000;
    let edits = 0;
    const { outcome, world } = await run((w) => ({
      async pollPrediction({ predictionId }) {
        return completed(predictionId);
      },
      // Down for the photo's download too: the request waits for Telegram rather than failing.
      prepareImage: downFor(outage, () => new TelegramUnavailableError('getFile', 'network error'), async () => ({
        imageUrl: 'http://wavespeed.test/media/a.jpg',
        md5: 'd41d8cd98f00b204e9800998ecf8427e',
        bytes: 1234,
        width: 1024,
        height: 768,
      })),
      updateProgress: downFor(outage, () => new TelegramUnavailableError('editMessageText', 'network error'), async ({ text }) => {
        edits += 1;
        w.userSaw.push(text);
      }),
    }));
    expect(outcome).toMatchObject({ status: 'completed' });
    expect(world.videos).toHaveLength(1);
    expect(edits).toBe(1);
    expect(world.userSaw).toEqual([PROGRESS.received, PROGRESS.completed]);

    const refused = await run(() => ({
      async pollPrediction({ predictionId }) {
        return completed(predictionId);
      },
      async updateProgress() {
        throw new TelegramRequestError('editMessageText', 'Bad Request: message to edit not found');
      },
    }));
    expect(refused.outcome).toMatchObject({ status: 'completed' });
    expect(refused.world.videos).toHaveLength(1);
    expect(refused.world.outcomes).toEqual([expect.objectContaining({ status: 'completed' })]);
    expect(refused.world.userSaw.some((t) => t === failureText('internal'))).toBe(false);
  });
});
