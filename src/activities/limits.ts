import { USER_LIMIT_DEFAULTS } from '../constants.js';
import { admitGeneration, type RefusalReason } from '../db/limits.js';
import { countUserGenerations, userSpendSince, utcDayStart } from '../db/usage.js';
import type { ActivityDeps, UserLimits } from './deps.js';
import type { RegisterRequestInput } from './generations.js';
import { isLanguage, type Language } from '../i18n/catalog.js';

export type { RefusalReason } from '../db/limits.js';

/** The decision on a video request, see {@link createLimitActivities}. */
export type Admission = (
  | { decision: 'admitted' }
  /** Waiting for one of the user's `limit` slots; ask again later. */
  | { decision: 'queued'; limit: number }
  | { decision: 'refused'; reason: 'active-limit'; limit: number }
  | { decision: 'refused'; reason: 'daily-quota'; quota: number }
) & {
  /** The language the user chose with /language; absent: Telegram's `language_code` decides. */
  language?: Language;
  /** What the request is made with (its /settings when first recorded); absent: its own model, the default length. */
  model?: string;
  durationSeconds?: number;
};

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
      const recorded = await admitGeneration(prisma, input, {
        exempt: exempt(input.user.chatId),
        decide: (counts) => {
          if (counts.admittedToday >= limits.dailyQuota) return { decision: 'refused', reason: 'daily-quota' };
          if (counts.running + counts.queued >= limits.maxActive) {
            return limits.excessPolicy === 'queue' ? { decision: 'queued' } : { decision: 'refused', reason: 'active-limit' };
          }
          return { decision: 'admitted' };
        },
      });
      const extra = { ...(isLanguage(recorded.language) ? { language: recorded.language } : {}), model: recorded.model, durationSeconds: recorded.durationSeconds };
      if (recorded.decision === 'refused') return { ...refusal(recorded.reason), ...extra };
      return recorded.decision === 'queued' ? { decision: 'queued', limit: limits.maxActive, ...extra } : { decision: 'admitted', ...extra };
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
