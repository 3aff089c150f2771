import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Client, WavespeedSyncTimeoutException } from 'wavespeed';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WavespeedSimulator } from '../../sandbox/simulators/wavespeed.js';

/**
 * The WaveSpeed simulator driven by WaveSpeed's own JS SDK (npm `wavespeed`,
 * pinned), pointed at loopback through its documented `baseUrl` option: what
 * the SDK expects of the API, the simulator must do, so it cannot drift.
 */
const KEY = 'sdk-contract-key';
const MODEL = 'wavespeed-ai/wan-2.2/i2v-480p';

describe('WaveSpeed simulator against the official JS SDK', () => {
  const sim = new WavespeedSimulator({ apiKey: KEY, latencyMs: 150, processingAfterMs: 20 });
  let sdk: Client;
  let dir: string;
  let photoPath: string;
  let photo: Buffer;

  beforeAll(async () => {
    const baseUrl = await sim.start();
    // maxConnectionRetries 0: a wrong answer fails the test at once instead of being retried.
    sdk = new Client(KEY, { baseUrl, maxConnectionRetries: 0, connectionTimeout: 5, timeout: 30 });
    dir = await mkdtemp(join(tmpdir(), 'telewan-sdk-'));
    photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 20, g: 160, b: 90 } } }).jpeg().toBuffer();
    photoPath = join(dir, 'photo.jpg');
    await writeFile(photoPath, photo);
  });
  afterAll(async () => {
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    sim.reset();
    sim.configure({ syncTimeoutMs: undefined });
  });

  it('uploads through a ticket and a PUT to its presigned URL, and serves the bytes at download_url', async () => {
    const url = await sdk.upload(photoPath);

    expect(sim.uploads).toHaveLength(1);
    const [upload] = sim.uploads;
    expect(upload).toMatchObject({ flow: 'presigned', filename: 'photo.jpg', mimetype: 'image/jpeg', type: 'image', size: photo.length, downloadUrl: url });
    expect(upload!.md5).toBe(createHash('md5').update(photo).digest('hex'));
    const served = await fetch(url);
    expect(served.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await served.arrayBuffer()).equals(photo)).toBe(true);
  });

  it('refuses an upload over 20 MB', async () => {
    const big = join(dir, 'big.png');
    await writeFile(big, Buffer.alloc(20 * 1024 * 1024 + 1));
    await expect(sdk.upload(big)).rejects.toThrow(/HTTP 413/);
    expect(sim.uploads).toHaveLength(0);
  });

  it('runs a prediction: submit, then result polling until completed', async () => {
    const image = await sdk.upload(photoPath);
    const output = await sdk.run(MODEL, { image, prompt: 'the leaves sway' }, { pollInterval: 0.02 });

    expect(output.outputs).toHaveLength(1);
    const [prediction] = [...sim.predictions.values()];
    expect(output.outputs[0]).toBe(`${sim.url}/outputs/${prediction!.id}.mp4`);
    expect(prediction).toMatchObject({ status: 'completed', input: { image, prompt: 'the leaves sway' } });
    // The input image came from the presigned upload.
    expect(prediction!.image).toMatchObject({ width: 640, height: 480, md5: sim.uploads[0]!.md5 });
  });

  it('reports a failed prediction as the SDK expects, with its task id', async () => {
    const image = await sdk.upload(photoPath);
    const result = await sdk.runNoThrow(MODEL, { image, prompt: 'doomed [fail]' }, { pollInterval: 0.02 });
    const [prediction] = [...sim.predictions.values()];
    expect(result.outputs).toBeNull();
    expect(result.detail).toMatchObject({ taskId: prediction!.id, status: 'failed' });
    expect(result.detail.error?.message).toMatch(/generation failed/);
  });

  it('answers a sync-mode submission with the finished prediction, without polling', async () => {
    const image = await sdk.upload(photoPath);
    const output = await sdk.run(MODEL, { image, prompt: 'a slow zoom' }, { enableSyncMode: true });

    const [prediction] = [...sim.predictions.values()];
    expect(output.outputs).toEqual([`${sim.url}/outputs/${prediction!.id}.mp4`]);
    // enable_sync_mode is a request option, not a model input.
    expect(prediction!.input).not.toHaveProperty('enable_sync_mode');
  });

  it('answers code 5004 when the sync wait times out; the task goes on and its result URL finishes it', async () => {
    sim.configure({ syncTimeoutMs: 100 });
    const image = await sdk.upload(photoPath);

    const error = await sdk.run(MODEL, { image, prompt: 'a long pan [slow:800]' }, { enableSyncMode: true }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WavespeedSyncTimeoutException);
    const timeout = error as WavespeedSyncTimeoutException;
    const [prediction] = [...sim.predictions.values()];
    expect(timeout.taskId).toBe(prediction!.id);
    expect(timeout.resultUrl).toBe(`${sim.url}/api/v3/predictions/${prediction!.id}/result`);
    const noThrow = await sdk.runNoThrow(MODEL, { image, prompt: 'another [slow:800]' }, { enableSyncMode: true });
    expect(noThrow.detail.status).toBe('processing');

    await sim.whenSettled(prediction!.id);
    const polled = (await (await fetch(timeout.resultUrl!, { headers: { authorization: `Bearer ${KEY}` } })).json()) as { data: { status: string; outputs: string[] } };
    expect(polled.data).toMatchObject({ status: 'completed', outputs: [`${sim.url}/outputs/${prediction!.id}.mp4`] });
  });

  it('refuses a wrong API key on every call the SDK makes', async () => {
    const wrong = new Client('not-the-key', { baseUrl: sim.url, maxConnectionRetries: 0 });
    await expect(wrong.upload(photoPath)).rejects.toThrow(/HTTP 401/);
    await expect(wrong.run(MODEL, { image: 'http://127.0.0.1:9/x.jpg', prompt: 'x' })).rejects.toThrow(/HTTP 401/);
    expect(sim.predictions.size).toBe(0);
  });
});
