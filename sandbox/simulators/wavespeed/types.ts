/** Prediction states; `cancelled` and `timeout` are terminal failures, as in WaveSpeed's SDK (src/domain/prediction.ts). */
export type { PredictionStatus } from '../../../src/domain/prediction.js';
import type { PredictionStatus } from '../../../src/domain/prediction.js';

/** How a prediction is going to end, decided when it is submitted (markers or random rates). */
export type PlannedOutcome = 'complete' | 'nsfw' | 'fail' | 'timeout';

/**
 * How the answer to an accepted submission is lost: the connection is reset,
 * the answer never comes (the caller times out), or a 502 comes instead.
 */
export type LostAnswer = 'reset' | 'timeout' | 'server-error';

/** One prediction as the simulator tracks it (exposed for assertions). */
export interface Prediction {
  id: string;
  model: string;
  /** The submitted body, with defaults filled in and without `webhook_url`. */
  input: Record<string, unknown>;
  status: PredictionStatus;
  outputs: string[];
  error: string;
  has_nsfw_contents: boolean[];
  /** ISO 8601. */
  created_at: string;
  webhookUrl?: string;
  planned: PlannedOutcome;
  /** The webhook for this prediction will not be sent. */
  loseCallback: boolean;
  /** Time from getting a concurrency slot to the terminal status. */
  latencyMs: number;
  outputBytes: number;
  width: number;
  height: number;
  durationSeconds: number;
  submittedAt: number;
  startedAt?: number;
  finishedAt?: number;
  inferenceMs?: number;
  /** What the simulator downloaded from `input.image`. */
  image?: { url: string; size?: number; md5?: string; width?: number; height?: number; error?: string };
}

/** One webhook POST (or the record of one deliberately not sent). */
export interface WebhookDelivery {
  predictionId: string;
  url: string;
  /** HTTP status of the receiver's answer; 0 when there was none. */
  status: number;
  ok: boolean;
  at: number;
  webhookId: string;
  timestamp: number;
  rawBody: string;
  error?: string;
}

/** A file received on `/api/v3/media/upload/binary` or PUT to a presigned URL of `/api/v3/media/uploads`. */
export interface MediaUpload {
  id: string;
  filename: string;
  mimetype: string;
  type: 'image' | 'video' | 'audio' | 'file';
  size: number;
  md5: string;
  bytes: Buffer;
  downloadUrl: string;
  at: number;
  /** Which upload flow stored it: the multipart `binary` endpoint or a `presigned` PUT. */
  flow: 'binary' | 'presigned';
}

/** Counters since the last reset. */
export interface WavespeedStats {
  submitted: number;
  completed: number;
  failed: number;
  cancelled: number;
  rateLimited: number;
  callbacksSent: number;
  callbacksFailed: number;
  callbacksLost: number;
  /** Peak number of predictions holding a concurrency slot at once. */
  maxInFlightSeen: number;
  /**
   * Peak number of predictions submitted and not yet ended (`created` or
   * `processing`) at once: what an account's concurrency limit counts.
   */
  maxUnfinishedSeen: number;
  uploads: number;
  /** Submissions accepted (stored and run) whose answer was lost. */
  answersLost: number;
}
