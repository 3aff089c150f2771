import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activities } from '../../src/activities/index.js';
import { WavespeedClient } from '../../src/integrations/wavespeed/client.js';
import { WavespeedSimulator } from '../../sandbox/simulators/wavespeed.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { buildActivities, MODEL, runActivity, WAVESPEED_KEY } from './helpers.js';
import { UNKNOWN_PREDICTION } from '../../src/workflows/admission/messages.js';

describe('admission activities', () => {
  const wavespeed = new WavespeedSimulator({ apiKey: WAVESPEED_KEY, latencyMs: 400, processingAfterMs: 50 });
  let db: TestDatabase;
  let activities: Activities;

  beforeAll(async () => {
    [db] = await Promise.all([createTestDatabase(), wavespeed.start()]);
    activities = buildActivities({ prisma: db.prisma, wavespeedApiRoot: wavespeed.url });
  });
  afterAll(async () => {
    await wavespeed.stop();
    await db?.drop();
  });

  it('tells which predictions have ended at WaveSpeed, counting unknown ones as ended', async () => {
    const client = new WavespeedClient({ apiKey: WAVESPEED_KEY, apiRoot: wavespeed.url });
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } }).jpeg().toBuffer();
    const { downloadUrl } = await client.uploadMedia(jpeg, 'a.jpg', 'image/jpeg');
    const submit = async (prompt: string) => (await client.submit(MODEL, { image: downloadUrl, prompt })).id;
    const [running, done, forgotten] = await Promise.all([submit('slow [slow:5000]'), submit('quick'), submit('gone')]);
    await Promise.all([wavespeed.whenSettled(done), wavespeed.whenSettled(forgotten)]);
    wavespeed.expirePrediction(forgotten);

    const ended = await runActivity(activities.findEndedPredictions, { predictionIds: [running, done, forgotten, UNKNOWN_PREDICTION] });
    // A submission whose answer was lost: no id to ask about, so its slot stays taken until its deadline.
    expect(ended).toEqual([done, forgotten]);
  });

  it('records generation.paused and generation.resumed once per change', async () => {
    await runActivity(activities.recordGenerationPause, { eventId: 'e1', paused: true, queued: 2, inFlight: 3 });
    await runActivity(activities.recordGenerationPause, { eventId: 'e1', paused: true, queued: 2, inFlight: 3 });
    await runActivity(activities.recordGenerationPause, { eventId: 'e2', paused: false, queued: 0, inFlight: 1 });
    const events = await db.prisma.domainEvent.findMany({ where: { subject: 'admission:wavespeed-admission' }, orderBy: { occurredAt: 'asc' } });
    expect(events.map((e) => [e.type, e.payload])).toEqual([
      ['generation.paused', { queued: 2, inFlight: 3 }],
      ['generation.resumed', { queued: 0, inFlight: 1 }],
    ]);
  });
});
