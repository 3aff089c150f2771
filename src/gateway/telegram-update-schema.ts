import { Type, type TSchema } from 'typebox';

/** An object schema that lets fields it does not name through. */
const open = <T extends Record<string, TSchema>>(properties: T) => Type.Object(properties, { additionalProperties: true });

const User = open({
  id: Type.Integer(),
  is_bot: Type.Boolean(),
  first_name: Type.String(),
  username: Type.Optional(Type.String()),
  language_code: Type.Optional(Type.String()),
});

const Chat = open({ id: Type.Integer(), type: Type.String() });

const MessageEntity = open({ type: Type.String(), offset: Type.Integer({ minimum: 0 }), length: Type.Integer({ minimum: 0 }) });

const PhotoSize = open({ file_id: Type.String({ minLength: 1 }), file_unique_id: Type.String(), width: Type.Integer(), height: Type.Integer() });

const Document = open({
  file_id: Type.String({ minLength: 1 }),
  file_unique_id: Type.String(),
  mime_type: Type.Optional(Type.String()),
  file_size: Type.Optional(Type.Integer({ minimum: 0 })),
});

const Message = open({
  message_id: Type.Integer(),
  date: Type.Integer(),
  chat: Chat,
  from: Type.Optional(User),
  text: Type.Optional(Type.String()),
  entities: Type.Optional(Type.Array(MessageEntity)),
  caption: Type.Optional(Type.String()),
  caption_entities: Type.Optional(Type.Array(MessageEntity)),
  photo: Type.Optional(Type.Array(PhotoSize)),
  document: Type.Optional(Document),
});

/** A callback query's message may be "inaccessible": then it has only chat, message_id and date 0. */
const CallbackQuery = open({
  id: Type.String({ minLength: 1 }),
  from: User,
  chat_instance: Type.String(),
  data: Type.Optional(Type.String()),
  message: Type.Optional(open({ message_id: Type.Integer(), date: Type.Integer(), chat: Chat })),
});

/** Update kinds that carry a message: grammY reads the chat and sender from any of them. */
const MESSAGE_KINDS = ['message', 'edited_message', 'channel_post', 'edited_channel_post', 'business_message', 'edited_business_message'] as const;

/**
 * The shape of a Telegram update as far as the bot reads it: every field a
 * handler touches has its Bot API type, everything else passes through
 * (`additionalProperties`), so Telegram adding fields never breaks intake. A
 * body that does not match is answered 400 before any handler runs, instead of
 * failing inside one as a 500 (which Telegram would redeliver forever).
 */
export const TelegramUpdateSchema = open({
  update_id: Type.Integer({ minimum: 0 }),
  ...Object.fromEntries(MESSAGE_KINDS.map((kind) => [kind, Type.Optional(Message)])),
  callback_query: Type.Optional(CallbackQuery),
});
