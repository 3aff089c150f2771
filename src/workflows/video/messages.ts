import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RefusalReason } from '../../activities/limits.js';
import type { TelegramUserInput } from '../../db/users.js';
import type { PredictionResult } from '../../integrations/wavespeed/types.js';
import type { FailureReason } from '../../domain/failure-reason.js';

/** Input of {@link imageToVideo}: everything the workflow needs, from the Telegram update and config. */
export interface VideoRequest {
  user: TelegramUserInput;
  /** The message that carried the photo; the progress message and the video reply to it. */
  messageId: number;
  /** Telegram file_id of the largest photo size. */
  fileId: string;
  prompt: string;
  /** The configured model; the user's /settings may choose another, recorded when the request is. */
  model: string;
  /** The video length, once the request's settings are known (unset: the model's default). */
  durationSeconds?: number;
  /** 🔁 Again: WaveSpeed's seed for another video of the same photo and prompt (unset: random, -1). */
  seed?: number;
  /** How long to wait for WaveSpeed after submitting before giving up. */
  deadlineMs: number;
  /** Polling backoff for a webhook that never comes. Defaults: 5 s, ×1.5, at most 30 s. */
  polling?: { initialMs: number; maxMs: number };
}

export type VideoPhase =
  | 'requested'
  | 'queued'
  | 'preparing'
  | 'waiting-for-identical'
  | 'submitted'
  | 'processing'
  | 'sending'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'refused';

/** Answer of the {@link progressQuery}. */
export interface VideoProgress {
  phase: VideoPhase;
  predictionId?: string;
  /** Place in line for a WaveSpeed slot while `queued` (1 is next). */
  queuePosition?: number;
  /** How the result arrived: WaveSpeed's webhook, or our polling fallback. */
  resultVia?: 'callback' | 'poll';
  polls: number;
  /** Result cache: the video was resent from this earlier generation (no WaveSpeed call). */
  cachedFrom?: string;
}

/** What {@link imageToVideo} returns. */
export interface VideoOutcome {
  /** `refused`: a per-user limit turned the request away before any work. */
  status: 'completed' | 'failed' | 'cancelled' | 'refused';
  reason?: FailureReason | RefusalReason;
  detail?: string;
  predictionId?: string;
  telegramFileId?: string;
  /** `unconfirmed`: Telegram took the video and never said whether it was delivered; the progress message carries its link. */
  deliveredBy?: 'url' | 'upload' | 'link' | 'cache' | 'unconfirmed';
  resultVia?: 'callback' | 'poll';
  /** Set on a result cache hit: the generation whose video was resent. */
  cachedFrom?: string;
}

/** WaveSpeed's webhook, verified by the gateway and forwarded as is. Results for other predictions are ignored. */
export const wavespeedResultSignal = defineSignal<[PredictionResult]>('wavespeedResult');

/** The user's /cancel (or an operator's): stops the request and tells the user. */
export const cancelVideoSignal = defineSignal<[{ by: 'user' | 'operator' }]>('cancelVideo');

/** Where the request stands. */
export const progressQuery = defineQuery<VideoProgress>('progress');
