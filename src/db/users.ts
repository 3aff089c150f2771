import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import { recordEvent } from './events.js';

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
    // The row is written anyway: its last activity comes for free.
    lastActiveAt: new Date(),
    blocked: false,
    blockedAt: null,
  };
  await tx.telegramUser.upsert({ where: { id }, create: { id, ...fields }, update: fields });
  return existing === null;
}

/**
 * Marks a user who blocked the bot (or was deactivated): nothing more is sent to
 * them until they write again. Records `user.blocked` once per change.
 */
export async function markUserBlocked(prisma: PrismaClient, userId: number, reason: string): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const updated = await tx.telegramUser.updateMany({
      where: { id: BigInt(userId), blocked: false },
      data: { blocked: true, blockedAt: new Date() },
    });
    if (updated.count > 0) {
      await recordEvent(tx, {
        id: `user.blocked:${userId}:${Date.now()}`,
        type: 'user.blocked',
        subject: `user:${userId}`,
        payload: { reason },
      });
    }
  });
}

/** Creates or refreshes the user (see {@link upsertUser}) and records `user.registered` once. */
export async function registerUser(prisma: PrismaClient, user: TelegramUserInput): Promise<{ created: boolean }> {
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
}

/** A user's last activity is written at most this often: an hour is what "active" needs, and most updates write nothing. */
export const LAST_ACTIVE_EVERY_MS = 60 * 60 * 1000;

/**
 * A command or button press of `user`: records `user.command_executed` (once per
 * `requestId`, the command's workflow id), moves the user's last activity on when
 * it is older than {@link LAST_ACTIVE_EVERY_MS}, and hands back the language they
 * chose with /language (null: none, or a user not registered yet).
 */
export async function recordCommand(
  prisma: PrismaClient,
  input: { user: TelegramUserInput; command: string; button: boolean; requestId: string },
): Promise<{ language: string | null }> {
  return prisma.$transaction(async (tx) => {
    const id = BigInt(input.user.userId);
    const row = await tx.telegramUser.findUnique({ where: { id }, select: { language: true, lastActiveAt: true } });
    const now = new Date();
    if (row && (row.lastActiveAt === null || now.getTime() - row.lastActiveAt.getTime() >= LAST_ACTIVE_EVERY_MS)) {
      await tx.telegramUser.update({ where: { id }, data: { lastActiveAt: now } });
    }
    await recordEvent(tx, {
      id: `user.command_executed:${input.requestId}`,
      type: 'user.command_executed',
      subject: `user:${input.user.userId}`,
      payload: { command: input.command, button: input.button },
    });
    return { language: row?.language ?? null };
  });
}

/**
 * Stores the user's /language choice (creating the user if needed) and records
 * `user.language_changed` when it changed; `requestId` (the command's workflow id)
 * makes a retry record nothing twice.
 */
export async function chooseUserLanguage(prisma: PrismaClient, user: TelegramUserInput, language: string, requestId: string): Promise<void> {
  await prisma.$transaction(async (tx) => {
    await upsertUser(tx, user);
    const id = BigInt(user.userId);
    const current = await tx.telegramUser.findUnique({ where: { id }, select: { language: true } });
    if (current?.language === language) return;
    await tx.telegramUser.update({ where: { id }, data: { language } });
    await recordEvent(tx, { id: `user.language_changed:${requestId}`, type: 'user.language_changed', subject: `user:${user.userId}`, payload: { language } });
  });
}

/** ✏️ New prompt: the user's next text is the new caption of `generationId`'s photo. */
export async function awaitNewPrompt(prisma: PrismaClient, user: TelegramUserInput, generationId: string): Promise<void> {
  await prisma.$transaction(async (tx) => {
    await upsertUser(tx, user);
    await tx.telegramUser.update({ where: { id: BigInt(user.userId) }, data: { awaitingPromptFor: generationId, awaitingPromptSince: new Date() } });
  });
}

/** How long after ✏️ New prompt the user's next text is still taken as the caption: later, a text is just a text. */
export const NEW_PROMPT_WAIT_MS = 10 * 60 * 1000;

/**
 * The generation whose new caption the user's text is, if ✏️ New prompt was
 * pressed less than {@link NEW_PROMPT_WAIT_MS} ago, and the wait ends (one text,
 * one new video). The user's row is locked, so of two texts sent at once only one
 * takes it; the text's `messageId` is remembered on the event, so a retry of the
 * same text finds it again.
 */
export async function takeAwaitedPrompt(prisma: PrismaClient, userId: number, textMessageId: number): Promise<string | undefined> {
  return prisma.$transaction(async (tx) => {
    const id = BigInt(userId);
    const eventId = `user.new_prompt:${userId}:${textMessageId}`;
    const taken = await tx.domainEvent.findUnique({ where: { id: eventId }, select: { payload: true } });
    if (taken) return (taken.payload as { generationId: string }).generationId;
    const [row] = await tx.$queryRaw<Array<{ awaiting_prompt_for: string | null; awaiting_prompt_since: Date | null }>>`
      SELECT awaiting_prompt_for, awaiting_prompt_since FROM telegram_users WHERE id = ${id} FOR UPDATE`;
    if (!row?.awaiting_prompt_for) return undefined;
    await tx.telegramUser.update({ where: { id }, data: { awaitingPromptFor: null, awaitingPromptSince: null } });
    const waited = Date.now() - (row.awaiting_prompt_since?.getTime() ?? 0);
    if (waited > NEW_PROMPT_WAIT_MS) return undefined;
    await recordEvent(tx, { id: eventId, type: 'user.new_prompt', subject: `user:${userId}`, payload: { generationId: row.awaiting_prompt_for } });
    return row.awaiting_prompt_for;
  });
}

/** The user's /settings as stored (null: not chosen; the configured defaults apply). */
export async function findVideoSettings(prisma: PrismaClient, userId: number): Promise<{ videoModel: string | null; videoDuration: number | null }> {
  const row = await prisma.telegramUser.findUnique({ where: { id: BigInt(userId) }, select: { videoModel: true, videoDuration: true } });
  return { videoModel: row?.videoModel ?? null, videoDuration: row?.videoDuration ?? null };
}

/**
 * Stores the model and length of the user's next requests (creating the user if
 * needed) and records `user.settings_changed` when they changed; `requestId` (the
 * press's workflow id) makes a retry record it once.
 */
export async function storeVideoSettings(
  prisma: PrismaClient,
  user: TelegramUserInput,
  change: (stored: { videoModel: string | null; videoDuration: number | null }) => { videoModel: string; videoDuration: number },
  requestId: string,
): Promise<{ videoModel: string; videoDuration: number }> {
  return prisma.$transaction(async (tx) => {
    await upsertUser(tx, user);
    const id = BigInt(user.userId);
    // Locked: two presses in quick succession (a model, then a length) both count.
    const [current] = await tx.$queryRaw<Array<{ video_model: string | null; video_duration: number | null }>>`
      SELECT video_model, video_duration FROM telegram_users WHERE id = ${id} FOR UPDATE`;
    const settings = change({ videoModel: current?.video_model ?? null, videoDuration: current?.video_duration ?? null });
    if (current?.video_model === settings.videoModel && current.video_duration === settings.videoDuration) return settings;
    await tx.telegramUser.update({ where: { id }, data: settings });
    await recordEvent(tx, { id: `user.settings_changed:${requestId}`, type: 'user.settings_changed', subject: `user:${user.userId}`, payload: settings });
    return settings;
  });
}
