import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activities } from '../../src/activities/index.js';
import type { BatchCounts, RecipientRange } from '../../src/activities/distribution.js';
import { withFailureMapping } from '../../src/activities/failure.js';
import { TelegramUnavailableError } from '../../src/errors.js';
import { workerTuning } from '../../src/temporal/worker/worker-tuning.js';
import { summaryWorkflowId } from '../../src/workflows/ids.js';
import { distributionProgressQuery, type DistributionCounts, type DistributionInput } from '../../src/workflows/distribution/messages.js';
import { bundleWorkflows, createTimeSkippingEnv } from '../helpers/temporal.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let nextSummary = 1;

beforeAll(async () => {
  [env, bundle] = await Promise.all([createTimeSkippingEnv(), bundleWorkflows()]);
});
afterAll(async () => {
  await env?.teardown();
});

type Outcome = 'sent' | 'blocked' | 'notFound' | 'failed';

/** An in-memory source of subscribers with the same range semantics as the real activities. */
function fakeDistribution(opts: { subscribers: number; batchSize: number; outcome?: (userId: number) => Outcome; failFirstAttemptOf?: number }) {
  const users = Array.from({ length: opts.subscribers }, (_, i) => (i + 1) * 3);
  const deliveries = new Map<number, number>();
  const finished: DistributionCounts[] = [];
  let gate: Promise<void> | undefined;
  const activities = withFailureMapping({
    async prepareDistribution() {
      return { sourceId: 1, sourceSlug: 'news', total: users.length, batchSize: opts.batchSize };
    },
    async planRanges({ afterUserId, batchSize, count }: { afterUserId: number; batchSize: number; count: number }): Promise<RecipientRange[]> {
      const next = users.filter((u) => u > afterUserId).slice(0, batchSize * count);
      const ranges: RecipientRange[] = [];
      let after = afterUserId;
      for (let i = 0; i < next.length; i += batchSize) {
        const upTo = next[Math.min(i + batchSize, next.length) - 1]!;
        ranges.push({ afterUserId: after, upToUserId: upTo });
        after = upTo;
      }
      return ranges;
    },
    async deliverSummaryBatch({ afterUserId, upToUserId }: RecipientRange): Promise<BatchCounts> {
      if (gate) await gate;
      const counts: BatchCounts = { sent: 0, blocked: 0, notFound: 0, failed: 0 };
      const batch = users.filter((u) => u > afterUserId && u <= upToUserId);
      if (opts.failFirstAttemptOf !== undefined && batch.includes(opts.failFirstAttemptOf) && Context.current().info.attempt === 1) {
        // Half the batch went out before the failure, as after a crash.
        for (const u of batch.slice(0, batch.length / 2)) deliveries.set(u, (deliveries.get(u) ?? 0) + 1);
        throw new TelegramUnavailableError('sendMessage', 'connection reset');
      }
      for (const u of batch) {
        const outcome = opts.outcome?.(u) ?? 'sent';
        // Exactly-once lives in the real activity's delivery rows; the fake keeps the same promise.
        if (outcome === 'sent' && !deliveries.has(u)) deliveries.set(u, 1);
        counts[outcome] += 1;
      }
      return counts;
    },
    async finishDistribution({ counts }: { counts: DistributionCounts }) {
      finished.push(counts);
    },
  });
  return {
    activities: activities as unknown as Activities,
    deliveries,
    finished,
    users,
    hold() {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

async function distribute(fake: ReturnType<typeof fakeDistribution>, input: Partial<DistributionInput> = {}, during?: (id: string) => Promise<void>) {
  const summaryId = nextSummary++;
  const taskQueue = `dist-${summaryId}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fake.activities, ...workerTuning });
  const workflowId = summaryWorkflowId(summaryId);
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start('distributeSummary', { taskQueue, workflowId, args: [{ summaryId, ...input }] });
    if (during) await during(workflowId);
    const result = (await handle.result()) as DistributionCounts;
    return { result, workflowId, runs: await runsOf(workflowId, handle.firstExecutionRunId) };
  });
}

/** The history lengths of each run, following continue-as-new from the first. */
async function runsOf(workflowId: string, firstRunId: string): Promise<number[]> {
  const lengths: number[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: Awaited<ReturnType<ReturnType<typeof env.client.workflow.getHandle>['fetchHistory']>> = await env.client.workflow
      .getHandle(workflowId, runId)
      .fetchHistory();
    const events = history.events ?? [];
    lengths.push(events.length);
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return lengths;
}

describe('distributeSummary', () => {
  it('delivers to every subscriber in batches and records the counts', async () => {
    const fake = fakeDistribution({ subscribers: 25, batchSize: 10, outcome: (u) => (u === 9 ? 'blocked' : u === 12 ? 'notFound' : u === 15 ? 'failed' : 'sent') });
    const { result, runs } = await distribute(fake);
    expect(runs).toHaveLength(1);
    expect(result).toEqual({ total: 25, sent: 22, blocked: 1, notFound: 1, failed: 1, remaining: 0 });
    expect(fake.finished).toEqual([result]);
    expect(fake.deliveries.size).toBe(22);
  });

  it('finishes at once for a source without subscribers', async () => {
    const fake = fakeDistribution({ subscribers: 0, batchSize: 10 });
    const { result } = await distribute(fake);
    expect(result).toEqual({ total: 0, sent: 0, blocked: 0, notFound: 0, failed: 0, remaining: 0 });
    expect(fake.finished).toHaveLength(1);
  });

  it('continues as new to bound its history, reaching everyone exactly once', async () => {
    const fake = fakeDistribution({ subscribers: 1000, batchSize: 10 });
    const { result, runs } = await distribute(fake, { limits: { batchesPerRun: 30, maxInFlight: 3 } });
    expect(result).toMatchObject({ total: 1000, sent: 1000, remaining: 0 });
    expect([...fake.deliveries.values()].every((n) => n === 1)).toBe(true);
    expect(fake.deliveries.size).toBe(1000);
    expect(fake.finished).toHaveLength(1);
    // 100 batches at 30 per run: four runs, each with a short history.
    expect(runs).toHaveLength(4);
    expect(Math.max(...runs)).toBeLessThan(300);
  });

  it('retries a batch that failed after a partial send without losing anyone', async () => {
    const fake = fakeDistribution({ subscribers: 40, batchSize: 10, failFirstAttemptOf: 45 });
    const { result } = await distribute(fake);
    expect(result).toMatchObject({ total: 40, sent: 40, remaining: 0 });
    expect(fake.deliveries.size).toBe(40);
    expect([...fake.deliveries.values()].every((n) => n === 1)).toBe(true);
  });

  it('answers the progress query while it runs', async () => {
    const fake = fakeDistribution({ subscribers: 30, batchSize: 10 });
    let seen: DistributionCounts | undefined;
    await distribute(fake, { limits: { maxInFlight: 1 } }, async (id) => {
      const release = fake.hold();
      const handle = env.client.workflow.getHandle(id);
      for (let i = 0; i < 100 && !seen; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const p = await handle.query(distributionProgressQuery).catch(() => undefined);
        if (p) seen = p;
      }
      release();
    });
    expect(seen).toEqual({ total: 30, sent: 0, blocked: 0, notFound: 0, failed: 0, remaining: 30 });
  });
});
