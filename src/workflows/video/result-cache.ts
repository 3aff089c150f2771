import { isCancellation, log, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import { activityFailureType } from '../failures.js';
import { MESSAGING, SENDING_VIDEO } from '../activity-options.js';
import { recording } from './recording.js';
import { TASK_QUEUES } from '../../constants.js';
import type { ResultIdentity } from '../../activities/result-cache.js';
import { ErrorType } from '../../errors.js';
import type { Catalog } from '../../i18n/catalog.js';
import { tellUser } from './steps.js';
import { repeatButtons } from '../../i18n/catalog.js';
import type { VideoOutcome, VideoProgress, VideoRequest } from './messages.js';

const { updateProgress } = proxyActivities<Activities>(MESSAGING);

const cacheOptions = {
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '15m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
} as const;
const { forgetResult } = proxyActivities<Activities>(cacheOptions);
/** Downloads and decodes the photo: a slow activity, on the transfer queue. */
const { fingerprintImage } = proxyActivities<Activities>({ ...cacheOptions, taskQueue: TASK_QUEUES.transfer });

/** A resend by file_id is a video send like any other: the same timeouts, beats and no blind retry. */
const { sendCachedVideo } = proxyActivities<Activities>(SENDING_VIDEO);


/** A follower looks at the leader's claim after 1 s, then every ×1.5 up to 5 s. */
const WAIT_INITIAL_MS = 1_000;
const WAIT_MAX_MS = 5_000;
/** Beyond the generation deadline, what a leader may spend preparing and sending before its claim lapses. */
const LEASE_MARGIN_MS = 10 * 60 * 1000;

/** A request the cache could not serve at once: it holds the claim (`leader`) or waits for the one that does. */
export interface PendingResult {
  identity: ResultIdentity;
  image: { md5: string; bytes: number };
  kind: 'leader' | 'follower';
}

export interface CacheContext {
  generationId: string;
  req: VideoRequest;
  /** The texts in the user's language. */
  t: Catalog;
  progress: VideoProgress;
  /** The progress message, when there is one (a follower's; none when Telegram lost the answer to it). */
  progressMessageId?: number;
}

/**
 * The result cache, before anything is said to the user or sent to WaveSpeed:
 * fingerprints the photo (the normalised image's MD5) and, when an identical
 * request's video is stored, resends it by its file_id and records the hit
 * (returning the outcome). Otherwise claims the result: `leader` when this
 * request must generate it, `follower` when an identical request already is.
 */
export async function serveFromCache(ctx: CacheContext): Promise<VideoOutcome | PendingResult> {
  const image = await fingerprintImage({ fileId: ctx.req.fileId });
  const identity: ResultIdentity = {
    imageMd5: image.md5,
    prompt: ctx.req.prompt,
    model: ctx.req.model,
    ...(ctx.req.durationSeconds !== undefined ? { durationSeconds: ctx.req.durationSeconds } : {}),
    ...(ctx.req.seed !== undefined ? { seed: ctx.req.seed } : {}),
  };
  const pending = { identity, image: { md5: image.md5, bytes: image.bytes } };
  for (;;) {
    const found = await claimOrResend(ctx, pending);
    if (found !== 'refused') return found;
  }
}

/**
 * Durable single flight for a follower: polls the claim on a backoff until the
 * leader's video is stored (resent at once, returning the outcome) or the claim
 * is free again because the leader failed or its lease lapsed; this request then
 * leads and gets its identity back.
 */
export async function waitForIdentical(
  ctx: CacheContext,
  pending: PendingResult,
): Promise<VideoOutcome | ResultIdentity> {
  const chatId = ctx.req.user.chatId;
  const messageId = ctx.progressMessageId;
  ctx.progress.phase = 'waiting-for-identical';
  if (messageId !== undefined) await updateProgress({ chatId, messageId, text: ctx.t.progress.processing });
  let delay = WAIT_INITIAL_MS;
  for (;;) {
    await sleep(delay);
    delay = Math.min(Math.round(delay * 1.5), WAIT_MAX_MS);
    let state = await claimOrResend(ctx, pending);
    // A refused file_id is forgotten: the next look finds the key free or claimed anew.
    if (state === 'refused') state = await claimOrResend(ctx, pending);
    if (state === 'refused') continue;
    if (!('status' in state)) {
      if (state.kind === 'leader') return state.identity;
      continue;
    }
    // An unconfirmed resend has told the user already.
    if (messageId !== undefined && state.deliveredBy !== 'unconfirmed') await updateProgress({ chatId, messageId, text: ctx.t.progress.completed });
    return state;
  }
}

/** One look at the cache: the hit resent and recorded, the claim's state, or `refused` (a stale file_id, now forgotten). */
async function claimOrResend({ generationId, req, t, progress, progressMessageId }: CacheContext, pending: Omit<PendingResult, 'kind'>): Promise<VideoOutcome | PendingResult | 'refused'> {
  const { identity, image } = pending;
  const claim = await recording.claimResult({ ...identity, generationId, leaseMs: req.deadlineMs + LEASE_MARGIN_MS });
  if (claim.kind !== 'hit') return { ...pending, kind: claim.kind };
  const { telegramFileId, generationId: cachedFrom } = claim.video;
  // Resent as `sendVideo` sends: its delivery recorded on the generation (a retry
  // after a lost completion sends nothing), and one Telegram may have delivered
  // (`TelegramAmbiguousSendError`) is not sent again: the request completes
  // `unconfirmed` and the user is told to send the photo again if it did not arrive.
  let sent: { fileId?: string; deliveredBy: NonNullable<VideoOutcome['deliveredBy']> };
  try {
    sent = await sendCachedVideo({
      chatId: req.user.chatId,
      fileId: telegramFileId,
      caption: req.prompt.slice(0, 1000),
      replyToMessageId: req.messageId,
      generationId,
      buttons: repeatButtons(t, generationId),
    });
  } catch (err) {
    const type = activityFailureType(err);
    if (type === ErrorType.TelegramAmbiguousSend) {
      // Most likely in the chat: sending it again could put it there twice.
      log.warn('Telegram lost the answer to the cached video; not sending it again', { generationId });
      sent = { fileId: telegramFileId, deliveredBy: 'unconfirmed' };
      try {
        await tellUser(req, t.unconfirmedCachedDelivery, progressMessageId);
      } catch (tellError) {
        if (isCancellation(tellError)) throw tellError;
        log.warn('Could not tell the user about the unconfirmed cached video', { generationId, error: String(tellError) });
      }
    } else {
      // Telegram no longer accepts the file_id: forget it and generate afresh.
      if (type !== ErrorType.TelegramRequest) throw err;
      await forgetResult({ ...identity, telegramFileId });
      return 'refused';
    }
  }
  progress.phase = 'completed';
  progress.cachedFrom = cachedFrom;
  await recording.recordOutcome({
    generationId,
    status: 'completed',
    telegramFileId: sent.fileId,
    deliveredBy: sent.deliveredBy,
    cacheHit: true,
    cachedFrom,
    imageMd5: image.md5,
    imageBytes: image.bytes,
  });
  return { status: 'completed', telegramFileId: sent.fileId, deliveredBy: sent.deliveredBy, cachedFrom };
}
