import { Context } from '@temporalio/activity';
import { en } from '../i18n/en.js';
import { InputFile } from 'grammy';
import { TELEGRAM_LIMITS } from '../constants.js';
import { TelegramRequestError, VideoUnavailableError } from '../errors.js';
import { isMessageNotModified } from '../integrations/telegram/errors.js';
import { findProgressMessage, findRecordedDelivery, recordDelivery, recordProgressMessage } from '../db/generations.js';
import type { ActivityDeps } from './deps.js';
import { withinSlot } from './out-of-slot.js';

export interface SendVideoInput {
  chatId: number;
  videoUrl: string;
  /**
   * The generation the video is for: the delivery is recorded against it as soon
   * as Telegram has it, and a retry that finds it recorded sends nothing.
   */
  generationId?: string;
  caption?: string;
  replyToMessageId?: number;
  /** Under the video: 🔁 Again, ✏️ New prompt. */
  buttons?: InlineButton[];
  /** In the user's language: what stands in for a video over Telegram's 50 MB, with its link (the workflow renders it). */
  tooLargeText?: string;
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
  /**
   * The message is this generation's progress message: its id is recorded on
   * the generation as soon as Telegram answers, and a retry that finds it
   * recorded sends nothing and returns it.
   */
  progressOf?: string;
}

export interface SendCachedVideoInput {
  chatId: number;
  /** Telegram's file_id of the stored video. */
  fileId: string;
  /** The generation the video is resent for: recorded as for {@link SendVideoInput.generationId}. */
  generationId?: string;
  caption?: string;
  replyToMessageId?: number;
  buttons?: InlineButton[];
}

export interface SentVideo {
  /** Absent when a retry found the delivery already recorded. */
  messageId?: number;
  /** Telegram's file_id, to resend the same video for free; absent when a link was sent. */
  fileId?: string;
  /** `cache`: resent by the file_id of an earlier identical request's video. */
  deliveredBy: 'url' | 'upload' | 'link' | 'cache';
  bytes?: number;
}

/** How often a video send heartbeats while Telegram fetches the video. */
const HEARTBEAT_MS = 5_000;

/**
 * How long a progress edit holds its worker slot: about an edit's round trip
 * when the Telegram budget has room. One that waits longer (edits come after
 * answers and videos, and at the bot's ceiling wait up to 10 s) gives the slot
 * back and finishes out of it ({@link withinSlot}). Holding it instead, at 2,000
 * requests in flight the media worker's 100 slots filled with waiting edits, and
 * videos waited up to 24 s (p90) for a slot (docs/PERFORMANCE.md §5).
 */
export const EDIT_SLOT_HOLD_MS = 250;

/** Inline buttons, one per row, as Telegram's `reply_markup`; none: no markup. */
function keyboard(buttons: InlineButton[] | undefined): { reply_markup?: { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> } } {
  return buttons?.length ? { reply_markup: { inline_keyboard: buttons.map((b) => [{ text: b.text, callback_data: b.data }]) } } : {};
}

export function createTelegramActivities({
  telegram,
  prisma,
  temporal,
  metrics,
  completer,
}: Pick<ActivityDeps, 'telegram' | 'prisma' | 'temporal' | 'metrics' | 'completer'>) {
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
    const msg = await telegram.sendMedia('sendVideo', input.chatId, (api) =>
      api.sendVideo(input.chatId, new InputFile(body, 'telewan.mp4'), {
        caption: input.caption,
        supports_streaming: true,
        ...replyTo(input.replyToMessageId),
        ...keyboard(input.buttons),
      }),
    );
    return { messageId: msg.message_id, fileId: msg.video?.file_id, deliveredBy: 'upload', bytes: bytes ?? body.length };
  }

  /** By URL (Telegram fetches up to 20 MB), else uploaded (≤ 50 MB), else as a link. */
  async function deliver(input: SendVideoInput): Promise<SentVideo> {
    // Generated clips are a few MB: Telegram fetching the URL itself is one call.
    try {
      const msg = await telegram.sendMedia('sendVideo', input.chatId, (api) =>
        api.sendVideo(input.chatId, input.videoUrl, {
          caption: input.caption,
          supports_streaming: true,
          ...replyTo(input.replyToMessageId),
          ...keyboard(input.buttons),
        }),
      );
      return { messageId: msg.message_id, fileId: msg.video?.file_id, deliveredBy: 'url', bytes: msg.video?.file_size };
    } catch (err) {
      // Telegram could not fetch it (over 20 MB, or unreachable for it): look at it ourselves.
      if (!(err instanceof TelegramRequestError)) throw err;
    }
    const bytes = await probeSize(input.videoUrl);
    if (bytes !== undefined && bytes > TELEGRAM_LIMITS.videoUploadBytes) {
      const text = `${input.caption ? `${input.caption}\n\n` : ''}${input.tooLargeText ?? en.videoTooLarge(input.videoUrl)}`;
      const msg = await telegram.send('sendMessage', input.chatId, (api) => api.sendMessage(input.chatId, text, replyTo(input.replyToMessageId)));
      return { messageId: msg.message_id, deliveredBy: 'link', bytes };
    }
    return upload(input, bytes);
  }

  /** Sends the video unless an earlier attempt recorded it sent; records it as soon as Telegram has it. */
  async function sendVideoOnce(input: SendVideoInput): Promise<SentVideo> {
    if (!input.generationId) return deliver(input);
    // An earlier attempt reached Telegram but its completion never reached Temporal (an outage, a lost answer).
    const recorded = await findRecordedDelivery(prisma, input.generationId);
    if (recorded) return { fileId: recorded.telegramFileId, deliveredBy: recorded.deliveredBy as SentVideo['deliveredBy'] };
    const sent = await deliver(input);
    await recordDelivery(prisma, input.generationId, { telegramFileId: sent.fileId, deliveredBy: sent.deliveredBy, videoUrl: input.videoUrl });
    return sent;
  }

  /** Runs `send` beating every {@link HEARTBEAT_MS}: a retry after a lost completion then comes soon. */
  async function beating<T>(send: () => Promise<T>): Promise<T> {
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
    try {
      return await send();
    } finally {
      clearInterval(beat);
    }
  }

  async function resendCached(input: SendCachedVideoInput): Promise<SentVideo> {
    const msg = await telegram.sendMedia('sendVideo', input.chatId, (api) =>
      api.sendVideo(input.chatId, input.fileId, {
        caption: input.caption,
        supports_streaming: true,
        ...replyTo(input.replyToMessageId),
        ...keyboard(input.buttons),
      }),
    );
    return { messageId: msg.message_id, fileId: msg.video?.file_id ?? input.fileId, deliveredBy: 'cache', bytes: msg.video?.file_size };
  }

  return {
    /**
     * Sends a text message, with inline buttons (one per row) when given; returns
     * its message id. An answer lost after the request went out (no answer within
     * the send timeout, a reset, a 5xx) may have put it in the chat: it fails with
     * the non-retryable `TelegramAmbiguousSendError`, and nothing is sent again.
     * A progress message (`progressOf`) is recorded on its generation at once, so
     * a retry after a lost completion returns it without sending another.
     */
    async sendMessage(input: SendMessageInput): Promise<{ messageId: number }> {
      // Only a retry can follow an attempt whose completion was lost: the first attempt spends no query.
      if (input.progressOf && Context.current().info.attempt > 1) {
        const recorded = await findProgressMessage(prisma, input.progressOf);
        if (recorded !== undefined) return { messageId: recorded };
      }
      const markup = keyboard(input.buttons);
      const msg = await telegram.send('sendMessage', input.chatId, (api) =>
        api.sendMessage(input.chatId, input.text, { ...replyTo(input.replyToMessageId), ...markup }),
      );
      if (input.progressOf) await recordProgressMessage(prisma, input.progressOf, msg.message_id);
      return { messageId: msg.message_id };
    },

    /**
     * Replaces a message's text and inline buttons in place (a /settings message
     * after a press). An edit changes nothing twice, so a retry is harmless, and
     * "message is not modified" (a retry of one that went through) is success.
     */
    async editMessage(input: { chatId: number; messageId: number; text: string; buttons?: InlineButton[] }): Promise<void> {
      try {
        await telegram.call('editMessageText', input.chatId, (api) => api.editMessageText(input.chatId, input.messageId, input.text, keyboard(input.buttons)));
      } catch (err) {
        if (!isMessageNotModified(err)) throw err;
      }
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

    /**
     * Replaces the text of the progress message. An identical edit counts as
     * done, so an edit may be repeated: one waiting for its turn in the Telegram
     * budget gives its worker slot back after {@link EDIT_SLOT_HOLD_MS} and
     * completes asynchronously.
     */
    async updateProgress(input: { chatId: number; messageId: number; text: string }): Promise<void> {
      const edit = (async () => {
        try {
          await telegram.call('editMessageText', input.chatId, (api) => api.editMessageText(input.chatId, input.messageId, input.text));
        } catch (err) {
          if (!isMessageNotModified(err)) throw err;
        }
      })();
      return withinSlot(edit, { completer: () => completer ?? temporal.activity, holdMs: EDIT_SLOT_HOLD_MS, metrics });
    },

    /**
     * Sends the generated video: by URL (Telegram fetches up to 20 MB), else
     * uploaded (≤ 50 MB), else as a link. Returns Telegram's file_id for reuse.
     * A send whose answer was lost (no answer within the media timeout, a
     * reset, a 5xx) may have delivered the video: it fails with the
     * non-retryable `TelegramAmbiguousSendError`, and nothing is sent again.
     */
    async sendVideo(input: SendVideoInput): Promise<SentVideo> {
      // Telegram may take minutes to fetch a large video: the beats say this attempt is alive, and their
      // absence lets Temporal retry soon when its completion was lost (the retry then finds the record).
      return beating(() => sendVideoOnce(input));
    },

    /**
     * Resends a video Telegram already has, by its file_id: one call, nothing
     * fetched or uploaded. A refused file_id fails as `TelegramRequestError`.
     * As for `sendVideo`, an answer lost after the request went out fails with
     * the non-retryable `TelegramAmbiguousSendError`, and with a `generationId`
     * the delivery is recorded as soon as Telegram answers, so a retry after a
     * lost completion finds it and sends nothing.
     */
    async sendCachedVideo(input: SendCachedVideoInput): Promise<SentVideo> {
      return beating(async () => {
        if (!input.generationId) return resendCached(input);
        const recorded = await findRecordedDelivery(prisma, input.generationId);
        if (recorded) return { fileId: recorded.telegramFileId ?? input.fileId, deliveredBy: 'cache' };
        const sent = await resendCached(input);
        await recordDelivery(prisma, input.generationId, { telegramFileId: sent.fileId, deliveredBy: sent.deliveredBy });
        return sent;
      });
    },
  };
}
