import { CancellationScope, isCancellation, log, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import { activityFailureType } from '../failures.js';
import { tellUser } from './steps.js';
import { MESSAGING } from '../activity-options.js';
import { recording } from './recording.js';
import type { Admission } from '../../activities/limits.js';
import { ErrorType } from '../../errors.js';
import type { FailureReason } from '../../domain/failure-reason.js';
import { languageOf, type Catalog } from '../../i18n/catalog.js';
import { texts } from '../../i18n/index.js';
import type { VideoOutcome, VideoProgress, VideoRequest } from './messages.js';

const { sendMessage } = proxyActivities<Activities>(MESSAGING);


/** How often a queued request asks again for a slot. */
export const QUEUE_RECHECK_MS = 15_000;
/** How long a request may wait for a slot before it is dropped (a slot frees within a video's deadline). */
export const QUEUE_MAX_WAIT_MS = 60 * 60 * 1000;

class QueueTimedOut extends Error {
  constructor() {
    super('waited too long for a slot');
    this.name = 'QueueTimedOut';
  }
}

/**
 * The start of {@link imageToVideo} under per-user limits: records the request
 * and lets it through when the user's limits allow (no `ended`: go on), with the
 * texts in the user's language (`t`). A
 * queued request waits here, durably, asking again every {@link QUEUE_RECHECK_MS}
 * and shown to the user as queued; `work`'s cancellation (/cancel) stops the
 * wait. Otherwise returns how the request ended: refused by a limit (recorded
 * as `refused` by `admitRequest`), cancelled while queued, or queued too long;
 * the user has been told (or marked blocked).
 */
export async function admitUnderLimits(
  req: VideoRequest,
  generationId: string,
  progress: VideoProgress,
  work: CancellationScope,
): Promise<{ t: Catalog; ended?: VideoOutcome; settings: Pick<VideoRequest, 'model' | 'durationSeconds'> }> {
  const request = {
    generationId,
    user: req.user,
    messageId: req.messageId,
    prompt: req.prompt,
    model: req.model,
    fileId: req.fileId,
    // A request with its own length (🔁 Again, ✏️ New prompt) keeps its settings; /settings applies to the others.
    ...(req.durationSeconds !== undefined ? { durationSeconds: req.durationSeconds } : {}),
  };
  let admission: Admission = await recording.admitRequest(request);
  // What the user chose with /language, else Telegram's language_code.
  const t = texts(admission.language ?? languageOf(req.user.languageCode));
  // The model and length the request was recorded with (the user's /settings then).
  const settings = { model: admission.model ?? req.model, ...(admission.durationSeconds !== undefined ? { durationSeconds: admission.durationSeconds } : {}) };
  let queuedMessageId: number | undefined;
  if (admission.decision === 'queued') {
    progress.phase = 'queued';
    const limit = admission.limit;
    try {
      admission = await work.run(async () => {
        try {
          queuedMessageId = (await sendMessage({ chatId: req.user.chatId, text: t.userQueued(limit), replyToMessageId: req.messageId })).messageId;
        } catch (err) {
          // Telegram may have delivered it: not sent again; the request waits for its slot without it.
          if (activityFailureType(err) !== ErrorType.TelegramAmbiguousSend) throw err;
          log.warn('Telegram lost the answer to the queued message; waiting without it', { generationId });
        }
        const giveUpAt = Date.now() + QUEUE_MAX_WAIT_MS;
        const scope = CancellationScope.current();
        let latest: Admission;
        do {
          if (Date.now() >= giveUpAt) throw new QueueTimedOut();
          await sleep(QUEUE_RECHECK_MS);
          // Never abandoned half-way: a decision landing after the cancellation was recorded would revive the request.
          latest = await CancellationScope.nonCancellable(() => recording.admitRequest(request));
          if (scope.consideredCancelled) await scope.cancelRequested;
        } while (latest.decision === 'queued');
        return latest;
      });
    } catch (err) {
      const reason: FailureReason | undefined = isCancellation(err)
        ? 'cancelled'
        : err instanceof QueueTimedOut
          ? 'queue-timeout'
          : isBotBlocked(err)
            ? 'blocked'
            : undefined;
      if (reason === undefined) throw err;
      const status = reason === 'cancelled' ? 'cancelled' : 'failed';
      progress.phase = status;
      await CancellationScope.nonCancellable(async () => {
        const told = reason !== 'blocked' && (await tellUser(req, t.failure(reason), queuedMessageId));
        if (!told) await recording.markUserBlocked({ userId: req.user.userId, reason: 'telegram-403' });
        await recording.recordOutcome({ generationId, status, errorKind: told ? reason : 'blocked' });
      });
      return { t, settings, ended: { status, reason } };
    }
  }
  if (admission.decision === 'refused') {
    progress.phase = 'refused';
    if (!(await tellUser(req, t.refusal(admission), queuedMessageId))) await recording.markUserBlocked({ userId: req.user.userId, reason: 'telegram-403' });
    return { t, settings, ended: { status: 'refused', reason: admission.reason } };
  }
  return { t, settings };
}

function isBotBlocked(err: unknown): boolean {
  return activityFailureType(err) === ErrorType.BotBlocked;
}
