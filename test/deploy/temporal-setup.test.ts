import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTemporalBinary } from '../../sandbox/dev/binaries.js';
import { createLocalEnv } from '../helpers/temporal.js';

const ROOT = resolve(import.meta.dirname, '../..');
const NAMESPACE = 'telewan-setup-test';
const cli = findTemporalBinary('cli');
/** temporal.api.enums.v1.IndexedValueType (from @temporalio/proto, not a direct dependency). */
const KEYWORD = 2;
const INT = 3;

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createLocalEnv();
}, 120_000);

afterAll(async () => {
  await env?.teardown();
});

/** Runs the compose stack's setup job as admin-tools would: `temporal` on the PATH. */
function setup() {
  return promisify(execFile)('sh', [resolve(ROOT, 'temporal-config/setup-temporal.sh')], {
    env: { PATH: `${dirname(cli!)}:${process.env.PATH}`, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: NAMESPACE },
    timeout: 60_000,
  });
}

describe.skipIf(!cli)('temporal-config/setup-temporal.sh', () => {
  it('creates the namespace and registers the search attributes, and changes nothing when run again', async () => {
    await setup();
    const { customAttributes } = await env.connection.operatorService.listSearchAttributes({ namespace: NAMESPACE });
    expect(customAttributes).toMatchObject({
      TelewanChatId: INT,
      TelewanKind: KEYWORD,
      TelewanSourceSlug: KEYWORD,
      TelewanOutcome: KEYWORD,
    });
    const described = await env.connection.workflowService.describeNamespace({ namespace: NAMESPACE });
    expect(Number(described.config?.workflowExecutionRetentionTtl?.seconds)).toBe(7 * 24 * 3600);

    const again = await setup();
    expect(again.stdout).toContain('search attribute TelewanChatId exists');
    expect(again.stdout).toContain(`namespace ${NAMESPACE} is ready`);
  }, 120_000);
});
