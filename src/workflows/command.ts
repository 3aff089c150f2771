import { ActivityFailure, ApplicationFailure, getExternalWorkflowHandle, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { TelegramUserInput } from '../db/users.js';
import { ErrorType } from '../errors.js';
import { HELP_TEXT, NO_CAPTION_TEXT, UNKNOWN_TEXT, WELCOME_TEXT, statusText } from './texts.js';
import { cancelVideoSignal } from './video-messages.js';

/** Bot commands handled by {@link botCommand}; `no-caption` and `unknown` are hints, not commands. */
export type BotCommandName = 'start' | 'help' | 'status' | 'cancel' | 'no-caption' | 'unknown';

export interface BotCommandInput {
  command: BotCommandName;
  user: TelegramUserInput;
  messageId: number;
}

const { registerUser, listRecentGenerations, findActiveGenerations, markUserBlocked } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '5m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

const { sendMessage } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '10m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '60s' },
});

/**
 * Answers one bot command. Started by the gateway with the id of the message
 * that carried the command, so Telegram's redelivery answers once.
 */
export async function botCommand(input: BotCommandInput): Promise<void> {
  const chatId = input.user.chatId;
  const text = await answer(input);
  try {
    await sendMessage({ chatId, text, replyToMessageId: input.messageId });
  } catch (err) {
    if (!(err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === ErrorType.BotBlocked)) throw err;
    await markUserBlocked({ userId: input.user.userId, reason: 'telegram-403' });
  }
}

async function answer({ command, user }: BotCommandInput): Promise<string> {
  switch (command) {
    case 'start':
      await registerUser(user);
      return WELCOME_TEXT;
    case 'help':
      return HELP_TEXT;
    case 'status':
      return statusText(await listRecentGenerations({ chatId: user.chatId, limit: 5 }));
    case 'cancel':
      return cancelActive(user.chatId);
    case 'no-caption':
      return NO_CAPTION_TEXT;
    case 'unknown':
      return UNKNOWN_TEXT;
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
