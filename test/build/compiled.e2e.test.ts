import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { useTestSystem } from '../helpers/system.js';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process.js';

/**
 * The production image's worker (Dockerfile, target runtime): the code
 * `npm run build` compiles into dist/, with the workflow bundle it writes there,
 * run by plain Node without tsx. One photo becomes one video.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
let worker: WorkerProcess | undefined;

// The build itself (it starts from an empty dist/), before the system starts.
beforeAll(async () => {
  await run('npm', ['run', 'build'], { cwd: ROOT });
}, 240_000);
const sys = useTestSystem({ worker: false });

afterAll(async () => {
  await worker?.kill();
});

it('turns a photo into a video with the compiled worker and the bundle the build wrote', async () => {
  expect(existsSync(resolve(ROOT, 'dist/worker.js'))).toBe(true);
  expect(existsSync(resolve(ROOT, 'dist/sandbox')), 'the build compiles no simulator or dev stack').toBe(false);
  worker = spawnWorker(sys.env, { compiled: true });
  await worker.ready;
  expect(worker.output()).toContain(`"workflowBundle":"${resolve(ROOT, 'dist/workflow-bundle.js')}"`);

  const chatId = 4242;
  const update = await sys.telegram!.makePhotoUpdate({ chatId, userId: chatId, caption: 'a harbour at dawn' });
  expect((await sys.telegram!.pushUpdate(update)).status).toBe(200);
  const outcome = (await sys.temporal.client.workflow.getHandle(videoWorkflowId(chatId, update.message!.message_id)).result()) as VideoOutcome;
  expect(outcome).toMatchObject({ status: 'completed' });
  expect(sys.telegram!.messagesTo(chatId).filter((m) => m.video)).toHaveLength(1);
}, 120_000);
