import { USER_LIMIT_DEFAULTS } from '../constants.js';
import { recordEvent } from '../db/events.js';
import { countUserGenerations, userSpendSince, utcDayStart } from '../db/usage.js';
import { upsertUser } from '../db/users.js';
import type { ActivityDeps, UserLimits } from './deps.js';
import type { RegisterRequestInput } from './generations.js';

/** Why a request was turned away. */
export type RefusalReason = 'active-limit' | 'daily-quota';

/** The decision on a video request, see {@link createLimitActivities}. */
export type Admission =
  | { decision: 'admitted' }
  /** Waiting for one of the user's `limit` slots; ask again later. */
  | { decision: 'queued'; limit: number }
  | { decision: 'refused'; reason: 'active-limit'; limit: number }
  | { decision: 'refused'; reason: 'daily-quota'; quota: number };

/** Answer of /usage. */
export interface Usage {
  /** Generations admitted since 00:00 UTC. */
  today: number;
  /** Null for an admin: unlimited. */
  dailyQuota: number | null;
  maxActive: number | null;
  running: number;
  queued: number;
  /** US dollars charged today for the user's generations. */
  spentTodayUsd: number;
}

const DEFAULT_LIMITS: UserLimits = { ...USER_LIMIT_DEFAULTS, adminChatIds: [] };

export function createLimitActivities({ prisma, config }: Pick<ActivityDeps, 'prisma' | 'config'>) {
  const limits = config.limits ?? DEFAULT_LIMITS;
  const exempt = (chatId: number) => limits.adminChatIds.includes(chatId);
  const refusal = (reason: RefusalReason): Admission =>
    reason === 'daily-quota'
      ? { decision: 'refused', reason, quota: limits.dailyQuota }
      : { decision: 'refused', reason, limit: limits.maxActive };

  return {
    /**
     * Records a video request (as `registerRequest` does) and decides, against
     * the user's limits, whether it may start now: admitted (it takes a slot and
     * counts against the day's quota), queued (`USER_EXCESS_POLICY=queue`: call
     * again until admitted; earlier queued requests go first) or refused (recorded
     * as `refused`, not counted). The user's row is locked for the decision, so
     * concurrent requests of one user are decided one after the other and never
     * share a slot. Idempotent: a retry, or a request already decided, gets the
     * decision recorded before.
     */
    async admitRequest(input: RegisterRequestInput): Promise<Admission> {
      const { user, generationId } = input;
      const now = new Date();
      return prisma.$transaction(async (tx) => {
        await upsertUser(tx, user);
        await tx.$queryRaw`SELECT 1 FROM telegram_users WHERE id = ${BigInt(user.userId)} FOR UPDATE`;
        const existing = await tx.generation.findUnique({ where: { id: generationId }, select: { status: true, errorKind: true, requestedAt: true } });
        if (existing && existing.status !== 'queued') {
          return existing.status === 'refused' ? refusal(existing.errorKind === 'daily-quota' ? 'daily-quota' : 'active-limit') : { decision: 'admitted' };
        }

        let admission: Admission = { decision: 'admitted' };
        if (!exempt(user.chatId)) {
          const counts = await countUserGenerations(tx, user.userId, {
            dayStart: utcDayStart(now),
            excludeId: generationId,
            ...(existing ? { queuedBefore: existing.requestedAt } : {}),
          });
          if (counts.admittedToday >= limits.dailyQuota) admission = refusal('daily-quota');
          else if (counts.running + counts.queued >= limits.maxActive) {
            admission = limits.excessPolicy === 'queue' ? { decision: 'queued', limit: limits.maxActive } : refusal('active-limit');
          }
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
          await tx.generation.create({
            data: {
              id: generationId,
              userId: BigInt(user.userId),
              chatId: BigInt(user.chatId),
              messageId: input.messageId,
              prompt: input.prompt,
              model: input.model,
              ...fields,
            },
          });
          await recordEvent(tx, {
            id: `video.requested:${generationId}`,
            type: 'video.requested',
            subject: `generation:${generationId}`,
            payload: { chatId: user.chatId, model: input.model },
          });
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
    },

    /** The user's generations today (UTC), limits, what is under way and what today cost. */
    async getUsage(input: { userId: number; chatId: number }): Promise<Usage> {
      const dayStart = utcDayStart(new Date());
      const counts = await countUserGenerations(prisma, input.userId, { dayStart });
      const spentTodayUsd = await userSpendSince(prisma, input.userId, dayStart);
      const admin = exempt(input.chatId);
      return {
        today: counts.admittedToday,
        dailyQuota: admin ? null : limits.dailyQuota,
        maxActive: admin ? null : limits.maxActive,
        running: counts.running,
        queued: counts.queued,
        spentTodayUsd,
      };
    },
  };
}
