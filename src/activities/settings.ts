import { WAVESPEED_MODELS } from '../constants.js';
import { findVideoSettings, storeVideoSettings, type TelegramUserInput } from '../db/users.js';
import { effectiveSettings, MODEL_LABELS, WAVESPEED_DURATIONS, type VideoSettings } from '../domain/video-settings.js';
import { priceOf, withPriceOverrides } from '../pricing.js';
import type { ActivityDeps } from './deps.js';

/** One model on the /settings keyboard, with each length it takes and its price. */
export interface ModelOffer {
  model: string;
  label: string;
  lengths: Array<{ seconds: number; usd?: number }>;
}

/** What /settings shows: the user's settings as their next request would use them, and what they can choose. */
export interface SettingsView {
  current: VideoSettings;
  offers: ModelOffer[];
}

/** /settings: the model and length of a user's next requests (queries in src/db/users.ts). */
export function createSettingsActivities({ prisma, config }: Pick<ActivityDeps, 'prisma' | 'config'>) {
  const prices = config.prices ?? withPriceOverrides();
  const defaultModel = config.defaultModel ?? WAVESPEED_MODELS[0];
  const offers: ModelOffer[] = WAVESPEED_MODELS.map((model) => ({
    model,
    label: MODEL_LABELS[model],
    lengths: WAVESPEED_DURATIONS[model].map((seconds) => ({ seconds, usd: priceOf(prices, model, seconds) })),
  }));
  return {
    /** The user's settings (the configured ones where they chose none) and every choice with its price. */
    async getVideoSettings(input: { userId: number }): Promise<SettingsView> {
      return { current: effectiveSettings(await findVideoSettings(prisma, input.userId), defaultModel), offers };
    },
    /**
     * Changes the model or the length of the user's next requests; a length the
     * (new) model does not take becomes its default. Returns what /settings shows now.
     */
    async chooseVideoSettings(input: { user: TelegramUserInput; model?: string; durationSeconds?: number; requestId: string }): Promise<SettingsView> {
      const stored = await storeVideoSettings(
        prisma,
        input.user,
        (current) => {
          const before = effectiveSettings(current, defaultModel);
          const next = effectiveSettings({ videoModel: input.model ?? before.model, videoDuration: input.durationSeconds ?? before.durationSeconds }, before.model);
          return { videoModel: next.model, videoDuration: next.durationSeconds };
        },
        input.requestId,
      );
      return { current: { model: stored.videoModel, durationSeconds: stored.videoDuration }, offers };
    },
  };
}
