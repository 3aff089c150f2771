import { afterAll, beforeAll, expect, it } from 'vitest';
import { createStatsService } from '../../src/gateway/services/stats.js';
import type { WorkflowCounter } from '../../src/temporal/client/visibility.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const NOW = new Date('2026-11-22T10:00:00Z');
const at = (iso: string) => new Date(iso);

it('counts workflows per type and status, the generations, deliveries and cache hits of the UTC day only, and spend per day', async () => {
  const { prisma } = db;
  await prisma.telegramUser.create({ data: { id: 1n, chatId: 1n } });
  const generation = (
    id: string,
    status: 'completed' | 'failed' | 'processing',
    requestedAt: string,
    extra: { costUsd?: number; completedAt?: string; cacheHit?: boolean } = {},
  ) =>
    prisma.generation.create({
      data: {
        id,
        userId: 1n,
        chatId: 1n,
        messageId: Number(id.slice(1)),
        prompt: 'p',
        model: 'm',
        status,
        requestedAt: at(requestedAt),
        ...(extra.costUsd !== undefined ? { costUsd: extra.costUsd } : {}),
        ...(extra.completedAt ? { completedAt: at(extra.completedAt) } : {}),
        ...(extra.cacheHit !== undefined ? { cacheHit: extra.cacheHit } : {}),
      },
    });
  await generation('g1', 'completed', '2026-11-21T23:59:59.999Z', { costUsd: 0.3, completedAt: '2026-11-22T00:00:30Z', cacheHit: false }); // yesterday, paid today
  await generation('g2', 'completed', '2026-11-22T00:00:00.000Z', { costUsd: 0, completedAt: '2026-11-22T00:00:01Z', cacheHit: true });
  await generation('g3', 'completed', '2026-11-22T09:00:00Z', { costUsd: 0.15, completedAt: '2026-11-22T09:01:00Z', cacheHit: false });
  await generation('g7', 'completed', '2026-11-16T09:00:00Z', { costUsd: 0.45, completedAt: '2026-11-16T09:01:00Z' }); // 6 days ago: the first day reported
  await generation('g8', 'completed', '2026-11-15T09:00:00Z', { costUsd: 0.45, completedAt: '2026-11-15T09:01:00Z' }); // 7 days ago: not reported
  await generation('g4', 'failed', '2026-11-22T23:59:59.999Z');
  await generation('g5', 'processing', '2026-11-22T09:59:00Z');
  await generation('g6', 'failed', '2026-11-23T00:00:00.000Z'); // tomorrow

  const source = await prisma.source.create({ data: { slug: 's', title: 'S' } });
  const summary = await prisma.summary.create({ data: { sourceId: source.id, externalId: 'e', title: 't', text: 'x' } });
  const delivery = (chatId: bigint, status: 'sent' | 'blocked', createdAt: string) => prisma.delivery.create({ data: { summaryId: summary.id, chatId, status, createdAt: at(createdAt) } });
  await delivery(1n, 'sent', '2026-11-22T01:00:00Z');
  await delivery(2n, 'sent', '2026-11-22T02:00:00Z');
  await delivery(3n, 'blocked', '2026-11-22T03:00:00Z');
  await delivery(4n, 'sent', '2026-11-21T22:00:00Z'); // yesterday

  const asked: string[] = [];
  const workflows: WorkflowCounter = {
    async countWorkflows(type, status) {
      asked.push(`${type}/${status}`);
      return type === 'imageToVideo' ? (status === 'Running' ? 4 : 2) : type === 'distributeSummary' && status === 'Failed' ? 1 : 0;
    },
  };

  const stats = await createStatsService({ prisma, workflows }).collect(NOW);
  expect(stats).toEqual({
    workflows: {
      imageToVideo: { running: 4, failed: 2 },
      botCommand: { running: 0, failed: 0 },
      distributeSummary: { running: 0, failed: 1 },
    },
    today: {
      date: '2026-11-22',
      generations: { completed: 2, failed: 1, processing: 1 },
      deliveries: { sent: 2, blocked: 1 },
      cache: { lookups: 2, hits: 1, rate: 0.5 },
    },
    spend: [
      { day: '2026-11-16', costUsd: 0.45, charged: 1 },
      { day: '2026-11-17', costUsd: 0, charged: 0 },
      { day: '2026-11-18', costUsd: 0, charged: 0 },
      { day: '2026-11-19', costUsd: 0, charged: 0 },
      { day: '2026-11-20', costUsd: 0, charged: 0 },
      { day: '2026-11-21', costUsd: 0, charged: 0 },
      { day: '2026-11-22', costUsd: 0.45, charged: 2 },
    ],
  });
  expect(asked.sort()).toEqual(
    ['botCommand/Failed', 'botCommand/Running', 'distributeSummary/Failed', 'distributeSummary/Running', 'imageToVideo/Failed', 'imageToVideo/Running'],
  );
});
