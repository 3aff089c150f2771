import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TelegramClient } from '../../src/integrations/telegram/client.js';
import { createLogger } from '../../src/observability/logger.js';
import { createWorkerMetrics } from '../../src/observability/metrics.js';
import { startMetricsServer } from '../../src/observability/metrics-server.js';
import { TelegramSimulator } from '../../sandbox/simulators/telegram.js';

const TOKEN = '777:metrics-test-token';
const silent = createLogger({ level: 'silent', secrets: [], destination: new Writable({ write: (_c, _e, done) => done() }) });

describe('Telegram client counters', () => {
  const telegram = new TelegramSimulator({ token: TOKEN, rateLimitMode: 'off' });
  let root: string;
  beforeAll(async () => {
    root = await telegram.start();
  });
  afterAll(() => telegram.stop());

  it('counts accepted messages by method, 429s apart, and not chat actions or failures', async () => {
    const metrics = createWorkerMetrics();
    const client = new TelegramClient({ token: TOKEN, apiRoot: root, metrics });
    await client.call('sendMessage', 1, (api) => api.sendMessage(1, 'one'));
    await client.call('sendMessage', 1, (api) => api.sendMessage(1, 'two'));
    const sent = await client.call('sendMessage', 1, (api) => api.sendMessage(1, 'three'));
    await client.api.editMessageText(1, sent.message_id, 'three, edited');
    await client.call('sendChatAction', 1, (api) => api.sendChatAction(1, 'typing'));
    telegram.failNext('sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 3', retryAfter: 3 });
    await expect(client.call('sendMessage', 1, (api) => api.sendMessage(1, 'four'))).rejects.toThrow(/rate limit/i);
    telegram.failNext('sendMessage', { errorCode: 400, description: 'Bad Request: message is too long' });
    await expect(client.call('sendMessage', 1, (api) => api.sendMessage(1, 'five'))).rejects.toThrow();

    const text = await metrics.registry.metrics();
    expect(text).toContain('telewan_telegram_messages_sent_total{method="sendMessage"} 3');
    expect(text).not.toContain('method="sendChatAction"');
    expect(text).not.toContain('method="editMessageText"');
    expect(text).toContain('telewan_telegram_rate_limited_total{method="sendMessage"} 1');
  });
});

describe('worker metrics server', () => {
  let core: Server;
  let coreUrl: string;
  beforeAll(async () => {
    core = createServer((_req, res) => res.end('# TYPE temporal_workflow_completed_total counter\ntemporal_workflow_completed_total{workflow_type="x"} 5\n'));
    await new Promise<void>((resolve) => core.listen(0, '127.0.0.1', resolve));
    coreUrl = `http://127.0.0.1:${(core.address() as { port: number }).port}/metrics`;
  });
  afterAll(() => new Promise<void>((resolve) => core.close(() => resolve())));

  it("serves Telewan's counters followed by Temporal Core's on one endpoint", async () => {
    const metrics = createWorkerMetrics();
    metrics.generations.inc({ outcome: 'completed' });
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0, registry: metrics.registry, sdkMetricsUrl: coreUrl, logger: silent });
    try {
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(text).toContain('telewan_generations_total{outcome="completed"} 1\n');
      expect(text).toContain('temporal_workflow_completed_total{workflow_type="x"} 5');
      expect(text.indexOf('telewan_generations_total')).toBeLessThan(text.indexOf('temporal_workflow_completed_total'));
      expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it("still answers with Telewan's counters when Core does not answer", async () => {
    const metrics = createWorkerMetrics();
    metrics.telegramRateLimited.inc({ method: 'sendMessage' });
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0, registry: metrics.registry, sdkMetricsUrl: 'http://127.0.0.1:9/metrics', logger: silent });
    try {
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('telewan_telegram_rate_limited_total{method="sendMessage"} 1');
      expect(text).not.toContain('temporal_');
    } finally {
      await server.close();
    }
  });
});
