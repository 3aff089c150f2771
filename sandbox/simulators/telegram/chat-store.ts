import type { ChatBehaviour } from './errors.js';
import type { TgChat, TgMessage, TgUser } from './types.js';

/** A message the bot sent, as it stands now, with its edit history. */
export interface SentMessage {
  message_id: number;
  chat_id: number | string;
  /** The method that sent it (`sendMessage`, `sendVideo`, …). */
  method: string;
  at: number;
  text?: string;
  caption?: string;
  video?: TgMessage['video'];
  photo?: TgMessage['photo'];
  document?: TgMessage['document'];
  reply_markup?: unknown;
  /** The full Message object, as the Bot API would return it now. */
  message: TgMessage;
  /** Earlier states, oldest first, one per successful edit. */
  edits: Array<{ at: number; text?: string; caption?: string; reply_markup?: unknown }>;
  deleted: boolean;
}

interface ChatState {
  behaviour: ChatBehaviour;
  lastMessageId: number;
  sent: SentMessage[];
}

interface StoredMessage {
  message: TgMessage;
  sent?: SentMessage;
}

/**
 * Chats, their message counters (one sequence per chat, shared by the user's
 * and the bot's messages, as in private chats) and what the bot sent to them.
 */
export class ChatStore {
  private readonly chats = new Map<string, ChatState>();
  /**
   * Every chat's messages, by `<chat>:<message id>`: one map for all rather than
   * one per chat, which a broadcast to 100,000 chats would pay 100,000 times over
   * (the simulator must not slow down, and collect garbage, under the load it measures).
   */
  private readonly messages = new Map<string, StoredMessage>();
  private readonly users = new Map<number, TgUser>();

  /** @param firstMessageId every chat's message ids start after this one. */
  constructor(private readonly firstMessageId = 0) {}

  behaviour(chatId: number | string): ChatBehaviour {
    const chat = this.chats.get(String(chatId));
    if (chat) return chat.behaviour;
    // Telegram cannot resolve an @username it has never seen.
    return typeof chatId === 'string' ? 'not-found' : 'ok';
  }

  setBehaviour(chatId: number | string, behaviour: ChatBehaviour): void {
    this.state(chatId).behaviour = behaviour;
  }

  rememberUser(user: TgUser): void {
    this.users.set(user.id, user);
  }

  /** The Chat object for an id: private for positive ids, a (super)group otherwise. */
  chat(chatId: number | string): TgChat {
    if (typeof chatId === 'string') return { id: -1000000000000 - hashCode(chatId), type: 'channel', title: chatId.slice(1), username: chatId.slice(1) };
    if (chatId > 0) {
      const user = this.users.get(chatId);
      const chat: TgChat = { id: chatId, type: 'private', first_name: user?.first_name ?? `User ${chatId}` };
      if (user?.username) chat.username = user.username;
      return chat;
    }
    return chatId <= -1000000000000
      ? { id: chatId, type: 'supergroup', title: `Group ${chatId}` }
      : { id: chatId, type: 'group', title: `Group ${chatId}` };
  }

  /** Allocates the next message id in a chat, or moves the counter past `explicit`. */
  nextMessageId(chatId: number | string, explicit?: number): number {
    const chat = this.state(chatId);
    const id = explicit ?? chat.lastMessageId + 1;
    chat.lastMessageId = Math.max(chat.lastMessageId, id);
    return id;
  }

  /** Stores a message a user sent (so replies, copies and forwards can find it). */
  rememberIncoming(message: TgMessage): void {
    this.state(message.chat.id);
    this.messages.set(messageKey(message.chat.id, message.message_id), { message });
  }

  recordSent(chatId: number | string, method: string, message: TgMessage): SentMessage {
    const sent: SentMessage = { message_id: message.message_id, chat_id: chatId, method, at: Date.now(), message, edits: [], deleted: false };
    applyContent(sent, message);
    const chat = this.state(chatId);
    chat.sent.push(sent);
    this.messages.set(messageKey(chatId, message.message_id), { message, sent });
    return sent;
  }

  /** Replaces a sent message's content after an edit, keeping the previous state in `edits`. */
  recordEdit(sent: SentMessage, message: TgMessage): void {
    sent.edits.push({ at: Date.now(), text: sent.text, caption: sent.caption, reply_markup: sent.reply_markup });
    sent.message = message;
    applyContent(sent, message);
    this.messages.set(messageKey(sent.chat_id, message.message_id), { message, sent });
  }

  recordDelete(chatId: number | string, messageId: number): boolean {
    const found = this.messages.get(messageKey(chatId, messageId));
    if (!found) return false;
    this.messages.delete(messageKey(chatId, messageId));
    if (found.sent) found.sent.deleted = true;
    return true;
  }

  find(chatId: number | string, messageId: number): { message: TgMessage; sent?: SentMessage } | undefined {
    return this.messages.get(messageKey(chatId, messageId));
  }

  sentTo(chatId: number | string): SentMessage[] {
    return [...(this.chats.get(String(chatId))?.sent ?? [])];
  }

  /** Forgets messages and behaviours; message counters keep going so ids never repeat. */
  clear(): void {
    this.messages.clear();
    for (const chat of this.chats.values()) {
      chat.behaviour = 'ok';
      chat.sent = [];
    }
  }

  private state(chatId: number | string): ChatState {
    const key = String(chatId);
    let chat = this.chats.get(key);
    if (!chat) {
      chat = { behaviour: 'ok', lastMessageId: this.firstMessageId, sent: [] };
      this.chats.set(key, chat);
    }
    return chat;
  }
}

function messageKey(chatId: number | string, messageId: number): string {
  return `${chatId}:${messageId}`;
}

function applyContent(sent: SentMessage, message: TgMessage): void {
  sent.text = message.text;
  sent.caption = message.caption;
  sent.video = message.video;
  sent.photo = message.photo;
  sent.document = message.document;
  sent.reply_markup = message.reply_markup;
}

function hashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) % 1000000000;
  return h;
}
