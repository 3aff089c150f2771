import Fastify, { type FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WavespeedRejectedError, WavespeedUnavailableError } from '../../src/errors.js';
import { WavespeedClient } from '../../src/integrations/wavespeed/client.js';
import { WavespeedSimulator } from '../../sandbox/simulators/wavespeed.js';

const KEY = 'upload-client-key';

describe("the WaveSpeed client's media upload", () => {
  const sim = new WavespeedSimulator({ apiKey: KEY });
  let jpeg: Buffer;

  beforeAll(async () => {
    await sim.start();
    jpeg = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#abcdef' } }).jpeg().toBuffer();
  });
  afterAll(() => sim.stop());
  beforeEach(() => {
    sim.reset();
    sim.configure({ ticketUploads: true });
  });

  it('uses the current flow: a ticket, then a PUT of the bytes to its presigned URL', async () => {
    const client = new WavespeedClient({ apiKey: KEY, apiRoot: sim.url });
    const { downloadUrl, flow } = await client.uploadMedia(jpeg, 'abc.jpg', 'image/jpeg');
    expect(flow).toBe('presigned');
    expect(sim.uploads).toEqual([expect.objectContaining({ flow: 'presigned', filename: 'abc.jpg', mimetype: 'image/jpeg', size: jpeg.length, downloadUrl })]);
    expect(Buffer.from(await (await fetch(downloadUrl)).arrayBuffer()).equals(jpeg)).toBe(true);
  });

  it('falls back to the binary endpoint when WaveSpeed answers the ticket request 404, and keeps to it for a while', async () => {
    sim.configure({ ticketUploads: false });
    const client = new WavespeedClient({ apiKey: KEY, apiRoot: sim.url });
    const first = await client.uploadMedia(jpeg, 'a.jpg', 'image/jpeg');
    sim.configure({ ticketUploads: true });
    const second = await client.uploadMedia(jpeg, 'b.jpg', 'image/jpeg');
    expect([first.flow, second.flow]).toEqual(['binary', 'binary']);
    expect(sim.uploads.map((u) => u.flow)).toEqual(['binary', 'binary']);
  });
});

describe('the WaveSpeed client against a scripted peer', () => {
  let peer: FastifyInstance;
  let root: string;
  let ticketStatus = 200;
  let putStatus = 200;
  const puts: Array<Record<string, unknown>> = [];
  let binaryUploads = 0;

  beforeAll(async () => {
    peer = Fastify();
    peer.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    peer.post('/api/v3/media/uploads', async (_request, reply) => {
      if (ticketStatus !== 200) return reply.code(ticketStatus).send({ code: ticketStatus, message: 'nope' });
      return { code: 200, message: 'success', data: { download_url: `${root}/media/x.jpg`, upload: { url: `${root}/put?sig=1`, method: 'PUT', headers: { 'Content-Type': 'image/jpeg' } } } };
    });
    peer.put('/put', async (request, reply) => {
      puts.push({ ...request.headers, bytes: (request.body as Buffer).length });
      return reply.code(putStatus).send();
    });
    peer.post('/api/v3/media/upload/binary', async () => {
      binaryUploads += 1;
      return { code: 200, message: 'success', data: { download_url: `${root}/media/binary.jpg` } };
    });
    root = await peer.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => peer.close());
  afterEach(() => {
    ticketStatus = 200;
    putStatus = 200;
    puts.length = 0;
    binaryUploads = 0;
  });
  const client = () => new WavespeedClient({ apiKey: KEY, apiRoot: root });

  it('sends the API key to WaveSpeed but never to the presigned URL', async () => {
    await client().uploadMedia(Buffer.from('bytes'), 'x.jpg', 'image/jpeg');
    expect(puts).toEqual([expect.objectContaining({ 'content-type': 'image/jpeg', bytes: 5 })]);
    expect(puts[0]).not.toHaveProperty('authorization');
    expect(JSON.stringify(puts)).not.toContain(KEY);
  });

  it('falls back to the binary endpoint on 405 too', async () => {
    ticketStatus = 405;
    expect(await client().uploadMedia(Buffer.from('bytes'), 'x.jpg', 'image/jpeg')).toEqual({ downloadUrl: `${root}/media/binary.jpg`, flow: 'binary' });
    expect(binaryUploads).toBe(1);
  });

  it('does not fall back on other refusals, and makes a refused PUT retryable (the retry gets a new ticket)', async () => {
    ticketStatus = 400;
    await expect(client().uploadMedia(Buffer.from('bytes'), 'x.jpg', 'image/jpeg')).rejects.toBeInstanceOf(WavespeedRejectedError);
    ticketStatus = 200;
    putStatus = 403;
    await expect(client().uploadMedia(Buffer.from('bytes'), 'x.jpg', 'image/jpeg')).rejects.toBeInstanceOf(WavespeedUnavailableError);
    expect(binaryUploads).toBe(0);
  });
});
