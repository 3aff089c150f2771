import { continueAsNew, proxyActivities, setHandler, setWorkflowOptions, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import type { RecipientRange } from '../../activities/distribution.js';
import {
  distributionProgressQuery,
  type DeliveryTally,
  type DistributionCounts,
  type DistributionInput,
} from './messages.js';
import { markOutcome } from '../outcome.js';

export * from './messages.js';

const { prepareDistribution, planRanges, finishDistribution, reopenFailedDeliveries } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

const { deliverSummaryBatch } = proxyActivities<Activities>({
  // A batch is about a second of sending, longer when Telegram asks us to wait.
  startToCloseTimeout: '15m',
  // Short, so a dead worker's batch moves on quickly; the batch heartbeats every second.
  heartbeatTimeout: '10s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/** Batches sending at once: enough to keep the fleet-wide limiter's slots filled. */
const MAX_IN_FLIGHT = 4;
/** Ranges planned per `planRanges` call. */
const RANGES_PER_PLAN = 20;
/** Batches one run starts before it continues as new, keeping its history small. */
const BATCHES_PER_RUN = 200;

/**
 * Delivers a summary to every reachable subscriber of its source, once.
 *
 * Subscribers are walked by user id in ranges of about a second's sending; only
 * range boundaries go through history, and the run continues as new every
 * {@link BATCHES_PER_RUN} batches, so 100,000 subscribers or more stay far from
 * Temporal's history limits. Sending pace, 429s and exactly-once are the
 * business of `deliverSummaryBatch` (see `src/activities/distribution.ts`). Ends
 * by marking the summary sent and recording `summary.distributed`. A re-drive
 * (`input.redrive`) first reopens the deliveries that failed, then walks the
 * subscribers again: finished deliveries are skipped, reopened ones sent.
 */
export async function distributeSummary(input: DistributionInput): Promise<DistributionCounts> {
  // Only a re-drive's first run: its continuations carry on from the walk.
  if (input.redrive && !input.carry) await reopenFailedDeliveries({ summaryId: input.summaryId });
  const plan = input.carry?.plan ?? (await prepareDistribution({ summaryId: input.summaryId }));
  const tally: DeliveryTally = { ...(input.carry?.tally ?? { sent: 0, blocked: 0, notFound: 0, failed: 0 }) };
  const counts = (): DistributionCounts => {
    const done = tally.sent + tally.blocked + tally.notFound + tally.failed;
    return { total: plan.total, ...tally, remaining: Math.max(0, plan.total - done) };
  };
  setHandler(distributionProgressQuery, counts);

  let startedUpTo = input.carry?.doneUpToUserId ?? 0;
  let plannedUpTo = startedUpTo;
  let planned: RecipientRange[] = [];
  let morePlanned = true;
  let batches = 0;
  const inFlight = new Set<Promise<void>>();

  const maxInFlight = input.limits?.maxInFlight ?? MAX_IN_FLIGHT;
  const batchesPerRun = input.limits?.batchesPerRun ?? BATCHES_PER_RUN;
  const cutHistory = () => batches >= batchesPerRun || workflowInfo().continueAsNewSuggested;

  for (;;) {
    while (inFlight.size < maxInFlight && !cutHistory()) {
      if (planned.length === 0 && morePlanned) {
        planned = await planRanges({ sourceId: plan.sourceId, afterUserId: plannedUpTo, batchSize: plan.batchSize, count: RANGES_PER_PLAN });
        morePlanned = planned.length === RANGES_PER_PLAN;
        plannedUpTo = planned.at(-1)?.upToUserId ?? plannedUpTo;
      }
      const range = planned.shift();
      if (!range) break;
      startedUpTo = range.upToUserId;
      batches += 1;
      const summary = `send to ${plan.sourceSlug} subscribers with user id ${range.afterUserId + 1}–${range.upToUserId}`;
      const batch: Promise<void> = deliverSummaryBatch
        .executeWithOptions({ summary }, [{ summaryId: input.summaryId, sourceId: plan.sourceId, ...range }])
        .then((result) => {
          tally.sent += result.sent;
          tally.blocked += result.blocked;
          tally.notFound += result.notFound;
          tally.failed += result.failed;
        })
        .finally(() => inFlight.delete(batch));
      inFlight.add(batch);
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight);
  }

  if (planned.length > 0 || morePlanned) {
    // Every started batch has finished: the next run starts after the last one.
    await continueAsNew<typeof distributeSummary>({
      summaryId: input.summaryId,
      carry: { plan, doneUpToUserId: startedUpTo, tally },
      limits: input.limits,
      ...(input.redrive ? { redrive: true } : {}),
    });
  }
  const result = counts();
  await finishDistribution({ summaryId: input.summaryId, counts: result });
  markOutcome(result.failed > 0 ? 'partial' : 'completed', { patchedOnly: true });
  return result;
}

/**
 * Auto-upgrade (Worker Versioning): a distribution runs for as long as its
 * subscribers take, across continue-as-new, and moves to the current build at
 * its next workflow task; a change to it goes through `patched()`.
 */
setWorkflowOptions({ versioningBehavior: 'AUTO_UPGRADE' }, distributeSummary);
