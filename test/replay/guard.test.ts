import { fileURLToPath } from 'node:url';
import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, it } from 'vitest';
import { failureConverterPath } from '../../src/temporal/encryption.js';
import { testDataConverter } from '../helpers/encryption.js';
import { bundleWorkflows } from '../helpers/temporal.js';
import { recordedHistories } from './histories.js';

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never;
const videoHistories = recordedHistories().filter((h) => /(^|\/)video-[^/]*\.json$/.test(h.file));

let real: WorkflowBundleWithSourceMap;
let reordered: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  [real, reordered] = await Promise.all([
    bundleWorkflows(),
    bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./fixtures/reordered-video.ts', import.meta.url)),
      failureConverterPath: failureConverterPath(),
      logger: quiet,
    }),
  ]);
});

/**
 * The replay tests are only worth having if they fail on a breaking change: a copy
 * of `imageToVideo` with two activity calls swapped must not replay the committed
 * histories, while the real workflow does.
 */
describe('replay guard', () => {
  it('covers the video histories of every recorded path', () => {
    // The video workflow is pinned: only histories of the current build are kept (CONTRIBUTING.md, "Changing a workflow").
    expect(videoHistories.length).toBeGreaterThanOrEqual(9);
  });

  it.each(videoHistories.map((h) => [h.file, h] as const))('a reordered imageToVideo fails to replay %s', async (_file, { history, workflowId }) => {
    const options = { dataConverter: testDataConverter() };
    await expect(Worker.runReplayHistory({ ...options, workflowBundle: real }, history, workflowId)).resolves.toBeUndefined();
    await expect(Worker.runReplayHistory({ ...options, workflowBundle: reordered }, history, workflowId)).rejects.toThrow(DeterminismViolationError);
  });
});
