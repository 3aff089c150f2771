import { log } from '@temporalio/activity';
import type { ActivityDeps } from './deps.js';
import { recordEvent } from '../db/events.js';
import { ACTIVE_GENERATION_STATUSES } from '../db/generations.js';
import type { GenerationStatus } from '../generated/prisma/client.js';
import { upsertUser, type TelegramUserInput } from '../db/users.js';
import { incurredCost, withPriceOverrides } from '../pricing.js';

export interface RegisterRequestInput {
  generationId: string;
  user: TelegramUserInput;
  messageId: number;
  prompt: string;
  model: string;
}

export interface PhaseInput {
  generationId: string;
  status: 'preparing' | 'submitted' | 'processing';
  progressMessageId?: number;
  imageMd5?: string;
  imageBytes?: number;
  predictionId?: string;
  /** false when the result cache was consulted and this request generates the video itself. */
  cacheHit?: boolean;
}

export interface OutcomeInput {
  generationId: string;
  status: 'completed' | 'failed' | 'cancelled';
  errorKind?: string;
  error?: string;
  videoUrl?: string;
  telegramFileId?: string;
  deliveredBy?: string;
  inferenceMs?: number;
  /** Result cache hit: the video was resent from generation `cachedFrom`. */
  cacheHit?: boolean;
  cachedFrom?: string;
  imageMd5?: string;
  imageBytes?: number;
}

/** One line of /status. */
export interface GenerationSummary {
  id: string;
  prompt: string;
  status: GenerationStatus;
  requestedAt: string;
  error: string | null;
}


export function createGenerationActivities({ prisma, metrics, config }: Pick<ActivityDeps, 'prisma' | 'metrics' | 'config'>) {
  const prices = config.prices ?? withPriceOverrides();
  return {
    /** Records a new request (user and generation rows, `video.requested`). Idempotent. */
    async registerRequest(input: RegisterRequestInput): Promise<void> {
      const { user } = input;
      await prisma.$transaction(async (tx) => {
        await upsertUser(tx, user);
        await tx.generation.createMany({
          data: [
            {
              id: input.generationId,
              userId: BigInt(user.userId),
              chatId: BigInt(user.chatId),
              messageId: input.messageId,
              prompt: input.prompt,
              model: input.model,
              admittedAt: new Date(),
            },
          ],
          skipDuplicates: true,
        });
        await recordEvent(tx, {
          id: `video.requested:${input.generationId}`,
          type: 'video.requested',
          subject: `generation:${input.generationId}`,
          payload: { chatId: user.chatId, model: input.model },
        });
      });
    },

    /** Moves a generation to a later phase and stores what that phase learnt. */
    async recordPhase(input: PhaseInput): Promise<void> {
      const { generationId, status, ...fields } = input;
      await prisma.$transaction(async (tx) => {
        await tx.generation.update({
          where: { id: generationId },
          data: { status, ...fields, ...(status === 'submitted' ? { submittedAt: new Date() } : {}) },
        });
        if (status === 'submitted') {
          await recordEvent(tx, {
            id: `video.submitted:${generationId}`,
            type: 'video.submitted',
            subject: `generation:${generationId}`,
            payload: { predictionId: fields.predictionId ?? null, imageMd5: fields.imageMd5 ?? null },
          });
        }
      });
      if (fields.cacheHit === false) metrics?.resultCacheLookups.inc({ result: 'miss' });
    },

    /**
     * Records how a generation ended, and what WaveSpeed charges for it (see
     * `incurredCost`), with `video.completed`, `video.failed` or `video.cancelled`.
     */
    async recordOutcome(input: OutcomeInput): Promise<void> {
      const { generationId, status, ...fields } = input;
      await prisma.$transaction(async (tx) => {
        const row = await tx.generation.findUniqueOrThrow({ where: { id: generationId }, select: { model: true, predictionId: true } });
        const costUsd = incurredCost({ ...row, status, errorKind: fields.errorKind }, prices) ?? null;
        await tx.generation.update({ where: { id: generationId }, data: { status, ...fields, costUsd, completedAt: new Date() } });
        await recordEvent(tx, {
          id: `video.${status}:${generationId}`,
          type: `video.${status}`,
          subject: `generation:${generationId}`,
          payload: {
            errorKind: fields.errorKind ?? null,
            deliveredBy: fields.deliveredBy ?? null,
            ...(fields.cacheHit ? { cacheHit: true, cachedFrom: fields.cachedFrom ?? null } : {}),
          },
        });
      });
      metrics?.generations.inc({ outcome: status });
      if (fields.cacheHit) metrics?.resultCacheLookups.inc({ result: 'hit' });
      log.info('Generation ended', { generationId, outcome: status, errorKind: fields.errorKind, deliveredBy: fields.deliveredBy });
    },

    /** The chat's most recent requests, newest first. */
    async listRecentGenerations(input: { chatId: number; limit: number }): Promise<GenerationSummary[]> {
      const rows = await prisma.generation.findMany({
        where: { chatId: BigInt(input.chatId) },
        orderBy: { requestedAt: 'desc' },
        take: input.limit,
        select: { id: true, prompt: true, status: true, requestedAt: true, error: true },
      });
      return rows.map((r) => ({ ...r, requestedAt: r.requestedAt.toISOString() }));
    },

    /** Ids (= workflow ids) of the chat's generations still in progress. */
    async findActiveGenerations(input: { chatId: number }): Promise<string[]> {
      const rows = await prisma.generation.findMany({
        where: { chatId: BigInt(input.chatId), status: { in: [...ACTIVE_GENERATION_STATUSES] } },
        orderBy: { requestedAt: 'asc' },
        select: { id: true },
      });
      return rows.map((r) => r.id);
    },
  };
}
