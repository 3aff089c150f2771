import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Activities } from '../../src/activities/index.js';
import { cacheHitRate, normalisePrompt, resultCacheKey } from '../../src/db/result-cache.js';
import { ErrorType } from '../../src/errors.js';
import { TelegramSimulator } from '../../sandbox/simulators/telegram.js';
import { WavespeedSimulator } from '../../sandbox/simulators/wavespeed.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { BOT_TOKEN, buildActivities, failureOf, MODEL, runActivity, WAVESPEED_KEY } from './helpers.js';

const LEASE_MS = 60_000;

describe('result cache activities on PostgreSQL and the simulators', () => {
  const telegram = new TelegramSimulator({ token: BOT_TOKEN, rateLimitMode: 'off' });
  const wavespeed = new WavespeedSimulator({ apiKey: WAVESPEED_KEY, latencyMs: 40, processingAfterMs: 10 });
  let db: TestDatabase;
  let activities: Activities;
  let nextImage = 1;
  /** An image fingerprint no other test uses. */
  const freshMd5 = () => (nextImage++).toString(16).padStart(32, '0');
  const claim = (imageMd5: string, generationId: string, prompt = 'a cat surfing', model = MODEL) =>
    runActivity(activities.claimResult, { imageMd5, prompt, model, generationId, leaseMs: LEASE_MS });

  beforeAll(async () => {
    [db] = await Promise.all([createTestDatabase(), telegram.start(), wavespeed.start()]);
    activities = buildActivities({ prisma: db.prisma, telegramApiRoot: telegram.apiRoot, wavespeedApiRoot: wavespeed.url });
  });
  afterAll(async () => {
    await Promise.all([telegram.stop(), wavespeed.stop(), db?.drop()]);
  });
  beforeEach(() => {
    telegram.reset();
    wavespeed.reset();
  });

  describe('the key', () => {
    it('ignores whitespace around and inside the prompt but not its words, case, model or parameters', () => {
      const base = { imageMd5: 'a'.repeat(32), prompt: 'the cat  turns\nits head', model: MODEL, params: { seed: -1 } };
      expect(normalisePrompt('  the cat  turns\nits head ')).toBe('the cat turns its head');
      expect(resultCacheKey(base)).toBe(resultCacheKey({ ...base, prompt: ' the cat turns its head' }));
      expect(resultCacheKey(base)).not.toBe(resultCacheKey({ ...base, prompt: 'The cat turns its head' }));
      expect(resultCacheKey(base)).not.toBe(resultCacheKey({ ...base, model: 'wavespeed-ai/wan-2.2/i2v-720p' }));
      expect(resultCacheKey(base)).not.toBe(resultCacheKey({ ...base, params: { seed: 7 } }));
      expect(resultCacheKey(base)).not.toBe(resultCacheKey({ ...base, imageMd5: 'b'.repeat(32) }));
      expect(resultCacheKey({ ...base, params: { seed: -1, duration: 5 } })).toBe(resultCacheKey({ ...base, params: { duration: 5, seed: -1 } }));
    });
  });

  describe('fingerprintImage', () => {
    it('gives the MD5 prepareImage uploads, without calling WaveSpeed', async () => {
      const update = await telegram.makePhotoUpdate({ chatId: 1, width: 2000, height: 1500 });
      const fileId = update.message!.photo!.at(-1)!.file_id;

      const fingerprint = await runActivity(activities.fingerprintImage, { fileId });

      expect(wavespeed.uploads).toHaveLength(0);
      expect(fingerprint).toMatchObject({ width: 1024, height: 768 });
      const prepared = await runActivity(activities.prepareImage, { fileId });
      expect(fingerprint.md5).toBe(prepared.md5);
      expect(fingerprint.bytes).toBe(prepared.bytes);
    });
  });

  describe('claimResult, storeResult, releaseClaim', () => {
    it('makes the first request the leader, the others followers, and serves the stored video to all later ones', async () => {
      const md5 = freshMd5();
      expect(await claim(md5, 'video-1-1')).toMatchObject({ kind: 'leader' });
      expect(await claim(md5, 'video-1-1')).toMatchObject({ kind: 'leader' }); // a retried activity
      expect(await claim(md5, 'video-2-1', ' a cat   surfing')).toMatchObject({ kind: 'follower', leaderId: 'video-1-1' });
      expect(await claim(md5, 'video-3-1', 'a cat surfing', 'wavespeed-ai/wan-2.2/i2v-720p')).toMatchObject({ kind: 'leader' });

      await runActivity(activities.storeResult, { imageMd5: md5, prompt: 'a cat surfing', model: MODEL, generationId: 'video-1-1', telegramFileId: 'BAAD-1', videoUrl: 'http://x/1.mp4' });

      const hit = await claim(md5, 'video-2-1', 'a cat surfing ');
      expect(hit).toMatchObject({ kind: 'hit', video: { telegramFileId: 'BAAD-1', generationId: 'video-1-1' } });
      expect(await claim(md5, 'video-4-1')).toMatchObject({ kind: 'hit' });
      const row = await db.prisma.videoResult.findUniqueOrThrow({ where: { key: hit.key } });
      expect(row).toMatchObject({ status: 'ready', leaderId: 'video-1-1', telegramFileId: 'BAAD-1', videoUrl: 'http://x/1.mp4', hits: 2, prompt: 'a cat surfing', imageMd5: md5, leaseUntil: null });
      expect(row.params).toEqual({ seed: -1 });
    });

    it('elects exactly one leader among concurrent identical requests', async () => {
      const md5 = freshMd5();
      const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => claim(md5, `video-${100 + i}-1`)));
      const leaders = claims.filter((c) => c.kind === 'leader');
      expect(leaders).toHaveLength(1);
      expect(claims.filter((c) => c.kind === 'follower')).toHaveLength(11);
      expect(new Set(claims.map((c) => (c.kind === 'follower' ? c.leaderId : undefined)).filter(Boolean)).size).toBe(1);
    });

    it('hands the claim to a waiting request when the leader releases it, and ignores a release by anyone else', async () => {
      const md5 = freshMd5();
      await claim(md5, 'video-1-1');
      await runActivity(activities.releaseClaim, { imageMd5: md5, prompt: 'a cat surfing', model: MODEL, generationId: 'video-2-1' });
      expect(await claim(md5, 'video-2-1')).toMatchObject({ kind: 'follower', leaderId: 'video-1-1' });

      await runActivity(activities.releaseClaim, { imageMd5: md5, prompt: 'a cat surfing', model: MODEL, generationId: 'video-1-1' });
      expect(await claim(md5, 'video-2-1')).toMatchObject({ kind: 'leader' });
      expect(await claim(md5, 'video-1-1')).toMatchObject({ kind: 'follower', leaderId: 'video-2-1' });
    });

    it('lets a waiting request take over a claim whose lease lapsed', async () => {
      const md5 = freshMd5();
      const { key } = await claim(md5, 'video-1-1');
      await db.prisma.videoResult.update({ where: { key }, data: { leaseUntil: new Date(Date.now() - 1000) } });
      expect(await claim(md5, 'video-2-1')).toMatchObject({ kind: 'leader' });
      expect(await claim(md5, 'video-1-1')).toMatchObject({ kind: 'follower', leaderId: 'video-2-1' });
    });

    it('keeps the first stored video, and forgets one Telegram refused', async () => {
      const md5 = freshMd5();
      const identity = { imageMd5: md5, prompt: 'a cat surfing', model: MODEL };
      await runActivity(activities.storeResult, { ...identity, generationId: 'video-1-1', telegramFileId: 'first' });
      await runActivity(activities.storeResult, { ...identity, generationId: 'video-2-1', telegramFileId: 'second' });
      expect(await claim(md5, 'video-3-1')).toMatchObject({ kind: 'hit', video: { telegramFileId: 'first', generationId: 'video-1-1' } });

      await runActivity(activities.forgetResult, { ...identity, telegramFileId: 'first' });
      expect(await claim(md5, 'video-3-1')).toMatchObject({ kind: 'leader' });
    });
  });

  describe('sendCachedVideo', () => {
    it('resends a video Telegram holds by its file_id, and fails as a request error on an unknown one', async () => {
      const file = telegram.addFile(Buffer.alloc(2048, 7), { kind: 'video', mimeType: 'video/mp4' });
      const incoming = telegram.makeTextUpdate({ chatId: 8101, text: 'animate' }).message!;

      const sent = await runActivity(activities.sendCachedVideo, { chatId: 8101, fileId: file.file_id, caption: 'again', replyToMessageId: incoming.message_id });

      expect(sent).toMatchObject({ deliveredBy: 'cache', fileId: file.file_id });
      const [message] = telegram.messagesTo(8101);
      expect(message?.video?.file_id).toBe(file.file_id);
      expect(message?.caption).toBe('again');
      expect(telegram.callsTo('sendVideo')[0]?.params['video']).toBe(file.file_id);

      const failure = await failureOf(runActivity(activities.sendCachedVideo, { chatId: 8101, fileId: 'BAADnot-a-real-file' }));
      expect(failure.type).toBe(ErrorType.TelegramRequest);
      expect(failure.nonRetryable).toBe(true);
    });
  });

  describe('hit rate', () => {
    it('records a hit on the generation and counts hits over lookups since a moment', async () => {
      const since = new Date(Date.now() - 1000);
      const user = { userId: 9001, chatId: 9001, firstName: 'Ada' };
      const ids = ['video-9001-1', 'video-9001-2', 'video-9001-3', 'video-9001-4'];
      for (const [i, generationId] of ids.entries()) {
        await runActivity(activities.registerRequest, { generationId, user, messageId: i + 1, prompt: 'p', model: MODEL });
      }
      await runActivity(activities.recordPhase, { generationId: ids[0]!, status: 'submitted', predictionId: 'p-9001', cacheHit: false });
      await runActivity(activities.recordOutcome, { generationId: ids[1]!, status: 'completed', telegramFileId: 'f', deliveredBy: 'cache', cacheHit: true, cachedFrom: ids[0]! });
      await runActivity(activities.recordOutcome, { generationId: ids[2]!, status: 'completed', telegramFileId: 'f', deliveredBy: 'cache', cacheHit: true, cachedFrom: ids[0]! });
      // ids[3] never reached the cache (no lookup).

      expect(await db.prisma.generation.findUniqueOrThrow({ where: { id: ids[1]! } })).toMatchObject({ cacheHit: true, cachedFrom: ids[0], deliveredBy: 'cache' });
      const event = await db.prisma.domainEvent.findUniqueOrThrow({ where: { id: `video.completed:${ids[1]}` } });
      expect(event.payload).toMatchObject({ cacheHit: true, cachedFrom: ids[0] });
      // Only this test writes generations in this database.
      expect(await cacheHitRate(db.prisma, since)).toEqual({ lookups: 3, hits: 2, rate: 2 / 3 });
      expect(await cacheHitRate(db.prisma, new Date(Date.now() + 60_000))).toEqual({ lookups: 0, hits: 0, rate: 0 });
    });
  });
});
