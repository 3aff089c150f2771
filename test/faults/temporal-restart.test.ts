import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TgUpdate } from '../../sandbox/simulators/telegram.js';
import type { DistributionCounts } from '../../src/workflows/distribution/messages.js';
import { admissionShards, admissionWorkflowId, MAX_ADMISSION_SHARDS, videoWorkflowId } from '../../src/workflows/ids.js';
import { admissionStateQuery, type AdmissionState } from '../../src/workflows/admission/messages.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { eventually, postApi } from '../helpers/system.js';
import { FileBackedTemporal } from './helpers/file-backed-temporal.js';
import { deliverUpdate, messagesPerChat, startFaultSystem, videosPerChat, within, type FaultSystem } from './helpers/fault-system.js';

/**
 * The Temporal server stopped (SIGTERM) and started again on its SQLite file
 * while 20 videos and a broadcast are in flight, and Telegram pushes updates
 * meanwhile. FAULT_TEMPORAL_DOWN_SECONDS sets how long it stays down.
 *
 * FAULT_TEMPORAL_STOP_WHILE picks the moment: `generating` (CI: the videos are at
 * WaveSpeed, the broadcast is sending) or `sending` (the first video has just
 * been delivered, others are being sent). `sending` reproduces a known bug: a
 * sendVideo whose completion Temporal never got (refused as the server shut down,
 * not delivered after the outage) is run again after its 2 min start-to-close
 * timeout, and the user gets the video twice. See docs/RELIABILITY.md.
 */
const DOWN_MS = Number(process.env.FAULT_TEMPORAL_DOWN_SECONDS ?? 15) * 1000;
const STOP_WHILE = process.env.FAULT_TEMPORAL_STOP_WHILE === 'sending' ? 'sending' : 'generating';
const VIDEOS = 20;
const SUBSCRIBERS = 300;
const BROADCAST_RATE = 10;
/**
 * WaveSpeed's time per video: in `generating`, longer than the spread of the
 * submissions + broadcast start + the outage (CI once took over a minute to submit all twenty).
 */
const GENERATION_MS = STOP_WHILE === 'sending' ? 8_000 : DOWN_MS + 60_000;
/** Updates Telegram pushes while Temporal is down: commands from new users, and photos. */
const HELP_DURING = 5;
const PHOTOS_DURING = 3;
/** Admission shards the cap is split into (the most there are), each roomy enough for every request here. */
const SHARDS = MAX_ADMISSION_SHARDS;
const SLOTS_PER_SHARD = VIDEOS + PHOTOS_DURING;

let temporal: FileBackedTemporal | undefined;
let db: TestDatabase | undefined;
let sys: FaultSystem | undefined;

beforeAll(async () => {
  [temporal, db] = await Promise.all([FileBackedTemporal.create(), createTestDatabase()]);
  sys = await startFaultSystem({
    databaseUrl: db.url,
    temporalAddress: temporal.address,
    env: {
      BROADCAST_RATE_PER_SECOND: String(BROADCAST_RATE),
      // The Gold-scale line: a cap split between admission shards.
      WAVESPEED_MAX_CONCURRENCY: String(SHARDS * SLOTS_PER_SHARD),
      WAVESPEED_ADMISSION_SHARD_SLOTS: String(SLOTS_PER_SHARD),
      WAVESPEED_QUEUE_MAX: '100',
    },
    telegram: { globalRatePerSecond: 1000 },
    wavespeed: { maxConcurrent: 100, latencyMs: GENERATION_MS, processingAfterMs: 100 },
  });
}, 120_000);

afterAll(async () => {
  await sys?.teardown();
  await temporal?.destroy();
  await db?.drop();
}, 60_000);

it(`finishes ${VIDEOS} videos and a ${SUBSCRIBERS}-subscriber broadcast once each across a Temporal restart; updates sent meanwhile come by redelivery`, async () => {
  const { telegram, wavespeed, client } = sys!;
  const worker = sys!.spawnWorker();
  await within(worker.ready, 60_000, 'the worker to poll');
  const startedAt = Date.now();

  const prisma = db!.prisma;
  expect((await postApi(sys!.stack, '/sources', { slug: 'restart', title: 'Restart Weekly' })).status).toBe(201);
  const source = await prisma.source.findUniqueOrThrow({ where: { slug: 'restart' } });
  const subscribers = Array.from({ length: SUBSCRIBERS }, (_, i) => 2_000_000 + i);
  await prisma.telegramUser.createMany({ data: subscribers.map((id) => ({ id: BigInt(id), chatId: BigInt(id) })) });
  await prisma.subscription.createMany({ data: subscribers.map((id) => ({ userId: BigInt(id), sourceId: source.id })) });

  const photo = (chatId: number) => telegram.makePhotoUpdate({ chatId, userId: chatId, width: 320, height: 240, caption: `a tram at night, take ${chatId}` });
  const videoChats = Array.from({ length: VIDEOS }, (_, i) => 51_000 + i);
  const videoIds = await Promise.all(
    videoChats.map(async (chatId) => {
      const update = await photo(chatId);
      await deliverUpdate(telegram, update);
      return videoWorkflowId(chatId, update.message!.message_id);
    }),
  );
  // Generous: on CI the file shares two cores with another suite's servers, and the outage is the fault here, not the pace.
  await eventually(() => wavespeed.stats.submitted >= VIDEOS || undefined, 150_000, 'every video submitted to WaveSpeed');
  const submittedMs = Date.now() - startedAt;
  // An intake answered 503 (Temporal slow to start the distribution) is posted again, as operators do.
  const accepted = await eventually(async () => {
    const answer = await postApi(sys!.stack, '/summaries', { source: 'restart', externalId: 'ep-1', title: 'Restarts', text: 'Nothing lost.' });
    return answer.status === 503 ? undefined : answer;
  }, 60_000, 'the summary accepted');
  expect(accepted.status).toBe(202);
  const { workflowId: summaryWorkflowId } = accepted.body as { workflowId: string };

  const broadcastSent = () => subscribers.filter((id) => telegram.messagesTo(id).length > 0).length;
  if (STOP_WHILE === 'sending') {
    // Every Bot API answer takes ~3 s: when the first video is in, the others are on the wire.
    telegram.configure({ latencyMs: [2_500, 3_500] });
    await eventually(() => videoChats.some((id) => telegram.messagesTo(id).some((m) => m.video)) || undefined, 60_000, 'the first video delivered');
  } else {
    await eventually(() => broadcastSent() >= SUBSCRIBERS / 4 || undefined, 60_000, 'a quarter of the broadcast sent');
    expect(wavespeed.stats.completed, 'no video finished before the outage').toBe(0);
  }

  await temporal!.stop();
  const downAt = Date.now();
  const sentAtStop = broadcastSent();
  const videosAtStop = [...videosPerChat(telegram, videoChats).values()].reduce((n, c) => n + c, 0);

  // Telegram pushes updates meanwhile: each is answered 503, then redelivered until it is taken.
  const helpChats = Array.from({ length: HELP_DURING }, (_, i) => 61_000 + i);
  const photoChats = Array.from({ length: PHOTOS_DURING }, (_, i) => 62_000 + i);
  const during: Array<{ chatId: number; update: TgUpdate; kind: 'help' | 'photo' }> = [
    ...helpChats.map((chatId) => ({ chatId, update: telegram.makeTextUpdate({ chatId, userId: chatId, text: '/help' }), kind: 'help' as const })),
    ...(await Promise.all(photoChats.map(async (chatId) => ({ chatId, update: await photo(chatId), kind: 'photo' as const })))),
  ];
  const firstAnswers = await Promise.all(during.map(({ update }) => telegram.pushUpdate(update)));
  expect(firstAnswers.map((a) => a.status)).toEqual(Array(during.length).fill(503));
  const redeliveries = during.map(({ update }) => telegram.pushUpdate(update, { retries: 120, retryDelayMs: 1_000 }));

  const remaining = DOWN_MS - (Date.now() - downAt);
  // The outage is the fault: it lasts its length whatever happens meanwhile.
  if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
  const sentAtRestart = broadcastSent();
  expect(worker.child.exitCode, 'the worker survived the outage').toBeNull();
  await temporal!.start();
  const upAt = Date.now();
  // The photos of the outage need not wait as long as the first twenty.
  wavespeed.configure({ latencyMs: 5_000 });
  telegram.configure({ latencyMs: 0 });

  const redelivered = await within(Promise.all(redeliveries), 120_000, 'the redeliveries to be taken');
  expect(redelivered.map((r) => r.status)).toEqual(Array(during.length).fill(200));
  const lateVideoIds = during.filter((d) => d.kind === 'photo').map((d) => videoWorkflowId(d.chatId, d.update.message!.message_id));
  const [outcomes, broadcast] = await within(
    Promise.all([
      Promise.all([...videoIds, ...lateVideoIds].map(async (id) => (await client.workflow.getHandle(id).result()) as VideoOutcome)),
      client.workflow.getHandle(summaryWorkflowId).result() as Promise<DistributionCounts>,
    ]),
    150_000,
    'every workflow to finish after the restart',
  );
  await eventually(() => helpChats.every((id) => telegram.messagesTo(id).length > 0) || undefined, 30_000, 'the /help answers');
  // Every permit asked of a shard, before or after the restart, was given back to it: none held, none waiting.
  expect(admissionShards(SHARDS * SLOTS_PER_SHARD, SLOTS_PER_SHARD)).toBe(SHARDS);
  const shardState = (shard: number) => client.workflow.getHandle(admissionWorkflowId(shard)).query(admissionStateQuery);
  const found = await Promise.all(Array.from({ length: SHARDS }, (_, shard) => shardState(shard).then(() => shard, () => undefined)));
  const asked = found.filter((shard) => shard !== undefined);
  expect(asked.length, 'requests spread over several admission shards').toBeGreaterThan(1);
  const empty = (state: AdmissionState) => state.holders.length === 0 && state.draining.length === 0 && state.queue.length === 0;
  await eventually(async () => (await Promise.all(asked.map(shardState))).every(empty) || undefined, 15_000, 'every admission shard to be empty');
  const recoveredMs = Date.now() - upAt;

  const allVideoChats = [...videoChats, ...photoChats];
  const videos = videosPerChat(telegram, allVideoChats);
  const perSubscriber = messagesPerChat(telegram);
  const lost = subscribers.filter((id) => !perSubscriber.has(id)).length;
  const duplicates = subscribers.reduce((n, id) => n + Math.max(0, (perSubscriber.get(id) ?? 0) - 1), 0);
  console.log(
    `temporal restart (stopped while ${STOP_WHILE}): ${VIDEOS} videos submitted in ${(submittedMs / 1000).toFixed(1)} s; down ${((upAt - downAt) / 1000).toFixed(1)} s with ${sentAtStop}/${SUBSCRIBERS} broadcast messages (${sentAtRestart} at the restart) and ${videosAtStop}/${VIDEOS} videos sent; ` +
      `redelivery attempts ${redelivered.map((r) => r.attempts + 1).join(',')}; all finished ${(recoveredMs / 1000).toFixed(1)} s after the restart ` +
      `(${((Date.now() - startedAt) / 1000).toFixed(0)} s in all); broadcast ${JSON.stringify(broadcast)}, lost ${lost}, duplicates ${duplicates}; ` +
      `videos per chat ${JSON.stringify([...new Set(videos.values())])} (${[...videos.values()].filter((n) => n > 1).length} users got theirs more than once); predictions ${wavespeed.predictions.size}; admission shards asked ${asked.length} of ${SHARDS}, all empty at the end`,
  );

  expect(outcomes.map((o) => o.status)).toEqual(Array(allVideoChats.length).fill('completed'));
  expect([...videos.values()]).toEqual(Array(allVideoChats.length).fill(1));
  expect(wavespeed.stats.submitted).toBe(allVideoChats.length);
  expect(wavespeed.predictions.size).toBe(allVideoChats.length);
  expect(broadcast).toMatchObject({ total: SUBSCRIBERS, sent: SUBSCRIBERS, failed: 0, remaining: 0 });
  expect(lost).toBe(0);
  expect(duplicates).toBe(0);
  expect(await prisma.delivery.count({ where: { status: 'sent' } })).toBe(SUBSCRIBERS);
  // One answer per /help, though each update was posted several times.
  for (const chatId of helpChats) expect(telegram.messagesTo(chatId)).toHaveLength(1);
  expect(worker.child.exitCode, 'the worker is still the first one').toBeNull();
}, 300_000);
