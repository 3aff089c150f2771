import type { BotContext } from '../context.js';
import { badRequest } from '../errors.js';
import type { Params } from '../params.js';
import type { TgMessage } from '../types.js';

/** A new message from the bot in `chatId`, with the next message id of that chat. */
/** The bot as a message's `from`, one object per bot for all its messages. */
const senders = new WeakMap<BotContext['bot'], NonNullable<TgMessage['from']>>();

export function newBotMessage(ctx: BotContext, chatId: number | string): TgMessage {
  let from = senders.get(ctx.bot);
  if (!from) {
    const { id, is_bot, first_name, username } = ctx.bot;
    from = username === undefined ? { id, is_bot, first_name } : { id, is_bot, first_name, username };
    senders.set(ctx.bot, from);
  }
  return {
    message_id: ctx.chats.nextMessageId(chatId),
    from,
    chat: ctx.chats.chat(chatId),
    date: Math.floor(Date.now() / 1000),
  };
}

export const invalidMessageId = (): ReturnType<typeof badRequest> => badRequest('message identifier is not specified');

/** `message_id`, required. */
export function messageId(params: Params, name = 'message_id'): number {
  const id = params.int(name, invalidMessageId);
  if (id === undefined) throw invalidMessageId();
  return id;
}

const BUTTON_ACTIONS = [
  'url',
  'callback_data',
  'web_app',
  'login_url',
  'switch_inline_query',
  'switch_inline_query_current_chat',
  'switch_inline_query_chosen_chat',
  'copy_text',
  'callback_game',
  'pay',
];

/**
 * `reply_markup`, checked like Telegram checks it (a malformed inline keyboard, or
 * `callback_data` over 64 bytes, is refused). Only inline keyboards are echoed in
 * the returned Message, as in the Bot API.
 */
export function readMarkup(params: Params, inlineOnly = false): { markup?: unknown; echoed?: unknown } {
  const unparsable = (): ReturnType<typeof badRequest> => badRequest("can't parse reply keyboard markup JSON object");
  const markup = params.json('reply_markup', unparsable);
  if (markup === undefined) return {};
  if (typeof markup !== 'object' || markup === null || Array.isArray(markup)) throw unparsable();
  const m = markup as Record<string, unknown>;
  if (!('inline_keyboard' in m)) {
    if (inlineOnly) throw badRequest('inline keyboard expected');
    if (!('keyboard' in m) && !('remove_keyboard' in m) && !('force_reply' in m)) throw unparsable();
    return { markup };
  }
  const rows = m['inline_keyboard'];
  if (!Array.isArray(rows) || !rows.every((row) => Array.isArray(row))) {
    throw badRequest('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays');
  }
  for (const button of rows.flat() as unknown[]) {
    const b = (typeof button === 'object' && button !== null ? button : {}) as Record<string, unknown>;
    if (typeof b['text'] !== 'string' || b['text'] === '') {
      throw badRequest(`can't parse inline keyboard button: Field "text" must be of type String`);
    }
    if (!BUTTON_ACTIONS.some((a) => a in b)) {
      throw badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
    }
    const data = b['callback_data'];
    if (data !== undefined && (typeof data !== 'string' || data === '' || Buffer.byteLength(data) > 64)) {
      throw badRequest('BUTTON_DATA_INVALID');
    }
  }
  return { markup, echoed: markup };
}

/** The message a send replies to (`reply_parameters`, or the older `reply_to_message_id`). */
export function readReplyTo(params: Params, chatId: number | string, ctx: BotContext): TgMessage | undefined {
  const notFound = (): ReturnType<typeof badRequest> => badRequest('message to be replied not found');
  const reply = params.json('reply_parameters', () => badRequest("can't parse reply parameters JSON object"));
  let replyId: number | undefined;
  let replyChat = chatId;
  let allowWithout = params.bool('allow_sending_without_reply');
  if (reply !== undefined) {
    const r = (typeof reply === 'object' && reply !== null ? reply : {}) as Record<string, unknown>;
    if (typeof r['message_id'] !== 'number') throw notFound();
    replyId = r['message_id'];
    if (typeof r['chat_id'] === 'number' || typeof r['chat_id'] === 'string') replyChat = r['chat_id'];
    allowWithout ||= r['allow_sending_without_reply'] === true;
  } else {
    replyId = params.int('reply_to_message_id', notFound);
  }
  if (replyId === undefined) return undefined;
  const found = ctx.chats.find(replyChat, replyId);
  if (!found) {
    if (allowWithout) return undefined;
    throw notFound();
  }
  const shallow = { ...found.message };
  delete shallow.reply_to_message;
  return shallow;
}

/** Structural equality of two JSON values (for "message is not modified"). */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
