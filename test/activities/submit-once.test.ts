import { createServer, type AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Activities } from '../../src/activities/index.js';
import { createPrisma } from '../../src/db/client.js';
import { recordSubmissionNotSent } from '../../src/db/submissions.js';
import { WavespeedClient } from '../../src/integrations/wavespeed/client.js';
import { WavespeedSimulator } from '../../sandbox/simulators/wavespeed.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { activityEnv, buildActivities, eventually, failureOf, MODEL, runIn, smallJpeg, WAVESPEED_KEY, WORKFLOW_ID } from './helpers.js';

/**
 * A submitGeneration attempt whose worker dies (or whose completion is lost)
 * after its POST reached WaveSpeed is retried by Temporal with the same activity
 * id. WaveSpeed has no idempotency key: the retry must not create and bill a
 * second prediction.
 */
let db: TestDatabase;
const wavespeed = new WavespeedSimulator({ apiKey: WAVESPEED_KEY, latencyMs: 40, processingAfterMs: 10 });
let activities: Activities;
let imageUrl: string;
let refusedRoot: string;
let nextActivity = 0;
const input = () => ({ model: MODEL, imageUrl, prompt: 'a heron taking off' });
/** Attempt `attempt` of one submitGeneration activity; the same `activityId` is a retry. */
const attemptOf = (activityId: string, attempt: number, on: Activities = activities) =>
  runIn(activityEnv({ activityId, attempt }), on.submitGeneration, input());

beforeAll(async () => {
  db = await createTestDatabase();
  await wavespeed.start();
  // The "crashed" attempt's answer is held until it gives up after 1.5 s.
  activities = buildActivities({ wavespeedApiRoot: wavespeed.url, prisma: db.prisma, wavespeedTimeoutMs: 1_500 });
  imageUrl = (await new WavespeedClient({ apiKey: WAVESPEED_KEY, apiRoot: wavespeed.url }).uploadMedia(await smallJpeg(), 'input.jpg', 'image/jpeg')).downloadUrl;
  // A port that was just free: nothing listens there, so the connection is refused.
  const probe = createServer();
  const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as AddressInfo).port)));
  await new Promise((resolve) => probe.close(resolve));
  refusedRoot = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await wavespeed.stop();
  await db?.drop();
});

beforeEach(() => {
  wavespeed.reset();
  wavespeed.configure({ perMinuteLimit: undefined });
  nextActivity++;
});

it('a retry while the first attempt\'s POST is at WaveSpeed (its worker killed) fails as ambiguous and sends nothing', async () => {
  const id = `crash-${nextActivity}`;
  wavespeed.loseNextSubmitAnswers(1, 'timeout');
  const first = attemptOf(id, 1);
  first.catch(() => undefined);
  await eventually(() => wavespeed.predictions.size === 1, 5_000);

  const failure = await failureOf(attemptOf(id, 2));

  expect(failure.type).toBe('WavespeedSubmitAmbiguousError');
  expect(failure.nonRetryable).toBe(true);
  expect(wavespeed.stats.submitted).toBe(1);
  expect(wavespeed.predictions.size).toBe(1);
  // The held attempt gives up as ambiguous too; a third attempt still sends nothing.
  expect((await failureOf(first)).type).toBe('WavespeedSubmitAmbiguousError');
  expect((await failureOf(attemptOf(id, 3))).type).toBe('WavespeedSubmitAmbiguousError');
  expect(wavespeed.stats.submitted).toBe(1);
  expect(await db.prisma.wavespeedSubmission.findMany({ where: { workflowId: WORKFLOW_ID, activityId: id } })).toMatchObject([{ state: 'sending', attempt: 1 }]);
});

it('a retry after a completion lost on its way to Temporal returns the prediction the first attempt created', async () => {
  const id = `lost-completion-${nextActivity}`;
  const first = await attemptOf(id, 1);

  const retried = await attemptOf(id, 2);

  expect(retried).toEqual(first);
  expect(wavespeed.stats.submitted).toBe(1);
});

it('a retry after a refused connection (nothing sent) submits, once', async () => {
  const id = `refused-${nextActivity}`;
  const unreachable = buildActivities({ wavespeedApiRoot: refusedRoot, prisma: db.prisma });
  const failure = await failureOf(attemptOf(id, 1, unreachable));
  expect(failure.type).toBe('WavespeedUnavailableError');
  expect(failure.nonRetryable).toBe(false);

  const { predictionId } = await attemptOf(id, 2);

  expect(wavespeed.stats.submitted).toBe(1);
  expect([...wavespeed.predictions.keys()]).toEqual([predictionId]);
  expect(await db.prisma.wavespeedSubmission.findMany({ where: { workflowId: WORKFLOW_ID, activityId: id } })).toMatchObject([{ state: 'accepted', attempt: 2, predictionId }]);
});

it('a retry after a 429 (WaveSpeed created nothing) submits, once', async () => {
  wavespeed.configure({ perMinuteLimit: 1 });
  await attemptOf(`other-${nextActivity}`, 1);
  const id = `limited-${nextActivity}`;
  expect((await failureOf(attemptOf(id, 1))).type).toBe('WavespeedRateLimitError');
  wavespeed.configure({ perMinuteLimit: undefined });

  await attemptOf(id, 2);

  expect(wavespeed.stats.submitted).toBe(2);
  expect(wavespeed.predictions.size).toBe(2);
});

it('an older attempt that ends late cannot hand back a newer attempt\'s marker', async () => {
  const id = `late-${nextActivity}`;
  wavespeed.loseNextSubmitAnswers(1, 'timeout');
  // Attempt 1 was refused (marker handed back); attempt 2's POST is at WaveSpeed when attempt 1's late write comes.
  const unreachable = buildActivities({ wavespeedApiRoot: refusedRoot, prisma: db.prisma });
  await failureOf(attemptOf(id, 1, unreachable));
  const second = attemptOf(id, 2);
  second.catch(() => undefined);
  await eventually(() => wavespeed.predictions.size === 1, 5_000);
  await recordSubmissionNotSent(db.prisma, { workflowId: WORKFLOW_ID, runId: 'r', activityId: id }, 1);

  expect((await failureOf(attemptOf(id, 3))).type).toBe('WavespeedSubmitAmbiguousError');
  await failureOf(second);
  expect(wavespeed.stats.submitted).toBe(1);
});

it('a marker that cannot be written fails retryably and sends nothing', async () => {
  const broken = createPrisma(db.url.replace(/\/([^/?]+)(\?|$)/, '/telewan_no_such_database$2'));
  try {
    const unrecorded = buildActivities({ wavespeedApiRoot: wavespeed.url, prisma: broken });
    const error = await attemptOf(`no-db-${nextActivity}`, 1, unrecorded).then(() => undefined, (err: unknown) => err);
    // Not a TelewanError: Temporal retries it by policy.
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ApplicationFailure);
    expect(wavespeed.stats.submitted).toBe(0);
  } finally {
    await broken.$disconnect();
  }
});
