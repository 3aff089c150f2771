import type { Client } from '@temporalio/client';
import { WORKFLOW_TYPE } from '../../constants.js';
import { TemporalUnavailableError } from './starter.js';

/** The workflow types operators see counted. */
export const WORKFLOW_TYPES = [WORKFLOW_TYPE.video, WORKFLOW_TYPE.command, WORKFLOW_TYPE.distribution] as const;
export type WorkflowType = (typeof WORKFLOW_TYPES)[number];

/** Temporal's visibility store, as far as `/api/stats` needs it. */
export interface WorkflowCounter {
  /** Executions of `workflowType` now in `status`. Throws {@link TemporalUnavailableError} when Temporal does not answer. */
  countWorkflows(workflowType: WorkflowType, status: 'Running' | 'Failed'): Promise<number>;
}

/** {@link WorkflowCounter} over Temporal's visibility API (`CountWorkflowExecutions`). */
export class TemporalWorkflowCounter implements WorkflowCounter {
  constructor(
    private readonly client: Client,
    private readonly options: { rpcTimeoutMs?: number } = {},
  ) {}

  async countWorkflows(workflowType: WorkflowType, status: 'Running' | 'Failed'): Promise<number> {
    try {
      const { count } = await this.client.withDeadline(Date.now() + (this.options.rpcTimeoutMs ?? 5_000), () =>
        this.client.workflow.count(`WorkflowType = '${workflowType}' AND ExecutionStatus = '${status}'`),
      );
      return count;
    } catch (err) {
      throw new TemporalUnavailableError({ cause: err });
    }
  }
}
