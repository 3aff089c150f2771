import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPrisma, type PrismaClient } from '../../src/db/client.js';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { eventually } from '../helpers/system.js';
import { createLocalEnv } from '../helpers/temporal.js';
import { deliverUpdate, startFaultSystem, videosPerChat, within, type FaultSystem } from './helpers/fault-system.js';
import { PrivatePostgres } from './helpers/private-postgres.js';

/**
 * PostgreSQL down while videos are in flight. The property is "any length of
 * outage"; CI waits out 2 minutes (FAULT_PG_OUTAGE_SECONDS to try longer).
 */
const OUTAGE_MS = Number(process.env.FAULT_PG_OUTAGE_SECONDS ?? 120) * 1000;
const BEFORE = 10;
const DURING = 10;
/** WaveSpeed takes this long per video: the first ten finish while the database is down. */
const GENERATION_MS = 15_000;

let pg: PrivatePostgres | undefined;
let temporal: TestWorkflowEnvironment | undefined;
let sys: FaultSystem | undefined;
let prisma: PrismaClient | undefined;

beforeAll(async () => {
  [pg, temporal] = await Promise.all([PrivatePostgres.create(), createLocalEnv()]);
  const databaseUrl = await pg.migrate();
  prisma = createPrisma(databaseUrl);
  sys = await startFaultSystem({
    databaseUrl,
    temporalAddress: temporal.address,
    env: { WAVESPEED_MAX_CONCURRENCY: String(BEFORE + DURING), WAVESPEED_QUEUE_MAX: '100' },
    wavespeed: { maxConcurrent: 100, latencyMs: GENERATION_MS, processingAfterMs: 100 },
  });
}, 120_000);

afterAll(async () => {
  await sys?.teardown();
  await prisma?.$disconnect().catch(() => undefined);
  await temporal?.teardown();
  await pg?.destroy();
}, 60_000);

it(`delivers ${BEFORE + DURING} videos once each with PostgreSQL down for ${OUTAGE_MS / 1000} s mid-run`, async () => {
  const { telegram, wavespeed, client } = sys!;
  const worker = sys!.spawnWorker();
  await within(worker.ready, 60_000, 'the worker to poll');
  const startedAt = Date.now();

  const send = async (chatId: number) => {
    const update = await telegram.makePhotoUpdate({ chatId, userId: chatId, width: 320, height: 240, caption: `a lighthouse in fog, take ${chatId}` });
    await deliverUpdate(telegram, update);
    return videoWorkflowId(chatId, update.message!.message_id);
  };
  const chats = Array.from({ length: BEFORE + DURING }, (_, i) => 41_000 + i);
  const early = await Promise.all(chats.slice(0, BEFORE).map(send));
  // All ten at WaveSpeed, their records written: the outage hits them waiting for the result.
  await eventually(
    async () => (await prisma!.generation.count({ where: { id: { in: early }, status: { in: ['submitted', 'processing'] } } })) === BEFORE || undefined,
    60_000,
    `${BEFORE} generations submitted`,
  );
  expect(telegram.messagesTo(chats[0]!).filter((m) => m.video)).toHaveLength(0);

  await pg!.stop();
  const downAt = Date.now();
  // Ten more arrive while it is down: the gateway needs only Temporal, so they are accepted.
  const late = await Promise.all(chats.slice(BEFORE).map(send));
  const ids = [...early, ...late];
  // The first ten finish at WaveSpeed (and call back) while the database is down.
  await eventually(() => wavespeed.stats.completed >= BEFORE || undefined, GENERATION_MS + 30_000, 'WaveSpeed to finish the first ten');
  const remaining = OUTAGE_MS - (Date.now() - downAt);
  // The outage itself is the fault: it lasts its length whatever happens meanwhile.
  if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
  const deliveredDuringOutage = [...videosPerChat(telegram, chats).values()].reduce((n, c) => n + c, 0);
  expect(worker.child.exitCode, 'the worker survived the outage').toBeNull();
  await pg!.start();
  const upAt = Date.now();

  const outcomes = await within(
    Promise.all(ids.map(async (id) => (await client.workflow.getHandle(id).result()) as VideoOutcome)),
    120_000,
    'every video workflow to finish after the database came back',
  );
  const recoveredMs = Date.now() - upAt;
  const perChat = videosPerChat(telegram, chats);
  console.log(
    `postgres outage: ${((upAt - downAt) / 1000).toFixed(0)} s down; ${deliveredDuringOutage} videos delivered during it; ` +
      `all ${ids.length} finished ${(recoveredMs / 1000).toFixed(1)} s after it came back (${((Date.now() - startedAt) / 1000).toFixed(0)} s in all); ` +
      `videos per chat ${JSON.stringify([...new Set(perChat.values())])}; predictions ${wavespeed.predictions.size} (submitted ${wavespeed.stats.submitted})`,
  );

  expect(outcomes.map((o) => o.status)).toEqual(Array(ids.length).fill('completed'));
  expect([...perChat.values()]).toEqual(Array(chats.length).fill(1));
  expect(wavespeed.stats.submitted).toBe(ids.length);
  expect(wavespeed.predictions.size).toBe(ids.length);
  expect(await prisma!.generation.count({ where: { id: { in: ids }, status: 'completed' } })).toBe(ids.length);
  expect(worker.child.exitCode, 'the worker is still the first one').toBeNull();
}, 300_000);
