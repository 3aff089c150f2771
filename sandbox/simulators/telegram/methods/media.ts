import type { BotContext, MethodSpec } from '../context.js';
import { badRequest } from '../errors.js';
import { toTgFile } from '../file-store.js';
import { resolveInput, storeDocument, storePhoto, storeVideo, type InputContent } from '../media.js';
import type { Params } from '../params.js';
import type { TgMessage } from '../types.js';
import { newBotMessage, readMarkup, readReplyTo } from './common.js';
import { applyCaption } from './messages.js';

/** Largest file the Bot API lets a bot download. */
const DOWNLOAD_LIMIT = 20 * 1024 * 1024;

/** Media sends (upload, URL or file_id) and `getFile`. */
export const mediaMethods: Record<string, MethodSpec> = {
  sendVideo: mediaSend('sendVideo', 'video', (input, params, ctx) => {
    const file = storeVideo(input, params, ctx.files);
    if (file.kind !== 'video' && file.kind !== 'animation') return { document: documentOf(file) };
    const video: NonNullable<TgMessage['video']> = {
      file_id: file.file_id,
      file_unique_id: file.file_unique_id,
      duration: file.duration ?? 0,
      width: file.width ?? 0,
      height: file.height ?? 0,
      mime_type: file.mime_type ?? 'video/mp4',
      file_size: file.file_size,
    };
    if (file.file_name) video.file_name = file.file_name;
    return { video };
  }),

  sendPhoto: mediaSend('sendPhoto', 'photo', async (input, _params, ctx) => ({ photo: await storePhoto(input, ctx) })),

  sendDocument: mediaSend('sendDocument', 'document', (input, _params, ctx) => ({ document: documentOf(storeDocument(input, ctx.files)) })),

  getFile: {
    handler(params, ctx) {
      const fileId = params.string('file_id')?.trim();
      if (!fileId) throw badRequest('file_id is empty');
      const file = ctx.files.byId(fileId);
      if (!file) throw badRequest('invalid file_id');
      if (file.file_size > DOWNLOAD_LIMIT) throw badRequest('file is too big');
      return toTgFile(file);
    },
  },
};

/**
 * A media send (upload, URL or file_id): markup, reply and caption are checked
 * before the file, as Telegram does; `store` keeps the file and says what the
 * message carries.
 */
function mediaSend(
  method: string,
  field: 'video' | 'photo' | 'document',
  store: (input: InputContent, params: Params, ctx: BotContext) => Partial<TgMessage> | Promise<Partial<TgMessage>>,
): MethodSpec {
  return {
    send: true,
    chat: 'required',
    async handler(params, ctx) {
      const chatId = params.chatId();
      const { echoed } = readMarkup(params);
      const replyTo = readReplyTo(params, chatId, ctx);
      const caption: TgMessage = { message_id: 0, chat: ctx.chats.chat(chatId), date: 0 };
      applyCaption(params, caption);
      const media = await store(await resolveInput(params, field, ctx), params, ctx);
      const message = newBotMessage(ctx, chatId);
      if (replyTo) message.reply_to_message = replyTo;
      Object.assign(message, media, pickCaption(caption));
      if (echoed !== undefined) message.reply_markup = echoed;
      ctx.chats.recordSent(chatId, method, message);
      return message;
    },
  };
}

function documentOf(file: { file_id: string; file_unique_id: string; file_size: number; file_name?: string; mime_type?: string }): NonNullable<TgMessage['document']> {
  const doc: NonNullable<TgMessage['document']> = { file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size };
  if (file.file_name) doc.file_name = file.file_name;
  if (file.mime_type) doc.mime_type = file.mime_type;
  return doc;
}

function pickCaption(m: TgMessage): Pick<TgMessage, 'caption' | 'caption_entities'> {
  const out: Pick<TgMessage, 'caption' | 'caption_entities'> = {};
  if (m.caption !== undefined) out.caption = m.caption;
  if (m.caption_entities !== undefined) out.caption_entities = m.caption_entities;
  return out;
}
