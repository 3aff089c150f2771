import type { Client } from '@temporalio/client';
import type { ActivityCompleter } from './out-of-slot.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { TelegramClient } from '../integrations/telegram/client.js';
import type { WavespeedClient } from '../integrations/wavespeed/client.js';
import type { WorkerMetrics } from '../observability/metrics.js';
import type { PriceTable } from '../pricing.js';

/** Per-user limits on video generations (`USER_*` settings). */
export interface UserLimits {
  /** Generations one user may have running at once. */
  maxActive: number;
  /** A request beyond `maxActive` is turned away, or waits for a slot. */
  excessPolicy: 'refuse' | 'queue';
  /** Generations one user may start per UTC day. */
  dailyQuota: number;
  /** Chats exempt from both limits. */
  adminChatIds: readonly number[];
}

/** What activities need from the outside world; wired once, in `src/worker.ts`. */
export interface ActivityDeps {
  prisma: PrismaClient;
  telegram: TelegramClient;
  wavespeed: WavespeedClient;
  /** Telewan's worker counters (`/metrics`); optional so tests that do not look need not build them. */
  metrics?: WorkerMetrics;
  /** Temporal client: the admission activities signal the `wavespeed-admission` workflow and describe holders. */
  temporal: Client;
  /** Where activities that gave their slot back report their end; default `temporal.activity` (tests stand in for it). */
  completer?: ActivityCompleter;
  config: {
    /** Public base URL of the gateway, for WaveSpeed's webhook. */
    publicUrl: string;
    /** Summary distribution: fleet-wide send ceiling (messages/s) and paid broadcasts. */
    broadcast?: { ratePerSecond: number; paid: boolean };
    /** Per-user limits; default: 2 running, refuse beyond, 20 a day, no admins. */
    limits?: UserLimits;
    /** WaveSpeed prices, for the cost of each generation and /settings; default: the list prices. */
    prices?: PriceTable;
    /** `VIDEO_DEADLINE_MS` and the polling backoff, for a video a button starts (🔁 Again, ✏️ New prompt); default 15 min. */
    video?: { deadlineMs: number; polling?: { initialMs: number; maxMs: number } };
    /** `WAVESPEED_MODEL`: a user's model until they choose one with /settings; default the first model offered. */
    defaultModel?: string;
    /** Fleet-wide cap on WaveSpeed predictions in flight (default 2, WaveSpeed's Bronze tier). */
    wavespeedMaxConcurrency?: number;
    /** Slots per admission shard (`WAVESPEED_ADMISSION_SHARD_SLOTS`; default 300): a larger cap is split between shards. */
    admissionShardSlots?: number;
    /**
     * The line for a WaveSpeed slot: beyond `maxQueued` waiting requests a new one
     * is refused as busy, and none waits longer than `maxWaitMs`; a waiting user's
     * place is edited at most every `placeEveryMs`. Unset: unbounded, every change shown.
     */
    wavespeedLine?: { maxQueued: number; maxWaitMs: number; placeEveryMs?: number };
  };
}
