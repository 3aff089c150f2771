import { isPredictionStatus } from '../../domain/prediction.js';
import { WavespeedUnavailableError } from '../../errors.js';
import type { PredictionResult } from './types.js';


/**
 * Reads a prediction as WaveSpeed sends it (the `data` of a poll, or a webhook
 * body, which has no envelope) into a {@link PredictionResult}.
 */
export function parsePrediction(raw: unknown): PredictionResult {
  if (typeof raw !== 'object' || raw === null) throw new WavespeedUnavailableError('prediction is not an object');
  const p = raw as Record<string, unknown>;
  if (typeof p.id !== 'string' || p.id === '') throw new WavespeedUnavailableError('prediction has no id');
  if (!isPredictionStatus(p.status)) {
    throw new WavespeedUnavailableError(`prediction has unknown status ${String(p.status)}`);
  }
  const outputs = Array.isArray(p.outputs) ? p.outputs.filter((o): o is string => typeof o === 'string') : [];
  const nsfw = Array.isArray(p.has_nsfw_contents) ? p.has_nsfw_contents.some((x) => x === true) : p.has_nsfw_contents === true;
  const timings = p.timings as { inference?: unknown } | undefined;
  const result: PredictionResult = { id: p.id, status: p.status, outputs, nsfw };
  if (typeof p.error === 'string' && p.error !== '') result.error = p.error;
  if (typeof timings?.inference === 'number') result.inferenceMs = timings.inference;
  return result;
}
