import { Client, Connection, WorkflowExecutionAlreadyStartedError, type WorkflowStartOptions } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { WORKFLOW_TYPE } from '../../src/constants.js';
import { countWorkflowStarts } from '../../src/gateway/metrics.js';
import { createGatewayMetrics } from '../../src/observability/metrics.js';
import { TemporalUnavailableError, TemporalWorkflowGateway } from '../../src/temporal/client/starter.js';

/** A client whose `workflow.start` records what it was asked and answers like Temporal: a second start of an id finds it running. */
function recordingClient() {
  const connection = Connection.lazy({ address: '127.0.0.1:9' });
  const client = new Client({ connection });
  const starts: Array<{ workflowType: string; options: WorkflowStartOptions }> = [];
  const ids = new Set<string>();
  Object.assign(client.workflow, {
    start: async (workflowType: string, options: WorkflowStartOptions) => {
      starts.push({ workflowType, options });
      if (ids.has(options.workflowId)) throw new WorkflowExecutionAlreadyStartedError('already started', options.workflowId, workflowType);
      ids.add(options.workflowId);
      return undefined;
    },
  });
  return { client, starts, close: () => connection.close().catch(() => undefined) };
}

describe('TemporalWorkflowGateway', () => {
  it('answers TemporalUnavailableError quickly when no Temporal server listens', async () => {
    // Port 9 (discard) on loopback: nothing answers.
    const connection = Connection.lazy({ address: '127.0.0.1:9' });
    const client = new Client({ connection });
    const gateway = new TemporalWorkflowGateway(client, { model: 'm', deadlineMs: 1000, rpcTimeoutMs: 1_500 });
    const started = Date.now();
    await expect(
      gateway.startVideo({ user: { userId: 1, chatId: 1 }, messageId: 1, fileId: 'f', prompt: 'p' }),
    ).rejects.toBeInstanceOf(TemporalUnavailableError);
    await expect(gateway.startDistribution({ summaryId: 1, sourceSlug: 'tech-news' })).rejects.toBeInstanceOf(TemporalUnavailableError);
    expect(Date.now() - started).toBeLessThan(10_000);
    await connection.close().catch(() => undefined);
  });

  it('starts every business workflow through one path: its type from WORKFLOW_TYPE, a repeat counted as a duplicate', async () => {
    const { client, starts, close } = recordingClient();
    const metrics = createGatewayMetrics();
    const gateway = new TemporalWorkflowGateway(client, { model: 'm', deadlineMs: 1000, onStart: countWorkflowStarts(metrics) });
    const video = { user: { userId: 1, chatId: 1 }, messageId: 5, fileId: 'f', prompt: 'p' };
    expect(await gateway.startVideo(video)).toEqual({ workflowId: 'video-1-5', started: true });
    expect(await gateway.startVideo(video)).toEqual({ workflowId: 'video-1-5', started: false });
    await gateway.startCommand({ user: { userId: 1, chatId: 1 }, messageId: 6, command: 'start' });
    await gateway.startDistribution({ summaryId: 9, sourceSlug: 'tech-news' });
    expect(starts.map((s) => s.workflowType)).toEqual([WORKFLOW_TYPE.video, WORKFLOW_TYPE.video, WORKFLOW_TYPE.command, WORKFLOW_TYPE.distribution]);
    for (const { options } of starts) {
      expect(options).toMatchObject({ workflowIdReusePolicy: 'REJECT_DUPLICATE' });
      expect(options.staticSummary).toEqual(expect.any(String));
      expect(options.typedSearchAttributes).toHaveLength(2);
    }
    const text = await metrics.registry.metrics();
    const count = (type: string, result: string) =>
      Number(new RegExp(`^telewan_workflow_starts_total\\{workflow_type="${type}",result="${result}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    expect(count(WORKFLOW_TYPE.video, 'started')).toBe(1);
    expect(count(WORKFLOW_TYPE.video, 'duplicate')).toBe(1);
    expect(count(WORKFLOW_TYPE.command, 'started')).toBe(1);
    expect(count(WORKFLOW_TYPE.distribution, 'started')).toBe(1);
    await close();
  });
});
