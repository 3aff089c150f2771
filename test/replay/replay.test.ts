import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflows } from '../helpers/temporal.js';

const dir = fileURLToPath(new URL('.', import.meta.url));
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json'));

let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  bundle = await bundleWorkflows();
});

/**
 * Histories recorded from real runs (`npm run history:record`) must replay
 * against today's workflow code: a change that would break running workflows
 * fails here with a non-determinism error.
 */
describe('replay of recorded histories', () => {
  it('has the recorded paths the workflows promise to keep', () => {
    expect(fixtures).toEqual(
      expect.arrayContaining(['video-callback.json', 'video-polling.json', 'video-callback.v1.json', 'summary-small.json', 'summary-multi-batch.json']),
    );
  });

  it.each(fixtures)('%s replays without non-determinism', async (file) => {
    const history = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as unknown;
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, file.replace('.json', ''))).resolves.toBeUndefined();
  });
});
