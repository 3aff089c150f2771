import type { PrismaClient } from '../generated/prisma/client.js';
import { recordEvent } from './events.js';
import { requestedGeneration, videoRequestedEvent, type RegisterRequestInput } from './generations.js';
import { countUserGenerations, utcDayStart, type UserGenerationCounts } from './usage.js';
import { upsertUser } from './users.js';
import { effectiveSettings, type VideoSettings } from '../domain/video-settings.js';

/** Why a request was turned away. */
export type RefusalReason = 'active-limit' | 'daily-quota';

/** A request's admission as its row records it (the limits' figures are the caller's to add). */
export type AdmissionRecord = { decision: 'admitted' } | { decision: 'queued' } | { decision: 'refused'; reason: RefusalReason };

/** How the per-user limits decide a request, see {@link admitGeneration}. */
export interface AdmissionRule {
  /** The user's limits are waived (an admin's chat): admitted, nothing counted. */
  exempt: boolean;
  /** The decision on the user's other generations, counted under the lock of the user's row. */
  decide(counts: UserGenerationCounts): AdmissionRecord;
}

/**
 * Records a video request (user, generation row, `video.requested`) and its
 * admission by `rule`: admitted (`requested`, `admitted_at` set: it takes a slot
 * and counts against the day's quota), queued (`queued`; asked again, earlier
 * queued requests count against it, later ones do not) or refused (`refused`,
 * cost 0, `video.refused`). The user's row is locked (`FOR UPDATE`) for the
 * decision, so concurrent requests of one user are decided one after the other.
 * A request already decided gets its recorded decision back and nothing is
 * written; one still queued and still to wait is left as it is. Also hands back
 * the language the user chose with /language (null: none) and the settings the
 * request is made with (the user's /settings as they were when it was first
 * recorded, see {@link effectiveSettings}).
 */
export async function admitGeneration(
  prisma: PrismaClient,
  input: RegisterRequestInput,
  rule: AdmissionRule,
): Promise<AdmissionRecord & { language: string | null } & VideoSettings> {
  const { user, generationId } = input;
  const now = new Date();
  // The user's /language choice, read with the lock the decision takes anyway: no statement more.
  let language: string | null = null;
  let settings: VideoSettings = effectiveSettings({}, input.model);
  const record = await prisma.$transaction(async (tx): Promise<AdmissionRecord> => {
    await upsertUser(tx, user);
    const [row] = await tx.$queryRaw<Array<{ language: string | null; video_model: string | null; video_duration: number | null }>>`
      SELECT language, video_model, video_duration FROM telegram_users WHERE id = ${BigInt(user.userId)} FOR UPDATE`;
    language = row?.language ?? null;
    const existing = await tx.generation.findUnique({
      where: { id: generationId },
      select: { status: true, errorKind: true, requestedAt: true, model: true, durationSeconds: true },
    });
    // A request already recorded keeps the settings it was recorded with, whatever /settings says since.
    settings = existing
      ? effectiveSettings({ videoModel: existing.model, videoDuration: existing.durationSeconds }, existing.model)
      : input.durationSeconds !== undefined
        ? effectiveSettings({ videoModel: input.model, videoDuration: input.durationSeconds }, input.model)
        : effectiveSettings({ videoModel: row?.video_model, videoDuration: row?.video_duration }, input.model);
    if (existing && existing.status !== 'queued') {
      return existing.status === 'refused'
        ? { decision: 'refused', reason: existing.errorKind === 'daily-quota' ? 'daily-quota' : 'active-limit' }
        : { decision: 'admitted' };
    }

    let admission: AdmissionRecord = { decision: 'admitted' };
    if (!rule.exempt) {
      const counts = await countUserGenerations(tx, user.userId, {
        dayStart: utcDayStart(now),
        excludeId: generationId,
        ...(existing ? { queuedBefore: existing.requestedAt } : {}),
      });
      admission = rule.decide(counts);
    }
    if (existing && admission.decision === 'queued') return admission;

    const fields =
      admission.decision === 'admitted'
        ? { status: 'requested' as const, admittedAt: now }
        : admission.decision === 'refused'
          ? { status: 'refused' as const, errorKind: admission.reason, completedAt: now, costUsd: 0 }
          : { status: 'queued' as const };
    if (existing) {
      await tx.generation.update({ where: { id: generationId }, data: fields });
    } else {
      const withSettings = { ...input, model: settings.model };
      await tx.generation.create({ data: { ...requestedGeneration(withSettings), durationSeconds: settings.durationSeconds, ...fields } });
      await recordEvent(tx, videoRequestedEvent(withSettings));
    }
    if (admission.decision === 'refused') {
      await recordEvent(tx, {
        id: `video.refused:${generationId}`,
        type: 'video.refused',
        subject: `generation:${generationId}`,
        payload: { reason: admission.reason },
      });
    }
    return admission;
  });
  return { ...record, language, ...settings };
}
