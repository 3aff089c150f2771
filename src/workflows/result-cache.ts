import { proxyActivities, sleep, type CancellationScope } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { activityFailureType } from './failures.js';
import { MESSAGING, RECORDING } from './activity-options.js';
import { TASK_QUEUES } from '../constants.js';
import type { ResultIdentity } from '../activities/result-cache.js';
import { ErrorType } from '../errors.js';
import { PROGRESS } from './texts.js';
import type { VideoOutcome, VideoProgress, VideoRequest } from './video-messages.js';

const { recordOutcome } = proxyActivities<Activities>(RECORDING);
const { updateProgress } = proxyActivities<Activities>(MESSAGING);

const cacheOptions = {
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '15m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
} as const;
const { claimResult, forgetResult } = proxyActivities<Activities>(cacheOptions);
/** Downloads and decodes the photo: a slow activity, on the transfer queue. */
const { fingerprintImage } = proxyActivities<Activities>({ ...cacheOptions, taskQueue: TASK_QUEUES.transfer });

const { sendCachedVideo } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '15m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '60s' },
});

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
  progress: VideoProgress;
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
  const identity: ResultIdentity = { imageMd5: image.md5, prompt: ctx.req.prompt, model: ctx.req.model };
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
  ctx: CacheContext & { progressMessageId: number; presence: CancellationScope },
  pending: PendingResult,
): Promise<VideoOutcome | ResultIdentity> {
  const chatId = ctx.req.user.chatId;
  ctx.progress.phase = 'waiting-for-identical';
  await updateProgress({ chatId, messageId: ctx.progressMessageId, text: PROGRESS.processing });
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
    ctx.presence.cancel();
    await updateProgress({ chatId, messageId: ctx.progressMessageId, text: PROGRESS.completed });
    return state;
  }
}

/** One look at the cache: the hit resent and recorded, the claim's state, or `refused` (a stale file_id, now forgotten). */
async function claimOrResend({ generationId, req, progress }: CacheContext, pending: Omit<PendingResult, 'kind'>): Promise<VideoOutcome | PendingResult | 'refused'> {
  const { identity, image } = pending;
  const claim = await claimResult({ ...identity, generationId, leaseMs: req.deadlineMs + LEASE_MARGIN_MS });
  if (claim.kind !== 'hit') return { ...pending, kind: claim.kind };
  const { telegramFileId, generationId: cachedFrom } = claim.video;
  let sent;
  try {
    sent = await sendCachedVideo({ chatId: req.user.chatId, fileId: telegramFileId, caption: req.prompt.slice(0, 1000), replyToMessageId: req.messageId });
  } catch (err) {
    // Telegram no longer accepts the file_id: forget it and generate afresh.
    if (activityFailureType(err) !== ErrorType.TelegramRequest) throw err;
    await forgetResult({ ...identity, telegramFileId });
    return 'refused';
  }
  progress.phase = 'completed';
  progress.cachedFrom = cachedFrom;
  await recordOutcome({
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
