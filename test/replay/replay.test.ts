import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { testDataConverter } from '../helpers/encryption.js';
import { bundleWorkflows } from '../helpers/temporal.js';
import { recordedHistories } from './histories.js';

const histories = recordedHistories();

let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  bundle = await bundleWorkflows();
});

/**
 * Histories recorded from real runs (`npm run history:record`, or exported from a
 * server with `npm run history:export`) must replay against today's workflow code:
 * a change that would break running workflows fails here with a non-determinism
 * error. The replayer decodes with the same codec (test key) as the recorder, and
 * plaintext histories from before encryption pass through it.
 */
describe('replay of recorded histories', () => {
  it('has the recorded paths the workflows promise to keep', () => {
    expect(histories.map((h) => h.file)).toEqual(
      expect.arrayContaining([
        'encrypted/command-start.json',
        'summary-small.json',
        'summary-multi-batch.json',
        'encrypted/video-callback.json',
        'encrypted/video-polling.json',
        'encrypted/video-failed.json',
        'encrypted/video-cancelled.json',
        'encrypted/video-processing.json',
        'encrypted/video-cache-hit.json',
        'encrypted/video-lost-answer.json',
        'encrypted/wavespeed-admission.json',
      ]),
    );
  });

  it.each(histories.map((h) => [h.file, h] as const))('%s replays without non-determinism', async (_file, { history, workflowId }) => {
    await expect(Worker.runReplayHistory({ workflowBundle: bundle, dataConverter: testDataConverter() }, history, workflowId)).resolves.toBeUndefined();
  });
});
