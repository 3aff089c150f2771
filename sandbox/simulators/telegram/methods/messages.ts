import type { BotContext, MethodSpec } from '../context.js';
import { badRequest } from '../errors.js';
import { parseFormatted } from '../formatting.js';
import type { SentMessage } from '../chat-store.js';
import type { Params } from '../params.js';
import type { TgMessage, TgMessageEntity } from '../types.js';
import { messageId, newBotMessage, readMarkup, readReplyTo, sameJson } from './common.js';

const MAX_TEXT = 4096;
const MAX_CAPTION = 1024;
const NOT_MODIFIED =
  'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';
const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

function readEntities(params: Params, name: string): unknown {
  return params.json(name, () => badRequest(`can't parse ${name} JSON object`));
}

/** `text` with its `parse_mode`, checked for emptiness and length. */
function readText(params: Params): { text: string; entities: TgMessageEntity[] } {
  const f = parseFormatted(params.string('text') ?? '', params.string('parse_mode'), readEntities(params, 'entities'));
  if (f.text === '') throw badRequest('message text is empty');
  if (f.text.length > MAX_TEXT) throw badRequest('message is too long');
  return f;
}

/** An optional `caption` with its `parse_mode`, applied to `message`. */
export function applyCaption(params: Params, message: TgMessage): void {
  const f = parseFormatted(params.string('caption') ?? '', params.string('parse_mode'), readEntities(params, 'caption_entities'));
  if (f.text.length > MAX_CAPTION) throw badRequest('message caption is too long');
  if (f.text !== '') message.caption = f.text;
  if (f.entities.length > 0) message.caption_entities = f.entities;
}

function withText(message: TgMessage, f: { text: string; entities: TgMessageEntity[] }): TgMessage {
  const next: TgMessage = { ...message, text: f.text };
  if (f.entities.length > 0) next.entities = f.entities;
  else delete next.entities;
  return next;
}

function withMarkup(message: TgMessage, echoed: unknown): TgMessage {
  const next = { ...message };
  if (echoed !== undefined) next.reply_markup = echoed;
  else delete next.reply_markup;
  return next;
}

/** The bot's own message to edit, with Telegram's errors when there is none. */
function editable(params: Params, ctx: BotContext): { message: TgMessage; sent: SentMessage } {
  const found = ctx.chats.find(params.chatId(), messageId(params));
  if (!found) throw badRequest('message to edit not found');
  if (!found.sent) throw badRequest("message can't be edited");
  return { message: found.message, sent: found.sent };
}

function finishEdit(
  ctx: BotContext,
  target: ReturnType<typeof editable>,
  next: TgMessage,
): TgMessage {
  const before = target.message;
  const unchanged =
    next.text === before.text &&
    next.caption === before.caption &&
    sameJson(next.entities, before.entities) &&
    sameJson(next.caption_entities, before.caption_entities) &&
    sameJson(next.reply_markup, before.reply_markup);
  if (unchanged) throw badRequest(NOT_MODIFIED);
  next.edit_date = Math.floor(Date.now() / 1000);
  ctx.chats.recordEdit(target.sent, next);
  return next;
}

/** Text messages: sending, editing, deleting, copying; and chat actions. */
export const messageMethods: Record<string, MethodSpec> = {
  sendMessage: {
    send: true,
    chat: 'required',
    handler(params, ctx) {
      const chatId = params.chatId();
      const text = readText(params);
      const { echoed } = readMarkup(params);
      const replyTo = readReplyTo(params, chatId, ctx);
      let message = withText(newBotMessage(ctx, chatId), text);
      if (replyTo) message.reply_to_message = replyTo;
      message = withMarkup(message, echoed);
      ctx.chats.recordSent(chatId, 'sendMessage', message);
      return message;
    },
  },

  editMessageText: {
    chat: 'optional',
    handler(params, ctx) {
      if (params.has('inline_message_id') && !params.has('chat_id')) {
        readText(params);
        return true;
      }
      const target = editable(params, ctx);
      if (target.message.text === undefined) throw badRequest('there is no text in the message to edit');
      const text = readText(params);
      const { echoed } = readMarkup(params, true);
      return finishEdit(ctx, target, withMarkup(withText(target.message, text), echoed));
    },
  },

  editMessageCaption: {
    chat: 'optional',
    handler(params, ctx) {
      if (params.has('inline_message_id') && !params.has('chat_id')) return true;
      const target = editable(params, ctx);
      if (target.message.text !== undefined) throw badRequest('there is no caption in the message to edit');
      const next: TgMessage = { ...target.message };
      delete next.caption;
      delete next.caption_entities;
      applyCaption(params, next);
      return finishEdit(ctx, target, withMarkup(next, readMarkup(params, true).echoed));
    },
  },

  editMessageReplyMarkup: {
    chat: 'optional',
    handler(params, ctx) {
      if (params.has('inline_message_id') && !params.has('chat_id')) return true;
      const target = editable(params, ctx);
      return finishEdit(ctx, target, withMarkup(target.message, readMarkup(params, true).echoed));
    },
  },

  deleteMessage: {
    chat: 'required',
    handler(params, ctx) {
      if (!ctx.chats.recordDelete(params.chatId(), messageId(params))) throw badRequest('message to delete not found');
      return true;
    },
  },

  copyMessage: {
    send: true,
    chat: 'required',
    handler(params, ctx) {
      const chatId = params.chatId();
      const source = ctx.chats.find(params.chatId('from_chat_id'), messageId(params));
      if (!source) throw badRequest('message to copy not found');
      const copy: TgMessage = { ...source.message, ...newBotMessage(ctx, chatId) };
      delete copy.reply_to_message;
      delete copy.edit_date;
      if (params.has('caption')) {
        delete copy.caption_entities;
        delete copy.caption;
        applyCaption(params, copy);
      }
      ctx.chats.recordSent(chatId, 'copyMessage', withMarkup(copy, readMarkup(params).echoed));
      return { message_id: copy.message_id };
    },
  },

  forwardMessage: {
    send: true,
    chat: 'required',
    handler(params, ctx) {
      const chatId = params.chatId();
      const source = ctx.chats.find(params.chatId('from_chat_id'), messageId(params));
      if (!source) throw badRequest('message to forward not found');
      const forwarded: TgMessage = { ...source.message, ...newBotMessage(ctx, chatId) };
      delete forwarded.reply_to_message;
      delete forwarded.reply_markup;
      ctx.chats.recordSent(chatId, 'forwardMessage', forwarded);
      return forwarded;
    },
  },

  sendChatAction: {
    chat: 'required',
    handler(params) {
      params.chatId();
      const action = params.string('action');
      if (!action) throw badRequest('action is empty');
      if (!CHAT_ACTIONS.has(action)) throw badRequest('wrong parameter action in request');
      return true;
    },
  },
};
