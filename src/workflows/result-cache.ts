import { ActivityFailure, ApplicationFailure, proxyActivities, sleep, type CancellationScope } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ResultIdentity } from '../activities/result-cache.js';
import { ErrorType } from '../errors.js';
import { PROGRESS } from './texts.js';
import type { VideoOutcome, VideoProgress, VideoRequest } from './video-messages.js';

const { fingerprintImage, claimResult, forgetResult, recordOutcome } = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '15m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

const { sendCachedVideo, updateProgress } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '15m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '60s' },
});

/** A follower looks at the leader's claim after 1 s, then every ×1.5 up to 5 s. */
const WAIT_INITIAL_MS = 1_000;
const WAIT_MAX_MS = 5_000;
/** Beyond the generation deadline, what a leader may spend preparing and sending before its claim lapses. */
const LEASE_MARGIN_MS = 10 * 60 * 1000;

export interface ShareInput {
  generationId: string;
  req: VideoRequest;
  progress: VideoProgress;
  progressMessageId: number;
  /** The chat-action loop, stopped once the video is out. */
  presence: CancellationScope;
}

/**
 * The result cache and single flight, before anything reaches WaveSpeed.
 * Fingerprints the photo (normalised image's MD5), then either resends the
 * stored video of an identical request by its file_id and records the hit
 * (returning the outcome), or waits durably while an identical request
 * generates it, or returns the request's identity when this request holds the
 * claim and must generate: the caller stores the result on success and
 * releases the claim on failure, and then one waiter takes over. A claim
 * nobody finishes (a terminated leader) lapses after the deadline plus a margin.
 */
export async function shareResult({ generationId, req, progress, progressMessageId, presence }: ShareInput): Promise<VideoOutcome | ResultIdentity> {
  const chatId = req.user.chatId;
  const image = await fingerprintImage({ fileId: req.fileId });
  const identity: ResultIdentity = { imageMd5: image.md5, prompt: req.prompt, model: req.model };
  const leaseMs = req.deadlineMs + LEASE_MARGIN_MS;
  let delay = WAIT_INITIAL_MS;
  for (;;) {
    const claim = await claimResult({ ...identity, generationId, leaseMs });
    if (claim.kind === 'leader') return identity;
    if (claim.kind === 'hit') {
      const { telegramFileId, generationId: cachedFrom } = claim.video;
      let sent;
      try {
        sent = await sendCachedVideo({ chatId, fileId: telegramFileId, caption: req.prompt.slice(0, 1000), replyToMessageId: req.messageId });
      } catch (err) {
        // Telegram no longer accepts the file_id: forget it and generate afresh.
        if (!(err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === ErrorType.TelegramRequest)) throw err;
        await forgetResult({ ...identity, telegramFileId });
        continue;
      }
      presence.cancel();
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
      await updateProgress({ chatId, messageId: progressMessageId, text: PROGRESS.completed });
      return { status: 'completed', telegramFileId: sent.fileId, deliveredBy: sent.deliveredBy, cachedFrom };
    }
    if (progress.phase !== 'waiting-for-identical') {
      progress.phase = 'waiting-for-identical';
      await updateProgress({ chatId, messageId: progressMessageId, text: PROGRESS.processing });
    }
    await sleep(delay);
    delay = Math.min(Math.round(delay * 1.5), WAIT_MAX_MS);
  }
}
