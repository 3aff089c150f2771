import { createHash, createHmac } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  signWavespeedWebhook,
  verifyWavespeedWebhook,
  WavespeedSimulator,
  type WavespeedSimulatorOptions,
} from '../../sandbox/simulators/wavespeed.js';
import { probeMp4 } from '../../sandbox/simulators/shared/mp4.js';

const KEY = 'test-key';
const MODEL = 'wavespeed-ai/wan-2.2/i2v-480p';

interface Envelope<T = Record<string, unknown>> {
  code: number;
  message: string;
  data: T;
}

interface Delivery {
  headers: Record<string, string>;
  raw: string;
}

let receiver: FastifyInstance;
let hookUrl: string;
const deliveries: Delivery[] = [];
let jpeg: Buffer;

beforeAll(async () => {
  jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 200, g: 80, b: 20 } } }).jpeg().toBuffer();
  receiver = Fastify({ forceCloseConnections: true });
  receiver.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  receiver.post('/hook', async (request) => {
    deliveries.push({ headers: request.headers as Record<string, string>, raw: String(request.body) });
    return { received: true };
  });
  hookUrl = `${await receiver.listen({ host: '127.0.0.1', port: 0 })}/hook`;
});
afterAll(() => receiver.close());

const running: WavespeedSimulator[] = [];
afterEach(async () => {
  deliveries.length = 0;
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function setup(opts: Partial<WavespeedSimulatorOptions> = {}): Promise<{
  sim: WavespeedSimulator;
  call: <T = Record<string, unknown>>(path: string, init?: RequestInit) => Promise<{ status: number; body: Envelope<T>; headers: Headers }>;
  imageUrl: string;
}> {
  const sim = new WavespeedSimulator({ apiKey: KEY, latencyMs: 60, processingAfterMs: 10, ...opts });
  running.push(sim);
  const base = await sim.start();
  const call = async <T,>(path: string, init: RequestInit = {}): Promise<{ status: number; body: Envelope<T>; headers: Headers }> => {
    const res = await fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${KEY}`, ...init.headers } });
    return { status: res.status, body: (await res.json()) as Envelope<T>, headers: res.headers };
  };
  const form = new FormData();
  form.append('file', new Blob([jpeg], { type: 'image/jpeg' }), 'photo.jpg');
  const upload = await call<{ download_url: string }>('/api/v3/media/upload/binary', { method: 'POST', body: form });
  return { sim, call, imageUrl: upload.body.data.download_url };
}

function submitInit(body: Record<string, unknown>): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('WaveSpeed simulator', () => {
  it('accepts a submission and loses its answer: the prediction runs and its webhook comes, the caller learns nothing', async () => {
    const { sim, call, imageUrl } = await setup();
    const body = submitInit({ image: imageUrl, prompt: 'the cat waves' });
    const url = `${sim.url}/api/v3/${MODEL}?webhook=${encodeURIComponent(hookUrl)}`;
    const send = (signal?: AbortSignal) => fetch(url, { ...body, headers: { ...body.headers, authorization: `Bearer ${KEY}` }, signal });

    sim.loseNextSubmitAnswers(1, 'reset');
    await expect(send()).rejects.toThrow(/fetch failed/);
    sim.loseNextSubmitAnswers(1, 'timeout');
    await expect(send(AbortSignal.timeout(300))).rejects.toThrow(/abort|timeout/i);
    sim.loseNextSubmitAnswers(1, 'server-error');
    expect((await send()).status).toBe(502);
    // The fault is consumed: the next submission is answered as usual.
    const answered = await call<{ id: string }>(`/api/v3/${MODEL}?webhook=${encodeURIComponent(hookUrl)}`, body);
    expect(answered.status).toBe(200);

    expect(sim.stats.answersLost).toBe(3);
    expect(sim.stats.submitted).toBe(4);
    await until(() => deliveries.length === 4, 5000);
    const delivered = deliveries.map((d) => (JSON.parse(d.raw) as { id: string; status: string }));
    expect(delivered.every((d) => d.status === 'completed')).toBe(true);
    expect(new Set(delivered.map((d) => d.id))).toEqual(new Set(sim.predictions.keys()));
  });

  it('loses answers at a configured rate', async () => {
    const { sim, imageUrl } = await setup({ lostAnswerRate: 1 });
    const res = fetch(`${sim.url}/api/v3/${MODEL}`, { ...submitInit({ image: imageUrl, prompt: 'x' }), headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` } });
    await expect(res).rejects.toThrow(/fetch failed/);
    expect(sim.predictions.size).toBe(1);
    expect(sim.stats.answersLost).toBe(1);
  });

  it('stores binary uploads, records their md5 and serves them back', async () => {
    const { sim, imageUrl } = await setup();
    expect(sim.uploads).toHaveLength(1);
    const [upload] = sim.uploads;
    expect(upload).toMatchObject({ filename: 'photo.jpg', type: 'image', size: jpeg.length });
    expect(upload?.md5).toBe(createHash('md5').update(jpeg).digest('hex'));
    expect(imageUrl).toBe(upload?.downloadUrl);
    const res = await fetch(imageUrl);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await res.arrayBuffer()).equals(jpeg)).toBe(true);
  });

  it('runs a prediction created → processing → completed and serves the MP4', async () => {
    const { sim, call, imageUrl } = await setup();
    const submitted = await call<{ id: string; status: string; urls: { get: string } }>(
      `/api/v3/${MODEL}?webhook=${encodeURIComponent(hookUrl)}`,
      submitInit({ image: imageUrl, prompt: 'the cat waves', size: '832*480', duration: 5, seed: 42 }),
    );
    expect(submitted.status).toBe(200);
    expect(submitted.body).toMatchObject({ code: 200, message: 'success', data: { status: 'created', model: MODEL, outputs: [] } });
    const { id, urls } = submitted.body.data;
    expect(urls.get).toBe(`${sim.url}/api/v3/predictions/${id}/result`);

    const seen: string[] = [submitted.body.data.status];
    let last: Envelope<{ status: string; outputs: string[]; has_nsfw_contents: boolean[]; timings: { inference: number } }>;
    do {
      last = (await call<(typeof last)['data']>(`/api/v3/predictions/${id}/result`)).body;
      if (seen.at(-1) !== last.data.status) seen.push(last.data.status);
      await new Promise((r) => setTimeout(r, 3));
    } while (last.data.status !== 'completed' && last.data.status !== 'failed');
    expect(seen).toEqual(['created', 'processing', 'completed']);
    expect(last.data.has_nsfw_contents).toEqual([false]);
    expect(last.data.timings.inference).toBeGreaterThanOrEqual(50);
    expect(sim.predictions.get(id)?.image).toMatchObject({ width: 640, height: 480, md5: sim.uploads[0]?.md5 });

    const output = last.data.outputs[0] ?? '';
    expect(output).toBe(`${sim.url}/outputs/${id}.mp4`);
    const head = await fetch(output, { method: 'HEAD' });
    expect(head.headers.get('content-type')).toBe('video/mp4');
    expect(head.headers.get('content-length')).toBe(String(100 * 1024));
    const video = Buffer.from(await (await fetch(output)).arrayBuffer());
    expect(video.length).toBe(100 * 1024);
    expect(probeMp4(video)).toEqual({ durationSeconds: 5, width: 832, height: 480 });
  });

  it('signs webhooks so that they verify with the secret, and not with another', async () => {
    const { sim, call, imageUrl } = await setup();
    const secret = await call<{ secret: string }>('/api/v3/webhook/secret');
    expect(secret.body.data.secret).toMatch(/^whsec_[0-9a-f]{32}$/);
    expect(secret.body.data.secret).toBe(sim.webhookSecret);

    const { body } = await call<{ id: string }>(`/api/v3/${MODEL}`, submitInit({ image: imageUrl, prompt: 'hello', webhook_url: hookUrl }));
    await until(() => deliveries.length === 1);
    const [d] = deliveries;
    if (!d) throw new Error('no delivery');
    const payload = JSON.parse(d.raw) as Record<string, unknown>;
    expect(payload).toMatchObject({ id: body.data.id, model: MODEL, status: 'completed', error: '', has_nsfw_contents: [false] });
    expect(payload).not.toHaveProperty('code');
    expect(payload['input']).toMatchObject({ prompt: 'hello', image: imageUrl });
    expect(d.headers['content-type']).toBe('application/json');
    expect(d.headers['webhook-id']).toMatch(/^msg_/);
    expect(Math.abs(Number(d.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);

    const headers = {
      'webhook-id': d.headers['webhook-id'] ?? '',
      'webhook-timestamp': d.headers['webhook-timestamp'] ?? '',
      'webhook-signature': d.headers['webhook-signature'] ?? '',
    };
    expect(headers['webhook-signature']).toBe(signWavespeedWebhook(secret.body.data.secret, headers['webhook-id'], headers['webhook-timestamp'], d.raw));
    expect(verifyWavespeedWebhook(secret.body.data.secret, headers, d.raw)).toBe(true);
    expect(verifyWavespeedWebhook('whsec_00000000000000000000000000000000', headers, d.raw)).toBe(false);
    expect(verifyWavespeedWebhook(secret.body.data.secret, headers, d.raw.replace('completed', 'failed'))).toBe(false);
    expect(verifyWavespeedWebhook(secret.body.data.secret, headers, d.raw, { now: Number(headers['webhook-timestamp']) + 301 })).toBe(false);
    // The simulator records the delivery once the receiver's answer is in, a moment after the receiver saw it.
    await until(() => sim.webhooks.length === 1);
    expect(sim.webhooks).toMatchObject([{ predictionId: body.data.id, url: hookUrl, status: 200, ok: true }]);
    expect(sim.stats.callbacksSent).toBe(1);
  });

  it('uses the key after whsec_ as UTF-8 text, not base64-decoded', () => {
    const expected = 'v3,' + createHmac('sha256', Buffer.from('abc', 'utf8')).update('msg_1.1700000000.{}').digest('hex');
    expect(signWavespeedWebhook('whsec_abc', 'msg_1', 1700000000, '{}')).toBe(expected);
    const base64Keyed = 'v3,' + createHmac('sha256', Buffer.from('abc', 'base64')).update('msg_1.1700000000.{}').digest('hex');
    expect(signWavespeedWebhook('whsec_abc', 'msg_1', 1700000000, '{}')).not.toBe(base64Keyed);
  });

  it('follows prompt markers: lost callback, failure, NSFW, slow', async () => {
    const { sim, call, imageUrl } = await setup();
    const submit = async (prompt: string): Promise<string> =>
      (await call<{ id: string }>(`/api/v3/${MODEL}?webhook=${encodeURIComponent(hookUrl)}`, submitInit({ image: imageUrl, prompt }))).body.data.id;
    const [lost, failed, nsfw, slow] = await Promise.all([submit('a [lose-callback]'), submit('b [fail]'), submit('c [nsfw]'), submit('d [slow:150]')]);

    const settled = await Promise.all([lost, failed, nsfw, slow].map((id) => sim.whenSettled(id)));
    expect(settled.map((p) => p.status)).toEqual(['completed', 'failed', 'completed', 'completed']);
    expect(settled[1]?.error).not.toBe('');
    expect(settled[1]?.outputs).toEqual([]);
    expect(settled[2]?.has_nsfw_contents).toEqual([true]);
    expect(settled[3]?.inferenceMs).toBeGreaterThanOrEqual(140);

    await until(() => deliveries.length === 3);
    const delivered = deliveries.map((d) => (JSON.parse(d.raw) as { id: string; status: string }).id).sort();
    expect(delivered).toEqual([failed, nsfw, slow].sort());
    expect(sim.lostWebhooks.map((l) => l.predictionId)).toEqual([lost]);
    expect(sim.stats).toMatchObject({ submitted: 4, completed: 3, failed: 1, callbacksLost: 1, callbacksSent: 3 });
    const polled = await call<{ status: string }>(`/api/v3/predictions/${lost}/result`);
    expect(polled.body.data.status).toBe('completed');
  });

  it('fails a prediction whose image cannot be downloaded', async () => {
    const { sim, call } = await setup();
    const { body } = await call<{ id: string }>(`/api/v3/${MODEL}`, submitInit({ image: 'http://127.0.0.1:1/nope.jpg', prompt: 'x' }));
    const p = await sim.whenSettled(body.data.id);
    expect(p.status).toBe('failed');
    expect(p.error).toMatch(/^failed to download image/);
  });

  it('answers 400 naming the wrong field, and 404 for an unknown model', async () => {
    const { sim, call, imageUrl } = await setup();
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ prompt: 'x' }, /image/],
      [{ image: imageUrl }, /prompt/],
      [{ image: 'not a url', prompt: 'x' }, /image/],
      [{ image: imageUrl, prompt: 'x', size: '1280*720' }, /size/],
      [{ image: imageUrl, prompt: 'x', duration: 7 }, /duration/],
      [{ image: imageUrl, prompt: 'x', seed: 1.5 }, /seed/],
      [{ image: imageUrl, prompt: 'a dog [reject]' }, /^prompt rejected by content policy$/],
    ];
    for (const [body, message] of cases) {
      const res = await call(`/api/v3/${MODEL}`, submitInit(body));
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(400);
      expect(res.body.message).toMatch(message);
    }
    const unknown = await call('/api/v3/acme/unknown-model', submitInit({ image: imageUrl, prompt: 'x' }));
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/model/);
    const ok720 = await call('/api/v3/wavespeed-ai/wan-2.2/i2v-720p', submitInit({ image: imageUrl, prompt: 'x', size: '1280*720', duration: 8 }));
    expect(ok720.status).toBe(200);
    const kling = await call('/api/v3/kwaivgi/kling-v2.1-i2v-pro', submitInit({ image: imageUrl, prompt: 'x', duration: '10' }));
    expect(kling.status).toBe(200);
    expect(sim.stats.submitted).toBe(2);
    const missing = await call('/api/v3/predictions/ffffffffffffffffffffffffffffffff/result');
    expect(missing).toMatchObject({ status: 404, body: { code: 404, message: 'prediction not found' } });
  });

  it('requires the bearer key on every /api/v3 route', async () => {
    const { sim, imageUrl } = await setup();
    const requests: Array<[string, RequestInit]> = [
      [`/api/v3/${MODEL}`, submitInit({ image: imageUrl, prompt: 'x' })],
      ['/api/v3/webhook/secret', {}],
      ['/api/v3/predictions/abc/result', {}],
      ['/api/v3/media/upload/binary', { method: 'POST' }],
    ];
    for (const [path, init] of requests) {
      for (const authorization of [undefined, 'Bearer wrong', KEY]) {
        const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
        if (authorization) headers['authorization'] = authorization;
        const res = await fetch(`${sim.url}${path}`, { ...init, headers });
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ code: 401, message: 'Unauthorized' });
      }
    }
    expect(sim.stats.submitted).toBe(0);
  });

  it('queues predictions over maxConcurrent in "created"', async () => {
    const { sim, call, imageUrl } = await setup({ maxConcurrent: 3, latencyMs: 300 });
    const ids = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => (await call<{ id: string }>(`/api/v3/${MODEL}`, submitInit({ image: imageUrl, prompt: `p${i}` }))).body.data.id),
    );
    expect(sim.inFlight).toBe(3);
    expect(sim.queued).toBe(2);
    expect(sim.unfinished).toBe(5);
    await new Promise((r) => setTimeout(r, 100));
    const statuses = await Promise.all(ids.map(async (id) => (await call<{ status: string }>(`/api/v3/predictions/${id}/result`)).body.data.status));
    expect(statuses.filter((s) => s === 'processing')).toHaveLength(3);
    expect(statuses.filter((s) => s === 'created')).toHaveLength(2);
    const done = await Promise.all(ids.map((id) => sim.whenSettled(id)));
    expect(done.every((p) => p.status === 'completed')).toBe(true);
    expect(sim.stats.maxInFlightSeen).toBe(3);
    // Waiting predictions count against an account's concurrency too.
    expect(sim.stats.maxUnfinishedSeen).toBe(5);
    expect(sim.unfinished).toBe(0);
  });

  it('answers 429 without Retry-After over the per-minute limit', async () => {
    const { sim, call, imageUrl } = await setup({ perMinuteLimit: 2 });
    for (let i = 0; i < 2; i++) expect((await call(`/api/v3/${MODEL}`, submitInit({ image: imageUrl, prompt: 'x' }))).status).toBe(200);
    const limited = await call(`/api/v3/${MODEL}`, submitInit({ image: imageUrl, prompt: 'x' }));
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ code: 429, message: 'Too Many Requests' });
    expect(limited.headers.get('retry-after')).toBeNull();
    expect(sim.stats).toMatchObject({ submitted: 2, rateLimited: 1 });
  });

  it('streams outputs of configurable size without holding them', async () => {
    const { sim, call, imageUrl } = await setup();
    sim.setOutputBytes(60 * 1024 * 1024);
    const big = (await call<{ id: string }>(`/api/v3/${MODEL}`, submitInit({ image: imageUrl, prompt: 'big' }))).body.data.id;
    const sized = (await call<{ id: string }>(`/api/v3/${MODEL}`, submitInit({ image: imageUrl, prompt: `medium [bytes:${21 * 1024 * 1024}]` }))).body.data.id;
    const [p60, p21] = await Promise.all([sim.whenSettled(big), sim.whenSettled(sized)]);
    const head = await fetch(p60.outputs[0] ?? '', { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(60 * 1024 * 1024));
    const res = await fetch(p21.outputs[0] ?? '');
    let total = 0;
    for await (const chunk of res.body ?? []) total += (chunk as Uint8Array).length;
    expect(total).toBe(21 * 1024 * 1024);
  });

  it('cancels and expires predictions', async () => {
    const { sim, call, imageUrl } = await setup({ latencyMs: 200 });
    const id = (await call<{ id: string }>(`/api/v3/${MODEL}?webhook=${encodeURIComponent(hookUrl)}`, submitInit({ image: imageUrl, prompt: 'x' }))).body.data.id;
    expect(sim.cancelPrediction(id)).toBe(true);
    expect((await call<{ status: string }>(`/api/v3/predictions/${id}/result`)).body.data.status).toBe('cancelled');
    expect(sim.cancelPrediction(id)).toBe(false);
    expect(sim.expirePrediction(id)).toBe(true);
    expect((await call(`/api/v3/predictions/${id}/result`)).status).toBe(404);
    await new Promise((r) => setTimeout(r, 50));
    expect(deliveries).toHaveLength(0);
  });
});
