/**
 * Subscriptions and sources, as the bot's commands read and change them (the
 * queries behind /sources, /subscribe, /unsubscribe and /mysubs) and as a
 * summary's distribution walks them.
 */
import type { PrismaClient } from '../generated/prisma/client.js';
import { recordEvent } from './events.js';
import { upsertUser, type TelegramUserInput } from './users.js';

/** One line of /sources. */
export interface SourceListing {
  slug: string;
  title: string;
  subscribed: boolean;
}

/** One line of /mysubs. */
export interface SubscriptionListing {
  slug: string;
  title: string;
}

export interface SubscribeInput {
  user: TelegramUserInput;
  slug: string;
  /**
   * Names the request (the workflow id): the event id is built from it, so a
   * retried attempt whose first try committed is recognised and answered the same.
   */
  requestId: string;
}

export interface UnsubscribeInput {
  userId: number;
  slug: string;
  /** As in {@link SubscribeInput}. */
  requestId: string;
}

export type SubscribeResult =
  | { outcome: 'subscribed' | 'already-subscribed'; title: string }
  | { outcome: 'unknown-source' };

export type UnsubscribeResult =
  | { outcome: 'unsubscribed' | 'not-subscribed'; title: string }
  | { outcome: 'unknown-source' };

/** How many sources /sources shows (an inline keyboard holds at most 100 buttons). */
const MAX_SOURCES = 50;


/** Sources by slug, each with whether the user follows it. */
export async function listSources(prisma: PrismaClient, input: { userId: number }): Promise<SourceListing[]> {
  const rows = await prisma.source.findMany({
    orderBy: { slug: 'asc' },
    take: MAX_SOURCES,
    select: { slug: true, title: true, subscriptions: { where: { userId: BigInt(input.userId) }, select: { userId: true } } },
  });
  return rows.map((r) => ({ slug: r.slug, title: r.title, subscribed: r.subscriptions.length > 0 }));
}

/**
 * Subscribes the user (created or refreshed first) to a source. Creating the
 * row records `subscription.created`; a retry of the same request finds its
 * own event and answers `subscribed` again without writing anything.
 */
export async function subscribe(prisma: PrismaClient, input: SubscribeInput): Promise<SubscribeResult> {
  const userId = input.user.userId;
  return prisma.$transaction(async (tx) => {
    const source = await tx.source.findUnique({ where: { slug: input.slug }, select: { id: true, slug: true, title: true } });
    if (!source) return { outcome: 'unknown-source' } as const;
    await upsertUser(tx, input.user);
    const eventId = `subscription.created:${userId}:${source.id}:${input.requestId}`;
    const { count } = await tx.subscription.createMany({
      data: [{ userId: BigInt(userId), sourceId: source.id }],
      skipDuplicates: true,
    });
    if (count > 0) {
      await recordEvent(tx, {
        id: eventId,
        type: 'subscription.created',
        subject: `user:${userId}`,
        payload: { sourceId: source.id, slug: source.slug },
      });
      return { outcome: 'subscribed', title: source.title } as const;
    }
    const ours = await tx.domainEvent.findUnique({ where: { id: eventId }, select: { id: true } });
    return { outcome: ours ? 'subscribed' : 'already-subscribed', title: source.title } as const;
  });
}

/** Removes a subscription, recording `subscription.removed`; retries behave as in `subscribe`. */
export async function unsubscribe(prisma: PrismaClient, input: UnsubscribeInput): Promise<UnsubscribeResult> {
  return prisma.$transaction(async (tx) => {
    const source = await tx.source.findUnique({ where: { slug: input.slug }, select: { id: true, slug: true, title: true } });
    if (!source) return { outcome: 'unknown-source' } as const;
    const eventId = `subscription.removed:${input.userId}:${source.id}:${input.requestId}`;
    const { count } = await tx.subscription.deleteMany({ where: { userId: BigInt(input.userId), sourceId: source.id } });
    if (count > 0) {
      await recordEvent(tx, {
        id: eventId,
        type: 'subscription.removed',
        subject: `user:${input.userId}`,
        payload: { sourceId: source.id, slug: source.slug },
      });
      return { outcome: 'unsubscribed', title: source.title } as const;
    }
    const ours = await tx.domainEvent.findUnique({ where: { id: eventId }, select: { id: true } });
    return { outcome: ours ? 'unsubscribed' : 'not-subscribed', title: source.title } as const;
  });
}

/** The sources the user follows, by slug. */
export async function listSubscriptions(prisma: PrismaClient, input: { userId: number }): Promise<SubscriptionListing[]> {
  const rows = await prisma.subscription.findMany({
    where: { userId: BigInt(input.userId) },
    orderBy: { source: { slug: 'asc' } },
    select: { source: { select: { slug: true, title: true } } },
  });
  return rows.map((r) => r.source);
}

/** A source's subscribers who have not blocked the bot: a distribution's audience. */
export async function countReachableSubscribers(prisma: PrismaClient, sourceId: number): Promise<number> {
  return prisma.subscription.count({ where: { sourceId, user: { blocked: false } } });
}

/** User ids of the source's next reachable subscribers after `afterUserId`, ascending, at most `take`. */
export async function reachableSubscriberIds(prisma: PrismaClient, input: { sourceId: number; afterUserId: number; take: number }): Promise<number[]> {
  const rows = await prisma.subscription.findMany({
    where: { sourceId: input.sourceId, userId: { gt: BigInt(input.afterUserId) }, user: { blocked: false } },
    orderBy: { userId: 'asc' },
    take: input.take,
    select: { userId: true },
  });
  return rows.map((r) => Number(r.userId));
}

/** The source's reachable subscribers with user id in (afterUserId, upToUserId], and their chats. */
export async function reachableSubscribersInRange(
  prisma: PrismaClient,
  input: { sourceId: number; afterUserId: number; upToUserId: number },
): Promise<Array<{ userId: number; chatId: number }>> {
  const rows = await prisma.subscription.findMany({
    where: { sourceId: input.sourceId, userId: { gt: BigInt(input.afterUserId), lte: BigInt(input.upToUserId) }, user: { blocked: false } },
    select: { user: { select: { id: true, chatId: true } } },
  });
  return rows.map((r) => ({ userId: Number(r.user.id), chatId: Number(r.user.chatId) }));
}
