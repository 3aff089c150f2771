import type { ActivityDeps } from './deps.js';
import { recordEvent } from '../db/events.js';
import { markUserBlocked, upsertUser, type TelegramUserInput } from '../db/users.js';

export type { TelegramUserInput };

export function createUserActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  return {
    /** Creates or refreshes the user (see `upsertUser`); records `user.registered` once. */
    async registerUser(user: TelegramUserInput): Promise<{ created: boolean }> {
      return prisma.$transaction(async (tx) => {
        const created = await upsertUser(tx, user);
        await recordEvent(tx, {
          id: `user.registered:${user.userId}`,
          type: 'user.registered',
          subject: `user:${user.userId}`,
          payload: { chatId: user.chatId, username: user.username ?? null },
        });
        return { created };
      });
    },

    /** Marks a user who blocked the bot (or was deactivated): nothing more is sent to them. */
    async markUserBlocked(input: { userId: number; reason: string }): Promise<void> {
      await markUserBlocked(prisma, input.userId, input.reason);
    },
  };
}
