import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Prediction } from '../../sandbox/simulators/wavespeed.js';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { TEST_ADMIN_TOKEN, eventually, postApi, startTestSystem, type TestSystem } from '../helpers/system.js';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process.js';

const CAP = 3;

let sys: TestSystem;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  sys = await startTestSystem({
    worker: false,
    env: { WAVESPEED_MAX_CONCURRENCY: String(CAP) },
    // The simulated account would queue over its own limit and hide an excess: give it room, so the cap is ours.
    wavespeed: { maxConcurrent: 100, latencyMs: 2_500, processingAfterMs: 100 },
  });
  const worker = spawnWorker(sys.env);
  workers.push(worker);
  await worker.ready;
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await sys?.teardown();
});

interface GenerationState {
  paused: boolean;
  maxConcurrency: number;
  inFlight: number;
  holders: string[];
  queueLength: number;
  queue: string[];
}

async function generationState(): Promise<GenerationState> {
  const res = await fetch(`${sys.gateway.url}/api/generation`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as GenerationState;
}

async function sendPhoto(chatId: number, caption = 'the sea moves slowly'): Promise<string> {
  const update = await sys.telegram!.makePhotoUpdate({ chatId, userId: chatId, caption });
  expect((await sys.telegram!.pushUpdate(update)).status).toBe(200);
  return videoWorkflowId(chatId, update.message!.message_id);
}

/** The workflow behind each prediction, in the order WaveSpeed received them. */
function submissionOrder(): string[] {
  return [...sys.wavespeed!.predictions.values()]
    .sort((a: Prediction, b: Prediction) => a.submittedAt - b.submittedAt)
    .map((p) => decodeURIComponent(new URL(p.webhookUrl!).pathname.split('/').at(-1)!));
}

const result = async (workflowId: string) => (await sys.temporal.client.workflow.getHandle(workflowId).result()) as VideoOutcome;
const videosTo = (chatId: number) => sys.telegram!.messagesTo(chatId).filter((m) => m.video).length;
const sawPosition = (chatId: number) =>
  sys.telegram!.callsTo('editMessageText').some((c) => c.chatId === chatId && /queued, position \d+/.test(String(c.params['text'])));

describe('fleet-wide WaveSpeed cap', () => {
  it('holds new generation while paused and lets every request through in arrival order on resume', async () => {
    expect((await postApi(sys, '/generation/pause', {})).body).toEqual({ paused: true });
    const chats = [6001, 6002, 6003, 6004, 6005];
    const ids: string[] = [];
    for (const [i, chatId] of chats.entries()) {
      ids.push(await sendPhoto(chatId));
      await eventually(async () => (await generationState()).queueLength === i + 1 || undefined, 30_000, `request ${i + 1} to queue`);
    }
    const paused = await generationState();
    expect(paused).toMatchObject({ paused: true, maxConcurrency: CAP, inFlight: 0, queue: ids });
    await eventually(() => chats.every(sawPosition) || undefined, 20_000, 'every user to see their place');
    expect(sys.telegram!.callsTo('editMessageText').some((c) => c.chatId === 6005 && /paused/.test(String(c.params['text'])))).toBe(true);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(sys.wavespeed!.stats.submitted).toBe(0);

    expect((await postApi(sys, '/generation/resume', {})).body).toEqual({ paused: false });
    const outcomes = await Promise.all(ids.map(result));
    expect(outcomes.map((o) => o.status)).toEqual(Array(5).fill('completed'));
    for (const chatId of chats) expect(videosTo(chatId)).toBe(1);

    // First come, first served: with 3 permits, the first three reach WaveSpeed before the fourth, the fourth before the fifth.
    const order = submissionOrder();
    expect(order.slice(0, CAP).sort()).toEqual(ids.slice(0, CAP).sort());
    expect(order.slice(CAP)).toEqual(ids.slice(CAP));
    expect(sys.wavespeed!.stats.maxUnfinishedSeen).toBeLessThanOrEqual(CAP);

    const events = await sys.db.prisma.domainEvent.findMany({ where: { type: { in: ['generation.paused', 'generation.resumed'] } }, orderBy: { occurredAt: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(['generation.paused', 'generation.resumed']);
  }, 120_000);

  it('never exceeds the cap, and loses no permit, when the worker holding them is killed -9', async () => {
    // The previous test's last permits may still be on their way back: a request meeting them would wait too.
    await eventually(async () => {
      const state = await generationState();
      return (state.inFlight === 0 && state.queueLength === 0) || undefined;
    }, 20_000, 'the previous test\'s permits back');
    sys.wavespeed!.reset();
    // Long enough that all eight are in line before the first prediction ends, on a loaded machine too
    // (with 2.5 s, under CI load the first ended before the eighth arrived, and five never waited at once).
    sys.wavespeed!.configure({ latencyMs: 8_000 });
    const chats = Array.from({ length: 8 }, (_, i) => 7001 + i);
    const ids: string[] = [];
    for (const chatId of chats) ids.push(await sendPhoto(chatId));

    await eventually(
      async () => (sys.wavespeed!.unfinished === CAP && (await generationState()).queueLength === chats.length - CAP) || undefined,
      30_000,
      'three predictions in flight and five requests queued',
    );
    const [first] = workers;
    await first!.kill('SIGKILL');

    // Predictions end at WaveSpeed while no worker runs: the permits stay with their workflows until those see it.
    await eventually(() => sys.wavespeed!.webhooks.some((w) => w.ok) || undefined, 30_000, 'a webhook while the worker is down');
    expect(sys.wavespeed!.stats.submitted).toBe(CAP);
    // The operators' pause and resume need no worker: they wait in Temporal for the admission workflow.
    expect((await postApi(sys, '/generation/pause', {})).status).toBe(200);
    expect((await postApi(sys, '/generation/resume', {})).status).toBe(200);

    const second = spawnWorker(sys.env);
    workers.push(second);
    const outcomes = await Promise.all(ids.map(result));
    expect(outcomes.map((o) => o.status)).toEqual(Array(8).fill('completed'));
    for (const chatId of chats) expect(videosTo(chatId)).toBe(1);
    expect(sys.wavespeed!.stats.submitted).toBe(8);
    expect(sys.wavespeed!.stats.maxUnfinishedSeen).toBe(CAP);
    // Five of the eight waited in line and were told where they stood.
    expect(chats.filter(sawPosition)).toHaveLength(chats.length - CAP);
    await eventually(async () => {
      const state = await generationState();
      return (state.inFlight === 0 && state.queueLength === 0) || undefined;
    }, 10_000, 'every permit back');
    const pauses = await sys.db.prisma.domainEvent.findMany({ where: { type: { in: ['generation.paused', 'generation.resumed'] } }, orderBy: { occurredAt: 'asc' } });
    expect(pauses.map((e) => e.type)).toEqual(['generation.paused', 'generation.resumed', 'generation.paused', 'generation.resumed']);
  }, 180_000);
});
