import proto from '@temporalio/proto';
import { afterAll, expect, it } from 'vitest';
import { WORKFLOW_TYPE } from '../../src/constants.js';
import { createLogger } from '../../src/observability/logger.js';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { startWorker, type RunningWorker } from '../../src/worker.js';
import { eventually, useTestSystem } from '../helpers/system.js';

// Node's ESM loader sees only the default export of this CommonJS package.
const { temporal } = proto;

/**
 * Worker Versioning on a real dev server: the stack's worker is build A; a
 * second worker of build B starts while a video of A's is waiting for WaveSpeed.
 */
const sys = useTestSystem({ env: { WORKER_BUILD_ID: 'build-a' } });
const extra: RunningWorker[] = [];
const quiet = createLogger({ level: 'warn', secrets: [] });

afterAll(async () => {
  await Promise.all(extra.map((w) => w.shutdown()));
});

let nextChat = 93_000;
async function sendPhoto(caption: string): Promise<string> {
  const chatId = nextChat++;
  const update = await sys.telegram!.makePhotoUpdate({ chatId, userId: chatId, caption });
  expect((await sys.telegram!.pushUpdate(update)).status).toBe(200);
  return videoWorkflowId(chatId, update.message!.message_id);
}

/** The build of every workflow task a workflow completed, in order. */
async function buildsOf(workflowId: string, runId?: string): Promise<string[]> {
  const { events } = await sys.temporal.client.workflow.getHandle(workflowId, runId).fetchHistory();
  return (events ?? []).flatMap((e) => {
    const done = e.workflowTaskCompletedEventAttributes;
    return done ? [done.deploymentVersion?.buildId ?? 'unversioned'] : [];
  });
}

async function currentBuild(): Promise<string | null | undefined> {
  const { workerDeploymentInfo } = await sys.temporal.client.workflowService.describeWorkerDeployment({
    namespace: 'default',
    deploymentName: sys.config.WORKER_DEPLOYMENT_NAME,
  });
  return workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId;
}

it('keeps a video on the build that started it, sends new ones and the admission line to the next build, and an older build restarting does not take over', async () => {
  expect(sys.worker!.version).toEqual({ deploymentName: 'telewan', buildId: 'build-a' });
  expect(sys.worker!.promotion).toBe('made-current');

  const onA = await sendPhoto('a slow zoom [slow:8000]');
  await eventually(
    async () => (await sys.db.prisma.generation.findUnique({ where: { id: onA } }))?.status === 'submitted' || undefined,
    30_000,
    'the first video to be submitted',
  );

  const b = await startWorker({ ...sys.config, WORKER_BUILD_ID: 'build-b' }, {}, { logger: quiet });
  extra.push(b);
  expect(b.promotion).toBe('made-current');
  expect(await currentBuild()).toBe('build-b');

  const onB = await sendPhoto('the waves roll in');
  const outcomes = (await Promise.all([onA, onB].map((id) => sys.temporal.client.workflow.getHandle(id).result()))) as VideoOutcome[];
  expect(outcomes.map((o) => o.status)).toEqual(['completed', 'completed']);
  for (const id of [onA, onB]) expect(sys.telegram!.messagesTo(Number(id.split('-')[1])).filter((m) => m.video)).toHaveLength(1);

  // Pinned: every workflow task of the first video ran on A, though B was current for most of them.
  expect(new Set(await buildsOf(onA))).toEqual(new Set(['build-a']));
  expect(new Set(await buildsOf(onB))).toEqual(new Set(['build-b']));
  const pinned = await sys.temporal.client.workflow.getHandle(onA).describe();
  expect(pinned.raw.workflowExecutionInfo?.versioningInfo?.behavior).toBe(temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED);

  // Auto-upgrade: the admission shard that granted both permits started on A and moved to B, in the same run.
  const shards = [];
  for await (const w of sys.temporal.client.workflow.list({ query: `WorkflowType = '${WORKFLOW_TYPE.admission}' AND ExecutionStatus = 'Running'` })) shards.push(w);
  const moved = await Promise.all(shards.map(async (s) => ({ id: s.workflowId, builds: await buildsOf(s.workflowId, s.runId) })));
  const upgraded = moved.find((s) => s.builds.includes('build-a') && s.builds.at(-1) === 'build-b');
  expect(upgraded, JSON.stringify(moved)).toBeDefined();
  const upgradedInfo = (await sys.temporal.client.workflow.getHandle(upgraded!.id).describe()).raw.workflowExecutionInfo?.versioningInfo;
  expect(upgradedInfo?.behavior).toBe(temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE);

  // A worker of the older build restarting during the roll-out serves A's pinned workflows only.
  const aAgain = await startWorker({ ...sys.config, WORKER_BUILD_ID: 'build-a' }, {}, { logger: quiet });
  extra.push(aAgain);
  expect(aAgain.promotion).toBe('newer-is-current');
  expect(await currentBuild()).toBe('build-b');
}, 120_000);
