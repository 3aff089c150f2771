import { expect, it } from 'vitest';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { eventually, useTestSystem } from '../helpers/system.js';
import { spawnWorker, useWorkerProcesses } from '../helpers/worker-process.js';

const sys = useTestSystem({ worker: false });
const workers = useWorkerProcesses();

it('delivers exactly one video when the worker is killed -9 while waiting for WaveSpeed', async () => {
  const first = spawnWorker(sys.env);
  workers.push(first);
  await first.ready;

  const chatId = 777;
  const update = await sys.telegram!.makePhotoUpdate({ chatId, userId: chatId, caption: 'a slow zoom [slow:6000]' });
  expect((await sys.telegram!.pushUpdate(update)).status).toBe(200);
  const workflowId = videoWorkflowId(chatId, update.message!.message_id);

  await eventually(
    async () => (await sys.db.prisma.generation.findUnique({ where: { id: workflowId } }))?.status === 'submitted' || undefined,
    30_000,
    'the generation to be submitted',
  );
  await first.kill('SIGKILL');

  // WaveSpeed's webhook arrives while no worker runs: Temporal keeps the signal.
  await eventually(() => sys.wavespeed!.webhooks.find((w) => w.ok) ?? undefined, 30_000, 'the webhook');
  expect(sys.telegram!.messagesTo(chatId).filter((m) => m.video)).toHaveLength(0);

  const second = spawnWorker(sys.env);
  workers.push(second);
  const outcome = (await sys.temporal.client.workflow.getHandle(workflowId).result()) as VideoOutcome;

  expect(outcome).toMatchObject({ status: 'completed', resultVia: 'callback' });
  expect(sys.telegram!.messagesTo(chatId).filter((m) => m.video)).toHaveLength(1);
  expect(sys.wavespeed!.stats.submitted).toBe(1);
  expect(await sys.db.prisma.generation.findUniqueOrThrow({ where: { id: workflowId } })).toMatchObject({ status: 'completed' });
}, 120_000);
