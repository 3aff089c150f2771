import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activities } from '../../src/activities/index.js';
import { ErrorType } from '../../src/errors.js';
import { TelegramSimulator } from '../../sandbox/simulators/telegram.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { activityEnv, BOT_TOKEN, buildActivities, expectNoSecrets, failureOf, runActivity, runIn } from './helpers.js';

/**
 * Messages and cached videos are sent once: an answer Telegram took past the
 * client's timeout fails non-retryably (the message is in the chat), and a retry
 * after a lost completion (the attempt sent, Temporal never heard) sends nothing.
 */
let db: TestDatabase;
const telegram = new TelegramSimulator({ token: BOT_TOKEN, rateLimitMode: 'off' });
let activities: Activities;
let nextChat = 7300;

/** A user with one generation under way, in a chat no other test touched. */
async function generationInFreshChat(): Promise<{ chatId: number; generationId: string }> {
  const chatId = nextChat++;
  const generationId = `video-${chatId}-1`;
  await db.prisma.telegramUser.create({ data: { id: BigInt(chatId), chatId: BigInt(chatId) } });
  await db.prisma.generation.create({
    data: { id: generationId, userId: BigInt(chatId), chatId: BigInt(chatId), messageId: 1, prompt: 'p', model: 'm', status: 'preparing' },
  });
  return { chatId, generationId };
}

/** The second attempt of an activity, as Temporal runs it after the first one's completion was lost. */
function retryEnv(): MockActivityEnvironment {
  return new MockActivityEnvironment({ attempt: 2, workflowExecution: { workflowId: 'video-1-2', runId: 'r' } });
}

beforeAll(async () => {
  db = await createTestDatabase();
  await telegram.start();
  // A message send waits 1 s for its answer, a video send 6 s (past one heartbeat).
  activities = buildActivities({ telegramApiRoot: telegram.apiRoot, prisma: db.prisma, telegramSendTimeoutSeconds: 1, telegramMediaTimeoutSeconds: 6 });
});

afterAll(async () => {
  await telegram.stop();
  await db?.drop();
});

describe('sendMessage', () => {
  it('fails non-retryably when Telegram answers after the client gave up: one message in the chat', async () => {
    const chatId = nextChat++;
    telegram.delayNext('sendMessage', 3_000);

    const failure = await failureOf(runActivity(activities.sendMessage, { chatId, text: '📥 Got your photo.' }));

    expect(failure.type).toBe(ErrorType.TelegramAmbiguousSend);
    expect(failure.nonRetryable).toBe(true);
    expectNoSecrets(failure);
    expect(telegram.messagesTo(chatId).map((m) => m.text)).toEqual(['📥 Got your photo.']);
  });

  it('records the progress message on its generation, and a retry after a lost completion sends nothing', async () => {
    const { chatId, generationId } = await generationInFreshChat();
    const input = { chatId, text: '📥 Got your photo.', replyToMessageId: 1, progressOf: generationId };

    const first = await runActivity(activities.sendMessage, input);
    expect(await db.prisma.generation.findUniqueOrThrow({ where: { id: generationId } })).toMatchObject({ progressMessageId: first.messageId });

    const retried = await runIn(retryEnv(), activities.sendMessage, input);

    expect(retried).toEqual(first);
    expect(telegram.messagesTo(chatId)).toHaveLength(1);
    expect(telegram.callsTo('sendMessage').filter((c) => c.chatId === chatId)).toHaveLength(1);
  });
});

describe('sendCachedVideo', () => {
  it('fails non-retryably when Telegram answers after the client gave up, beating meanwhile: one video in the chat', async () => {
    const { chatId, generationId } = await generationInFreshChat();
    const file = telegram.addFile(Buffer.alloc(2048, 3), { kind: 'video', mimeType: 'video/mp4' });
    telegram.delayNext('sendVideo', 8_000);
    const env = activityEnv();
    let beats = 0;
    env.on('heartbeat', () => (beats += 1));

    const failure = await failureOf(runIn(env, activities.sendCachedVideo, { chatId, fileId: file.file_id, caption: 'again', generationId }));

    expect(failure.type).toBe(ErrorType.TelegramAmbiguousSend);
    expect(failure.nonRetryable).toBe(true);
    expectNoSecrets(failure);
    expect(beats).toBeGreaterThanOrEqual(1);
    expect(telegram.messagesTo(chatId).filter((m) => m.video)).toHaveLength(1);
  }, 20_000);

  it('records the delivery before answering, and a retry after a lost completion sends nothing', async () => {
    const { chatId, generationId } = await generationInFreshChat();
    const file = telegram.addFile(Buffer.alloc(2048, 4), { kind: 'video', mimeType: 'video/mp4' });
    const input = { chatId, fileId: file.file_id, caption: 'again', generationId };

    const first = await runActivity(activities.sendCachedVideo, input);
    expect(await db.prisma.generation.findUniqueOrThrow({ where: { id: generationId } })).toMatchObject({ deliveredBy: 'cache', telegramFileId: file.file_id });

    const retried = await runIn(retryEnv(), activities.sendCachedVideo, input);

    expect(retried).toMatchObject({ deliveredBy: 'cache', fileId: first.fileId });
    expect(telegram.messagesTo(chatId).filter((m) => m.video)).toHaveLength(1);
  });
});
