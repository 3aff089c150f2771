import { log } from '@temporalio/activity';
import type { ActivityDeps } from './deps.js';
import {
  findActiveGenerations,
  listRecentGenerations,
  listDeliveredVideos,
  findDeliveredVideo,
  recordOutcome,
  recordPhase,
  registerRequest,
  type OutcomeInput,
  type PhaseInput,
  type RegisterRequestInput,
} from '../db/generations.js';
import { withPriceOverrides } from '../pricing.js';

export type { GenerationSummary, OutcomeInput, PhaseInput, RegisterRequestInput } from '../db/generations.js';

/** Generation records (queries in src/db/generations.ts), with their metrics and log lines. */
export function createGenerationActivities({ prisma, metrics, config }: Pick<ActivityDeps, 'prisma' | 'metrics' | 'config'>) {
  const prices = config.prices ?? withPriceOverrides();
  return {
    /** Records a new request (user and generation rows, `video.requested`). Idempotent. */
    registerRequest: (input: RegisterRequestInput) => registerRequest(prisma, input),

    /** Moves a generation to a later phase and stores what that phase learnt. */
    async recordPhase(input: PhaseInput): Promise<void> {
      await recordPhase(prisma, input);
      if (input.cacheHit === false) metrics?.resultCacheLookups.inc({ result: 'miss' });
    },

    /**
     * Records how a generation ended, and what WaveSpeed charges for it (see
     * `incurredCost`), with `video.completed`, `video.failed` or `video.cancelled`.
     */
    async recordOutcome(input: OutcomeInput): Promise<void> {
      await recordOutcome(prisma, input, prices);
      const { generationId, status, errorKind, deliveredBy, cacheHit } = input;
      metrics?.generations.inc({ outcome: status });
      if (cacheHit) metrics?.resultCacheLookups.inc({ result: 'hit' });
      log.info('Generation ended', { generationId, outcome: status, errorKind, deliveredBy });
    },

    /** The chat's most recent requests, newest first. */
    listRecentGenerations: (input: { chatId: number; limit: number }) => listRecentGenerations(prisma, input),

    /** The chat's videos Telegram holds, newest first: /history. */
    listDeliveredVideos: (input: { chatId: number; limit: number }) => listDeliveredVideos(prisma, input),

    /** One of the chat's delivered videos (never another chat's), for a /history button. */
    findDeliveredVideo: (input: { chatId: number; generationId: string }) => findDeliveredVideo(prisma, input),

    /** Ids (= workflow ids) of the chat's generations still in progress. */
    findActiveGenerations: (input: { chatId: number }) => findActiveGenerations(prisma, input),
  };
}
