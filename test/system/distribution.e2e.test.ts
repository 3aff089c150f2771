import { expect, it } from 'vitest';
import { distributionProgressQuery, type DistributionCounts } from '../../src/workflows/distribution/messages.js';
import { eventually, postApi, useTestSystem } from '../helpers/system.js';

const sys = useTestSystem({ env: { BROADCAST_RATE_PER_SECOND: '50' } });

const api = (path: string, body: unknown) => postApi(sys, path, body);

it('delivers a summary posted to the API to every subscriber once, through a 429 storm', async () => {
  const telegram = sys.telegram!;
  expect((await api('/sources', { slug: 'tech', title: 'Tech Daily' })).status).toBe(201);

  // Three users subscribe through the bot, as users do.
  const users = [7001, 7002, 7003];
  for (const id of users) {
    await telegram.pushUpdate(telegram.makeTextUpdate({ chatId: id, userId: id, text: '/subscribe tech' }));
  }
  await eventually(() => users.every((id) => telegram.messagesTo(id).length === 1) || undefined, 20_000, 'three subscription replies');
  expect(await sys.db.prisma.subscription.count()).toBe(3);
  // Many more subscribe the bulk way; two of them cannot be reached.
  const bulk = Array.from({ length: 120 }, (_, i) => 80_000 + i);
  const source = await sys.db.prisma.source.findUniqueOrThrow({ where: { slug: 'tech' } });
  await sys.db.prisma.telegramUser.createMany({ data: bulk.map((id) => ({ id: BigInt(id), chatId: BigInt(id) })) });
  await sys.db.prisma.subscription.createMany({ data: bulk.map((id) => ({ userId: BigInt(id), sourceId: source.id })) });
  telegram.setChat(bulk[5]!, 'blocked');
  telegram.setChat(bulk[6]!, 'not-found');
  // Telegram turns hostile for a moment: a burst of 429s with retry_after.
  telegram.failNext('sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1, count: 5 });
  const sendsBefore = telegram.callsTo('sendMessage').length;

  const summary = { source: 'tech', externalId: 'yt-abc123', title: 'Rust 2.0 is out', text: 'The highlights in three lines.', videoUrl: 'https://example.test/watch?v=abc123' };
  const accepted = await api('/summaries', summary);
  expect(accepted.status).toBe(202);
  const { workflowId, summaryId } = accepted.body as { workflowId: string; summaryId: number };
  const handle = sys.temporal.client.workflow.getHandle(workflowId);
  const midway = await handle.query(distributionProgressQuery).catch(() => undefined);
  const result = (await handle.result()) as DistributionCounts;

  const reachable = users.length + bulk.length;
  expect(result).toEqual({ total: reachable, sent: reachable - 2, blocked: 1, notFound: 1, failed: 0, remaining: 0 });
  if (midway) expect(midway.total).toBe(reachable);

  const sends = telegram.callsTo('sendMessage').slice(sendsBefore);
  const perChat = new Map<number, number>();
  for (const c of sends) if (c.ok) perChat.set(Number(c.chatId), (perChat.get(Number(c.chatId)) ?? 0) + 1);
  expect(perChat.size).toBe(reachable - 2);
  expect([...perChat.values()].every((n) => n === 1)).toBe(true);
  expect(sends.filter((c) => c.errorCode === 429).length).toBeGreaterThanOrEqual(5);
  expect(telegram.messagesTo(users[0]!).at(-1)!.text).toBe(`${summary.title}\n\n${summary.text}\n\n${summary.videoUrl}`);

  // The per-chat message ids are kept, the blocked user is marked, the summary is sent.
  const delivered = await sys.db.prisma.delivery.findMany({ where: { summaryId, status: 'sent' } });
  expect(delivered).toHaveLength(reachable - 2);
  const sample = delivered.find((d) => Number(d.chatId) === users[1])!;
  expect(sample.telegramMessageId).toBe(telegram.messagesTo(users[1]!).at(-1)!.message_id);
  expect(await sys.db.prisma.telegramUser.findUniqueOrThrow({ where: { id: BigInt(bulk[5]!) } })).toMatchObject({ blocked: true });
  expect(await sys.db.prisma.summary.findUniqueOrThrow({ where: { id: summaryId } })).toMatchObject({ sent: true });
  expect(await sys.db.prisma.domainEvent.count({ where: { type: 'summary.distributed', subject: `summary:${summaryId}` } })).toBe(1);

  // The same summary posted again: the same workflow, nobody hears it twice.
  const again = await api('/summaries', summary);
  expect(again).toMatchObject({ status: 202, body: { workflowId, summaryId, created: false } });
  await new Promise((r) => setTimeout(r, 1_000));
  expect(telegram.callsTo('sendMessage').slice(sendsBefore).filter((c) => c.ok)).toHaveLength(reachable - 2);
}, 120_000);
