import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import { TelewanOutcome, type WorkflowOutcome } from '../temporal/search-attributes.js';

/**
 * Upserting the outcome is a workflow command: a summary distribution started
 * before it existed closes without it (`distributeSummary` auto-upgrades, so it
 * keeps its patch; the pinned video workflow upserts it always).
 */
const OUTCOME_SEARCH_ATTRIBUTE = 'outcome-search-attribute';

/**
 * Sets the `TelewanOutcome` search attribute as the workflow ends, so operators
 * find "every video that failed for its user" even though such a workflow
 * completes as an execution. `patchedOnly`: only when the workflow runs the
 * patch that added it.
 */
export function markOutcome(outcome: WorkflowOutcome, { patchedOnly }: { patchedOnly: boolean }): void {
  if (!patchedOnly || patched(OUTCOME_SEARCH_ATTRIBUTE)) upsertSearchAttributes([{ key: TelewanOutcome, value: outcome }]);
}
