import { Context } from '@temporalio/activity';
import {
  claimDeliveries,
  countDeliveriesToChats,
  deliveredMessageIds,
  recordDeliveryOutcomes,
  releaseDeliveryClaims,
  reopenFailedDeliveries,
  type BatchCounts,
  type DeliveryOutcome,
  type DeliveryStatusCounts,
} from '../db/deliveries.js';
import { countReachableSubscribers, reachableSubscriberIds, reachableSubscribersInRange } from '../db/subscriptions.js';
import { findSummary, findSummarySource, markSummaryDistributed } from '../db/summaries.js';
import type { ReservedSlot, TelegramBudget } from '../integrations/telegram/budget.js';
import { summaryText } from '../domain/summary-text.js';
import { BatchRecipients, type Recipient } from './broadcast-batch.js';
import type { ActivityDeps } from './deps.js';

/** What a distribution needs to know before it starts. */
export interface DistributionPlan {
  sourceId: number;
  sourceSlug: string;
  /** Reachable subscribers (not blocked) when the distribution started. */
  total: number;
  /** Recipients per `deliverSummaryBatch`: about a second of sending at the ceiling. */
  batchSize: number;
}

/** Subscribers with user id in (afterUserId, upToUserId]. */
export interface RecipientRange {
  afterUserId: number;
  upToUserId: number;
}

export type { BatchCounts } from '../db/deliveries.js';

/** Outcomes are written at least this often… */
const FLUSH_MS = 10;
/** …or as soon as this many wait. */
const FLUSH_SIZE = 100;
/** First pause after a failed outcome write, doubling up to {@link WRITE_RETRY_MAX_MS}. */
const WRITE_RETRY_MS = 100;
const WRITE_RETRY_MAX_MS = 5_000;

/**
 * Batches of one worker that send at once; the others, claimed and ready, wait
 * their turn in arrival order. Batches then end one after the other, each leaving
 * the schedule to one already waiting, instead of all ending together and leaving
 * it empty while new ones start (a tenth of a second at 1,000/s). Two, so that one
 * reserves its next block while the other sends.
 */
const SENDING_BATCHES = 2;

/** A first-come, first-served semaphore of sending turns. */
class Turns {
  private free: number;
  private readonly queue: Array<() => void> = [];

  constructor(count: number) {
    this.free = count;
  }

  /**
   * Waits for a turn, heartbeating every second; resolves to its release (safe to
   * call twice). Rejects, giving its place up, when the activity is cancelled.
   */
  async take(ctx: Context): Promise<() => void> {
    if (this.free > 0) {
      this.free -= 1;
    } else {
      let wake!: () => void;
      const turn = new Promise<boolean>((resolve) => (wake = () => resolve(true)));
      this.queue.push(wake);
      try {
        while (!(await Promise.race([turn, ctx.sleep(1000).then(() => false)]))) ctx.heartbeat();
      } catch (err) {
        const place = this.queue.indexOf(wake);
        if (place >= 0) this.queue.splice(place, 1);
        else this.pass();
        throw err;
      }
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.pass();
    };
  }

  private pass(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.free += 1;
  }
}


/**
 * Waits `ms`, heartbeating at least every second so a long wait (a reservation
 * far ahead, a fleet-wide pause) does not look like a dead worker. Rejects when
 * the activity is cancelled or its heartbeat timed out on the server, which stops
 * a zombie attempt from sending beside its retry.
 */
async function wait(ctx: Context, ms: number): Promise<void> {
  if (ms > 20) {
    const until = Date.now() + ms;
    for (let left = ms; left > 0; left = until - Date.now()) {
      await ctx.sleep(Math.min(left, 1000));
      if (left > 1000) ctx.heartbeat();
    }
  } else if (ms > 0) {
    // A slot a millisecond or two away: never early (early sends bunch with the ones before),
    // on a plain timer (a thousand a second at the paid rate).
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
  if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
}

export function createDistributionActivities({ prisma, telegram }: Pick<ActivityDeps, 'prisma' | 'telegram'>) {
  const texts = new Map<number, string>();
  const turns = new Turns(SENDING_BATCHES);

  function budgetOf(): TelegramBudget {
    const { budget } = telegram;
    if (!budget) throw new Error('summary distribution needs the fleet-wide Telegram budget (TelegramClientOptions.budget)');
    return budget;
  }

  async function textOf(summaryId: number): Promise<string> {
    let text = texts.get(summaryId);
    if (text === undefined) {
      text = summaryText(await findSummary(prisma, summaryId));
      texts.set(summaryId, text);
    }
    return text;
  }

  /**
   * Writes delivery outcomes in small groups: one statement per flush instead of
   * one per message (at 1,000 messages a second, per-row updates alone would
   * take a core). A message Telegram accepted stays unrecorded for at most
   * {@link FLUSH_MS} plus one statement: the only window in which a crash can
   * lead to a second send. A failed write (a connection reset, a failover, an
   * outage) is retried, heartbeating, until it succeeds or the activity is
   * cancelled: it never rejects on its own, so nothing is left unhandled, and
   * {@link close} reports outcomes that could not be written.
   */
  function recorder(summaryId: number, ctx: Context) {
    let pending: DeliveryOutcome[] = [];
    let timer: NodeJS.Timeout | undefined;
    let writing: Promise<void> = Promise.resolve();
    let lost: unknown;
    const write = async (statement: () => Promise<unknown>): Promise<void> => {
      for (let pause = WRITE_RETRY_MS; ; pause = Math.min(2 * pause, WRITE_RETRY_MAX_MS)) {
        try {
          await statement();
          return;
        } catch (err) {
          if (ctx.cancellationSignal.aborted) throw err;
          ctx.heartbeat();
          // Rejects when the activity is cancelled: the outcomes are then lost.
          await ctx.sleep(pause).catch(() => {
            throw err;
          });
        }
      }
    };
    const flush = (): Promise<void> => {
      clearTimeout(timer);
      timer = undefined;
      const batch = pending;
      pending = [];
      if (batch.length === 0) return writing;
      writing = writing.then(() => write(() => recordDeliveryOutcomes(prisma, summaryId, batch))).catch((err: unknown) => {
        lost ??= err;
      });
      return writing;
    };
    return {
      add(outcome: DeliveryOutcome): void {
        pending.push(outcome);
        if (pending.length >= FLUSH_SIZE) void flush();
        else timer ??= setTimeout(() => void flush(), FLUSH_MS);
      },
      /**
       * Writes what waits and gives back the claims of `untried` chats (claimed,
       * but nothing went out to them in this attempt); rejects with the last
       * write's error if some of it could not be written.
       */
      async close(untried: number[] = []): Promise<void> {
        await flush();
        if (untried.length > 0) {
          writing = writing.then(() => write(() => releaseDeliveryClaims(prisma, summaryId, untried))).catch((err: unknown) => {
            lost ??= err;
          });
          await writing;
        }
        if (lost !== undefined) throw lost;
      },
    };
  }

  return {
    /** Counts the reachable subscribers and sizes the batches. */
    async prepareDistribution(input: { summaryId: number }): Promise<DistributionPlan> {
      const rate = budgetOf().broadcastRatePerSecond;
      const { sourceId, sourceSlug } = await findSummarySource(prisma, input.summaryId);
      const total = await countReachableSubscribers(prisma, sourceId);
      return { sourceId, sourceSlug, total, batchSize: Math.max(1, Math.min(500, Math.ceil(rate))) };
    },

    /**
     * Cuts the next subscribers (by user id, after `afterUserId`) into up to
     * `count` ranges of `batchSize`. Only the boundaries travel through history.
     */
    async planRanges(input: { sourceId: number; afterUserId: number; batchSize: number; count: number }): Promise<RecipientRange[]> {
      const userIds = await reachableSubscriberIds(prisma, { sourceId: input.sourceId, afterUserId: input.afterUserId, take: input.batchSize * input.count });
      const ranges: RecipientRange[] = [];
      let after = input.afterUserId;
      for (let i = input.batchSize - 1; i < userIds.length + input.batchSize - 1; i += input.batchSize) {
        const upTo = userIds[Math.min(i, userIds.length - 1)]!;
        ranges.push({ afterUserId: after, upToUserId: upTo });
        after = upTo;
      }
      return ranges;
    },

    /**
     * Sends the summary to the subscribers in a range, each at most once: a
     * delivery row is claimed before the send and completed right after, so a
     * retried batch, a re-run workflow or a restarted worker skips whoever was
     * already served. Every send takes a broadcast slot of the fleet-wide
     * Telegram budget (a quarter second of them per statement, after whatever
     * users' answers and videos hold; two batches of a worker send at once, the
     * others wait their turn); a 429 pauses the whole fleet for `retry_after`. Blocked users are marked and skipped; a chat that keeps
     * failing ends as failed without stopping the rest. A failing database fails
     * the activity (Temporal retries it) once every outcome Telegram accepted is
     * written and the chats it sent nothing to have their claims back, waiting
     * out the outage.
     */
    async deliverSummaryBatch(input: { summaryId: number; sourceId: number } & RecipientRange): Promise<BatchCounts> {
      const ctx = Context.current();
      const budget = budgetOf();
      const paid = budget.paidBroadcasts;
      const blockSize = Math.max(1, Math.ceil(budget.broadcastRatePerSecond / 4));
      const text = await textOf(input.summaryId);
      const subscribers = await reachableSubscribersInRange(prisma, input);
      const chatIds = subscribers.map((s) => s.chatId);
      const userOf = new Map(subscribers.map((s) => [s.chatId, s.userId]));

      // Claim: new rows, or rows whose earlier send may or may not have reached Telegram.
      const claimed = await claimDeliveries(prisma, input.summaryId, chatIds);

      const outcomes = recorder(input.summaryId, ctx);
      const recipients = new BatchRecipients(claimed, (chatId) => userOf.get(chatId));
      for (const outcome of recipients.givenUp) outcomes.add(outcome);

      const inFlight = new Set<Promise<void>>();
      /** What broke a send's own bookkeeping: it ends the batch. */
      let broken: { error: unknown } | undefined;
      const sendOne = async (r: Recipient, slot: ReservedSlot): Promise<void> => {
        try {
          const msg = await telegram.call(
            'sendMessage',
            r.chatId,
            (api) => api.sendMessage(r.chatId, text, paid ? { allow_paid_broadcast: true } : {}),
            { priority: 'broadcast', paid, slot },
          );
          outcomes.add({ chatId: r.chatId, status: 'sent', telegramMessageId: msg.message_id });
        } catch (err) {
          const outcome = recipients.failed(r, err, Date.now());
          if (outcome) outcomes.add(outcome);
        }
      };
      const launch = (r: Recipient, slot: ReservedSlot): void => {
        recipients.launch(r);
        const p: Promise<void> = sendOne(r, slot)
          .catch((error: unknown) => {
            broken ??= { error };
          })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      };

      let releaseTurn = () => {};
      try {
        if (recipients.queue.length > 0) releaseTurn = await turns.take(ctx);
        while (recipients.queue.length > 0 || inFlight.size > 0) {
          if (broken) throw broken.error;
          if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
          const now = Date.now();
          const ready = recipients.ready(now);
          if (ready.length === 0) {
            // Wait for a send to settle (it may requeue) or for a backoff to pass.
            const nextAt = recipients.nextAt();
            await Promise.race([...inFlight, wait(ctx, Number.isFinite(nextAt) ? nextAt - now : 50)]);
            continue;
          }
          const block = new Map(ready.slice(0, blockSize).map((r) => [r.chatId, r]));
          const reserved = await budget.reserveBroadcast([...block.keys()], { paid });
          if (reserved.retryAt !== undefined) {
            // Users' answers and videos hold the schedule: come back when they have gone.
            await wait(ctx, reserved.retryAt - Date.now());
            continue;
          }
          for (const chatId of reserved.deferred) block.get(chatId)!.notBefore = reserved.deferredUntil;
          for (const slot of reserved.slots) {
            const at = budget.sendTime(slot);
            await wait(ctx, at - Date.now());
            // Telegram asked us to wait (this slot predates the pause), or sending now would bunch
            // (this process fell behind the slot, or Telegram's answers lag): the recipient stays queued.
            if (!budget.take(slot, at)) continue;
            launch(block.get(slot.chatId)!, slot);
          }
          ctx.heartbeat({ queued: recipients.queue.length });
        }
        if (broken) throw broken.error;
      } finally {
        releaseTurn();
        // Whatever ends the loop, what Telegram accepted gets recorded, and the claims of chats never tried are given back.
        await Promise.allSettled(inFlight);
        await outcomes.close(recipients.untried());
      }

      const statuses = await countDeliveriesToChats(prisma, input.summaryId, chatIds);
      const count = (s: keyof DeliveryStatusCounts) => statuses[s] ?? 0;
      return { sent: count('sent'), blocked: count('blocked'), notFound: count('not_found'), failed: count('failed') + count('sending') };
    },

    /**
     * Gives the deliveries recorded as `failed` another chance, for a re-drive:
     * they become claimable (`sending`, no attempts) so the next walk sends them.
     * Rows `sent`, `blocked` or `not_found` are left alone, so nobody gets the
     * summary twice. Returns how many were reopened.
     */
    async reopenFailedDeliveries(input: { summaryId: number }): Promise<{ reopened: number }> {
      return { reopened: await reopenFailedDeliveries(prisma, input.summaryId) };
    },

    /** Marks the summary sent and records `summary.distributed` with the counts. */
    async finishDistribution(input: { summaryId: number; counts: BatchCounts & { total: number } }): Promise<void> {
      await markSummaryDistributed(prisma, input.summaryId, input.counts);
    },

    /** The message ids each chat received for a summary (`{ chatId: messageId }`). */
    deliveredMessageIds: (input: { summaryId: number }) => deliveredMessageIds(prisma, input.summaryId),
  };
}
