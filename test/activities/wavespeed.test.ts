import { createHash } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Activities } from '../../src/activities/index.js';
import { WavespeedSubmitAmbiguousError, WavespeedUnavailableError } from '../../src/errors.js';
import { WavespeedClient } from '../../src/integrations/wavespeed/client.js';
import type { PredictionStatus } from '../../src/integrations/wavespeed/types.js';
import { TelegramSimulator } from '../../sandbox/simulators/telegram.js';
import { WavespeedSimulator } from '../../sandbox/simulators/wavespeed.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import {
  BOT_TOKEN,
  buildActivities,
  detailsOf,
  expectNoSecrets,
  failureOf,
  MODEL,
  pixelAt,
  retryDelayMs,
  runActivity,
  smallJpeg,
  WAVESPEED_KEY,
} from './helpers.js';

const MB = 1024 * 1024;

describe('WaveSpeed activities against the simulators', () => {
  const telegram = new TelegramSimulator({ token: BOT_TOKEN, rateLimitMode: 'off' });
  const wavespeed = new WavespeedSimulator({ apiKey: WAVESPEED_KEY, latencyMs: 450, processingAfterMs: 150 });
  let activities: Activities;
  /** submitGeneration's markers live there. */
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    await Promise.all([telegram.start(), wavespeed.start()]);
    activities = buildActivities({ telegramApiRoot: telegram.apiRoot, wavespeedApiRoot: wavespeed.url, prisma: db.prisma });
  });
  afterAll(async () => {
    await Promise.all([telegram.stop(), wavespeed.stop()]);
    await db?.drop();
  });
  beforeEach(() => {
    telegram.reset();
    wavespeed.reset();
    wavespeed.configure({ perMinuteLimit: undefined });
  });

  /** An image already on WaveSpeed's storage, so predictions can fetch their input. */
  async function stagedImageUrl(): Promise<string> {
    const client = new WavespeedClient({ apiKey: WAVESPEED_KEY, apiRoot: wavespeed.url });
    return (await client.uploadMedia(await smallJpeg(), 'staged.jpg', 'image/jpeg')).downloadUrl;
  }

  async function pollUntilSettled(predictionId: string): Promise<{ seen: PredictionStatus[]; last: Awaited<ReturnType<Activities['pollPrediction']>> }> {
    const seen: PredictionStatus[] = [];
    const deadline = Date.now() + 5000;
    for (;;) {
      const result = await runActivity(activities.pollPrediction, { predictionId });
      if (seen.at(-1) !== result.status) seen.push(result.status);
      if (!['created', 'processing'].includes(result.status)) return { seen, last: result };
      if (Date.now() > deadline) throw new Error(`prediction still ${result.status}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  describe('prepareImage', () => {
    it('downloads the photo, shrinks 2000×1500 to 1024×768 JPEG and uploads it to WaveSpeed storage', async () => {
      const update = await telegram.makePhotoUpdate({ chatId: 1, width: 2000, height: 1500 });
      const largest = update.message?.photo?.at(-1);
      expect(largest).toMatchObject({ width: 2000, height: 1500 });

      const prepared = await runActivity(activities.prepareImage, { fileId: largest?.file_id ?? '' });

      expect(telegram.callsTo('getFile')).toHaveLength(1);
      expect(wavespeed.uploads).toHaveLength(1);
      const upload = wavespeed.uploads[0]!;
      expect(prepared.md5).toBe(upload.md5);
      expect(prepared.bytes).toBe(upload.size);
      expect(prepared.imageUrl).toBe(upload.downloadUrl);
      expect(prepared.imageUrl.startsWith(`${wavespeed.url}/media/`)).toBe(true);
      expect(prepared.imageUrl).not.toContain(BOT_TOKEN);
      expect(prepared.imageUrl).not.toContain('/file/bot');
      expect(upload.mimetype).toBe('image/jpeg');

      const meta = await sharp(upload.bytes).metadata();
      expect(meta).toMatchObject({ format: 'jpeg', width: 1024, height: 768 });
      expect({ width: prepared.width, height: prepared.height }).toEqual({ width: 1024, height: 768 });
      // Still the user's picture, the right way round: the gradient grows red to the right, green downwards.
      const [r1, g1] = await pixelAt(upload.bytes, 1020, 3);
      const [r2, g2] = await pixelAt(upload.bytes, 3, 764);
      expect(r1).toBeGreaterThan(200);
      expect(g1).toBeLessThan(40);
      expect(r2).toBeLessThan(40);
      expect(g2).toBeGreaterThan(200);

      // WaveSpeed serves exactly what the activity hashed.
      const served = Buffer.from(await (await fetch(prepared.imageUrl)).arrayBuffer());
      expect(createHash('md5').update(served).digest('hex')).toBe(prepared.md5);
    });

    it('applies the EXIF orientation before resizing', async () => {
      // Stored landscape (left half red, right half blue) but tagged "rotate 90° clockwise":
      // it shows as a 1500×2000 portrait with red on top.
      const stored = await sharp({ create: { width: 2000, height: 1500, channels: 3, background: { r: 255, g: 0, b: 0 } } })
        .composite([{ input: { create: { width: 1000, height: 1500, channels: 3, background: { r: 0, g: 0, b: 255 } } }, left: 1000, top: 0 }])
        .jpeg()
        .withMetadata({ orientation: 6 })
        .toBuffer();
      expect((await sharp(stored).metadata()).orientation).toBe(6);
      const file = telegram.addFile(stored, { kind: 'photo', mimeType: 'image/jpeg' });

      const prepared = await runActivity(activities.prepareImage, { fileId: file.file_id });

      expect({ width: prepared.width, height: prepared.height }).toEqual({ width: 768, height: 1024 });
      const uploaded = wavespeed.uploads[0]!.bytes;
      const meta = await sharp(uploaded).metadata();
      expect(meta).toMatchObject({ width: 768, height: 1024 });
      expect(meta.orientation ?? 1).toBe(1);
      const top = await pixelAt(uploaded, 384, 10);
      const bottom = await pixelAt(uploaded, 384, 1010);
      expect(top[0]).toBeGreaterThan(200);
      expect(top[2]).toBeLessThan(60);
      expect(bottom[2]).toBeGreaterThan(200);
      expect(bottom[0]).toBeLessThan(60);
    });

    it('does not enlarge a small photo', async () => {
      const update = await telegram.makePhotoUpdate({ chatId: 1, width: 600, height: 400 });
      const largest = update.message?.photo?.at(-1);

      const prepared = await runActivity(activities.prepareImage, { fileId: largest?.file_id ?? '' });

      const meta = await sharp(wavespeed.uploads[0]!.bytes).metadata();
      expect(meta).toMatchObject({ format: 'jpeg', width: 600, height: 400 });
      expect(prepared).toMatchObject({ width: 600, height: 400 });
    });

    it('fails non-retryably with InvalidImageError when the "photo" is not an image, uploading nothing', async () => {
      const file = telegram.addFile(Buffer.from('GIF89a? no, just text pretending to be a picture\n'.repeat(40)), { kind: 'photo' });

      const failure = await failureOf(runActivity(activities.prepareImage, { fileId: file.file_id }));

      expect(failure.type).toBe('InvalidImageError');
      expect(failure.nonRetryable).toBe(true);
      expect(wavespeed.uploads).toHaveLength(0);
      expectNoSecrets(failure);
    });

    it('fails non-retryably with TelegramFileTooLargeError for a file over the 20 MB download limit', async () => {
      const file = telegram.addFile(Buffer.alloc(21 * MB, 0xff), { kind: 'photo', mimeType: 'image/jpeg' });

      const failure = await failureOf(runActivity(activities.prepareImage, { fileId: file.file_id }));

      // Telegram refuses getFile itself for such files ("Bad Request: file is too big").
      expect(telegram.callsTo('getFile')[0]).toMatchObject({ ok: false, errorCode: 400, description: 'Bad Request: file is too big' });
      expect(failure.type).toBe('TelegramFileTooLargeError');
      expect(failure.nonRetryable).toBe(true);
      expect(wavespeed.uploads).toHaveLength(0);
      expectNoSecrets(failure);
    });
    it('keeps the token out of the failure when the download itself is refused', async () => {
      // A Telegram that keeps no file content: getFile answers, the download 404s.
      const forgetful = new TelegramSimulator({ token: BOT_TOKEN, maxStoredFileBytes: 0 });
      try {
        const file = forgetful.addFile(await smallJpeg(), { kind: 'photo', mimeType: 'image/jpeg' });
        const viaForgetful = buildActivities({ telegramApiRoot: await forgetful.start(), wavespeedApiRoot: wavespeed.url });

        const failure = await failureOf(runActivity(viaForgetful.prepareImage, { fileId: file.file_id }));

        expect(forgetful.callsTo('getFile')[0]?.ok).toBe(true);
        expect(failure.type).toBe('TelegramRequestError');
        expect(failure.nonRetryable).toBe(true);
        expect(detailsOf(failure)).toMatchObject({ method: 'downloadFile', description: 'HTTP 404' });
        expect(wavespeed.uploads).toHaveLength(0);
        expectNoSecrets(failure);
      } finally {
        await forgetful.stop();
      }
    });
  });

  describe('submitGeneration', () => {
    it('submits the image and prompt with a webhook that routes back to the calling workflow', async () => {
      const imageUrl = await stagedImageUrl();

      const { predictionId } = await runActivity(activities.submitGeneration, { model: MODEL, imageUrl, prompt: 'a cat surfing' });

      const prediction = wavespeed.predictions.get(predictionId);
      expect(prediction).toBeDefined();
      expect(prediction?.model).toBe(MODEL);
      // Bound to the workflow by an HMAC of its id; neither the API key nor any other secret is in the URL.
      const token = new WavespeedClient({ apiKey: WAVESPEED_KEY, apiRoot: wavespeed.url }).callbackTokens.sign('video-1-2');
      expect(prediction?.webhookUrl).toBe(`http://127.0.0.1:9/x/webhooks/wavespeed/video-1-2?t=${token}`);
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(prediction?.webhookUrl).not.toContain(WAVESPEED_KEY);
      expect(prediction?.input).toMatchObject({ image: imageUrl, prompt: 'a cat surfing', seed: -1 });
    });

    it('turns a 400 into a non-retryable WavespeedRejectedError carrying the reason', async () => {
      const imageUrl = await stagedImageUrl();

      const failure = await failureOf(
        runActivity(activities.submitGeneration, { model: MODEL, imageUrl, prompt: 'something [reject]' }),
      );

      expect(failure.type).toBe('WavespeedRejectedError');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain('prompt rejected by content policy');
      expect(detailsOf(failure)).toMatchObject({ status: 400, reason: 'prompt rejected by content policy' });
      expect(wavespeed.predictions.size).toBe(0);
    });

    it('turns a refused API key into a retryable WavespeedAuthError that does not show the key', async () => {
      const imageUrl = await stagedImageUrl();
      const wrongKey = 'ws-wrong-key-do-not-log';
      const misconfigured = buildActivities({ telegramApiRoot: telegram.apiRoot, wavespeedApiRoot: wavespeed.url, wavespeedKey: wrongKey, prisma: db.prisma });

      const failure = await failureOf(runActivity(misconfigured.submitGeneration, { model: MODEL, imageUrl, prompt: 'a dog' }));

      expect(failure.type).toBe('WavespeedAuthError');
      expect(failure.nonRetryable).toBe(false);
      expect(detailsOf(failure)).toMatchObject({ status: 401 });
      expect(wavespeed.predictions.size).toBe(0);
      expectNoSecrets(failure, [wrongKey, WAVESPEED_KEY]);
    });

    it('turns the per-minute 429 into a retryable WavespeedRateLimitError with a retry delay', async () => {
      wavespeed.configure({ perMinuteLimit: 1 });
      const imageUrl = await stagedImageUrl();
      await runActivity(activities.submitGeneration, { model: MODEL, imageUrl, prompt: 'first' });

      const failure = await failureOf(runActivity(activities.submitGeneration, { model: MODEL, imageUrl, prompt: 'second' }));

      expect(wavespeed.stats.rateLimited).toBe(1);
      expect(failure.type).toBe('WavespeedRateLimitError');
      expect(failure.nonRetryable).toBe(false);
      expect(retryDelayMs(failure)).toBe(10_000);
    });
  });

  describe('submit when the answer is lost', () => {
    const client = (apiRoot = wavespeed.url) => new WavespeedClient({ apiKey: WAVESPEED_KEY, apiRoot, timeoutMs: 300 });

    it.each(['reset', 'timeout', 'server-error'] as const)('a lost answer (%s) is a non-retryable WavespeedSubmitAmbiguousError; WaveSpeed holds one prediction', async (how) => {
      const imageUrl = await stagedImageUrl();
      wavespeed.loseNextSubmitAnswers(1, how);
      const err = await client().submit(MODEL, { image: imageUrl, prompt: 'a cat', seed: -1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WavespeedSubmitAmbiguousError);
      expect((err as WavespeedSubmitAmbiguousError).retryable).toBe(false);
      expect(wavespeed.predictions.size).toBe(1);
    });

    it('a refused connection is retryable: nothing reached WaveSpeed', async () => {
      // A port that was just free: nothing listens there, so the connection is refused.
      const probe = createServer();
      const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as AddressInfo).port)));
      await new Promise((resolve) => probe.close(resolve));
      const err = await client(`http://127.0.0.1:${port}`).submit(MODEL, { image: 'http://x/a.jpg', prompt: 'a cat', seed: -1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WavespeedUnavailableError);
      expect(err).not.toBeInstanceOf(WavespeedSubmitAmbiguousError);
      expect((err as WavespeedUnavailableError).retryable).toBe(true);
    });

    it('maps it at the activity boundary to a non-retryable failure', async () => {
      const imageUrl = await stagedImageUrl();
      wavespeed.loseNextSubmitAnswers(1, 'reset');
      const failure = await failureOf(runActivity(activities.submitGeneration, { model: MODEL, imageUrl, prompt: 'a cat' }));
      expect(failure.type).toBe('WavespeedSubmitAmbiguousError');
      expect(failure.nonRetryable).toBe(true);
      expect(wavespeed.predictions.size).toBe(1);
    });
  });

  describe('pollPrediction', () => {
    it('follows a prediction from created through processing to completed with its output', async () => {
      const imageUrl = await stagedImageUrl();
      const { predictionId } = await runActivity(activities.submitGeneration, { model: MODEL, imageUrl, prompt: 'a slow pan' });

      const { seen, last } = await pollUntilSettled(predictionId);

      expect(seen).toEqual(['created', 'processing', 'completed']);
      expect(last.id).toBe(predictionId);
      expect(last.outputs).toEqual([`${wavespeed.url}/outputs/${predictionId}.mp4`]);
      expect(last.nsfw).toBe(false);
      expect(last.error).toBeUndefined();
      expect(last.inferenceMs).toBeGreaterThanOrEqual(250);
      const head = await fetch(last.outputs[0]!, { method: 'HEAD' });
      expect(head.headers.get('content-type')).toBe('video/mp4');
    });

    it('reports a failed prediction with its error', async () => {
      const imageUrl = await stagedImageUrl();
      const { predictionId } = await runActivity(activities.submitGeneration, { model: MODEL, imageUrl, prompt: 'doomed [fail]' });

      const { last } = await pollUntilSettled(predictionId);

      expect(last.status).toBe('failed');
      expect(last.outputs).toEqual([]);
      expect(last.error).toMatch(/generation failed/);
    });

    it('fails non-retryably with WavespeedNotFoundError for an unknown or expired prediction', async () => {
      const unknown = await failureOf(runActivity(activities.pollPrediction, { predictionId: 'f00dfeedf00dfeed' }));
      expect(unknown.type).toBe('WavespeedNotFoundError');
      expect(unknown.nonRetryable).toBe(true);
      expect(detailsOf(unknown)).toMatchObject({ predictionId: 'f00dfeedf00dfeed' });

      const imageUrl = await stagedImageUrl();
      const { predictionId } = await runActivity(activities.submitGeneration, { model: MODEL, imageUrl, prompt: 'short-lived' });
      expect(wavespeed.expirePrediction(predictionId)).toBe(true);
      const expired = await failureOf(runActivity(activities.pollPrediction, { predictionId }));
      expect(expired.type).toBe('WavespeedNotFoundError');
      expect(expired.nonRetryable).toBe(true);
    });
  });
});
