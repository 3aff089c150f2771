import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Activities } from '../../src/activities/index.js';
import { WavespeedClient } from '../../src/integrations/wavespeed/client.js';
import { TelegramSimulator } from '../../sandbox/simulators/telegram.js';
import { WavespeedSimulator } from '../../sandbox/simulators/wavespeed.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { BOT_TOKEN, buildActivities, MODEL, runActivity, smallJpeg, WAVESPEED_KEY, WORKFLOW_ID } from './helpers.js';

/**
 * A sendVideo attempt whose completion never reached Temporal (the server went
 * down as the worker answered: test/faults' Temporal restart found it) is tried
 * again; the video must not go out twice.
 */
let db: TestDatabase;
const telegram = new TelegramSimulator({ token: BOT_TOKEN, rateLimitMode: 'off' });
const wavespeed = new WavespeedSimulator({ apiKey: WAVESPEED_KEY, latencyMs: 40, processingAfterMs: 10 });
let activities: Activities;
let videoUrl: string;
const chatId = 4747;

beforeAll(async () => {
  db = await createTestDatabase();
  await Promise.all([telegram.start(), wavespeed.start()]);
  activities = buildActivities({ telegramApiRoot: telegram.apiRoot, wavespeedApiRoot: wavespeed.url, prisma: db.prisma });
  const imageUrl = (await new WavespeedClient({ apiKey: WAVESPEED_KEY, apiRoot: wavespeed.url }).uploadMedia(await smallJpeg(), 'input.jpg', 'image/jpeg')).downloadUrl;
  const { predictionId } = await runActivity(activities.submitGeneration, { model: MODEL, imageUrl, prompt: 'waves rolling in' });
  videoUrl = (await wavespeed.whenSettled(predictionId)).outputs[0]!;
  await db.prisma.telegramUser.create({ data: { id: BigInt(chatId), chatId: BigInt(chatId) } });
  await db.prisma.generation.create({
    data: { id: WORKFLOW_ID, userId: BigInt(chatId), chatId: BigInt(chatId), messageId: 1, prompt: 'p', model: 'm', status: 'processing' },
  });
});

afterAll(async () => {
  await Promise.all([telegram.stop(), wavespeed.stop()]);
  await db?.drop();
});

it('records the delivery before answering, and a retry after a lost completion sends nothing', async () => {
  const input = { chatId, videoUrl, caption: 'waves', generationId: WORKFLOW_ID };
  const first = await runActivity(activities.sendVideo, input);
  const row = await db.prisma.generation.findUniqueOrThrow({ where: { id: WORKFLOW_ID } });
  expect(row).toMatchObject({ deliveredBy: first.deliveredBy, telegramFileId: first.fileId ?? null });

  const retried = await runActivity(activities.sendVideo, input);

  expect(telegram.messagesTo(chatId).filter((m) => m.video)).toHaveLength(1);
  expect(retried).toMatchObject({ deliveredBy: first.deliveredBy, fileId: first.fileId });
});
