import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASK_QUEUES } from '../../src/constants.js';
import { TelewanChatId, TelewanKind, TelewanOutcome, TelewanSourceSlug } from '../../src/temporal/search-attributes.js';
import type { DistributionCounts } from '../../src/workflows/distribution/messages.js';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { TEST_ADMIN_TOKEN, eventually, postApi, startTestSystem, type TestSystem } from '../helpers/system.js';

let sys: TestSystem;

beforeAll(async () => {
  // A short deadline, for the generation that outlives it.
  sys = await startTestSystem({ env: { BROADCAST_RATE_PER_SECOND: '50', VIDEO_DEADLINE_MS: '4000' } });
}, 120_000);

afterAll(async () => {
  await sys?.teardown();
});

const redrive = (workflowId: string, body: unknown = {}) => postApi(sys, `/workflows/${encodeURIComponent(workflowId)}/redrive`, body);

/** Workflow ids a visibility query finds (visibility lags a little behind). */
async function listIds(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of sys.temporal.client.workflow.list({ query })) ids.push(w.workflowId);
  return ids;
}

async function sendPhoto(chatId: number, caption: string) {
  const update = await sys.telegram!.makePhotoUpdate({ chatId, userId: chatId, caption, width: 1200, height: 900 });
  expect((await sys.telegram!.pushUpdate(update)).status).toBe(200);
  return videoWorkflowId(chatId, update.message!.message_id);
}

describe('finding and re-driving a failed video', () => {
  it('resets a generation whose video could not be sent to the failing step: one submission, one video', async () => {
    const chatId = 9101;
    // Telegram refuses the video twice (by URL, then the upload): the generation fails.
    sys.telegram!.failNext('sendVideo', { errorCode: 400, description: 'Bad Request: wrong type of the web page content', count: 2 });
    const submissionsBefore = sys.wavespeed!.predictions.size;
    const workflowId = await sendPhoto(chatId, 'a lighthouse in a storm, slow zoom');
    await expect(sys.temporal.client.workflow.getHandle(workflowId).result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(sys.wavespeed!.predictions.size).toBe(submissionsBefore + 1);
    expect(sys.telegram!.messagesTo(chatId).filter((m) => m.video)).toHaveLength(0);

    // The operator finds it by chat, by kind and outcome; the UI shows what it is.
    const failed = await sys.temporal.client.workflow.getHandle(workflowId).describe();
    expect(failed.typedSearchAttributes.get(TelewanKind)).toBe('video');
    expect(failed.typedSearchAttributes.get(TelewanChatId)).toBe(chatId);
    expect(failed.typedSearchAttributes.get(TelewanOutcome)).toBe('failed');
    expect(await failed.staticSummary()).toBe(`Video for chat ${chatId}: "a lighthouse in a storm, slow zoom"`);
    await eventually(async () => (await listIds(`TelewanChatId = ${chatId}`)).includes(workflowId) || undefined, 20_000, 'the chat query');
    await eventually(
      async () => (await listIds(`TelewanKind = 'video' AND TelewanOutcome = 'failed'`)).includes(workflowId) || undefined,
      20_000,
      'the failed-videos query',
    );

    // Telegram is fine again: re-drive.
    const res = await redrive(workflowId, { reason: 'Telegram fixed' });
    expect(res).toMatchObject({ status: 202, body: { workflowId, kind: 'video', how: 'reset', from: 'sendVideo', failedRunId: failed.runId } });
    const outcome = (await sys.temporal.client.workflow.getHandle(workflowId).result()) as VideoOutcome;
    expect(outcome).toMatchObject({ status: 'completed', deliveredBy: 'url' });

    // The user got the video, and WaveSpeed was not asked again.
    expect(sys.telegram!.messagesTo(chatId).filter((m) => m.video)).toHaveLength(1);
    expect(sys.wavespeed!.predictions.size).toBe(submissionsBefore + 1);
    const latest = await sys.temporal.client.workflow.getHandle(workflowId).describe();
    expect(latest.runId).toBe(res.body.runId);
    expect(latest.typedSearchAttributes.get(TelewanOutcome)).toBe('completed');
    expect(await sys.db.prisma.generation.findUniqueOrThrow({ where: { id: workflowId } })).toMatchObject({ status: 'completed' });
    const event = await sys.db.prisma.domainEvent.findFirstOrThrow({ where: { type: 'generation.redriven', subject: `generation:${workflowId}` } });
    expect(event.payload).toMatchObject({ failedRunId: failed.runId, runId: res.body.runId, from: 'sendVideo', reason: 'Telegram fixed' });

    // Done now: a second re-drive is refused.
    expect(await redrive(workflowId)).toMatchObject({ status: 409, body: { message: expect.stringContaining('did not fail') } });
  }, 120_000);

  it('resets a generation that outlived its deadline to the wait: it polls again and finds the video', async () => {
    const chatId = 9105;
    const submissionsBefore = sys.wavespeed!.predictions.size;
    const workflowId = await sendPhoto(chatId, 'a glacier calving [slow:9000]');
    const first = (await sys.temporal.client.workflow.getHandle(workflowId).result()) as VideoOutcome;
    expect(first).toMatchObject({ status: 'failed', reason: 'deadline' });

    // WaveSpeed finishes after all (its webhook finds no running workflow); re-drive.
    const prediction = sys.wavespeed!.predictions.get(first.predictionId!)!;
    await eventually(() => prediction.status === 'completed' || undefined, 20_000, 'the slow prediction');
    const res = await redrive(workflowId);
    expect(res).toMatchObject({ status: 202, body: { how: 'reset', from: 'wait for WaveSpeed' } });
    const outcome = (await sys.temporal.client.workflow.getHandle(workflowId).result()) as VideoOutcome;
    expect(outcome).toMatchObject({ status: 'completed', predictionId: first.predictionId, resultVia: 'poll' });
    expect(sys.telegram!.messagesTo(chatId).filter((m) => m.video)).toHaveLength(1);
    expect(sys.wavespeed!.predictions.size).toBe(submissionsBefore + 1);
  }, 120_000);

  it('resets a generation WaveSpeed failed to before its permit request: the new run waits for a slot of the fleet cap, then submits', async () => {
    const chatId = 9107;
    sys.wavespeed!.configure({ failureRate: 1 });
    const submissionsBefore = sys.wavespeed!.predictions.size;
    const workflowId = await sendPhoto(chatId, 'a kite in the wind');
    const first = (await sys.temporal.client.workflow.getHandle(workflowId).result()) as VideoOutcome;
    sys.wavespeed!.configure({ failureRate: 0 });
    expect(first).toMatchObject({ status: 'failed', reason: 'generation-failed' });

    // Generation paused: no permit is granted, so a re-drive that honours the fleet cap cannot submit.
    expect((await postApi(sys, '/generation/pause', {})).status).toBe(200);
    try {
      const res = await redrive(workflowId);
      expect(res).toMatchObject({ status: 202, body: { how: 'reset', from: 'submitGeneration (after a new WaveSpeed permit)' } });
      await eventually(async () => {
        const state = await fetch(`${sys.gateway.url}/api/generation`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
        const body = (await state.json()) as { queue: string[] };
        return body.queue.includes(workflowId) || undefined;
      }, 20_000, 'the re-driven run in line');
      await new Promise((r) => setTimeout(r, 2_000));
      expect(sys.wavespeed!.predictions.size).toBe(submissionsBefore + 1);
    } finally {
      expect((await postApi(sys, '/generation/resume', {})).status).toBe(200);
    }
    const outcome = (await sys.temporal.client.workflow.getHandle(workflowId).result()) as VideoOutcome;
    expect(outcome).toMatchObject({ status: 'completed' });
    expect(sys.wavespeed!.predictions.size).toBe(submissionsBefore + 2);
    expect(sys.telegram!.messagesTo(chatId).filter((m) => m.video)).toHaveLength(1);
  }, 120_000);

  it('refuses unknown, running, successful and unsupported workflows', async () => {
    expect(await redrive('video-1-404')).toMatchObject({ status: 404, body: { message: 'There is no workflow video-1-404' } });
    // `npm run redrive` says the same and fails.
    const cli = await promisify(execFile)('node_modules/.bin/tsx', ['scripts/redrive.ts', 'video-1-404'], {
      env: { ...process.env, TELEWAN_API_URL: sys.gateway.url, ADMIN_TOKEN: TEST_ADMIN_TOKEN },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(cli).toMatchObject({ code: 1, stderr: expect.stringContaining('404 There is no workflow video-1-404') });

    // A video no worker picks up stays running.
    const running = await sys.temporal.client.workflow.start('imageToVideo', {
      taskQueue: 'nobody-polls-this',
      workflowId: 'video-9102-1',
      args: [{ user: { userId: 9102, chatId: 9102 }, messageId: 1, fileId: 'f', prompt: 'p', model: 'm', deadlineMs: 1000 }],
    });
    expect(await redrive(running.workflowId)).toMatchObject({ status: 409, body: { message: 'video-9102-1 is still running' } });
    await running.terminate('test done');
    expect(await redrive(running.workflowId)).toMatchObject({ status: 409, body: { message: expect.stringContaining('terminated') } });

    const ok = await sendPhoto(9103, 'sunrise over hills');
    expect(await sys.temporal.client.workflow.getHandle(ok).result()).toMatchObject({ status: 'completed' });
    expect(await redrive(ok)).toMatchObject({ status: 409, body: { message: `${ok} did not fail: it ended completed` } });

    await sys.telegram!.pushUpdate(sys.telegram!.makeTextUpdate({ chatId: 9104, userId: 9104, text: '/help' }));
    const command = await eventually(async () => (await listIds(`TelewanKind = 'command' AND TelewanChatId = 9104`))[0], 20_000, 'the command');
    await sys.temporal.client.workflow.getHandle(command).result();
    expect(await redrive(command)).toMatchObject({ status: 409, body: { message: expect.stringContaining('only video generations and summary distributions') } });
  }, 120_000);
});

describe('finding and re-driving a distribution with failed deliveries', () => {
  it('retries only the failed deliveries: everybody ends with exactly one message', async () => {
    const telegram = sys.telegram!;
    expect((await postApi(sys, '/sources', { slug: 'science', title: 'Science Weekly' })).status).toBe(201);
    const chats = Array.from({ length: 30 }, (_, i) => 91_000 + i);
    const source = await sys.db.prisma.source.findUniqueOrThrow({ where: { slug: 'science' } });
    await sys.db.prisma.telegramUser.createMany({ data: chats.map((id) => ({ id: BigInt(id), chatId: BigInt(id) })) });
    await sys.db.prisma.subscription.createMany({ data: chats.map((id) => ({ userId: BigInt(id), sourceId: source.id })) });

    // Telegram refuses three sends outright: three deliveries end failed.
    telegram.failNext('sendMessage', { errorCode: 400, description: 'Bad Request: message is too long', count: 3 });
    const accepted = await postApi(sys, '/summaries', { source: 'science', externalId: 'ep-1', title: 'Black holes', text: 'They evaporate.' });
    const { workflowId, summaryId } = accepted.body as { workflowId: string; summaryId: number };
    const first = (await sys.temporal.client.workflow.getHandle(workflowId).result()) as DistributionCounts;
    expect(first).toMatchObject({ total: 30, sent: 27, failed: 3 });

    const described = await sys.temporal.client.workflow.getHandle(workflowId).describe();
    expect(described.typedSearchAttributes.get(TelewanKind)).toBe('distribution');
    expect(described.typedSearchAttributes.get(TelewanSourceSlug)).toBe('science');
    expect(described.typedSearchAttributes.get(TelewanOutcome)).toBe('partial');
    expect(await described.staticSummary()).toBe(`Summary ${summaryId} of science to its subscribers`);
    await eventually(
      async () => (await listIds(`TelewanKind = 'distribution' AND TelewanOutcome = 'partial'`)).includes(workflowId) || undefined,
      20_000,
      'the partial-distributions query',
    );

    const res = await redrive(workflowId);
    expect(res).toMatchObject({ status: 202, body: { workflowId, kind: 'distribution', how: 'new-run', failedRunId: described.runId } });
    const second = (await sys.temporal.client.workflow.getHandle(workflowId).result()) as DistributionCounts;
    expect(second).toMatchObject({ total: 30, sent: 30, failed: 0, remaining: 0 });

    // Every subscriber has the summary exactly once.
    for (const chat of chats) expect(telegram.messagesTo(chat).filter((m) => m.text?.startsWith('Black holes'))).toHaveLength(1);
    expect(await sys.db.prisma.delivery.count({ where: { summaryId, status: 'sent' } })).toBe(30);
    const latest = await sys.temporal.client.workflow.getHandle(workflowId).describe();
    expect(latest.typedSearchAttributes.get(TelewanSourceSlug)).toBe('science');
    expect(latest.typedSearchAttributes.get(TelewanOutcome)).toBe('completed');
    expect(await sys.db.prisma.domainEvent.count({ where: { type: 'summary.redriven', subject: `summary:${summaryId}` } })).toBe(1);

    expect(await redrive(workflowId)).toMatchObject({ status: 409, body: { message: `${workflowId} has no failed deliveries` } });
  }, 120_000);

  it('keeps its search attributes across continue-as-new', async () => {
    const source = await sys.db.prisma.source.findUniqueOrThrow({ where: { slug: 'science' } });
    const summary = await sys.db.prisma.summary.create({ data: { sourceId: source.id, externalId: 'ep-2', title: 'Quasars', text: 'Bright.' } });
    // 110 subscribers in batches of 50 (the rate), one batch a run: three runs.
    const more = Array.from({ length: 80 }, (_, i) => 92_000 + i);
    await sys.db.prisma.telegramUser.createMany({ data: more.map((id) => ({ id: BigInt(id), chatId: BigInt(id) })) });
    await sys.db.prisma.subscription.createMany({ data: more.map((id) => ({ userId: BigInt(id), sourceId: source.id })) });
    const handle = await sys.temporal.client.workflow.start('distributeSummary', {
      taskQueue: TASK_QUEUES.broadcast,
      workflowId: `summary-${summary.id}`,
      args: [{ summaryId: summary.id, limits: { batchesPerRun: 1 } }],
      typedSearchAttributes: [
        { key: TelewanKind, value: 'distribution' },
        { key: TelewanSourceSlug, value: 'science' },
      ],
    });
    const result = (await handle.result()) as DistributionCounts;
    expect(result).toMatchObject({ total: 110, sent: 110 });
    const last = await sys.temporal.client.workflow.getHandle(handle.workflowId).describe();
    expect(last.runId).not.toBe(handle.firstExecutionRunId);
    expect(last.typedSearchAttributes.get(TelewanKind)).toBe('distribution');
    expect(last.typedSearchAttributes.get(TelewanSourceSlug)).toBe('science');
  }, 120_000);
});
