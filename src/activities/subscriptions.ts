import type { ActivityDeps } from './deps.js';
import {
  listSources,
  listSubscriptions,
  subscribe,
  unsubscribe,
  type SubscribeInput,
  type UnsubscribeInput,
} from '../db/subscriptions.js';

export type { SourceListing, SubscribeInput, SubscribeResult, SubscriptionListing, UnsubscribeInput, UnsubscribeResult } from '../db/subscriptions.js';

/** The bot's subscription commands (queries in src/db/subscriptions.ts). */
export function createSubscriptionActivities({ prisma }: Pick<ActivityDeps, 'prisma'>) {
  return {
    /** Sources by slug, each with whether the user follows it. */
    listSources: (input: { userId: number }) => listSources(prisma, input),
    /** Subscribes the user to a source; a retry of the same request answers the same and writes nothing. */
    subscribe: (input: SubscribeInput) => subscribe(prisma, input),
    /** Removes a subscription; retries behave as in `subscribe`. */
    unsubscribe: (input: UnsubscribeInput) => unsubscribe(prisma, input),
    /** The sources the user follows, by slug. */
    listSubscriptions: (input: { userId: number }) => listSubscriptions(prisma, input),
  };
}
