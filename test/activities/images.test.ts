import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Activities } from '../../src/activities/index.js';
import { TelegramSimulator } from '../../sandbox/simulators/telegram.js';
import { WavespeedSimulator } from '../../sandbox/simulators/wavespeed.js';
import { failureText } from '../helpers/texts.js';
import { BOT_TOKEN, buildActivities, detailsOf, failureOf, runActivity, WAVESPEED_KEY } from './helpers.js';

const SVG = Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="100%" height="100%"/></svg>');

/** A PNG whose header claims `width`×`height` over the pixels of a 64×64 one: decoding it would fail, reading its header does not. */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } }).png().toBuffer());
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)) >>> 0, 29);
  return png;
}

describe('what pictures the image activities accept', () => {
  const telegram = new TelegramSimulator({ token: BOT_TOKEN, rateLimitMode: 'off' });
  const wavespeed = new WavespeedSimulator({ apiKey: WAVESPEED_KEY });
  let activities: Activities;

  beforeAll(async () => {
    await Promise.all([telegram.start(), wavespeed.start()]);
    activities = buildActivities({ telegramApiRoot: telegram.apiRoot, wavespeedApiRoot: wavespeed.url });
  });
  afterAll(async () => {
    await Promise.all([telegram.stop(), wavespeed.stop()]);
  });
  beforeEach(() => {
    telegram.reset();
    wavespeed.reset();
  });

  it.each([
    ['an SVG declared as a JPEG', SVG, 'image/jpeg', 'an SVG image'],
    ['a GIF', () => sharp({ create: { width: 32, height: 32, channels: 3, background: '#ff0000' } }).gif().toBuffer(), 'image/png', 'a GIF'],
    ['a TIFF', () => sharp({ create: { width: 32, height: 32, channels: 3, background: '#ff0000' } }).tiff().toBuffer(), 'image/webp', 'a TIFF'],
  ])('refuses %s by its bytes, non-retryably, uploading nothing and saying why', async (_what, bytes, declared, named) => {
    const content = typeof bytes === 'function' ? await bytes() : bytes;
    const file = telegram.addFile(content, { kind: 'document', mimeType: declared });

    for (const activity of [activities.fingerprintImage, activities.prepareImage]) {
      const failure = await failureOf(runActivity(activity, { fileId: file.file_id }));
      expect(failure.type).toBe('InvalidImageError');
      expect(failure.nonRetryable).toBe(true);
      expect(detailsOf(failure)).toMatchObject({ reason: 'unsupported-type' });
      expect(failure.message).toBe(`it is ${named}; only JPEG, PNG or WebP pictures can be used`);
    }
    expect(wavespeed.uploads).toHaveLength(0);
  });

  it('refuses a picture over 40 MP from its header, never decoding it', async () => {
    const file = telegram.addFile(await pngClaiming(8000, 6000), { kind: 'document', mimeType: 'image/png' });

    const failure = await failureOf(runActivity(activities.fingerprintImage, { fileId: file.file_id }));

    expect(failure.type).toBe('InvalidImageError');
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure)).toMatchObject({ reason: 'too-many-pixels' });
    expect(failure.message).toBe('it is 8000×6000 pixels (48 MP); the limit is 40 MP');
    // What the user reads (the workflow's bad-image reason with the failure's message).
    expect(failureText('bad-image', failure.message)).toBe('❌ I could not use this photo (it is 8000×6000 pixels (48 MP); the limit is 40 MP). Try another one.');
  });

  it('decodes a picture just under the limit as far as its header goes (and then finds its data broken)', async () => {
    const file = telegram.addFile(await pngClaiming(6000, 6000), { kind: 'document', mimeType: 'image/png' });
    const failure = await failureOf(runActivity(activities.fingerprintImage, { fileId: file.file_id }));
    expect(detailsOf(failure)).toMatchObject({ reason: 'unreadable' });
  });

  it.each([
    ['PNG', () => sharp({ create: { width: 1600, height: 1200, channels: 4, background: '#00ff0080' } }).png().toBuffer()],
    ['WebP', () => sharp({ create: { width: 1600, height: 1200, channels: 3, background: '#0000ff' } }).webp().toBuffer()],
  ])('turns a %s into the 1024 px JPEG WaveSpeed gets', async (_format, make) => {
    const file = telegram.addFile(await make(), { kind: 'document', mimeType: 'application/octet-stream' });
    const prepared = await runActivity(activities.prepareImage, { fileId: file.file_id });
    expect(prepared).toMatchObject({ width: 1024, height: 768 });
    expect((await sharp(wavespeed.uploads[0]!.bytes).metadata()).format).toBe('jpeg');
  });

  it('downloads and decodes a photo once for fingerprintImage and prepareImage together', async () => {
    const update = await telegram.makePhotoUpdate({ chatId: 1, width: 2000, height: 1500 });
    const fileId = update.message!.photo!.at(-1)!.file_id;

    const fingerprint = await runActivity(activities.fingerprintImage, { fileId });
    const prepared = await runActivity(activities.prepareImage, { fileId });

    expect(prepared.md5).toBe(fingerprint.md5);
    expect(telegram.callsTo('getFile')).toHaveLength(1);
    expect(wavespeed.uploads).toHaveLength(1);
  });

  it('downloads again after a failed download, keeping no failure', async () => {
    const file = telegram.addFile(SVG, { kind: 'document', mimeType: 'image/jpeg' });
    await failureOf(runActivity(activities.fingerprintImage, { fileId: file.file_id }));
    await failureOf(runActivity(activities.prepareImage, { fileId: file.file_id }));
    expect(telegram.callsTo('getFile')).toHaveLength(2);
  });
});
