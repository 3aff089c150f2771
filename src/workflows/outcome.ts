import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import { TelewanOutcome, type WorkflowOutcome } from '../temporal/search-attributes.js';

/**
 * Upserting the outcome is a workflow command: workflows started before it
 * existed close without it.
 */
const OUTCOME_SEARCH_ATTRIBUTE = 'outcome-search-attribute';

/**
 * Sets the `TelewanOutcome` search attribute as the workflow ends, so operators
 * find "every video that failed for its user" even though such a workflow
 * completes as an execution. `isPatched` is the video workflow's `changed`
 * for its requests (one marker for all of its changes).
 */
export function markOutcome(outcome: WorkflowOutcome, isPatched: (id: string) => boolean = patched): void {
  if (isPatched(OUTCOME_SEARCH_ATTRIBUTE)) upsertSearchAttributes([{ key: TelewanOutcome, value: outcome }]);
}
