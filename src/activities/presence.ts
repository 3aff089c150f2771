import { TelegramBudgetBusyError, TelegramRateLimitError } from '../errors.js';
import type { ActivityDeps } from './deps.js';

/** Chat actions sent at once within one beat. */
const AT_ONCE = 8;

/** What one beat of chat actions did. */
export interface PresenceBeat {
  shown: number;
  /** Not sent: Telegram's budget had no room (chat actions go last) or the call failed. */
  skipped: number;
}

export function createPresenceActivities({ telegram, metrics }: Pick<ActivityDeps, 'telegram' | 'metrics'>) {
  return {
    /**
     * One beat of "sending video…" (or another chat action) for many chats at
     * once, from the fleet's one presence loop (see `wavespeedAdmission`).
     * Best effort and never retried: a chat that misses a beat gets the next
     * one. Stops at the first sign of pressure (429, or no room in the bot's
     * Telegram budget), so it never takes sends from answers, videos or edits.
     */
    async showChatActions(input: { chatIds: number[]; action: 'upload_video' | 'typing' }): Promise<PresenceBeat> {
      const beat: PresenceBeat = { shown: 0, skipped: 0 };
      let pressed = false;
      const chats = [...input.chatIds];
      const next = async (): Promise<void> => {
        for (let chatId = chats.shift(); chatId !== undefined; chatId = chats.shift()) {
          if (pressed) {
            beat.skipped += 1;
            continue;
          }
          try {
            await telegram.call('sendChatAction', chatId, (api) => api.sendChatAction(chatId, input.action));
            beat.shown += 1;
          } catch (err) {
            beat.skipped += 1;
            // No free slot in the bot's budget right now (chat actions go last), or Telegram said slow down.
            if (err instanceof TelegramBudgetBusyError || err instanceof TelegramRateLimitError) pressed = true;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(AT_ONCE, chats.length) }, next));
      metrics?.chatActions.inc({ result: 'shown' }, beat.shown);
      metrics?.chatActions.inc({ result: 'skipped' }, beat.skipped);
      return beat;
    },
  };
}
