import type { FastifyInstance } from 'fastify';
import type { SentMessage } from './chat-store.js';
import type { TgUpdate } from './types.js';
import type { PhotoUpdateOptions, TextUpdateOptions } from './updates.js';
import type { PushResult } from './webhook.js';

/** What the control routes drive: the simulator's own test API. */
export interface ControlRoutesDeps {
  makePhotoUpdate(opts: PhotoUpdateOptions): Promise<TgUpdate>;
  makeTextUpdate(opts: TextUpdateOptions): TgUpdate;
  pushUpdate(update: TgUpdate): Promise<PushResult>;
  messagesTo(chatId: number): SentMessage[];
}

/** `POST /sandbox/updates`: a user writes to the bot. */
interface UserMessageBody {
  chatId: number;
  userId?: number;
  /** A photo with this caption (none: a photo without caption). */
  photo?: { caption?: string };
  /** A text message; `/commands` get their entity. */
  text?: string;
}

const UserMessageBody = {
  type: 'object',
  properties: {
    chatId: { type: 'integer', minimum: 1 },
    userId: { type: 'integer', minimum: 1 },
    photo: { type: 'object', properties: { caption: { type: 'string', minLength: 1, maxLength: 1024 } }, additionalProperties: false },
    text: { type: 'string', minLength: 1, maxLength: 4096 },
  },
  required: ['chatId'],
  oneOf: [{ required: ['photo'] }, { required: ['text'] }],
  additionalProperties: false,
} as const;

const ChatParams = { type: 'object', properties: { chatId: { type: 'integer' } }, required: ['chatId'] } as const;

/** A message the bot sent, as the control API shows it. */
export interface ControlMessage {
  message_id: number;
  method: string;
  at: number;
  text?: string;
  caption?: string;
  video?: { file_id: string; duration?: number; width?: number; height?: number };
  reply_markup?: unknown;
  edits: number;
  deleted: boolean;
}

function view(m: SentMessage): ControlMessage {
  const out: ControlMessage = { message_id: m.message_id, method: m.method, at: m.at, edits: m.edits.length, deleted: m.deleted };
  if (m.text !== undefined) out.text = m.text;
  if (m.caption !== undefined) out.caption = m.caption;
  if (m.video) out.video = { file_id: m.video.file_id, duration: m.video.duration, width: m.video.width, height: m.video.height };
  if (m.reply_markup !== undefined) out.reply_markup = m.reply_markup;
  return out;
}

/**
 * Sandbox-only control of the simulator from another process (`npm run demo`):
 * act as a Telegram user (the update is built like Telegram's and pushed to the
 * bot's webhook) and read what the bot sent to a chat. Telegram has nothing like
 * it; the simulator only serves it when started with `control: true`.
 */
export async function controlRoutes(app: FastifyInstance, deps: ControlRoutesDeps): Promise<void> {
  app.post<{ Body: UserMessageBody }>('/updates', { schema: { body: UserMessageBody } }, async (request) => {
    const { chatId, userId = chatId, photo, text } = request.body;
    const update = photo
      ? await deps.makePhotoUpdate({ chatId, userId, caption: photo.caption })
      : deps.makeTextUpdate({ chatId, userId, text: text! });
    const pushed = await deps.pushUpdate(update);
    return { update, webhook: { status: pushed.status, error: pushed.error } };
  });

  app.get<{ Params: { chatId: number } }>('/chats/:chatId/messages', { schema: { params: ChatParams } }, async (request) => ({
    messages: deps.messagesTo(request.params.chatId).map(view),
  }));
}
