/**
 * WaveSpeed's prediction states (../shared/API-NOTES.md): the one place they
 * are spelled. Pure, so workflows, activities, the WaveSpeed client and the
 * simulator all import it (frozen arrays, no module-level Set: workflow modules
 * hold no state, test/temporal/workflow-bundle.test.ts).
 */
export const PREDICTION_STATUSES = Object.freeze(['created', 'processing', 'completed', 'failed', 'cancelled', 'timeout'] as const);
export type PredictionStatus = (typeof PREDICTION_STATUSES)[number];

/** The states after which a prediction changes no more. */
export const TERMINAL_PREDICTION_STATUSES = Object.freeze(['completed', 'failed', 'cancelled', 'timeout'] as const satisfies readonly PredictionStatus[]);

export function isPredictionStatus(status: unknown): status is PredictionStatus {
  return typeof status === 'string' && (PREDICTION_STATUSES as readonly string[]).includes(status);
}

/** True once the prediction has ended at WaveSpeed (its slot is free). */
export function isTerminalStatus(status: string): boolean {
  return (TERMINAL_PREDICTION_STATUSES as readonly string[]).includes(status);
}
