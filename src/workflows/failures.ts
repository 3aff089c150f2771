import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

/** The named error (`ErrorType`) an activity failed with, as the activity boundary mapped it; undefined for anything else. */
export function activityFailureType(err: unknown): string | undefined {
  return activityFailureCause(err)?.type ?? undefined;
}

/** The `ApplicationFailure` an activity failed with, carrying its type and details. */
export function activityFailureCause(err: unknown): ApplicationFailure | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
}
