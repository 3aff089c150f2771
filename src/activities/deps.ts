import type { Client } from '@temporalio/client';
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
  config: {
    /** Public base URL of the gateway, for WaveSpeed's webhook. */
    publicUrl: string;
    /** How often `keepChatAction` repeats the chat action (Telegram shows one for ≤ 5 s). */
    chatActionIntervalMs?: number;
    /** Per-user limits; default: 2 running, refuse beyond, 20 a day, no admins. */
    limits?: UserLimits;
    /** WaveSpeed prices, for the cost of each generation; default: the list prices. */
    prices?: PriceTable;
    /** Fleet-wide cap on WaveSpeed predictions in flight (default 3). */
    wavespeedMaxConcurrency?: number;
  };
}
