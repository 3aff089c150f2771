import type { Client } from '@temporalio/client';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { TelegramClient } from '../integrations/telegram/client.js';
import type { WavespeedClient } from '../integrations/wavespeed/client.js';

/** What activities need from the outside world; wired once, in `src/worker.ts`. */
export interface ActivityDeps {
  prisma: PrismaClient;
  telegram: TelegramClient;
  wavespeed: WavespeedClient;
  /** Temporal client: the admission activities signal the `wavespeed-admission` workflow and describe holders. */
  temporal: Client;
  config: {
    /** Public base URL of the gateway, for WaveSpeed's webhook. */
    publicUrl: string;
    /** How often `keepChatAction` repeats the chat action (Telegram shows one for ≤ 5 s). */
    chatActionIntervalMs?: number;
    /** Summary distribution: fleet-wide send ceiling (messages/s) and paid broadcasts. */
    broadcast?: { ratePerSecond: number; paid: boolean };
    /** Fleet-wide cap on WaveSpeed predictions in flight (default 3). */
    wavespeedMaxConcurrency?: number;
  };
}
