import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import {
  BotBlockedError,
  TelegramRateLimitError,
  WavespeedRejectedError,
} from '../../src/errors.js';
import type { PredictionResult } from '../../src/integrations/wavespeed/types.js';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import {
  cancelVideoSignal,
  wavespeedResultSignal,
  type VideoOutcome,
  type VideoRequest,
} from '../../src/workflows/video/messages.js';
import { PROGRESS, failureText, queuedText } from '../helpers/texts.js';
import { permitGrantedSignal, queuePositionSignal } from '../../src/workflows/admission/messages.js';
import { workerTuning } from '../../src/temporal/worker/worker-tuning.js';
import { localActivityType } from '../../src/temporal/client/redrive.js';
import { useWorkflowEnvironment, createTestWorkers } from '../helpers/temporal.js';
import { fakeActivities, type ActivityOverrides, type FakeWorld } from './fake-activities.js';

const t = useWorkflowEnvironment();
let nextMessage = 1;

function request(overrides: Partial<VideoRequest> = {}): VideoRequest {
  const messageId = nextMessage++;
  return {
    user: { userId: 42, chatId: 42, firstName: 'Ada' },
    messageId,
    fileId: 'photo-file-id',
    prompt: 'the cat turns its head',
    model: 'wavespeed-ai/wan-2.2/i2v-480p',
    deadlineMs: 15 * 60 * 1000,
    ...overrides,
  };
}

const completed = (id: string, extra: Partial<PredictionResult> = {}): PredictionResult => ({
  id,
  status: 'completed',
  outputs: [`http://wavespeed.test/outputs/${id}.mp4`],
  nsfw: false,
  inferenceMs: 30_000,
  ...extra,
});

async function run(
  overrides: (world: FakeWorld) => ActivityOverrides,
  req: VideoRequest = request(),
  during?: (workflowId: string, world: FakeWorld) => Promise<void>,
): Promise<{ outcome: VideoOutcome; world: FakeWorld; workflowId: string }> {
  const { activities, world } = fakeActivities(overrides, { temporal: t.env.client });
  const worker = await createTestWorkers({
    connection: t.env.nativeConnection,
    taskQueue: `test-${req.messageId}`,
    workflowBundle: t.bundle,
    activities,
    ...workerTuning,
  });
  const workflowId = videoWorkflowId(req.user.chatId, req.messageId);
  const outcome = await worker.runUntil(async () => {
    const handle = await t.env.client.workflow.start('imageToVideo', { taskQueue: `test-${req.messageId}`, workflowId, args: [req] });
    if (during) await during(workflowId, world);
    return (await handle.result()) as VideoOutcome;
  });
  return { outcome, world, workflowId };
}

describe('imageToVideo', () => {
  it('sends the video when the webhook arrives first, without polling', async () => {
    const { outcome, world } = await run(() => ({
      async submitGeneration() {
        // The webhook can beat the submit answer: the workflow keeps it until it knows the id.
        const { Context } = await import('@temporalio/activity');
        const { workflowId } = Context.current().info.workflowExecution!;
        await t.env.client.workflow.getHandle(workflowId).signal(wavespeedResultSignal, completed('pred-cb'));
        return { predictionId: 'pred-cb' };
      },
    }));
    expect(outcome).toMatchObject({ status: 'completed', resultVia: 'callback', telegramFileId: 'file-video-1', deliveredBy: 'url' });
    expect(world.polls).toBe(0);
    expect(world.videos).toEqual([{ chatId: 42, videoUrl: 'http://wavespeed.test/outputs/pred-cb.mp4' }]);
    expect(world.outcomes).toEqual([expect.objectContaining({ status: 'completed', telegramFileId: 'file-video-1' })]);
    // No edit on submission: the first text already says the video is being made.
    expect(world.userSaw).toEqual([PROGRESS.received, PROGRESS.completed]);
    // No chat-action activity of its own: the fleet presence loop shows "sending video…".
    expect(world.permitsReleased).toEqual([{ requesterId: expect.stringMatching(/^video-42-/) }]);
  });

  it('shows "generating" over a place in line, and never over the first text, which says so already', async () => {
    const place = { position: 1, paused: false };
    const { outcome, world } = await run(
      (w) => ({
        // A full WaveSpeed: the request hears its place first, and its permit later.
        async requestPermit({ requesterId }) {
          await t.env.client.workflow.getHandle(requesterId).signal(queuePositionSignal, place);
          return {};
        },
        async pollPrediction({ predictionId }) {
          w.polls += 1;
          if (w.polls < 2) return { id: predictionId, status: 'processing', outputs: [], nsfw: false };
          return completed(predictionId);
        },
      }),
      request(),
      async (workflowId, w) => {
        for (let i = 0; i < 200 && !w.userSaw.includes(queuedText(place)); i++) await new Promise((r) => setTimeout(r, 50));
        await t.env.client.workflow.getHandle(workflowId).signal(permitGrantedSignal);
      },
    );
    expect(outcome).toMatchObject({ status: 'completed', resultVia: 'poll' });
    expect(world.userSaw).toEqual([PROGRESS.received, queuedText(place), PROGRESS.submitted, PROGRESS.processing, PROGRESS.completed]);
    expect(world.phases).toEqual(['submitted', 'processing']);
  });

  /** A request whose webhook comes as it is submitted: the history of the shortest delivered video. */
  const deliveredByWebhook = async (predictionId: string) => {
    const { outcome, workflowId } = await run(() => ({
      async submitGeneration() {
        const { Context } = await import('@temporalio/activity');
        const { workflowId: id } = Context.current().info.workflowExecution!;
        await t.env.client.workflow.getHandle(id).signal(wavespeedResultSignal, completed(predictionId));
        return { predictionId };
      },
    }));
    expect(outcome.status).toBe('completed');
    return (await t.env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  };

  it('records in its workflow tasks: the database writes and the permit request are local activities, not tasks of their own', async () => {
    const events = await deliveredByWebhook('pred-la');
    const scheduled = events.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter((n): n is string => !!n);
    const local = events.map((e) => localActivityType(e)).filter((n): n is string => !!n);
    const recording = ['admitRequest', 'claimResult', 'requestPermit', 'recordPhase', 'storeResult', 'recordOutcome'];
    expect(scheduled.filter((n) => recording.includes(n))).toEqual([]);
    expect(local).toEqual(recording);
    // What is left as tasks: the photo (fingerprint, prepare), Telegram, WaveSpeed and the permit's release.
    expect(scheduled.sort()).toEqual(['fingerprintImage', 'prepareImage', 'releasePermit', 'sendMessage', 'sendVideo', 'submitGeneration', 'updateProgress']);
    // 14 workflow tasks and 118 events when every write was an activity (test/replay/encrypted/video-callback.v5.json).
    expect(events.filter((e) => e.workflowTaskCompletedEventAttributes).length).toBeLessThanOrEqual(10);
    expect(events.length).toBeLessThanOrEqual(92);
  });

  it('records no patch marker: pinned to the build that started it, it has no old branches', async () => {
    const events = await deliveredByWebhook('pred-path');
    const patches = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
    expect(patches).toHaveLength(0);
    // Before Worker Versioning: one marker and its TemporalChangeVersion upsert (13 of each before that). Left: the outcome's.
    const upserts = events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes);
    expect(upserts).toHaveLength(1);
    expect(events.length).toBeLessThanOrEqual(68);
  });

  it('finishes by polling when the webhook is lost, reporting the processing phase', async () => {
    const { outcome, world } = await run((w) => ({
      async pollPrediction({ predictionId }) {
        w.polls += 1;
        if (w.polls < 3) return { id: predictionId, status: 'processing', outputs: [], nsfw: false };
        return completed(predictionId);
      },
    }));
    expect(outcome).toMatchObject({ status: 'completed', resultVia: 'poll' });
    expect(world.polls).toBe(3);
    expect(world.phases).toEqual(['submitted', 'processing']);
    // The first text already says the video is being made: no "processing" edit over it.
    expect(world.userSaw).toEqual([PROGRESS.received, PROGRESS.completed]);
    expect(world.videos).toHaveLength(1);
  });

  it('ignores a duplicate or foreign webhook and sends one video', async () => {
    const { outcome, world } = await run(
      (w) => ({
        async pollPrediction({ predictionId }) {
          w.polls += 1;
          return { id: predictionId, status: 'processing', outputs: [], nsfw: false };
        },
      }),
      request(),
      async (workflowId) => {
        const handle = t.env.client.workflow.getHandle(workflowId);
        await handle.signal(wavespeedResultSignal, completed('someone-else'));
        await handle.signal(wavespeedResultSignal, completed('pred-1'));
        await handle.signal(wavespeedResultSignal, completed('pred-1'));
      },
    );
    expect(outcome.status).toBe('completed');
    expect(world.videos).toEqual([{ chatId: 42, videoUrl: 'http://wavespeed.test/outputs/pred-1.mp4' }]);
  });

  it('tells the user when generation fails', async () => {
    const { outcome, world } = await run(() => ({
      async pollPrediction({ predictionId }) {
        return { id: predictionId, status: 'failed', outputs: [], nsfw: false, error: 'model crashed' };
      },
    }));
    expect(outcome).toMatchObject({ status: 'failed', reason: 'generation-failed', detail: 'model crashed' });
    expect(world.userSaw.at(-1)).toBe(failureText('generation-failed', 'model crashed'));
    expect(world.outcomes).toEqual([expect.objectContaining({ status: 'failed', errorKind: 'generation-failed', error: 'model crashed' })]);
    expect(world.videos).toHaveLength(0);
  });

  it('refuses to send a video flagged NSFW', async () => {
    const { outcome, world } = await run(() => ({
      async pollPrediction({ predictionId }) {
        return completed(predictionId, { nsfw: true });
      },
    }));
    expect(outcome).toMatchObject({ status: 'failed', reason: 'nsfw' });
    expect(world.userSaw.at(-1)).toBe(failureText('nsfw'));
    expect(world.videos).toHaveLength(0);
  });

  it('explains a rejection by WaveSpeed without retrying it', async () => {
    let submits = 0;
    const { outcome, world } = await run(() => ({
      async submitGeneration() {
        submits += 1;
        throw new WavespeedRejectedError(400, 'prompt rejected by content policy');
      },
    }));
    expect(submits).toBe(1);
    expect(outcome).toMatchObject({ status: 'failed', reason: 'rejected', detail: 'prompt rejected by content policy' });
    expect(world.userSaw.at(-1)).toBe(failureText('rejected', 'prompt rejected by content policy'));
  });

  it('gives up at the deadline with a message, having polled on a backoff', async () => {
    const started = Date.now();
    const { outcome, world } = await run(() => ({}), request({ deadlineMs: 15 * 60 * 1000 }));
    expect(outcome).toMatchObject({ status: 'failed', reason: 'deadline' });
    expect(world.userSaw.at(-1)).toBe(failureText('deadline'));
    // 5 s, 7.5 s, 11.25 s, ... capped at 30 s over 15 minutes: about 33 polls, not 180.
    expect(world.polls).toBeGreaterThan(25);
    expect(world.polls).toBeLessThan(40);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('stops on /cancel and says so', async () => {
    // The time-skipping test server mishandles cancelling an activity that is in
    // flight ("ACTIVITY_UNKNOWN", then a fatal state-machine error), so this test
    // cancels while nothing runs. The real server does not;
    // test/system/video.e2e.test.ts cancels mid-flight there.
    const { outcome, world, workflowId } = await run(
      () => ({}),
      request(),
      async (id, seen) => {
        const handle = t.env.client.workflow.getHandle(id);
        // Cancel while it waits for WaveSpeed with no activity in flight (the first
        // poll is 5 s away): see the note above on cancelling in this test server.
        for (let i = 0; i < 200 && seen.submits.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
        await new Promise((r) => setTimeout(r, 500));
        await handle.signal(cancelVideoSignal, { by: 'user' });
      },
    );
    expect(workflowId).toMatch(/^video-42-/);
    expect(outcome).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
    expect(world.userSaw.at(-1)).toBe(failureText('cancelled'));
    expect(world.outcomes).toEqual([expect.objectContaining({ status: 'cancelled' })]);
    expect(world.videos).toHaveLength(0);
    // No chat-action activity of its own: the fleet presence loop shows "sending video…".
    // WaveSpeed cannot be told to stop: the slot is handed over, taken until the prediction ends.
    expect(world.permitsRequested).toEqual([workflowId]);
    expect(world.permitsReleased).toEqual([{ requesterId: workflowId, running: { predictionId: 'pred-1', until: expect.any(Number) } }]);
  });

  it('waits for Telegram\'s retry_after before sending again after a 429', async () => {
    let calls = 0;
    const { outcome, world, workflowId } = await run((w) => ({
      async pollPrediction({ predictionId }) {
        return completed(predictionId);
      },
      async sendVideo({ chatId, videoUrl }) {
        calls += 1;
        if (calls === 1) throw new TelegramRateLimitError(7);
        w.videos.push({ chatId, videoUrl });
        return { messageId: 5, fileId: 'f', deliveredBy: 'url' as const };
      },
    }));
    expect(outcome.status).toBe('completed');
    expect(calls).toBe(2);
    // The history records the retried attempt's start: at least retry_after after scheduling.
    const history = await t.env.client.workflow.getHandle(workflowId).fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendVideo',
    );
    const started = events.find((e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === scheduled?.eventId?.toString());
    expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(2);
    const seconds = (e: typeof scheduled) => Number(e?.eventTime?.seconds ?? 0) + (e?.eventTime?.nanos ?? 0) / 1e9;
    expect(seconds(started) - seconds(scheduled)).toBeGreaterThanOrEqual(7);
    expect(world.videos).toHaveLength(1);
  });

  it('marks the user blocked and stops when Telegram answers 403', async () => {
    const { outcome, world } = await run(() => ({
      async sendMessage({ chatId }) {
        throw new BotBlockedError(chatId, 'blocked', 'Forbidden: bot was blocked by the user');
      },
    }));
    expect(outcome).toMatchObject({ status: 'failed', reason: 'blocked' });
    expect(world.blockedUsers).toEqual([42]);
    expect(world.outcomes).toEqual([expect.objectContaining({ status: 'failed', errorKind: 'blocked' })]);
  });

  it('fails the workflow visibly on an unexpected error, after telling the user', async () => {
    const err = await run(() => ({
      async prepareImage() {
        const { ApplicationFailure } = await import('@temporalio/common');
        throw ApplicationFailure.nonRetryable('disk on fire', 'Unexpected');
      },
    })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
  });
});
