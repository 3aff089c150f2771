import { afterAll, beforeAll, expect, it } from 'vitest';
import { createStatsService } from '../../src/gateway/services/stats.js';
import type { WorkflowCounter } from '../../src/temporal/visibility.js';
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

it('counts workflows per type and status, and the generations and deliveries of the UTC day only', async () => {
  const { prisma } = db;
  await prisma.telegramUser.create({ data: { id: 1n, chatId: 1n } });
  const generation = (id: string, status: 'completed' | 'failed' | 'processing', requestedAt: string) =>
    prisma.generation.create({ data: { id, userId: 1n, chatId: 1n, messageId: Number(id.slice(1)), prompt: 'p', model: 'm', status, requestedAt: at(requestedAt) } });
  await generation('g1', 'completed', '2026-11-21T23:59:59.999Z'); // yesterday
  await generation('g2', 'completed', '2026-11-22T00:00:00.000Z');
  await generation('g3', 'completed', '2026-11-22T09:00:00Z');
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
    today: { date: '2026-11-22', generations: { completed: 2, failed: 1, processing: 1 }, deliveries: { sent: 2, blocked: 1 } },
  });
  expect(asked.sort()).toEqual(
    ['botCommand/Failed', 'botCommand/Running', 'distributeSummary/Failed', 'distributeSummary/Running', 'imageToVideo/Failed', 'imageToVideo/Running'],
  );
});
