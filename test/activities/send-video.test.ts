import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Activities } from '../../src/activities/index.js';
import { WavespeedClient } from '../../src/integrations/wavespeed/client.js';
import { TelegramSimulator, type CallRecord } from '../../sandbox/simulators/telegram.js';
import { WavespeedSimulator } from '../../sandbox/simulators/wavespeed.js';
import { BOT_TOKEN, buildActivities, expectNoSecrets, failureOf, MODEL, runActivity, smallJpeg, WAVESPEED_KEY } from './helpers.js';

const MiB = 1024 * 1024;

describe('sendVideo against the simulators', () => {
  const telegram = new TelegramSimulator({ token: BOT_TOKEN, rateLimitMode: 'off' });
  const wavespeed = new WavespeedSimulator({ apiKey: WAVESPEED_KEY, latencyMs: 40, processingAfterMs: 10 });
  let activities: Activities;
  let imageUrl: string;
  let nextChat = 7000;
  const freshChat = (): number => nextChat++;

  beforeAll(async () => {
    await Promise.all([telegram.start(), wavespeed.start()]);
    activities = buildActivities({ telegramApiRoot: telegram.apiRoot, wavespeedApiRoot: wavespeed.url });
    const client = new WavespeedClient({ apiKey: WAVESPEED_KEY, apiRoot: wavespeed.url });
    imageUrl = (await client.uploadMedia(await smallJpeg(), 'input.jpg', 'image/jpeg')).downloadUrl;
  });
  afterAll(async () => {
    await Promise.all([telegram.stop(), wavespeed.stop()]);
  });
  beforeEach(() => telegram.reset());

  /** The file a sendVideo call uploaded (`video: attach://<part>`), as the simulator measured it. */
  function uploadedVideo(call: CallRecord | undefined): unknown {
    const ref = call?.params['video'];
    const part = typeof ref === 'string' && ref.startsWith('attach://') ? ref.slice('attach://'.length) : undefined;
    return part === undefined ? undefined : call?.params[part];
  }

  /** Runs a real prediction whose MP4 has `bytes` bytes; returns its output URL. */
  async function generatedVideo(bytes: number): Promise<string> {
    wavespeed.setOutputBytes(bytes);
    // The client, not submitGeneration: this file has no database for its submission markers.
    const { id } = await new WavespeedClient({ apiKey: WAVESPEED_KEY, apiRoot: wavespeed.url }).submit(MODEL, { image: imageUrl, prompt: 'waves rolling in', seed: -1 });
    const done = await wavespeed.whenSettled(id);
    expect(done.status).toBe('completed');
    expect(done.outputs).toHaveLength(1);
    return done.outputs[0]!;
  }

  it('does not send again when Telegram answers sendVideo after the client gave up: one video, TelegramAmbiguousSendError', async () => {
    const chatId = freshChat();
    const videoUrl = await generatedVideo(100 * 1024);
    const impatient = buildActivities({ telegramApiRoot: telegram.apiRoot, wavespeedApiRoot: wavespeed.url, telegramMediaTimeoutSeconds: 1 });
    telegram.delayNext('sendVideo', 2_500);

    const failure = await failureOf(runActivity(impatient.sendVideo, { chatId, videoUrl }));

    expect(failure.type).toBe('TelegramAmbiguousSendError');
    expect(failure.nonRetryable).toBe(true);
    expectNoSecrets(failure);
    // No upload or link after it: the chat has the one video Telegram took.
    expect(telegram.callsTo('sendVideo')).toHaveLength(1);
    expect(telegram.calls.map((c) => c.method)).toEqual(['sendVideo']);
    expect(telegram.messagesTo(chatId).filter((m) => m.video)).toHaveLength(1);
  });

  it('retries a video send that never reached Telegram (connection refused): nothing can have been delivered', async () => {
    const probe = createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as AddressInfo).port)));
    await new Promise((resolve) => probe.close(resolve));
    const unreachable = buildActivities({ telegramApiRoot: `http://127.0.0.1:${port}`, wavespeedApiRoot: wavespeed.url });

    const failure = await failureOf(runActivity(unreachable.sendVideo, { chatId: freshChat(), videoUrl: `${wavespeed.url}/outputs/none.mp4` }));

    expect(failure.type).toBe('TelegramUnavailableError');
    expect(failure.nonRetryable).toBe(false);
    expectNoSecrets(failure);
  });

  it('gives Telegram minutes, not the client\'s 30 s, to fetch a video by URL', async () => {
    const chatId = freshChat();
    const videoUrl = await generatedVideo(100 * 1024);
    // The quick calls' timeout is 1 s here; the video send gets the media timeout.
    const activitiesWithShortTimeout = buildActivities({ telegramApiRoot: telegram.apiRoot, wavespeedApiRoot: wavespeed.url, telegramTimeoutSeconds: 1 });
    telegram.delayNext('sendVideo', 1_500);
    const sent = await runActivity(activitiesWithShortTimeout.sendVideo, { chatId, videoUrl });
    expect(sent.deliveredBy).toBe('url');
    expect(telegram.messagesTo(chatId).filter((m) => m.video)).toHaveLength(1);
  });

  it('lets Telegram fetch a video of at most 20 MB by URL and returns its file_id', async () => {
    const chatId = freshChat();
    const incoming = telegram.makeTextUpdate({ chatId, text: 'animate' }).message!;
    const videoUrl = await generatedVideo(100 * 1024);

    const sent = await runActivity(activities.sendVideo, { chatId, videoUrl, caption: 'Here it is', replyToMessageId: incoming.message_id });

    const calls = telegram.callsTo('sendVideo');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.params['video']).toBe(videoUrl);
    const [message] = telegram.messagesTo(chatId);
    expect(sent.deliveredBy).toBe('url');
    expect(sent.messageId).toBe(message?.message_id);
    expect(sent.fileId).toBeDefined();
    expect(sent.fileId).toBe(message?.video?.file_id);
    expect(message?.video?.file_size).toBe(100 * 1024);
    expect(sent.bytes).toBe(100 * 1024);
    expect(message?.caption).toBe('Here it is');
    expect(message?.message.reply_to_message?.message_id).toBe(incoming.message_id);
  });

  it('uploads a video between 20 and 50 MB as multipart', async () => {
    const chatId = freshChat();
    const size = 25 * MiB;
    const videoUrl = await generatedVideo(size);

    const sent = await runActivity(activities.sendVideo, { chatId, videoUrl, caption: 'Big one' });

    // Telegram refuses to fetch it by URL, so it is uploaded.
    const calls = telegram.callsTo('sendVideo');
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ ok: false, params: { video: videoUrl } });
    expect(uploadedVideo(calls[1])).toMatchObject({ size });
    const [message] = telegram.messagesTo(chatId);
    expect(sent.deliveredBy).toBe('upload');
    expect(sent.bytes).toBe(size);
    expect(sent.fileId).toBeDefined();
    expect(sent.fileId).toBe(message?.video?.file_id);
    expect(message?.video?.file_size).toBe(size);
    expect(message?.caption).toBe('Big one');
  });

  it('uploads instead when Telegram cannot fetch a small video by URL', async () => {
    const chatId = freshChat();
    const videoUrl = await generatedVideo(64 * 1024);
    telegram.failNext('sendVideo', { errorCode: 400, description: 'Bad Request: failed to get HTTP URL content' });

    const sent = await runActivity(activities.sendVideo, { chatId, videoUrl });

    const calls = telegram.callsTo('sendVideo');
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ ok: false, params: { video: videoUrl } });
    expect(calls[1]?.ok).toBe(true);
    expect(uploadedVideo(calls[1])).toMatchObject({ size: 64 * 1024 });
    expect(sent.deliveredBy).toBe('upload');
    expect(sent.fileId).toBe(telegram.messagesTo(chatId)[0]?.video?.file_id);
  });

  it('sends a link instead of a video over 50 MB', async () => {
    const chatId = freshChat();
    const size = 60 * 1000 * 1000;
    const videoUrl = await generatedVideo(size);

    const sent = await runActivity(activities.sendVideo, { chatId, videoUrl, caption: 'Huge' });

    // One refused attempt by URL, then the link; never an upload over Telegram's limit.
    expect(telegram.callsTo('sendVideo')).toEqual([expect.objectContaining({ ok: false, params: expect.objectContaining({ video: videoUrl }) })]);
    const [message] = telegram.messagesTo(chatId);
    expect(sent).toEqual({ messageId: message?.message_id, deliveredBy: 'link', bytes: size });
    expect(message?.method).toBe('sendMessage');
    expect(message?.text).toContain(videoUrl);
    expect(message?.text?.startsWith('Huge')).toBe(true);
  });

  it('fails non-retryably with VideoUnavailableError when the output is gone', async () => {
    const chatId = freshChat();
    const videoUrl = await generatedVideo(10 * 1024);
    const predictionId = /\/outputs\/([A-Za-z0-9]+)\.mp4$/.exec(videoUrl)?.[1] ?? '';
    expect(wavespeed.expirePrediction(predictionId)).toBe(true);

    const failure = await failureOf(runActivity(activities.sendVideo, { chatId, videoUrl }));

    expect(failure.type).toBe('VideoUnavailableError');
    expect(failure.nonRetryable).toBe(true);
    // Telegram's own fetch failed first; nothing reached the user.
    expect(telegram.calls.map((c) => [c.method, c.ok])).toEqual([['sendVideo', false]]);
    expect(telegram.messagesTo(chatId)).toHaveLength(0);
    expectNoSecrets(failure);
  });

  it('maps a blocked chat to BotBlockedError', async () => {
    const chatId = freshChat();
    const videoUrl = await generatedVideo(10 * 1024);
    telegram.setChat(chatId, 'blocked');

    const failure = await failureOf(runActivity(activities.sendVideo, { chatId, videoUrl }));

    expect(failure.type).toBe('BotBlockedError');
    expect(failure.nonRetryable).toBe(true);
    expectNoSecrets(failure);
  });
});
