import { z } from 'zod';
import { WAVESPEED_DEFAULT_DURATION_SECONDS, WAVESPEED_LIST_PRICES, WAVESPEED_MODELS } from './constants.js';

/** US dollars per video, by model and then by video length in seconds. */
export type PriceTable = Readonly<Record<string, Readonly<Record<number, number>>>>;

const usd = z.number().finite().nonnegative();
const byDuration = z.record(z.string().regex(/^[1-9]\d*$/, 'durations are whole seconds, e.g. "5"'), usd);
const overrides = z.partialRecord(z.enum(WAVESPEED_MODELS), byDuration);

const json = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.issues.push({ code: 'custom', message: 'is not valid JSON', input: text });
    return z.NEVER;
  }
});

/** The list prices with some replaced: each given (model, length) pair overrides its price. */
export function withPriceOverrides(given: z.infer<typeof overrides> = {}): PriceTable {
  const table: Record<string, Record<number, number>> = {};
  for (const model of WAVESPEED_MODELS) {
    table[model] = { ...WAVESPEED_LIST_PRICES[model] };
    for (const [seconds, price] of Object.entries(given[model] ?? {})) table[model][Number(seconds)] = price;
  }
  return table;
}

/**
 * `WAVESPEED_PRICES`: JSON such as `{"wavespeed-ai/wan-2.2/i2v-720p":{"5":0.32,"8":0.5}}`,
 * laid over {@link WAVESPEED_LIST_PRICES}; unset, the list prices apply.
 */
export const wavespeedPricesSetting = json
  .pipe(overrides)
  .optional()
  .transform((given) => withPriceOverrides(given));

/** The price of one video of `model`, or undefined when the table does not know it. */
export function priceOf(prices: PriceTable, model: string, durationSeconds: number = WAVESPEED_DEFAULT_DURATION_SECONDS): number | undefined {
  return prices[model]?.[durationSeconds];
}

/** What {@link incurredCost} needs to know of a generation that just ended. */
export interface EndedGeneration {
  model: string;
  status: 'completed' | 'failed' | 'cancelled';
  errorKind?: string | null;
  /** Set once WaveSpeed accepted the submission. */
  predictionId?: string | null;
  /** The length asked for; none: the default. */
  durationSeconds?: number | null;
}

/**
 * What WaveSpeed charges for a generation, in US dollars. A prediction costs its
 * price once WaveSpeed accepted it, unless WaveSpeed reported it failed
 * (failed, cancelled or timed out there: its refund policy refunds those
 * automatically). So a finished video costs its price even when it was flagged
 * NSFW or could not be delivered, and so does one the user cancelled, or we
 * stopped waiting for, after submission (WaveSpeed goes on making it). Nothing
 * submitted (rejected, bad image, refused, a cached result) costs 0. Undefined
 * when the price of the model is not known.
 */
export function incurredCost(generation: EndedGeneration, prices: PriceTable): number | undefined {
  if (!generation.predictionId) return 0;
  if (generation.status === 'failed' && generation.errorKind === 'generation-failed') return 0;
  return priceOf(prices, generation.model, generation.durationSeconds ?? undefined);
}
