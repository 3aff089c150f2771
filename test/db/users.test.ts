import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseUserLanguage, LAST_ACTIVE_EVERY_MS, recordCommand, registerUser } from '../../src/db/users.js';
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
