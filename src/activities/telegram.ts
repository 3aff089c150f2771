import { Context, CancelledFailure, sleep } from '@temporalio/activity';
import { InputFile } from 'grammy';
import { TELEGRAM_LIMITS } from '../constants.js';
import { TelegramRateLimitError, TelegramRequestError, TelewanError, VideoUnavailableError } from '../errors.js';
import { isMessageNotModified } from '../integrations/telegram/errors.js';
import { ACTIVE_GENERATION_STATUSES } from '../db/generations.js';
import type { GenerationStatus } from '../generated/prisma/client.js';
import type { ActivityDeps } from './deps.js';
import { progressQuery } from '../workflows/video-messages.js';

export interface SendVideoInput {
  chatId: number;
  videoUrl: string;
  caption?: string;
  replyToMessageId?: number;
}

/** An inline keyboard button whose press comes back as a callback query carrying `data` (≤ 64 bytes). */
export interface InlineButton {
  text: string;
  data: string;
}

export interface SendMessageInput {
  chatId: number;
  text: string;
  replyToMessageId?: number;
  /** Inline buttons, one per row. */
  buttons?: InlineButton[];
}

export interface SentVideo {
  messageId: number;
  /** Telegram's file_id, to resend the same video for free; absent when a link was sent. */
  fileId?: string;
  /** `cache`: resent by the file_id of an earlier identical request's video. */
  deliveredBy: 'url' | 'upload' | 'link' | 'cache';
  bytes?: number;
}

export function createTelegramActivities({ telegram, config, prisma, temporal }: Pick<ActivityDeps, 'telegram' | 'config' | 'prisma' | 'temporal'>) {
  /**
   * The recorded status of the generation this workflow serves (`unknown`: no
   * row, or no answer). The loop is abandoned, not cancelled, so without it the
   * loop would learn of the end only from a failed heartbeat, seconds after the
   * video. Best effort: `unknown` keeps showing the action.
   */
  async function generationStatus(workflowId: string | undefined): Promise<GenerationStatus | 'unknown'> {
    if (!workflowId) return 'unknown';
    try {
      const row = await prisma.generation.findUnique({ where: { id: workflowId }, select: { status: true } });
      return row?.status ?? 'unknown';
    } catch {
      return 'unknown';
    }
  }

  /**
   * Whether the request waits in line for a WaveSpeed slot (its `progress` query
   * says `queued`): nothing is being made for it yet, so "sending video…" would
   * mislead. Only asked before submission (the row still `requested`): once
   * submitted, a request never waits in line again. Best effort: when the answer
   * cannot be had, show the action.
   */
  async function waitingInLine(workflowId: string | undefined): Promise<boolean> {
    if (!workflowId) return false;
    try {
      const progress = await temporal.withDeadline(Date.now() + 2_000, () => temporal.workflow.getHandle(workflowId).query(progressQuery));
      return progress.phase === 'queued';
    } catch {
      return false;
    }
  }

  const replyTo = (messageId?: number) =>
    messageId ? { reply_parameters: { message_id: messageId, allow_sending_without_reply: true } } : {};

  async function probeSize(url: string): Promise<number | undefined> {
    try {
      const res = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(15_000) });
      if (res.status === 404 || res.status === 410) throw new VideoUnavailableError(`output answered ${res.status}`);
      const length = Number(res.headers.get('content-length'));
      return Number.isFinite(length) && length > 0 ? length : undefined;
    } catch (err) {
      if (err instanceof VideoUnavailableError) throw err;
      return undefined;
    }
  }

  async function upload(input: SendVideoInput, bytes: number | undefined): Promise<SentVideo> {
    const res = await fetch(input.videoUrl, { signal: AbortSignal.timeout(120_000) });
    if (!res.ok) throw new VideoUnavailableError(`download answered ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    const msg = await telegram.call('sendVideo', input.chatId, (api) =>
      api.sendVideo(input.chatId, new InputFile(body, 'telewan.mp4'), {
        caption: input.caption,
        supports_streaming: true,
        ...replyTo(input.replyToMessageId),
      }),
    );
    return { messageId: msg.message_id, fileId: msg.video?.file_id, deliveredBy: 'upload', bytes: bytes ?? body.length };
  }

  return {
    /** Sends a text message, with inline buttons (one per row) when given; returns its message id. */
    async sendMessage(input: SendMessageInput): Promise<{ messageId: number }> {
      const markup = input.buttons?.length
        ? { reply_markup: { inline_keyboard: input.buttons.map((b) => [{ text: b.text, callback_data: b.data }]) } }
        : {};
      const msg = await telegram.call('sendMessage', input.chatId, (api) =>
        api.sendMessage(input.chatId, input.text, { ...replyTo(input.replyToMessageId), ...markup }),
      );
      return { messageId: msg.message_id };
    },

    /**
     * Stops the spinner on a pressed inline button, showing `text` as a brief
     * notice. Telegram accepts one answer per press, within a short time: "query
     * is too old or ID is invalid" means answered already (a retry) or too late,
     * and either way there is nothing left to do (`answered: false`).
     */
    async answerCallbackQuery(input: { callbackQueryId: string; text?: string }): Promise<{ answered: boolean }> {
      try {
        await telegram.call('answerCallbackQuery', undefined, (api) =>
          api.answerCallbackQuery(input.callbackQueryId, input.text === undefined ? undefined : { text: input.text }),
        );
        return { answered: true };
      } catch (err) {
        if (err instanceof TelegramRequestError && /query is too old|query id is invalid/i.test(err.description)) return { answered: false };
        throw err;
      }
    },

    /** Replaces the text of the progress message. An identical edit counts as done. */
    async updateProgress(input: { chatId: number; messageId: number; text: string }): Promise<void> {
      try {
        await telegram.call('editMessageText', input.chatId, (api) => api.editMessageText(input.chatId, input.messageId, input.text));
      } catch (err) {
        if (isMessageNotModified(err)) return;
        throw err;
      }
    },

    /**
     * Keeps a chat action (e.g. `upload_video`) showing until cancelled, repeating
     * it every ~4 s (Telegram shows one for at most 5 s). Heartbeats each round, so
     * a dead worker's loop moves to another worker. Shows nothing while the request
     * waits in line for a WaveSpeed slot. Transient failures are skipped;
     * a blocked chat ends the loop.
     */
    async keepChatAction(input: { chatId: number; action: 'upload_video' | 'typing' }): Promise<void> {
      const interval = config.chatActionIntervalMs ?? 4000;
      const ctx = Context.current();
      const workflowId = ctx.info.workflowExecution?.workflowId;
      for (;;) {
        const status = await generationStatus(workflowId);
        if (status !== 'unknown' && !ACTIVE_GENERATION_STATUSES.includes(status)) return;
        let pause = interval;
        try {
          const queued = (status === 'requested' || status === 'unknown') && (await waitingInLine(workflowId));
          if (!queued) await telegram.call('sendChatAction', input.chatId, (api) => api.sendChatAction(input.chatId, input.action));
        } catch (err) {
          if (err instanceof TelegramRateLimitError) pause = Math.max(interval, err.retryAfterMs);
          // Transient failures skip a beat; a permanent one (blocked, chat gone) ends the loop.
          else if (err instanceof TelewanError && !err.retryable) throw err;
        }
        ctx.heartbeat();
        try {
          await sleep(pause);
        } catch (err) {
          if (err instanceof CancelledFailure) return;
          throw err;
        }
      }
    },

    /**
     * Sends the generated video: by URL (Telegram fetches up to 20 MB), else
     * uploaded (≤ 50 MB), else as a link. Returns Telegram's file_id for reuse.
     */
    async sendVideo(input: SendVideoInput): Promise<SentVideo> {
      // Generated clips are a few MB: Telegram fetching the URL itself is one call.
      try {
        const msg = await telegram.call('sendVideo', input.chatId, (api) =>
          api.sendVideo(input.chatId, input.videoUrl, {
            caption: input.caption,
            supports_streaming: true,
            ...replyTo(input.replyToMessageId),
          }),
        );
        return { messageId: msg.message_id, fileId: msg.video?.file_id, deliveredBy: 'url', bytes: msg.video?.file_size };
      } catch (err) {
        // Telegram could not fetch it (over 20 MB, or unreachable for it): look at it ourselves.
        if (!(err instanceof TelegramRequestError)) throw err;
      }
      const bytes = await probeSize(input.videoUrl);
      if (bytes !== undefined && bytes > TELEGRAM_LIMITS.videoUploadBytes) {
        const text = `${input.caption ? `${input.caption}\n\n` : ''}Your video is too large for Telegram; download it here: ${input.videoUrl}`;
        const msg = await telegram.call('sendMessage', input.chatId, (api) => api.sendMessage(input.chatId, text, replyTo(input.replyToMessageId)));
        return { messageId: msg.message_id, deliveredBy: 'link', bytes };
      }
      return upload(input, bytes);
    },

    /**
     * Resends a video Telegram already has, by its file_id: one call, nothing
     * fetched or uploaded. A refused file_id fails as `TelegramRequestError`.
     */
    async sendCachedVideo(input: { chatId: number; fileId: string; caption?: string; replyToMessageId?: number }): Promise<SentVideo> {
      const msg = await telegram.call('sendVideo', input.chatId, (api) =>
        api.sendVideo(input.chatId, input.fileId, {
          caption: input.caption,
          supports_streaming: true,
          ...replyTo(input.replyToMessageId),
        }),
      );
      return { messageId: msg.message_id, fileId: msg.video?.file_id ?? input.fileId, deliveredBy: 'cache', bytes: msg.video?.file_size };
    },
  };
}
