import { expect, it } from 'vitest';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { eventually, useTestSystem } from '../helpers/system.js';
import { spawnWorker, useWorkerProcesses } from '../helpers/worker-process.js';

/**
 * The worker is killed -9 while WaveSpeed holds the answer to its submit POST:
 * the prediction exists (and will call back), the worker never learned its id.
 * Temporal retries submitGeneration on a second worker once the dead attempt's
 * heartbeat times out; the retry must not submit (and pay) again.
 */
const sys = useTestSystem({ worker: false });
const workers = useWorkerProcesses();

it('a worker killed -9 mid-submit costs one prediction: the retry adopts it from the webhook, one video', async () => {
  const wavespeed = sys.wavespeed!;
  const telegram = sys.telegram!;
  const first = spawnWorker(sys.env);
  workers.push(first);
  await first.ready;

  // The next submission is stored and runs, but its answer never comes: the socket stays silent.
  wavespeed.loseNextSubmitAnswers(1, 'timeout');
  const chatId = 778;
  const update = await telegram.makePhotoUpdate({ chatId, userId: chatId, caption: 'a heron taking off' });
  expect((await telegram.pushUpdate(update)).status).toBe(200);
  const workflowId = videoWorkflowId(chatId, update.message!.message_id);

  await eventually(() => (wavespeed.stats.answersLost === 1 && wavespeed.predictions.size === 1) || undefined, 30_000, 'WaveSpeed to hold the submit answer');
  await first.kill('SIGKILL');
  const killedAt = Date.now();
  const [predictionId] = [...wavespeed.predictions.keys()];

  const second = spawnWorker(sys.env);
  workers.push(second);
  const outcome = (await sys.temporal.client.workflow.getHandle(workflowId).result()) as VideoOutcome;
  const killToVideoMs = Date.now() - killedAt;

  expect(wavespeed.stats.submitted).toBe(1);
  expect(wavespeed.predictions.size).toBe(1);
  expect(outcome).toMatchObject({ status: 'completed', predictionId, resultVia: 'callback' });
  expect(telegram.messagesTo(chatId).filter((m) => m.video)).toHaveLength(1);
  expect(await sys.db.prisma.generation.findUniqueOrThrow({ where: { id: workflowId } })).toMatchObject({ status: 'completed', predictionId });
  // The retried attempt came after the heartbeat timeout (10 s), not the 2 min start-to-close timeout.
  expect(killToVideoMs).toBeLessThan(40_000);
  console.log(`submit-crash: kill -9 to video in ${killToVideoMs} ms, ${wavespeed.stats.submitted} prediction(s)`);
}, 120_000);
