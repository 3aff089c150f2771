import { describe, expect, it } from 'vitest';
import { WORKFLOW_TYPE } from '../../src/constants.js';
import * as workflows from '../../src/workflows/index.js';

describe('WORKFLOW_TYPE', () => {
  it('names exactly the workflows the bundle registers', () => {
    expect(Object.values(WORKFLOW_TYPE).sort()).toEqual(Object.keys(workflows).sort());
    for (const name of Object.values(WORKFLOW_TYPE)) expect(typeof (workflows as Record<string, unknown>)[name]).toBe('function');
  });
});
