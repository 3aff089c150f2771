import { Client, Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { TemporalUnavailableError, TemporalWorkflowGateway } from '../../src/temporal/starter.js';

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
});
