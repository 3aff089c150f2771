import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import type { BotContext } from './context.js';
import { registerPhotoSizes } from './media.js';
import type { TgChat, TgMessage, TgMessageEntity, TgUpdate, TgUser } from './types.js';

/** Who sends an incoming message; defaults make a plausible private chat. */
export interface SenderOptions {
  chatId: number;
  /** Defaults to `chatId` (a private chat). */
  userId?: number;
  /** Defaults to the next id in the chat. */
  messageId?: number;
  firstName?: string;
  username?: string;
  languageCode?: string;
}

export interface PhotoUpdateOptions extends SenderOptions {
  caption?: string;
  /** Size of the generated JPEG; default 1280×960. */
  width?: number;
  height?: number;
  /** Picks the picture: equal seeds and sizes give the same JPEG, as when users send the same photo. Default: a picture per message. */
  seed?: number;
}

export interface TextUpdateOptions extends SenderOptions {
  text: string;
}

export interface CallbackQueryUpdateOptions extends Omit<SenderOptions, 'messageId'> {
  /** The bot's message carrying the inline keyboard. */
  messageId: number;
  data: string;
}

/**
 * Builds incoming updates shaped exactly like Telegram's, with sequential
 * `update_id`s, and registers what they reference (photos, callback queries)
 * so that the bot's follow-up calls (`getFile`, `answerCallbackQuery`) work.
 */
export class UpdateFactory {
  private lastUpdateId = 0;

  constructor(private readonly ctx: BotContext) {}

  async photo(opts: PhotoUpdateOptions): Promise<TgUpdate> {
    const width = opts.width ?? 1280;
    const height = opts.height ?? 960;
    const message = this.message(opts);
    const jpeg = await gradientJpeg(width, height, opts.seed ?? message.message_id + message.chat.id);
    message.photo = await registerPhotoSizes(jpeg, this.ctx);
    if (opts.caption) message.caption = opts.caption;
    this.ctx.chats.rememberIncoming(message);
    return { update_id: this.nextUpdateId(), message };
  }

  text(opts: TextUpdateOptions): TgUpdate {
    const message = this.message(opts);
    message.text = opts.text;
    const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(opts.text);
    if (command) {
      const entity: TgMessageEntity = { type: 'bot_command', offset: 0, length: command[0].length };
      message.entities = [entity];
    }
    this.ctx.chats.rememberIncoming(message);
    return { update_id: this.nextUpdateId(), message };
  }

  callbackQuery(opts: CallbackQueryUpdateOptions): TgUpdate {
    const from = this.user(opts);
    const id = BigInt.asUintN(63, randomBytes(8).readBigUInt64BE()).toString();
    this.ctx.callbackQueries.add(id);
    const found = this.ctx.chats.find(opts.chatId, opts.messageId);
    const message: TgMessage = found?.message ?? { message_id: opts.messageId, chat: this.chat(opts, from), date: now() };
    return {
      update_id: this.nextUpdateId(),
      callback_query: { id, from, message, chat_instance: String(BigInt(opts.chatId) * 7919n), data: opts.data },
    };
  }

  nextUpdateId(): number {
    return ++this.lastUpdateId;
  }

  private message(opts: SenderOptions): TgMessage {
    const from = this.user(opts);
    return {
      message_id: this.ctx.chats.nextMessageId(opts.chatId, opts.messageId),
      from,
      chat: this.chat(opts, from),
      date: now(),
    };
  }

  private user(opts: Omit<SenderOptions, 'messageId'>): TgUser {
    const id = opts.userId ?? opts.chatId;
    const user: TgUser = {
      id,
      is_bot: false,
      first_name: opts.firstName ?? `Tester${id}`,
      username: opts.username ?? `tester_${id}`,
      language_code: opts.languageCode ?? 'en',
    };
    this.ctx.chats.rememberUser(user);
    return user;
  }

  private chat(opts: Omit<SenderOptions, 'messageId'>, from: TgUser): TgChat {
    if (opts.chatId < 0) return this.ctx.chats.chat(opts.chatId);
    const chat: TgChat = { id: opts.chatId, type: 'private', first_name: from.first_name };
    if (from.username) chat.username = from.username;
    return chat;
  }
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** A real JPEG: a diagonal gradient whose colours depend on `seed`, so each photo differs. */
async function gradientJpeg(width: number, height: number, seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  const tint = Math.abs(seed * 37) % 256;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = Math.floor((x / width) * 255);
      raw[i + 1] = Math.floor((y / height) * 255);
      raw[i + 2] = tint;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}
