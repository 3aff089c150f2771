import { afterAll, beforeAll, expect, it } from 'vitest';
import { TASK_QUEUES } from '../../src/constants.js';
import { summaryWorkflowId } from '../../src/workflows/ids.js';
import type { DistributionCounts } from '../../src/workflows/distribution/messages.js';
import { eventually, startTestSystem, type TestSystem } from '../helpers/system.js';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process.js';

const SUBSCRIBERS = 10_000;
const RATE = 400;

let sys: TestSystem;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  sys = await startTestSystem({
    worker: false,
    telegram: { globalRatePerSecond: 1000, perChatRatePerSecond: 1 },
    // The bot-wide ceiling as the simulator's: the broadcast is the only traffic.
    env: { BROADCAST_RATE_PER_SECOND: String(RATE), TELEGRAM_RATE_PER_SECOND: '1000' },
  });
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await sys?.teardown();
});

it(`reaches all ${SUBSCRIBERS} subscribers with two workers, one killed -9 three times`, async () => {
  const prisma = sys.db.prisma;
  const source = await prisma.source.create({ data: { slug: 'crash', title: 'Crash test' } });
  const ids = Array.from({ length: SUBSCRIBERS }, (_, i) => 1_000_000 + i);
  await prisma.telegramUser.createMany({ data: ids.map((id) => ({ id: BigInt(id), chatId: BigInt(id) })) });
  await prisma.subscription.createMany({ data: ids.map((id) => ({ userId: BigInt(id), sourceId: source.id })) });
  const summary = await prisma.summary.create({ data: { sourceId: source.id, externalId: 'v1', title: 'Crash', text: 'Survives.' } });

  const spawn = () => {
    const w = spawnWorker(sys.env);
    workers.push(w);
    return w;
  };
  let alive = [spawn(), spawn()];
  await Promise.all(alive.map((w) => w.ready));

  const handle = await sys.temporal.client.workflow.start('distributeSummary', {
    taskQueue: TASK_QUEUES.broadcast,
    workflowId: summaryWorkflowId(summary.id),
    args: [{ summaryId: summary.id }],
  });
  const sent = () => sys.telegram!.callsTo('sendMessage').filter((c) => c.ok).length;

  const moments = [0.1 + Math.random() * 0.2, 0.35 + Math.random() * 0.2, 0.6 + Math.random() * 0.2].map((f) => Math.round(f * SUBSCRIBERS));
  for (const moment of moments) {
    await eventually(() => sent() >= moment || undefined, 120_000, `${moment} messages sent`);
    const victim = alive[Math.floor(Math.random() * alive.length)]!;
    await victim.kill('SIGKILL');
    alive = [...alive.filter((w) => w !== victim), spawn()];
  }

  const result = (await handle.result()) as DistributionCounts;
  const perChat = new Map<number, number>();
  for (const call of sys.telegram!.callsTo('sendMessage')) {
    if (call.ok) perChat.set(Number(call.chatId), (perChat.get(Number(call.chatId)) ?? 0) + 1);
  }
  const lost = ids.filter((id) => !perChat.has(id)).length;
  const duplicates = [...perChat.values()].reduce((n, c) => n + c - 1, 0);
  console.log(`distribution crash test: killed at ${moments.join(', ')} messages; lost ${lost}, duplicates ${duplicates}, result ${JSON.stringify(result)}`);

  expect(lost).toBe(0);
  expect(result).toMatchObject({ total: SUBSCRIBERS, sent: SUBSCRIBERS, failed: 0, remaining: 0 });
  expect(await prisma.delivery.count({ where: { summaryId: summary.id, status: 'sent' } })).toBe(SUBSCRIBERS);
  // Duplicates can only come from sends on the wire when a worker died: a few per kill at most.
  expect(duplicates).toBeLessThanOrEqual(3 * 64);
}, 600_000);
