import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awaitNewPrompt, chooseUserLanguage, LAST_ACTIVE_EVERY_MS, NEW_PROMPT_WAIT_MS, recordCommand, registerUser, storeVideoSettings, takeAwaitedPrompt } from '../../src/db/users.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
}, 60_000);
afterAll(async () => {
  await db?.drop();
});

const user = (userId: number) => ({ userId, chatId: userId, firstName: 'Ana', languageCode: 'es' });
const row = (userId: number) => db.prisma.telegramUser.findUniqueOrThrow({ where: { id: BigInt(userId) } });
const events = (type: string, userId: number) => db.prisma.domainEvent.findMany({ where: { type, subject: `user:${userId}` } });

describe('a user\'s commands, last activity and language', () => {
  it('records each command once per request, with the command and whether it was a button', async () => {
    await registerUser(db.prisma, user(501));
    await recordCommand(db.prisma, { user: user(501), command: 'help', button: false, requestId: 'cmd-501-1' });
    await recordCommand(db.prisma, { user: user(501), command: 'help', button: false, requestId: 'cmd-501-1' });
    await recordCommand(db.prisma, { user: user(501), command: 'subscribe', button: true, requestId: 'cmd-501-2' });
    expect((await events('user.command_executed', 501)).map((e) => e.payload)).toEqual([
      { command: 'help', button: false },
      { command: 'subscribe', button: true },
    ]);
  });

  it('moves the last activity on only when it is older than the granularity: no write for each update', async () => {
    await registerUser(db.prisma, user(502));
    const registered = (await row(502)).lastActiveAt!;
    expect(Date.now() - registered.getTime()).toBeLessThan(60_000);

    await recordCommand(db.prisma, { user: user(502), command: 'help', button: false, requestId: 'cmd-502-1' });
    expect((await row(502)).lastActiveAt).toEqual(registered);

    const longAgo = new Date(Date.now() - LAST_ACTIVE_EVERY_MS - 1_000);
    await db.prisma.telegramUser.update({ where: { id: 502n }, data: { lastActiveAt: longAgo } });
    await recordCommand(db.prisma, { user: user(502), command: 'status', button: false, requestId: 'cmd-502-2' });
    expect((await row(502)).lastActiveAt!.getTime()).toBeGreaterThan(longAgo.getTime() + LAST_ACTIVE_EVERY_MS);
  });

  it('hands back the /language choice, recorded once per change', async () => {
    await registerUser(db.prisma, user(503));
    expect(await recordCommand(db.prisma, { user: user(503), command: 'help', button: false, requestId: 'cmd-503-1' })).toEqual({ language: null });
    await chooseUserLanguage(db.prisma, user(503), 'en', 'cmd-503-2');
    await chooseUserLanguage(db.prisma, user(503), 'en', 'cmd-503-3');
    expect(await recordCommand(db.prisma, { user: user(503), command: 'help', button: false, requestId: 'cmd-503-4' })).toEqual({ language: 'en' });
    expect((await row(503)).languageCode).toBe('es');
    expect(await events('user.language_changed', 503)).toHaveLength(1);
  });

  it('records the command of a user it does not know yet, and writes no row for them', async () => {
    expect(await recordCommand(db.prisma, { user: user(504), command: 'help', button: false, requestId: 'cmd-504-1' })).toEqual({ language: null });
    expect(await db.prisma.telegramUser.findUnique({ where: { id: 504n } })).toBeNull();
    expect(await events('user.command_executed', 504)).toHaveLength(1);
  });
});

describe('✏️ New prompt\'s wait', () => {
  it('is taken by one text only, even two sent at once, and a retry of that text finds it again', async () => {
    await awaitNewPrompt(db.prisma, user(505), 'video-505-1');
    const [a, b] = await Promise.all([takeAwaitedPrompt(db.prisma, 505, 11), takeAwaitedPrompt(db.prisma, 505, 12)]);
    expect([a, b].filter((g) => g !== undefined)).toEqual(['video-505-1']);
    const taker = a !== undefined ? 11 : 12;
    expect(await takeAwaitedPrompt(db.prisma, 505, taker)).toBe('video-505-1');
    expect(await takeAwaitedPrompt(db.prisma, 505, 13)).toBeUndefined();
  });

  it('ends after its time: a text long after is just a text', async () => {
    await awaitNewPrompt(db.prisma, user(506), 'video-506-1');
    await db.prisma.telegramUser.update({ where: { id: 506n }, data: { awaitingPromptSince: new Date(Date.now() - NEW_PROMPT_WAIT_MS - 1_000) } });
    expect(await takeAwaitedPrompt(db.prisma, 506, 21)).toBeUndefined();
    expect((await row(506)).awaitingPromptFor).toBeNull();
  });
});

describe('/settings presses', () => {
  it('both count when two come at once (a model, then a length)', async () => {
    await registerUser(db.prisma, user(507));
    await Promise.all([
      storeVideoSettings(db.prisma, user(507), (s) => ({ videoModel: 'wavespeed-ai/wan-2.2/i2v-720p', videoDuration: s.videoDuration ?? 5 }), 'press-1'),
      storeVideoSettings(db.prisma, user(507), (s) => ({ videoModel: s.videoModel ?? 'wavespeed-ai/wan-2.2/i2v-480p', videoDuration: 8 }), 'press-2'),
    ]);
    expect(await row(507)).toMatchObject({ videoModel: 'wavespeed-ai/wan-2.2/i2v-720p', videoDuration: 8 });
  });
});
