import type { GenerationStatus, PrismaClient } from '../generated/prisma/client.js';
import { incurredCost, type PriceTable } from '../pricing.js';
import { recordEvent, type DomainEventInput } from './events.js';
import { upsertUser, type TelegramUserInput } from './users.js';

/** Statuses of a generation still under way (queued or running); the others are outcomes. */
export const ACTIVE_GENERATION_STATUSES: readonly GenerationStatus[] = ['queued', 'requested', 'preparing', 'submitted', 'processing'];

/** Statuses of a generation holding one of its user's slots (`USER_MAX_ACTIVE_GENERATIONS`): admitted and not yet ended. */
export const RUNNING_GENERATION_STATUSES: readonly GenerationStatus[] = ['requested', 'preparing', 'submitted', 'processing'];

/**
 * Records a re-drive's domain event; for a generation, also puts its row back
 * under way (`processing`, no outcome), so `/status` and `/cancel` see the
 * re-driven run and the chat-action loop keeps going. The run's own
 * `recordPhase`/`recordOutcome` then write what happens next.
 */
export async function recordRedrive(prisma: PrismaClient, event: DomainEventInput): Promise<void> {
  await prisma.$transaction(async (tx) => {
    if (event.type === 'generation.redriven') {
      const id = event.subject.replace(/^generation:/, '');
      await tx.generation.updateMany({
        where: { id, status: { in: ['failed', 'cancelled'] } },
        data: { status: 'processing', completedAt: null, error: null, errorKind: null },
      });
    }
    await recordEvent(tx, event);
  });
}

/** A video `sendVideo` put in the chat, as it recorded it right after Telegram's answer. */
export interface RecordedDelivery {
  telegramFileId?: string;
  deliveredBy: string;
}

/**
 * The delivery `sendVideo` recorded for a generation, if any: a retried send
 * whose first attempt reached Telegram (its completion lost on the way to
 * Temporal) finds it and sends nothing.
 */
export async function findRecordedDelivery(prisma: PrismaClient, generationId: string): Promise<RecordedDelivery | undefined> {
  const row = await prisma.generation.findUnique({ where: { id: generationId }, select: { deliveredBy: true, telegramFileId: true } });
  if (!row?.deliveredBy) return undefined;
  return { deliveredBy: row.deliveredBy, ...(row.telegramFileId ? { telegramFileId: row.telegramFileId } : {}) };
}

/**
 * Records that the video is in the chat, before `sendVideo` (or `sendCachedVideo`,
 * which has no URL) returns; the outcome itself is `recordOutcome`'s.
 */
export async function recordDelivery(prisma: PrismaClient, generationId: string, delivery: RecordedDelivery & { videoUrl?: string }): Promise<void> {
  await prisma.generation.updateMany({
    where: { id: generationId },
    data: {
      deliveredBy: delivery.deliveredBy,
      telegramFileId: delivery.telegramFileId ?? null,
      ...(delivery.videoUrl === undefined ? {} : { videoUrl: delivery.videoUrl }),
    },
  });
}

/**
 * The id of the generation's progress message, as `sendMessage` recorded it
 * right after Telegram's answer: a retried send whose first attempt's
 * completion was lost finds it and sends nothing.
 */
export async function findProgressMessage(prisma: PrismaClient, generationId: string): Promise<number | undefined> {
  const row = await prisma.generation.findUnique({ where: { id: generationId }, select: { progressMessageId: true } });
  return row?.progressMessageId ?? undefined;
}

/** Records the progress message's id, before `sendMessage` returns it. */
export async function recordProgressMessage(prisma: PrismaClient, generationId: string, messageId: number): Promise<void> {
  await prisma.generation.updateMany({ where: { id: generationId }, data: { progressMessageId: messageId } });
}

export interface RegisterRequestInput {
  generationId: string;
  user: TelegramUserInput;
  messageId: number;
  prompt: string;
  model: string;
  /** Telegram's file_id of the photo, kept for 🔁 Again and ✏️ New prompt. */
  fileId?: string;
  /** Set for a request that carries its own settings (🔁 Again, ✏️ New prompt: the original's): /settings then does not apply. */
  durationSeconds?: number;
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

/** A request's generation row, as it is first written (status and times are the writer's). */
export function requestedGeneration(input: RegisterRequestInput) {
  return {
    id: input.generationId,
    userId: BigInt(input.user.userId),
    chatId: BigInt(input.user.chatId),
    messageId: input.messageId,
    prompt: input.prompt,
    model: input.model,
    photoFileId: input.fileId ?? null,
  };
}

/** `video.requested`, recorded with a request's first row. */
export function videoRequestedEvent(input: RegisterRequestInput): DomainEventInput {
  return {
    id: `video.requested:${input.generationId}`,
    type: 'video.requested',
    subject: `generation:${input.generationId}`,
    payload: { chatId: input.user.chatId, model: input.model },
  };
}

/** Records a new request (user and generation rows, `video.requested`). Idempotent. */
export async function registerRequest(prisma: PrismaClient, input: RegisterRequestInput): Promise<void> {
  await prisma.$transaction(async (tx) => {
    await upsertUser(tx, input.user);
    await tx.generation.createMany({ data: [{ ...requestedGeneration(input), admittedAt: new Date() }], skipDuplicates: true });
    await recordEvent(tx, videoRequestedEvent(input));
  });
}

/** Moves a generation to a later phase and stores what that phase learnt (`video.submitted` on submission). */
export async function recordPhase(prisma: PrismaClient, input: PhaseInput): Promise<void> {
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
}

/** Records how a generation ended and what WaveSpeed charges for it, with `video.completed`, `video.failed` or `video.cancelled`. */
export async function recordOutcome(prisma: PrismaClient, input: OutcomeInput, prices: PriceTable): Promise<void> {
  const { generationId, status, ...fields } = input;
  await prisma.$transaction(async (tx) => {
    const row = await tx.generation.findUniqueOrThrow({ where: { id: generationId }, select: { model: true, predictionId: true, durationSeconds: true } });
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
}

/** The chat's most recent requests, newest first. */
export async function listRecentGenerations(prisma: PrismaClient, input: { chatId: number; limit: number }): Promise<GenerationSummary[]> {
  const rows = await prisma.generation.findMany({
    where: { chatId: BigInt(input.chatId) },
    orderBy: { requestedAt: 'desc' },
    take: input.limit,
    select: { id: true, prompt: true, status: true, requestedAt: true, error: true },
  });
  return rows.map((r) => ({ ...r, requestedAt: r.requestedAt.toISOString() }));
}

/** A video the chat received, that Telegram holds (resendable by its file_id). */
export interface DeliveredVideo {
  generationId: string;
  prompt: string;
  completedAt: string;
  telegramFileId: string;
}

/** The chat's videos Telegram holds, newest first (/history). */
export async function listDeliveredVideos(prisma: PrismaClient, input: { chatId: number; limit: number }): Promise<DeliveredVideo[]> {
  const rows = await prisma.generation.findMany({
    where: { chatId: BigInt(input.chatId), status: 'completed', telegramFileId: { not: null } },
    orderBy: { completedAt: 'desc' },
    take: input.limit,
    select: { id: true, prompt: true, completedAt: true, requestedAt: true, telegramFileId: true },
  });
  return rows.map((r) => ({
    generationId: r.id,
    prompt: r.prompt,
    completedAt: (r.completedAt ?? r.requestedAt).toISOString(),
    telegramFileId: r.telegramFileId!,
  }));
}

/** One of the chat's delivered videos, or undefined: another chat's, not delivered, or unknown. */
export async function findDeliveredVideo(prisma: PrismaClient, input: { chatId: number; generationId: string }): Promise<DeliveredVideo | undefined> {
  const row = await prisma.generation.findFirst({
    where: { id: input.generationId, chatId: BigInt(input.chatId), status: 'completed', telegramFileId: { not: null } },
    select: { id: true, prompt: true, completedAt: true, requestedAt: true, telegramFileId: true },
  });
  return row ? { generationId: row.id, prompt: row.prompt, completedAt: (row.completedAt ?? row.requestedAt).toISOString(), telegramFileId: row.telegramFileId! } : undefined;
}

/** What a new request of the same photo needs: one of the chat's generations (never another chat's) whose photo is known. */
export async function findRequestToRepeat(
  prisma: PrismaClient,
  input: { chatId: number; generationId: string },
): Promise<{ fileId: string; prompt: string; model: string; durationSeconds?: number; messageId: number } | undefined> {
  const row = await prisma.generation.findFirst({
    where: { id: input.generationId, chatId: BigInt(input.chatId), photoFileId: { not: null } },
    select: { photoFileId: true, prompt: true, model: true, durationSeconds: true, messageId: true },
  });
  if (!row) return undefined;
  return { fileId: row.photoFileId!, prompt: row.prompt, model: row.model, messageId: row.messageId, ...(row.durationSeconds !== null ? { durationSeconds: row.durationSeconds } : {}) };
}

/** Ids (= workflow ids) of the chat's generations still in progress. */
export async function findActiveGenerations(prisma: PrismaClient, input: { chatId: number }): Promise<string[]> {
  const rows = await prisma.generation.findMany({
    where: { chatId: BigInt(input.chatId), status: { in: [...ACTIVE_GENERATION_STATUSES] } },
    orderBy: { requestedAt: 'asc' },
    select: { id: true },
  });
  return rows.map((r) => r.id);
}

/** Generations requested in [from, to), by their current status; a status with none is absent. */
export async function countGenerationsRequested(prisma: PrismaClient, from: Date, to: Date): Promise<Partial<Record<GenerationStatus, number>>> {
  const rows = await prisma.generation.groupBy({ by: ['status'], where: { requestedAt: { gte: from, lt: to } }, _count: { _all: true } });
  return Object.fromEntries(rows.map((r) => [r.status, r._count._all]));
}
