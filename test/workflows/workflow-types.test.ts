import { describe, expect, it } from 'vitest';
import { WORKFLOW_TYPE } from '../../src/constants.js';
import * as workflows from '../../src/workflows/index.js';

describe('WORKFLOW_TYPE', () => {
  it('names exactly the workflows the bundle registers', () => {
    expect(Object.values(WORKFLOW_TYPE).sort()).toEqual(Object.keys(workflows).sort());
    for (const name of Object.values(WORKFLOW_TYPE)) expect(typeof (workflows as Record<string, unknown>)[name]).toBe('function');
  });
});

describe('versioning behaviour', () => {
  // Worker Versioning (src/temporal/worker/deployment.ts): short workflows stay on the build that
  // started them and have no patch branches; long-lived ones move to the current build.
  const expected: Record<string, 'PINNED' | 'AUTO_UPGRADE'> = {
    [WORKFLOW_TYPE.video]: 'PINNED',
    [WORKFLOW_TYPE.command]: 'PINNED',
    [WORKFLOW_TYPE.distribution]: 'AUTO_UPGRADE',
    [WORKFLOW_TYPE.admission]: 'AUTO_UPGRADE',
  };

  it.each(Object.values(WORKFLOW_TYPE))('%s says its own', (name) => {
    const fn = (workflows as Record<string, { workflowDefinitionOptions?: { versioningBehavior?: string } }>)[name]!;
    expect(fn.workflowDefinitionOptions?.versioningBehavior).toBe(expected[name]);
  });
});
