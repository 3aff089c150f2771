import type { ActivityDeps } from './deps.js';
import { chooseUserLanguage, findUserLanguage, markUserBlocked, registerUser, type TelegramUserInput } from '../db/users.js';
import { isLanguage, type Language } from '../i18n/catalog.js';

export type { TelegramUserInput };

/** Users (queries in src/db/users.ts). */
export function createUserActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  return {
    /** Creates or refreshes the user; records `user.registered` once. */
    registerUser: (user: TelegramUserInput) => registerUser(prisma, user),
    /** Marks a user who blocked the bot (or was deactivated): nothing more is sent to them. */
    async markUserBlocked(input: { userId: number; reason: string }): Promise<void> {
      await markUserBlocked(prisma, input.userId, input.reason);
    },
    /** The language the user chose with /language; undefined: none, Telegram's language_code decides. */
    async userLanguage(input: { userId: number }): Promise<Language | undefined> {
      const stored = await findUserLanguage(prisma, input.userId);
      return isLanguage(stored) ? stored : undefined;
    },
    /** Stores the user's /language choice; `requestId` makes a retry record it once. */
    async chooseLanguage(input: { user: TelegramUserInput; language: Language; requestId: string }): Promise<void> {
      await chooseUserLanguage(prisma, input.user, input.language, input.requestId);
    },
  };
}
