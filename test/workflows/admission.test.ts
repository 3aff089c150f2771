import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAdmissionActivities } from '../../src/activities/admission.js';
import type { ActivityDeps } from '../../src/activities/deps.js';
import { TASK_QUEUES } from '../../src/constants.js';
import type { PredictionResult } from '../../src/integrations/wavespeed/types.js';
import { workerTuning } from '../../src/temporal/worker/worker-tuning.js';
import {
  admissionStateQuery,
  setGenerationPausedSignal,
  type AdmissionInput,
  type AdmissionState,
} from '../../src/workflows/admission/messages.js';
import { ADMISSION_WORKFLOW_ID, MAX_ADMISSION_SHARDS, admissionShardOf, admissionWorkflowId, videoWorkflowId } from '../../src/workflows/ids.js';
import { TemporalWorkflowGateway } from '../../src/temporal/client/starter.js';
import { failureText, queuedText } from '../helpers/texts.js';
import { cancelVideoSignal, progressQuery, type VideoOutcome, type VideoRequest } from '../../src/workflows/video/messages.js';
import { bundleWorkflows, createTimeSkippingEnv, createTestWorkers } from '../helpers/temporal.js';
import { fakeActivities } from './fake-activities.js';

/** A WaveSpeed account whose predictions end when the test says so. */
class FakeWavespeed {
  /** Requesting workflow ids, in submission order. */
  submitted: string[] = [];
  running = new Set<string>();
  ended = new Set<string>();
  peak = 0;

  submit(workflowId: string): string {
    this.submitted.push(workflowId);
    this.running.add(workflowId);
    this.peak = Math.max(this.peak, this.running.size);
    return `pred-${workflowId}`;
  }

  /** Ends the prediction of a workflow: it no longer counts against the account. */
  end(workflowId: string): void {
    expect(this.running.delete(workflowId)).toBe(true);
    this.ended.add(workflowId);
  }

  poll(predictionId: string): PredictionResult {
    const workflowId = predictionId.replace(/^pred-/, '');
    if (!this.ended.has(workflowId)) return { id: predictionId, status: 'processing', outputs: [], nsfw: false };
    return { id: predictionId, status: 'completed', outputs: [`http://wavespeed.test/${predictionId}.mp4`], nsfw: false };
  }
}

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof createTestWorkers>>;
let running: Promise<void>;
let wavespeed = new FakeWavespeed();
let seen = new Map<number, string[]>();
let pauses: boolean[] = [];
/** Each beat of the presence loop (real time, as the activity ran) and when each chat's video went out. */
let beats: Array<{ at: number; chatIds: number[] }> = [];
let videoSentAt = new Map<number, number>();
let recorded: Array<{ generationId: string; status: string; errorKind?: string }> = [];
let duplicateRequests = false;
const config: ActivityDeps['config'] = { publicUrl: 'http://127.0.0.1:9', wavespeedMaxConcurrency: 2 };
let nextChat = 1;

beforeAll(async () => {
  const [testEnv, bundle] = await Promise.all([createTimeSkippingEnv(), bundleWorkflows()]);
  env = testEnv;
  const admission = createAdmissionActivities({ temporal: env.client, config, prisma: undefined as never, wavespeed: undefined as never });
  const saw = (chatId: number, text: string) => seen.set(chatId, [...(seen.get(chatId) ?? []), text]);
  const { activities } = fakeActivities(
    () => ({
      ...admission,
      async requestPermit(input) {
        const asked = await admission.requestPermit(input);
        // A retried activity asks twice: the request must keep one place.
        if (duplicateRequests) await admission.requestPermit(input);
        return asked;
      },
      async findEndedPredictions({ predictionIds }) {
        return predictionIds.filter((id) => wavespeed.poll(id).status === 'completed');
      },
      async recordGenerationPause({ paused }) {
        pauses.push(paused);
      },
      async sendMessage({ chatId, text }) {
        saw(chatId, text);
        return { messageId: 1 };
      },
      async updateProgress({ chatId, text }) {
        saw(chatId, text);
      },
      async submitGeneration() {
        return { predictionId: wavespeed.submit(Context.current().info.workflowExecution!.workflowId) };
      },
      async showChatActions({ chatIds }) {
        beats.push({ at: Date.now(), chatIds });
        return { shown: chatIds.length, skipped: 0 };
      },
      async sendVideo({ chatId }) {
        videoSentAt.set(chatId, Date.now());
        return { messageId: 2, fileId: `file-${chatId}`, deliveredBy: 'url' as const };
      },
      async recordOutcome(input) {
        recorded.push(input);
      },
      async pollPrediction({ predictionId }) {
        return wavespeed.poll(predictionId);
      },
    }),
    { temporal: env.client },
  );
  worker = await createTestWorkers({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUES.media,
    workflowBundle: bundle,
    activities,
    ...workerTuning,
  });
  running = worker.run();
});

afterEach(async () => {
  for (let shard = 0; shard < MAX_ADMISSION_SHARDS; shard++) {
    await env.client.workflow
      .getHandle(admissionWorkflowId(shard))
      .terminate('next test')
      .catch((err: unknown) => {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      });
  }
  delete config.admissionShardSlots;
  wavespeed = new FakeWavespeed();
  seen = new Map();
  pauses = [];
  beats = [];
  videoSentAt = new Map();
  recorded = [];
  delete config.wavespeedLine;
  duplicateRequests = false;
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

async function startAdmission(input: AdmissionInput, taskQueue: string = TASK_QUEUES.admission) {
  config.wavespeedMaxConcurrency = input.maxConcurrency;
  return env.client.workflow.start('wavespeedAdmission', { taskQueue, workflowId: ADMISSION_WORKFLOW_ID, args: [input] });
}

function admissionState(): Promise<AdmissionState> {
  return env.client.withDeadline(Date.now() + 5_000, () => env.client.workflow.getHandle(ADMISSION_WORKFLOW_ID).query(admissionStateQuery));
}

async function until<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Video {
  chatId: number;
  workflowId: string;
  handle: WorkflowHandle;
}

/** Starts a video request and waits until the admission workflow has it, so arrival order is start order. */
async function arrive(polling: VideoRequest['polling'] = { initialMs: 300, maxMs: 300 }, { joins = true } = {}): Promise<Video> {
  const chatId = nextChat++;
  const req: VideoRequest = {
    user: { userId: chatId, chatId, firstName: 'Ada' },
    messageId: 1,
    fileId: 'photo',
    // A prompt of its own: identical requests would wait for one another in the result cache instead.
    prompt: `waves roll in, take ${chatId}`,
    model: 'wavespeed-ai/wan-2.2/i2v-480p',
    deadlineMs: 15 * 60 * 1000,
    polling,
  };
  const workflowId = videoWorkflowId(chatId, 1);
  const handle = await env.client.workflow.start('imageToVideo', { taskQueue: TASK_QUEUES.media, workflowId, args: [req] });
  if (!joins) return { chatId, workflowId, handle };
  await until(async () => {
    const state = await admissionState().catch(() => undefined);
    return state && [...state.holders, ...state.queue].some((e) => e.requesterId === workflowId);
  }, `${workflowId} to reach the admission workflow`);
  return { chatId, workflowId, handle };
}

/**
 * Outcomes, awaited one at a time: the time-skipping client's `result()` unlocks
 * and relocks time skipping, and concurrent calls unbalance the server's lock.
 */
async function outcomesOf(videos: Video[]): Promise<VideoOutcome[]> {
  const outcomes: VideoOutcome[] = [];
  for (const video of videos) outcomes.push((await video.handle.result()) as VideoOutcome);
  return outcomes;
}

const sawText = (video: Video, text: string) => until(() => seen.get(video.chatId)?.includes(text), `chat ${video.chatId} to see "${text}"`);
const submitted = (video: Video) => until(() => wavespeed.submitted.includes(video.workflowId), `${video.workflowId} to be submitted`);

/** Ends predictions one by one as they are submitted, until every video has one ended. */
async function endAllInTurn(videos: Video[], cap: number): Promise<void> {
  for (const video of videos) {
    await submitted(video);
    expect(wavespeed.running.size).toBeLessThanOrEqual(cap);
    wavespeed.end(video.workflowId);
  }
}

describe('wavespeedAdmission', () => {
  it('admits at most the cap, first come first served, and tells the waiting their place', async () => {
    await startAdmission({ maxConcurrency: 2 });
    const videos: Video[] = [];
    for (let i = 0; i < 5; i++) videos.push(await arrive());
    const [v1, v2, v3, v4, v5] = videos as [Video, Video, Video, Video, Video];

    await submitted(v2);
    const state = await admissionState();
    expect(state.holders.map((h) => h.requesterId)).toEqual([v1.workflowId, v2.workflowId]);
    expect(state.queue.map((q) => q.requesterId)).toEqual([v3.workflowId, v4.workflowId, v5.workflowId]);
    await sawText(v3, queuedText({ position: 1, paused: false }));
    await sawText(v4, queuedText({ position: 2, paused: false }));
    await sawText(v5, queuedText({ position: 3, paused: false }));
    expect(wavespeed.submitted).toEqual([v1.workflowId, v2.workflowId]);
    expect(await v5.handle.query(progressQuery)).toMatchObject({ phase: 'queued', queuePosition: 3 });

    wavespeed.end(v1.workflowId);
    await submitted(v3);
    await sawText(v4, queuedText({ position: 1, paused: false }));
    await sawText(v5, queuedText({ position: 2, paused: false }));

    await endAllInTurn([v2, v3, v4, v5], 2);
    const outcomes = await outcomesOf(videos);
    expect(outcomes.map((o) => o.status)).toEqual(Array(5).fill('completed'));
    expect(wavespeed.submitted).toEqual(videos.map((v) => v.workflowId));
    expect(wavespeed.peak).toBe(2);
    await until(async () => (await admissionState()).holders.length === 0, 'every permit back');
    expect(await admissionState()).toMatchObject({ holders: [], queue: [], maxConcurrency: 2 });
  });

  it('holds every request while paused and lets them through in arrival order on resume', async () => {
    // One at a time, so the order of submission shows the order of grants.
    const admission = await startAdmission({ maxConcurrency: 1 });
    await admission.signal(setGenerationPausedSignal, { paused: true });
    const videos = [await arrive(), await arrive(), await arrive()];
    for (const [i, video] of videos.entries()) await sawText(video, queuedText({ position: i + 1, paused: true }));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(wavespeed.submitted).toEqual([]);
    expect(await admissionState()).toMatchObject({ paused: true, holders: [] });

    await admission.signal(setGenerationPausedSignal, { paused: false });
    await endAllInTurn(videos, 1);
    const outcomes = await outcomesOf(videos);
    expect(outcomes.map((o) => o.status)).toEqual(['completed', 'completed', 'completed']);
    expect(wavespeed.submitted).toEqual(videos.map((v) => v.workflowId));
    expect(pauses).toEqual([true, false]);
  });

  it('takes a request cancelled while queued out of the line', async () => {
    await startAdmission({ maxConcurrency: 1 });
    const [v1, v2, v3] = [await arrive(), await arrive(), await arrive()];
    await sawText(v2, queuedText({ position: 1, paused: false }));
    await sawText(v3, queuedText({ position: 2, paused: false }));
    // No activity in flight when cancelling: the time-skipping server mishandles cancelling one.
    await new Promise((r) => setTimeout(r, 300));

    await v2.handle.signal(cancelVideoSignal, { by: 'user' });
    expect(((await v2.handle.result()) as VideoOutcome).status).toBe('cancelled');
    await sawText(v2, failureText('cancelled'));
    await sawText(v3, queuedText({ position: 1, paused: false }));
    expect((await admissionState()).queue.map((q) => q.requesterId)).toEqual([v3.workflowId]);

    await endAllInTurn([v1, v3], 1);
    await outcomesOf([v1, v3]);
    expect(wavespeed.submitted).toEqual([v1.workflowId, v3.workflowId]);
  });

  it('keeps the slot of a request cancelled after submission until its prediction ends', async () => {
    await startAdmission({ maxConcurrency: 1, drainCheckMs: 500 });
    // Polls far apart: no activity in flight when cancelling (see above).
    const v1 = await arrive({ initialMs: 60_000, maxMs: 60_000 });
    const v2 = await arrive();
    await submitted(v1);
    await new Promise((r) => setTimeout(r, 300));
    await v1.handle.signal(cancelVideoSignal, { by: 'user' });
    // The workflow ends at once; WaveSpeed goes on with the prediction.
    expect(((await v1.handle.result()) as VideoOutcome).status).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(wavespeed.submitted).toEqual([v1.workflowId]);
    expect(await admissionState()).toMatchObject({ holders: [], draining: [{ requesterId: v1.workflowId, predictionId: `pred-${v1.workflowId}` }] });

    wavespeed.end(v1.workflowId);
    await submitted(v2);
    expect(wavespeed.peak).toBe(1);
    wavespeed.end(v2.workflowId);
    expect(((await v2.handle.result()) as VideoOutcome).status).toBe('completed');
  });

  it('splits a large cap between shards: each request asks and gives back to its own, the fleet never over the cap; pause and state cover all', async () => {
    // Gold's 3,000 slots make 8 shards of 375; here two shards of one slot each.
    config.wavespeedMaxConcurrency = 2;
    config.admissionShardSlots = 1;
    const shardQuery = (shard: number) =>
      env.client.withDeadline(Date.now() + 5_000, () => env.client.workflow.getHandle(admissionWorkflowId(shard)).query(admissionStateQuery));
    const videos: Video[] = [];
    for (let i = 0; i < 6; i++) videos.push(await arrive(undefined, { joins: false }));
    const shardOf = (video: Video) => admissionShardOf(video.workflowId, 2);
    // Both shards have requests (the ids hash to both), so both lines are tried.
    expect(new Set(videos.map(shardOf))).toEqual(new Set([0, 1]));
    await until(async () => {
      const states = await Promise.all([0, 1].map((shard) => shardQuery(shard).catch(() => undefined)));
      return states.every((state, shard) => state && [...state.holders, ...state.queue].length === videos.filter((v) => shardOf(v) === shard).length);
    }, 'every request in its own shard');
    for (const shard of [0, 1]) {
      const state = await shardQuery(shard);
      expect(state.maxConcurrency).toBe(1);
      expect([...state.holders, ...state.queue].map((e) => e.requesterId).sort()).toEqual(videos.filter((v) => shardOf(v) === shard).map((v) => v.workflowId).sort());
    }
    const gateway = new TemporalWorkflowGateway(env.client, { model: 'm', deadlineMs: 60_000, maxConcurrency: 2, admissionShardSlots: 1 });
    const fleet = await gateway.generationState();
    expect(fleet.maxConcurrency).toBe(2);
    expect(fleet.holders.length).toBe(2);
    expect(fleet.queue.length).toBe(4);
    expect(fleet.queue.map((q) => q.since)).toEqual([...fleet.queue.map((q) => q.since)].sort((a, b) => a - b));

    // A pause reaches both shards: nothing more is granted until the resume.
    await gateway.setGenerationPaused(true);
    expect((await Promise.all([0, 1].map(shardQuery))).map((state) => state.paused)).toEqual([true, true]);
    const first = [...wavespeed.running];
    for (const id of first) wavespeed.end(id);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(wavespeed.submitted.length).toBe(2);
    await gateway.setGenerationPaused(false);

    // Ended one at a time: a give-back that reached the wrong shard would leave its line stuck.
    while (wavespeed.ended.size < videos.length) {
      await until(() => wavespeed.running.size > 0 || undefined, 'a prediction to run');
      expect(wavespeed.running.size).toBeLessThanOrEqual(2);
      const runningShards = [...wavespeed.running].map((id) => admissionShardOf(id, 2));
      expect(new Set(runningShards).size).toBe(runningShards.length);
      wavespeed.end([...wavespeed.running][0]!);
    }
    const outcomes = await outcomesOf(videos);
    expect(outcomes.map((o) => o.status)).toEqual(Array(6).fill('completed'));
    expect(wavespeed.peak).toBe(2);
    await until(async () => (await gateway.generationState()).holders.length === 0 || undefined, 'every permit back to its shard');
    expect(await gateway.generationState()).toMatchObject({ holders: [], queue: [], draining: [], paused: false });
  });

  it('reclaims the permit of a holder that closed without giving it back', async () => {
    await startAdmission({ maxConcurrency: 1, leaseCheckMs: 1_000 });
    const [v1, v2] = [await arrive(), await arrive()];
    await submitted(v1);
    await v1.handle.terminate('operator');
    wavespeed.end(v1.workflowId);

    await submitted(v2);
    expect((await admissionState()).holders.map((h) => h.requesterId)).toEqual([v2.workflowId]);
    wavespeed.end(v2.workflowId);
    expect(((await v2.handle.result()) as VideoOutcome).status).toBe('completed');
  });

  it('keeps holders, queue and order across continue-as-new, counts a repeated request once, and follows a raised cap', async () => {
    // Presence beats rare, so the runs' few events are the requests' (a query during continue-as-new can hang in the test server).
    const firstRunId = (await startAdmission({ maxConcurrency: 1, eventsPerRun: 40, presenceIntervalMs: 60_000 })).firstExecutionRunId;
    duplicateRequests = true;
    const videos = [await arrive(), await arrive(), await arrive(), await arrive()];
    const state = await admissionState();
    expect(state.holders.map((h) => h.requesterId)).toEqual([videos[0]!.workflowId]);
    expect(state.queue.map((q) => q.requesterId)).toEqual(videos.slice(1).map((v) => v.workflowId));
    await endAllInTurn(videos.slice(0, 2), 1);
    await submitted(videos[2]!);
    const firstRun = await env.client.workflow.getHandle(ADMISSION_WORKFLOW_ID, firstRunId).describe();
    expect(firstRun.status.name).toBe('CONTINUED_AS_NEW');
    expect((await env.client.workflow.getHandle(ADMISSION_WORKFLOW_ID).describe()).taskQueue).toBe(TASK_QUEUES.admission);

    // Raising WAVESPEED_MAX_CONCURRENCY on the workers reaches the admission workflow with the next request.
    config.wavespeedMaxConcurrency = 3;
    const late = await arrive();
    await submitted(late);
    await submitted(videos[3]!);
    expect(wavespeed.running.size).toBe(3);
    await endAllInTurn([videos[2]!, videos[3]!, late], 3);
    expect((await outcomesOf([...videos, late])).map((o) => o.status)).toEqual(Array(5).fill('completed'));
    // The last two were granted together when the cap rose: either may reach WaveSpeed first.
    expect(wavespeed.submitted.slice(0, 3)).toEqual(videos.slice(0, 3).map((v) => v.workflowId));
    expect(wavespeed.submitted.slice(3).sort()).toEqual([videos[3]!, late].map((v) => v.workflowId).sort());
  });
  it('moves a run started on the media queue (before the admission queue) to its own queue at continue-as-new, and grants from there', async () => {
    // No queries here: one during continue-as-new can hang in the test server.
    const firstRunId = (await startAdmission({ maxConcurrency: 10, eventsPerRun: 20, presenceIntervalMs: 60_000 }, TASK_QUEUES.media)).firstExecutionRunId;
    const before: Video[] = [];
    for (let i = 0; i < 4; i++) {
      before.push(await arrive(undefined, { joins: false }));
      await submitted(before.at(-1)!);
    }
    const firstRun = env.client.workflow.getHandle(ADMISSION_WORKFLOW_ID, firstRunId);
    await until(async () => (await firstRun.describe()).status.name === 'CONTINUED_AS_NEW', 'the first run to continue as new');
    expect((await firstRun.describe()).taskQueue).toBe(TASK_QUEUES.media);
    expect((await env.client.workflow.getHandle(ADMISSION_WORKFLOW_ID).describe()).taskQueue).toBe(TASK_QUEUES.admission);
    const after = await arrive(undefined, { joins: false });
    await submitted(after);
    for (const video of [...before, after]) wavespeed.end(video.workflowId);
    expect((await outcomesOf([...before, after])).map((o) => o.status)).toEqual(Array(5).fill('completed'));
  });

  it('shows "sending video…" in the chats being generated, one beat for all, never while queued or after the video', async () => {
    await startAdmission({ maxConcurrency: 2, presenceIntervalMs: 200 });
    const [v1, v2, v3] = [await arrive(), await arrive(), await arrive()] as [Video, Video, Video];
    await submitted(v2);
    await until(() => beats.some((b) => b.chatIds.includes(v1.chatId) && b.chatIds.includes(v2.chatId)), 'a beat for both holders');
    // Waiting in line is not being made: no chat action for the third.
    expect(beats.some((b) => b.chatIds.includes(v3.chatId))).toBe(false);

    wavespeed.end(v1.workflowId);
    await until(() => videoSentAt.has(v1.chatId), "v1's video");
    await submitted(v3);
    const after = beats.length;
    await until(() => beats.length >= after + 3 || undefined, 'three more beats');
    const sentAt = videoSentAt.get(v1.chatId)!;
    expect(beats.filter((b) => b.at > sentAt && b.chatIds.includes(v1.chatId))).toEqual([]);
    await until(() => beats.some((b) => b.chatIds.includes(v3.chatId)), 'a beat for the request let in');

    await endAllInTurn([v2, v3], 2);
    expect((await outcomesOf([v1, v2, v3])).map((o) => o.status)).toEqual(['completed', 'completed', 'completed']);
    // No holder, no beat: the loop rests.
    await until(async () => (await admissionState()).holders.length === 0, 'every permit back');
    const quiet = beats.length;
    await new Promise((r) => setTimeout(r, 600));
    expect(beats.length - quiet).toBeLessThanOrEqual(1);
  });

  it('turns a request away as busy when the line is full, and records it', async () => {
    config.wavespeedLine = { maxQueued: 2, maxWaitMs: 60 * 60 * 1000 };
    await startAdmission({ maxConcurrency: 1 });
    const [v1, v2, v3] = [await arrive(), await arrive(), await arrive()] as [Video, Video, Video];
    const v4 = await arrive(undefined, { joins: false });

    const [refused] = await outcomesOf([v4]);
    expect(refused).toMatchObject({ status: 'failed', reason: 'busy' });
    expect(seen.get(v4.chatId)?.at(-1)).toBe(failureText('busy'));
    expect(recorded.find((r) => r.generationId === v4.workflowId)).toMatchObject({ status: 'failed', errorKind: 'busy' });
    expect(wavespeed.submitted).not.toContain(v4.workflowId);
    expect((await admissionState()).queue.map((q) => q.requesterId)).toEqual([v2.workflowId, v3.workflowId]);

    await endAllInTurn([v1, v2, v3], 1);
    expect((await outcomesOf([v1, v2, v3])).map((o) => o.status)).toEqual(['completed', 'completed', 'completed']);
  });

  it('keeps the line at its limit when requests join while others are being turned away', async () => {
    config.wavespeedLine = { maxQueued: 2, maxWaitMs: 60 * 60 * 1000 };
    await startAdmission({ maxConcurrency: 1 });
    const [v1, v2, v3] = [await arrive(), await arrive(), await arrive()] as [Video, Video, Video];
    // A crowd at once: its requests reach the admission workflow over several of its tasks, some
    // while the refusals of the ones before are still being signalled.
    const crowd = await Promise.all(Array.from({ length: 24 }, () => arrive(undefined, { joins: false })));
    await until(async () => {
      const inLine = new Set((await admissionState()).queue.map((q) => q.requesterId));
      const states = await Promise.all(crowd.map((c) => c.handle.describe()));
      return states.every((d, i) => d.status.name !== 'RUNNING' || inLine.has(crowd[i]!.workflowId));
    }, 'each of the crowd turned away or in line');
    // Before: those that joined while refusals went out were told a place (3, 4, …) and kept waiting.
    expect((await admissionState()).queue.map((q) => q.requesterId)).toEqual([v2.workflowId, v3.workflowId]);
    const outcomes = await outcomesOf(crowd);
    expect(outcomes.map((o) => o.status === 'failed' && o.reason)).toEqual(Array(24).fill('busy'));

    await endAllInTurn([v1, v2, v3], 1);
    expect((await outcomesOf([v1, v2, v3])).map((o) => o.status)).toEqual(['completed', 'completed', 'completed']);
  });

  it('drops a request that waited in line longer than allowed, tells the user and frees its place', async () => {
    // Short enough to pass in real time: the test server skips time badly once a terminated workflow's activity was in flight.
    config.wavespeedLine = { maxQueued: 10, maxWaitMs: 2_000 };
    await startAdmission({ maxConcurrency: 1 });
    const v1 = await arrive();
    const v2 = await arrive();
    await sawText(v2, queuedText({ position: 1, paused: false }));

    // v1's prediction runs on: v2's one timer for its whole wait fires.
    const [dropped] = await outcomesOf([v2]);
    expect(dropped).toMatchObject({ status: 'failed', reason: 'line-timeout' });
    expect(seen.get(v2.chatId)?.at(-1)).toBe(failureText('line-timeout'));
    expect(recorded.find((r) => r.generationId === v2.workflowId)).toMatchObject({ status: 'failed', errorKind: 'line-timeout' });
    await until(async () => (await admissionState()).queue.length === 0, 'the line empty again');
    expect(wavespeed.submitted).toEqual([v1.workflowId]);

    wavespeed.end(v1.workflowId);
    expect((await outcomesOf([v1])).map((o) => o.status)).toEqual(['completed']);
  });
  it("edits a waiting user's place at most every placeEveryMs: a long line moves often", async () => {
    config.wavespeedLine = { maxQueued: 100, maxWaitMs: 60 * 60 * 1000, placeEveryMs: 60 * 60 * 1000 };
    await startAdmission({ maxConcurrency: 1 });
    const videos = [await arrive(), await arrive(), await arrive(), await arrive()];
    const v4 = videos[3]!;
    await sawText(v4, queuedText({ position: 3, paused: false }));

    await endAllInTurn(videos, 1);
    expect((await outcomesOf(videos)).map((o) => o.status)).toEqual(Array(4).fill('completed'));
    // Its place moved from 3 to 2 to 1 while it waited; it was shown once.
    expect(seen.get(v4.chatId)?.filter((t) => /queued, position/.test(t))).toEqual([queuedText({ position: 3, paused: false })]);
  });

});
