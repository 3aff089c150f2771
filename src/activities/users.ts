import type { ActivityDeps } from './deps.js';
import { chooseUserLanguage, markUserBlocked, recordCommand, registerUser, type TelegramUserInput } from '../db/users.js';
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
    /**
     * Records a command or button press (`user.command_executed`, the user's last
     * activity to the hour) and returns the language the user chose with /language
     * (absent: Telegram's language_code decides).
     */
    async recordCommand(input: { user: TelegramUserInput; command: string; button: boolean; requestId: string }): Promise<{ language?: Language }> {
      const { language } = await recordCommand(prisma, input);
      return isLanguage(language) ? { language } : {};
    },
    /** Stores the user's /language choice; `requestId` makes a retry record it once. */
    async chooseLanguage(input: { user: TelegramUserInput; language: Language; requestId: string }): Promise<void> {
      await chooseUserLanguage(prisma, input.user, input.language, input.requestId);
    },
  };
}
