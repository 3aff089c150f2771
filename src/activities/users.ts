import type { ActivityDeps } from './deps.js';
import { markUserBlocked, registerUser, type TelegramUserInput } from '../db/users.js';

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
  };
}
