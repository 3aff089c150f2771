import { ActivityFailure, getExternalWorkflowHandle, log, proxyActivities, setWorkflowOptions, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import { activityFailureType } from '../failures.js';
import { MESSAGING } from '../activity-options.js';
import type { InlineButton } from '../../activities/telegram.js';
import type { TelegramUserInput } from '../../db/users.js';
import { ErrorType } from '../../errors.js';
import {
  HELP_TEXT,
  NO_CAPTION_TEXT,
  STALE_BUTTON_TEXT,
  SUBSCRIBE_USAGE_TEXT,
  UNKNOWN_TEXT,
  UNSUBSCRIBE_USAGE_TEXT,
  WELCOME_TEXT,
  sourcesReply,
  statusText,
  subscribeNotice,
  subscribeText,
  subscriptionsText,
  unsubscribeText,
  usageText,
} from '../texts.js';
import { cancelVideoSignal } from '../video/messages.js';

/** Bot commands handled by {@link botCommand}; `no-caption` and `unknown` are hints, not commands. */
export type BotCommandName =
  | 'start'
  | 'help'
  | 'status'
  | 'cancel'
  | 'usage'
  | 'sources'
  | 'subscribe'
  | 'unsubscribe'
  | 'mysubs'
  | 'no-caption'
  | 'unknown';

export interface BotCommandInput {
  command: BotCommandName;
  user: TelegramUserInput;
  /** The message that carried the command; for a button press, the bot's message that carried the button. */
  messageId: number;
  /** What followed the command (`/subscribe tech-news` → `tech-news`); for a button, what its data names. */
  args?: string;
  /** Set for a pressed inline button: the press is answered with `answerCallbackQuery`. */
  callbackQueryId?: string;
}

/** What the workflow answers: a message (with buttons), and for a button press a brief notice. */
interface Reply {
  text?: string;
  buttons?: InlineButton[];
  notice?: string;
}

const { registerUser, listRecentGenerations, findActiveGenerations, markUserBlocked, listSources, subscribe, unsubscribe, listSubscriptions, getUsage } =
  proxyActivities<Activities>({
    startToCloseTimeout: '10s',
    scheduleToCloseTimeout: '5m',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
  });

const { sendMessage } = proxyActivities<Activities>(MESSAGING);

// Telegram keeps a button spinning only briefly: past a minute an answer is pointless.
const { answerCallbackQuery } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s' },
});


/**
 * Answers one bot command or button press. Started by the gateway with an id
 * taken from the message (or the callback query), so Telegram's redelivery
 * answers once.
 */
export async function botCommand(input: BotCommandInput): Promise<void> {
  const chatId = input.user.chatId;
  const reply = await answer(input);
  if (input.callbackQueryId !== undefined) await acknowledge(input.callbackQueryId, reply.notice);
  if (reply.text === undefined) return;
  try {
    await sendMessage.executeWithOptions({ summary: `reply to /${input.command} in chat ${chatId}` }, [
      { chatId, text: reply.text, replyToMessageId: input.messageId, ...(reply.buttons?.length ? { buttons: reply.buttons } : {}) },
    ]);
  } catch (err) {
    const type = activityFailureType(err);
    // A reply Telegram may have delivered is not sent again: the command ends answered.
    if (type === ErrorType.TelegramAmbiguousSend) {
      log.warn('Telegram lost the answer to the reply; not sending it again', { command: input.command, chatId });
      return;
    }
    if (type !== ErrorType.BotBlocked) throw err;
    await markUserBlocked({ userId: input.user.userId, reason: 'telegram-403' });
  }
}

async function answer(input: BotCommandInput): Promise<Reply> {
  const { command, user } = input;
  switch (command) {
    case 'start':
      await registerUser(user);
      return { text: WELCOME_TEXT };
    case 'help':
      return { text: HELP_TEXT };
    case 'status':
      return { text: statusText(await listRecentGenerations({ chatId: user.chatId, limit: 5 })) };
    case 'cancel':
      return { text: await cancelActive(user.chatId) };
    case 'usage':
      return { text: usageText(await getUsage({ userId: user.userId, chatId: user.chatId })) };
    case 'sources':
      return sourcesReply(await listSources({ userId: user.userId }));
    case 'subscribe':
      return subscribeTo(input);
    case 'unsubscribe':
      return unsubscribeFrom(input);
    case 'mysubs':
      return { text: subscriptionsText(await listSubscriptions({ userId: user.userId })) };
    case 'no-caption':
      return { text: NO_CAPTION_TEXT };
    case 'unknown':
      return input.callbackQueryId === undefined ? { text: UNKNOWN_TEXT } : { notice: STALE_BUTTON_TEXT };
  }
}

/** The first word of the arguments, as slugs are written (lower case); undefined when there is none. */
function slugOf(args: string | undefined): string | undefined {
  const word = args?.trim().split(/\s+/)[0]?.toLowerCase();
  return word ? word : undefined;
}

async function subscribeTo(input: BotCommandInput): Promise<Reply> {
  const slug = slugOf(input.args);
  if (slug === undefined) return { text: SUBSCRIBE_USAGE_TEXT };
  const result = await subscribe({ user: input.user, slug, requestId: workflowInfo().workflowId });
  return { text: subscribeText(result, slug), notice: subscribeNotice(result) };
}

async function unsubscribeFrom(input: BotCommandInput): Promise<Reply> {
  const slug = slugOf(input.args);
  if (slug === undefined) return { text: UNSUBSCRIBE_USAGE_TEXT };
  const result = await unsubscribe({ userId: input.user.userId, slug, requestId: workflowInfo().workflowId });
  return { text: unsubscribeText(result, slug) };
}

/** Stops the button's spinner. Not answering only leaves it spinning a while, so a failure is logged, not raised. */
async function acknowledge(callbackQueryId: string, text: string | undefined): Promise<void> {
  try {
    await answerCallbackQuery({ callbackQueryId, ...(text === undefined ? {} : { text }) });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    log.warn('Could not answer the button press', { callbackQueryId, error: String(err.cause ?? err) });
  }
}

async function cancelActive(chatId: number): Promise<string> {
  const ids = await findActiveGenerations({ chatId });
  let cancelled = 0;
  for (const id of ids) {
    try {
      await getExternalWorkflowHandle(id).signal(cancelVideoSignal, { by: 'user' });
      cancelled += 1;
    } catch (err) {
      // Already finished: nothing to cancel.
      log.info('Could not signal video workflow', { workflowId: id, error: String(err) });
    }
  }
  if (cancelled === 0) return 'Nothing to cancel: you have no requests in progress.';
  return cancelled === 1 ? 'Cancelling your request in progress…' : `Cancelling your ${cancelled} requests in progress…`;
}

/** Pinned (Worker Versioning): a command ends on the build that started it, so a change to it needs no `patched()` branch. */
setWorkflowOptions({ versioningBehavior: 'PINNED' }, botCommand);
