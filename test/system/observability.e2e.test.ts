import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import { eventually, postApi, useTestSystem, TEST_ADMIN_TOKEN } from '../helpers/system.js';

const lines: string[] = [];
const logDestination = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  },
});

const sys = useTestSystem({ env: { LOG_LEVEL: 'info', BROADCAST_RATE_PER_SECOND: '50' }, logDestination });

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one sample, 0 when the series does not exist (a counter never incremented). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function video(chatId: number, caption: string): Promise<string> {
  const update = await sys.telegram!.makePhotoUpdate({ chatId, userId: chatId, caption });
  expect((await sys.telegram!.pushUpdate(update)).status).toBe(200);
  return videoWorkflowId(chatId, update.message!.message_id);
}

const settle = (workflowId: string) => sys.temporal.client.workflow.getHandle(workflowId).result().catch(() => undefined);

it('runs videos and a distribution with JSON logs free of secrets, metrics that count them, and /api/stats', async () => {
  const telegram = sys.telegram!;
  const token = sys.config.TELEGRAM_BOT_TOKEN;

  // A video that arrives, one WaveSpeed fails, and one whose photo download fails
  // with an error text that carries the bot token inside a file URL.
  const completed = await video(9001, 'the waves roll in');
  await settle(completed);
  const failed = await video(9002, 'explode [fail]');
  await settle(failed);
  telegram.failNext('getFile', { errorCode: 400, description: `Bad Request: cannot serve ${sys.config.TELEGRAM_API_ROOT}/file/bot${token}/photos/x.jpg` });
  const broken = await video(9003, 'never downloaded');
  await settle(broken);
  // One still running when the stats are read.
  const running = await video(9004, 'very slow [slow:60000]');

  // A distribution to 20 subscribers through one 429.
  expect((await postApi(sys, '/sources', { slug: 'obs', title: 'Observability' })).status).toBe(201);
  const source = await sys.db.prisma.source.findUniqueOrThrow({ where: { slug: 'obs' } });
  const ids = Array.from({ length: 20 }, (_, i) => 91_000 + i);
  await sys.db.prisma.telegramUser.createMany({ data: ids.map((id) => ({ id: BigInt(id), chatId: BigInt(id) })) });
  await sys.db.prisma.subscription.createMany({ data: ids.map((id) => ({ userId: BigInt(id), sourceId: source.id })) });
  telegram.failNext('sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1 });
  const accepted = await postApi(sys, '/summaries', { source: 'obs', externalId: 'e-1', title: 'T', text: 'Body' });
  expect(accepted.status).toBe(202);
  await sys.temporal.client.workflow.getHandle(accepted.body.workflowId as string).result();

  // Worker: Temporal's SDK metrics and Telewan's counters on one endpoint, matching what Telegram saw.
  const worker = await scrape(sys.worker!.metricsUrl);
  expect(worker).toMatch(/^temporal_workflow_completed_total\{/m);
  expect(worker).toMatch(/^temporal_activity_execution_latency_bucket\{/m);
  expect(sample(worker, 'telewan_generations_total{outcome="completed"}')).toBe(1);
  expect(sample(worker, 'telewan_generations_total{outcome="failed"}')).toBe(2);
  const okCalls = (method: string) => telegram.callsTo(method).filter((c) => c.ok).length;
  expect(sample(worker, 'telewan_telegram_messages_sent_total{method="sendVideo"}')).toBe(okCalls('sendVideo'));
  expect(sample(worker, 'telewan_telegram_messages_sent_total{method="sendMessage"}')).toBe(okCalls('sendMessage'));
  expect(okCalls('sendMessage')).toBeGreaterThan(20);
  expect(sample(worker, 'telewan_telegram_rate_limited_total{method="sendMessage"}')).toBe(1);
  expect(worker).toContain('# TYPE telewan_result_cache_lookups_total counter');

  // Gateway: the starts it asked of Temporal.
  const gateway = await scrape(`${sys.gateway.url}/metrics`);
  expect(sample(gateway, 'telewan_workflow_starts_total{workflow_type="imageToVideo",result="started"}')).toBe(4);
  expect(sample(gateway, 'telewan_workflow_starts_total{workflow_type="distributeSummary",result="started"}')).toBe(1);
  expect(sample(gateway, 'telewan_http_requests_total{route="/telegram/webhook",method="POST",status="200"}')).toBe(4);

  // Stats: Temporal's visibility (eventually consistent) and today's rows.
  const stats = await eventually(
    async () => {
      const res = await fetch(`${sys.gateway.url}/api/stats`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { workflows: Record<string, { running: number; failed: number }>; today: Record<string, unknown> };
      const v = body.workflows.imageToVideo!;
      return v.running === 1 && v.failed === 1 && body.workflows.distributeSummary!.running === 0 ? body : undefined;
    },
    20_000,
    'visibility to catch up',
  );
  const inProgress = await sys.db.prisma.generation.findUniqueOrThrow({ where: { id: running } });
  expect(stats.today).toEqual({
    date: new Date().toISOString().slice(0, 10),
    generations: { completed: 1, failed: 2, [inProgress.status]: 1 },
    deliveries: { sent: 20 },
    // Different photos: every lookup that happened missed.
    cache: expect.objectContaining({ hits: 0, rate: 0 }),
  });
  expect((stats as unknown as { spend: unknown[] }).spend).toHaveLength(7);
  expect((await fetch(`${sys.gateway.url}/api/stats`)).status).toBe(401);

  // Logs: JSON lines from the gateway, the worker, the SDK and activities; no secret in any.
  await new Promise((r) => setTimeout(r, 300)); // Temporal's runtime logger buffers ~100 ms.
  const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(entries.some((e) => e.service === 'gateway' && e.msg === 'request completed')).toBe(true);
  expect(entries.some((e) => e.service === 'worker' && e.msg === 'Worker state changed' && e.state === 'RUNNING')).toBe(true);
  expect(entries.some((e) => e.msg === 'Generation ended' && e.workflowId === completed && e.outcome === 'completed')).toBe(true);
  // The photo is first downloaded to fingerprint it for the result cache.
  const activityFailure = entries.find((e) => e.msg === 'Activity failed' && e.activityType === 'fingerprintImage');
  expect(JSON.stringify(activityFailure)).toContain('/file/bot[REDACTED]/photos/x.jpg');
  const text = lines.join('\n');
  const secrets = [token, token.split(':')[1]!, sys.config.TELEGRAM_WEBHOOK_SECRET, sys.config.WAVESPEED_API_KEY, sys.wavespeed!.webhookSecret, TEST_ADMIN_TOKEN];
  for (const secret of secrets) expect(text).not.toContain(secret);
}, 120_000);
