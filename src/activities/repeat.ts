import { awaitNewPrompt, takeAwaitedPrompt, type TelegramUserInput } from '../db/users.js';
import { findRequestToRepeat } from '../db/generations.js';
import type { ActivityDeps } from './deps.js';
import { VIDEO_DEADLINE_DEFAULT_MS } from '../constants.js';

/** What a new video of a generation's photo is made from (the fields of a video request besides its user). */
export interface RepeatableRequest {
  fileId: string;
  prompt: string;
  model: string;
  /** The original's length: the new video keeps its settings. */
  durationSeconds?: number;
  /** The photo's message: the new video replies to it too. */
  messageId: number;
  deadlineMs: number;
  polling?: { initialMs: number; maxMs: number };
}

/** 🔁 Again and ✏️ New prompt under a delivered video (queries in src/db). */
export function createRepeatActivities({ prisma, config }: Pick<ActivityDeps, 'prisma' | 'config'>) {
  const video = config.video ?? { deadlineMs: VIDEO_DEADLINE_DEFAULT_MS };
  return {
    /** One of the chat's generations as a request to make again (never another chat's); undefined when its photo is not known. */
    async findRequestToRepeat(input: { chatId: number; generationId: string }): Promise<RepeatableRequest | undefined> {
      const found = await findRequestToRepeat(prisma, input);
      return found && { ...found, deadlineMs: video.deadlineMs, ...(video.polling ? { polling: video.polling } : {}) };
    },
    /** ✏️ New prompt: the user's next text is the new caption of the generation's photo. */
    async awaitNewPrompt(input: { user: TelegramUserInput; generationId: string }): Promise<void> {
      await awaitNewPrompt(prisma, input.user, input.generationId);
    },
    /** The generation a text is the new caption of, if ✏️ New prompt was pressed; the same text gets the same answer on a retry. */
    async takeAwaitedPrompt(input: { userId: number; messageId: number }): Promise<string | undefined> {
      return takeAwaitedPrompt(prisma, input.userId, input.messageId);
    },
  };
}
