import { describe, expect, it } from 'vitest';
import type { Admission, Usage } from '../../src/activities/limits.js';
import { BotBlockedError, TelegramAmbiguousSendError } from '../../src/errors.js';
import type { PredictionResult } from '../../src/integrations/wavespeed/types.js';
import { workerTuning } from '../../src/temporal/worker/worker-tuning.js';
import { QUEUE_MAX_WAIT_MS, QUEUE_RECHECK_MS } from '../../src/workflows/video/user-limits.js';
import type { BotCommandInput } from '../../src/workflows/command/workflow.js';
import { commandWorkflowId, videoWorkflowId } from '../../src/workflows/ids.js';
import { PROGRESS, failureText, userQueuedText, refusalText, usageText } from '../helpers/texts.js';
import { cancelVideoSignal, type VideoOutcome, type VideoRequest } from '../../src/workflows/video/messages.js';
import { useWorkflowEnvironment, createTestWorkers } from '../helpers/temporal.js';
import { fakeActivities, type ActivityOverrides, type FakeWorld } from './fake-activities.js';

const t = useWorkflowEnvironment();
let nextMessage = 1;

const USER = { userId: 42, chatId: 42, firstName: 'Ada' };

function request(): VideoRequest {
  return { user: USER, messageId: nextMessage++, fileId: 'photo', prompt: 'the cat turns its head', model: 'wavespeed-ai/wan-2.2/i2v-480p', deadlineMs: 15 * 60_000 };
}

const completed = (id: string): PredictionResult => ({ id, status: 'completed', outputs: [`http://wavespeed.test/${id}.mp4`], nsfw: false });

/** What the workflow asked of the limits and of the expensive steps. */
interface Calls {
  admissions: number[];
  prepared: number;
  submitted: number;
}

/** Now in the test server's (skipped) time: `admitRequest` is a local activity, scheduled on the worker's own clock. */
const scheduledAt = () => t.env.currentTimeMs();

/**
 * Runs `imageToVideo` with `admissions` answered in turn by `admitRequest` (the
 * last one repeats). Time is skipped only once `during` is done.
 */
async function runVideo(
  admissions: Admission[],
  more: (world: FakeWorld, calls: Calls) => ActivityOverrides = () => ({}),
  during?: (workflowId: string, world: FakeWorld) => Promise<void>,
) {
  const calls: Calls = { admissions: [], prepared: 0, submitted: 0 };
  const { activities, world } = fakeActivities((w) => ({
    async admitRequest() {
      calls.admissions.push(await scheduledAt());
      return admissions[Math.min(calls.admissions.length, admissions.length) - 1]!;
    },
    async prepareImage() {
      calls.prepared += 1;
      return { imageUrl: 'http://wavespeed.test/media/a.jpg', md5: 'd41d8cd98f00b204e9800998ecf8427e', bytes: 1234, width: 1024, height: 768 };
    },
    async submitGeneration() {
      calls.submitted += 1;
      return { predictionId: 'pred-1' };
    },
    async pollPrediction({ predictionId }) {
      return completed(predictionId);
    },
    ...more(w, calls),
  }), { temporal: t.env.client });
  const req = request();
  const taskQueue = `limits-${req.messageId}`;
  const worker = await createTestWorkers({ connection: t.env.nativeConnection, taskQueue, workflowBundle: t.bundle, activities, ...workerTuning });
  const workflowId = videoWorkflowId(USER.chatId, req.messageId);
  const outcome = (await worker.runUntil(async () => {
    const handle = await t.env.client.workflow.start('imageToVideo', { taskQueue, workflowId, args: [req] });
    if (during) await during(workflowId, world);
    return handle.result();
  })) as VideoOutcome;
  return { outcome, world, calls };
}

const queued: Admission = { decision: 'queued', limit: 2 };
const admitted: Admission = { decision: 'admitted' };

describe('imageToVideo under per-user limits', () => {
  it('refuses a request over the running limit with a clear message, before any work', async () => {
    const refusal = { decision: 'refused', reason: 'active-limit', limit: 2 } as const;
    const { outcome, world, calls } = await runVideo([refusal]);

    expect(outcome).toEqual({ status: 'refused', reason: 'active-limit' });
    expect(world.userSaw).toEqual([refusalText(refusal)]);
    expect(world.userSaw[0]).toContain('You already have 2 videos in progress');
    expect(calls).toMatchObject({ prepared: 0, submitted: 0 });
    // admitRequest recorded the refusal; nothing overwrites it.
    expect(world.outcomes).toEqual([]);
  });

  it('refuses a request over the daily quota, saying when it resets', async () => {
    const { outcome, world, calls } = await runVideo([{ decision: 'refused', reason: 'daily-quota', quota: 20 }]);

    expect(outcome).toEqual({ status: 'refused', reason: 'daily-quota' });
    expect(world.userSaw).toEqual(["📅 You've used your 20 videos for today; the quota resets at 00:00 UTC."]);
    expect(calls.prepared).toBe(0);
  });

  it('marks a user who blocked the bot when telling them of a refusal fails with 403', async () => {
    const { outcome, world } = await runVideo([{ decision: 'refused', reason: 'active-limit', limit: 1 }], () => ({
      async sendMessage() {
        throw new BotBlockedError(USER.chatId, 'blocked', 'Forbidden: bot was blocked by the user');
      },
    }));

    expect(outcome.status).toBe('refused');
    expect(world.blockedUsers).toEqual([USER.userId]);
  });

  it('keeps a queued request waiting, shown as queued, and goes on once a slot is free', async () => {
    const { outcome, world, calls } = await runVideo([queued, queued, queued, admitted]);

    expect(outcome).toMatchObject({ status: 'completed' });
    expect(calls.admissions).toHaveLength(4);
    const gaps = calls.admissions.slice(1).map((t, i) => t - calls.admissions[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(QUEUE_RECHECK_MS);
    expect(world.userSaw).toEqual([userQueuedText(2), PROGRESS.received, PROGRESS.completed]);
    expect(calls).toMatchObject({ prepared: 1, submitted: 1 });
    expect(world.videos).toHaveLength(1);
  });

  it('waits without the queued message Telegram lost the answer to, and refuses without it: each message sent once', async () => {
    const refusal = { decision: 'refused', reason: 'daily-quota', quota: 20 } as const;
    const sent: string[] = [];
    const { outcome, world } = await runVideo([queued, refusal], () => ({
      async sendMessage({ chatId, text }) {
        sent.push(text);
        throw new TelegramAmbiguousSendError('sendMessage', chatId, 'no answer in time');
      },
    }));

    expect(outcome).toEqual({ status: 'refused', reason: 'daily-quota' });
    // The refusal is a reply of its own (no queued message to edit), and counts as told: nobody is marked blocked.
    expect(sent).toEqual([userQueuedText(2), refusalText(refusal)]);
    expect(world.blockedUsers).toEqual([]);
  });

  it('stops a queued request on /cancel, saying so in the queued message and recording it', async () => {
    // Cancelled while it sleeps between checks: the time-skipping server mishandles
    // cancelling an activity in flight (see video.test.ts).
    const { outcome, world, calls } = await runVideo([queued], undefined, async (workflowId, seen) => {
      for (let i = 0; i < 200 && !seen.userSaw.includes(userQueuedText(2)); i++) await new Promise((r) => setTimeout(r, 25));
      await new Promise((r) => setTimeout(r, 300));
      await t.env.client.workflow.getHandle(workflowId).signal(cancelVideoSignal, { by: 'user' });
    });

    expect(outcome).toEqual({ status: 'cancelled', reason: 'cancelled' });
    expect(calls.admissions).toHaveLength(1);
    expect(world.userSaw).toEqual([userQueuedText(2), failureText('cancelled')]);
    expect(world.outcomes).toEqual([expect.objectContaining({ status: 'cancelled', errorKind: 'cancelled' })]);
    expect(calls.prepared).toBe(0);
  });

  it('drops a request queued too long', async () => {
    const { outcome, world, calls } = await runVideo([queued]);

    expect(outcome).toEqual({ status: 'failed', reason: 'queue-timeout' });
    expect(calls.admissions.at(-1)! - calls.admissions[0]!).toBeGreaterThanOrEqual(QUEUE_MAX_WAIT_MS - QUEUE_RECHECK_MS);
    expect(world.userSaw).toEqual([userQueuedText(2), failureText('queue-timeout')]);
    expect(world.outcomes).toEqual([expect.objectContaining({ status: 'failed', errorKind: 'queue-timeout' })]);
    expect(calls.prepared).toBe(0);
  }, 60_000);

  it('refuses a queued request whose slot comes after the daily quota ran out', async () => {
    const refusal = { decision: 'refused', reason: 'daily-quota', quota: 3 } as const;
    const { outcome, world, calls } = await runVideo([queued, refusal]);

    expect(outcome).toEqual({ status: 'refused', reason: 'daily-quota' });
    expect(world.userSaw).toEqual([userQueuedText(2), refusalText(refusal)]);
    expect(calls.prepared).toBe(0);
  });
});

describe('/usage', () => {
  async function usage(answer: Usage): Promise<{ text: string; asked: Array<{ userId: number; chatId: number }> }> {
    const sent: string[] = [];
    const asked: Array<{ userId: number; chatId: number }> = [];
    const { activities } = fakeActivities(() => ({
      async getUsage(input) {
        asked.push(input);
        return answer;
      },
      async sendMessage({ text }) {
        sent.push(text);
        return { messageId: 1 };
      },
    }));
    const input: BotCommandInput = { command: 'usage', user: USER, messageId: nextMessage++ };
    const taskQueue = `usage-${input.messageId}`;
    const worker = await createTestWorkers({ connection: t.env.nativeConnection, taskQueue, workflowBundle: t.bundle, activities, ...workerTuning });
    await worker.runUntil(() => t.env.client.workflow.execute('botCommand', { taskQueue, workflowId: commandWorkflowId(USER.chatId, input.messageId), args: [input] }));
    expect(sent).toHaveLength(1);
    return { text: sent[0]!, asked };
  }

  it("answers today's count against the quota, what is under way and today's cost", async () => {
    const { text, asked } = await usage({ today: 3, dailyQuota: 20, maxActive: 2, running: 1, queued: 1, spentTodayUsd: 0.45 });

    expect(asked).toEqual([{ userId: USER.userId, chatId: USER.chatId }]);
    expect(text).toBe(
      ['Your usage today (UTC):', '• Videos: 3 of 20 (17 left)', '• In progress: 1 of 2, 1 queued', '• Cost: $0.45', 'The quota resets at 00:00 UTC.'].join('\n'),
    );
  });

  it('says "unlimited" for an admin', async () => {
    const answer = { today: 41, dailyQuota: null, maxActive: null, running: 3, queued: 0, spentTodayUsd: 6.15 };
    const { text } = await usage(answer);

    expect(text).toBe(usageText(answer));
    expect(text).toContain('• Videos: 41 videos (unlimited)');
    expect(text).toContain('• In progress: 3\n');
    expect(text).not.toContain('resets');
  });
});
