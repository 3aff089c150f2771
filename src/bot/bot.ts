import { Bot, type Api, type CommandContext, type Context } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import { TELEGRAM_LIMITS } from '../constants.js';
import type { TelegramUserInput } from '../db/users.js';
import { isAcceptedImageMimeType } from '../domain/images.js';
import { CATALOGS, LANGUAGES, MENU_COMMANDS, languageOf, texts, type Catalog, type MediaKind } from '../i18n/index.js';
import type { WorkflowGateway } from '../temporal/client/starter.js';
import type { BotCommandName } from '../workflows/command/workflow.js';
import {
  AGAIN_BUTTON_PREFIX,
  LANGUAGE_BUTTON_PREFIX,
  NEW_PROMPT_BUTTON_PREFIX,
  RESEND_BUTTON_PREFIX,
  SETTINGS_BUTTON_PREFIX,
  SUBSCRIBE_BUTTON_PREFIX,
} from '../workflows/ids.js';
import type { UpdateRateLimiter } from './update-limiter.js';

export interface BotDeps {
  token: string;
  /** Bot API root (Telegram or a simulator). */
  apiRoot: string;
  workflows: WorkflowGateway;
  /** Known bot identity; when absent, `bot.init()` asks Telegram (getMe). */
  botInfo?: UserFromGetMe;
  /** Per-user ceiling on incoming updates; none when absent. */
  updateLimiter?: UpdateRateLimiter;
}

/** The commands the bot offers in Telegram's menu, described in `language`. */
export function botCommands(language: keyof typeof CATALOGS): Array<{ command: string; description: string }> {
  return MENU_COMMANDS.map((command) => ({ command, description: CATALOGS[language].commands[command] }));
}

/**
 * Sets the menu's command descriptions at start-up: English for everyone, and
 * each other language for the users whose Telegram speaks it (`language_code`).
 */
export async function setBotCommands(api: Api): Promise<void> {
  await api.setMyCommands(botCommands('en'));
  for (const language of LANGUAGES) if (language !== 'en') await api.setMyCommands(botCommands(language), { language_code: language });
}

/**
 * What the gateway answers itself is in the user's Telegram language: it reads
 * no database, so a /language choice applies from the workflows' answers on.
 */
function textsOf(ctx: Context): Catalog {
  return texts(languageOf(ctx.from?.language_code));
}

/** What each inline button's `callback_data` prefix asks for; what follows the prefix is the argument. */
const BUTTONS: ReadonlyArray<readonly [string, BotCommandName]> = [
  [SUBSCRIBE_BUTTON_PREFIX, 'subscribe'],
  [RESEND_BUTTON_PREFIX, 'resend'],
  [SETTINGS_BUTTON_PREFIX, 'settings'],
  [AGAIN_BUTTON_PREFIX, 'again'],
  [NEW_PROMPT_BUTTON_PREFIX, 'new-prompt'],
  [LANGUAGE_BUTTON_PREFIX, 'language'],
];

/** Which of the things the bot cannot use a message carries (an animation also carries a document: it is named first). */
function mediaKindOf(msg: { animation?: unknown; video?: unknown; video_note?: unknown; sticker?: unknown; voice?: unknown; audio?: unknown; document?: unknown }): MediaKind {
  for (const kind of ['animation', 'video', 'video_note', 'sticker', 'voice', 'audio', 'document'] as const) if (msg[kind] !== undefined) return kind;
  return 'other';
}

function userOf(ctx: Context): TelegramUserInput | undefined {
  if (!ctx.from || !ctx.chat) return undefined;
  return {
    userId: ctx.from.id,
    chatId: ctx.chat.id,
    firstName: ctx.from.first_name,
    username: ctx.from.username,
    languageCode: ctx.from.language_code,
  };
}

/**
 * Telewan's bot. Every handler does one thing: start the workflow that does the
 * work, with an id taken from the message, so a redelivered update starts
 * nothing new. A user over the update ceiling gets one "slow down" per window
 * and nothing else: no workflow starts. Errors are not caught here: they fail
 * the webhook request, and Telegram delivers the update again.
 */
export function createBot(deps: BotDeps): Bot {
  // The only message the gateway sends itself (slow down) goes back as the webhook's answer: no API call.
  const bot = new Bot(deps.token, {
    botInfo: deps.botInfo,
    client: { apiRoot: deps.apiRoot, canUseWebhookReply: (method) => method === 'sendMessage' },
  });
  const limiter = deps.updateLimiter;
  if (limiter) {
    bot.use(async (ctx, next) => {
      const userId = ctx.from?.id;
      if (userId === undefined) return next();
      const updateId = ctx.update.update_id;
      const verdict = await limiter.check(userId, updateId);
      if (verdict === 'accept') {
        try {
          return await next();
        } catch (err) {
          limiter.expectRedelivery(updateId);
          throw err;
        }
      }
      if (verdict === 'slow-down' && ctx.chat?.type === 'private') await ctx.reply(textsOf(ctx).slowDown);
    });
  }
  const chats = bot.chatType('private');

  const command = (name: BotCommandName) => async (ctx: CommandContext<Context>) => {
    const user = userOf(ctx);
    if (!user) return;
    const args = ctx.match.trim();
    await deps.workflows.startCommand({ command: name, user, messageId: ctx.msg.message_id, ...(args ? { args } : {}) });
  };

  chats.command('start', command('start'));
  chats.command('help', command('help'));
  chats.command('settings', command('settings'));
  chats.command('status', command('status'));
  chats.command('history', command('history'));
  chats.command('cancel', command('cancel'));
  chats.command('usage', command('usage'));
  chats.command('sources', command('sources'));
  chats.command('subscribe', command('subscribe'));
  chats.command('unsubscribe', command('unsubscribe'));
  chats.command('mysubs', command('mysubs'));
  chats.command('language', command('language'));

  // A press on an inline button; the workflow answers the callback query.
  chats.on('callback_query:data', async (ctx) => {
    const user = userOf(ctx);
    const messageId = ctx.callbackQuery.message?.message_id;
    if (!user || messageId === undefined) return;
    const { data, id: callbackQueryId } = ctx.callbackQuery;
    const button = BUTTONS.find(([prefix]) => data.startsWith(prefix));
    const input = button ? { command: button[1], args: data.slice(button[0].length) } : { command: 'unknown' as const };
    await deps.workflows.startCommand({ ...input, user, messageId, callbackQueryId });
  });

  chats.on('message:photo', async (ctx) => {
    const user = userOf(ctx);
    if (!user) return;
    const prompt = ctx.msg.caption?.trim();
    const album = ctx.msg.media_group_id;
    if (!prompt && album !== undefined) {
      // An album is one update per photo, the caption on one of them: one hint for the album, however many photos.
      await deps.workflows.startCommand({ command: 'album', user, messageId: ctx.msg.message_id, once: `album-${album}` });
      return;
    }
    if (!prompt) {
      await deps.workflows.startCommand({ command: 'no-caption', user, messageId: ctx.msg.message_id });
      return;
    }
    const largest = ctx.msg.photo.at(-1);
    if (!largest) return;
    await deps.workflows.startVideo({ user, messageId: ctx.msg.message_id, fileId: largest.file_id, prompt });
  });

  // An image sent "as a file" keeps its full resolution: treat it like a photo.
  // One Telewan cannot use is refused here, in the webhook's reply: nothing starts.
  chats.on('message:document', async (ctx, next) => {
    const user = userOf(ctx);
    const { document, caption } = ctx.msg;
    if (!user || !document.mime_type?.toLowerCase().startsWith('image/')) return next();
    if (!isAcceptedImageMimeType(document.mime_type)) {
      await ctx.reply(textsOf(ctx).unsupportedImage(document.mime_type));
      return;
    }
    if (document.file_size !== undefined && document.file_size > TELEGRAM_LIMITS.downloadBytes) {
      await ctx.reply(textsOf(ctx).imageTooLarge(TELEGRAM_LIMITS.downloadBytes / 1024 / 1024));
      return;
    }
    const prompt = caption?.trim();
    if (!prompt) {
      await deps.workflows.startCommand({ command: 'no-caption', user, messageId: ctx.msg.message_id });
      return;
    }
    await deps.workflows.startVideo({ user, messageId: ctx.msg.message_id, fileId: document.file_id, prompt });
  });

  // What people send besides photos: a hint that names it and says what to send instead.
  chats.on(['message:animation', 'message:video', 'message:video_note', 'message:sticker', 'message:voice', 'message:audio', 'message:document'], async (ctx) => {
    const user = userOf(ctx);
    if (!user) return;
    const kind = mediaKindOf(ctx.msg);
    await deps.workflows.startCommand({ command: 'unsupported-media', user, messageId: ctx.msg.message_id, args: kind });
  });

  // An edited caption cannot change a video already under way: say so once per edit.
  chats.on('edited_message', async (ctx) => {
    const user = userOf(ctx);
    const edited = ctx.editedMessage;
    if (!user || (edited.photo === undefined && edited.document === undefined)) return;
    await deps.workflows.startCommand({ command: 'edited', user, messageId: edited.message_id, once: `edit-${edited.message_id}-${edited.edit_date}` });
  });

  chats.on('message', async (ctx) => {
    const user = userOf(ctx);
    if (!user) return;
    // A text goes along: after ✏️ New prompt it is the caption of a new video (the workflow knows).
    const text = ctx.msg.text?.trim();
    await deps.workflows.startCommand({ command: 'unknown', user, messageId: ctx.msg.message_id, ...(text ? { args: text } : {}) });
  });
  return bot;
}
