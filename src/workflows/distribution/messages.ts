import { defineQuery } from '@temporalio/workflow';
import type { DistributionPlan } from '../../activities/distribution.js';

/** Delivery outcomes so far. */
export interface DeliveryTally {
  sent: number;
  blocked: number;
  notFound: number;
  failed: number;
}

/** What one run hands the next when the history is cut with continue-as-new. */
export interface DistributionCarry {
  plan: DistributionPlan;
  /** Every subscriber with a user id up to this one has been handled. */
  doneUpToUserId: number;
  tally: DeliveryTally;
}

/** Input of {@link distributeSummary}. */
export interface DistributionInput {
  summaryId: number;
  /** Set only by continue-as-new. */
  carry?: DistributionCarry;
  /**
   * A re-drive (`POST /api/workflows/:id/redrive`): deliveries recorded as
   * failed are tried again first; sent ones are never sent again.
   */
  redrive?: boolean;
  /** Overrides of the pacing of workflow work (tests use small values). */
  limits?: { maxInFlight?: number; batchesPerRun?: number };
}

/** Answer of the {@link distributionProgressQuery} and the workflow's result. */
export interface DistributionCounts extends DeliveryTally {
  /** Reachable subscribers when the distribution started. */
  total: number;
  remaining: number;
}

/** Where a distribution stands. */
export const distributionProgressQuery = defineQuery<DistributionCounts>('progress');
