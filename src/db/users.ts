import type { Prisma } from '../generated/prisma/client.js';

/** A Telegram user as the gateway saw them in an update. */
export interface TelegramUserInput {
  userId: number;
  chatId: number;
  firstName?: string;
  username?: string;
  languageCode?: string;
}

/**
 * Creates or refreshes a user from an update they sent. A user who writes to the
 * bot is reachable again, so the blocked flag is cleared. Returns whether the
 * row is new.
 */
export async function upsertUser(tx: Pick<Prisma.TransactionClient, 'telegramUser'>, user: TelegramUserInput): Promise<boolean> {
  const id = BigInt(user.userId);
  const existing = await tx.telegramUser.findUnique({ where: { id }, select: { id: true } });
  const fields = {
    chatId: BigInt(user.chatId),
    firstName: user.firstName ?? null,
    username: user.username ?? null,
    languageCode: user.languageCode ?? null,
    blocked: false,
    blockedAt: null,
  };
  await tx.telegramUser.upsert({ where: { id }, create: { id, ...fields }, update: fields });
  return existing === null;
}
