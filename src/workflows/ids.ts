import { ADMISSION_SLOTS_PER_SHARD, MAX_ADMISSION_SHARDS } from '../constants.js';
/**
 * Workflow ids come from the business key, so a redelivered Telegram update maps
 * to the workflow it already started. Pure: imported by the gateway and workflows.
 */

/** One image-to-video request: the chat and the message that carried the photo. */
export function videoWorkflowId(chatId: number, messageId: number): string {
  return `video-${chatId}-${messageId}`;
}

/** One bot command: the chat and the message that carried it. */
export function commandWorkflowId(chatId: number, messageId: number): string {
  return `command-${chatId}-${messageId}`;
}

/** A video a 🔁 Again press asked for: the chat and the press (its callback query id). */
export function againWorkflowId(chatId: number, callbackQueryId: string): string {
  return `video-${chatId}-cb-${callbackQueryId}`;
}

/** Reads a video workflow id (a photo's, or an Again press's) back into its chat; undefined for anything else. */
export function parseVideoWorkflowId(id: string): { chatId: number } | undefined {
  const match = /^video-(-?\d+)-(\d+|cb-[A-Za-z0-9_-]{1,64})$/.exec(id);
  if (!match) return undefined;
  return { chatId: Number(match[1]) };
}

/** The distribution of one summary to every subscriber of its source. */
export function summaryWorkflowId(summaryId: number): string {
  return `summary-${summaryId}`;
}

/** Reads a summary workflow id back into the summary id; undefined for anything else. */
export function parseSummaryWorkflowId(id: string): number | undefined {
  const match = /^summary-(\d+)$/.exec(id);
  return match ? Number(match[1]) : undefined;
}

/**
 * One press of an inline button. Telegram gives every press its own callback
 * query id and resends the same id on redelivery, so it is the business key.
 */
export function callbackWorkflowId(chatId: number, callbackQueryId: string): string {
  return `command-${chatId}-cb-${callbackQueryId}`;
}

/**
 * The `botCommand` workflow id for a command message, a button press (its callback
 * query id), or a hint answered once for several updates (`once`: an album's media
 * group, an edit's message and date).
 */
export function botCommandWorkflowId(input: { user: { chatId: number }; messageId: number; callbackQueryId?: string; once?: string }): string {
  if (input.once !== undefined) return `command-${input.user.chatId}-${input.once}`;
  return input.callbackQueryId === undefined
    ? commandWorkflowId(input.user.chatId, input.messageId)
    : callbackWorkflowId(input.user.chatId, input.callbackQueryId);
}

/** Prefix of the `callback_data` of a "Subscribe to …" button; the slug follows. */
export const SUBSCRIBE_BUTTON_PREFIX = 'sub:';

/** The `callback_data` of a "Subscribe to <source>" button (Telegram allows ≤ 64 bytes; slugs are ≤ 32 ASCII characters). */
export function subscribeButtonData(slug: string): string {
  return `${SUBSCRIBE_BUTTON_PREFIX}${slug}`;
}

/** Prefixes of the `callback_data` of the buttons under a video; the generation id follows. */
export const AGAIN_BUTTON_PREFIX = 'again:';
export const NEW_PROMPT_BUTTON_PREFIX = 'newp:';

/** Prefix of the `callback_data` of a /settings button: `m:<model>` or `d:<seconds>` follows. */
export const SETTINGS_BUTTON_PREFIX = 'set:';

/** The `callback_data` of a /settings button choosing a model (model ids ≤ 40 ASCII characters) or a length. */
export function settingsButtonData(choice: { model: string } | { durationSeconds: number }): string {
  return 'model' in choice ? `${SETTINGS_BUTTON_PREFIX}m:${choice.model}` : `${SETTINGS_BUTTON_PREFIX}d:${choice.durationSeconds}`;
}

/** Prefix of the `callback_data` of a /history button; the generation id follows. */
export const RESEND_BUTTON_PREFIX = 'vid:';

/** The `callback_data` of the button that resends a delivered video (within Telegram's 64 bytes: test/workflows/ids.test.ts). */
export function resendButtonData(generationId: string): string {
  return `${RESEND_BUTTON_PREFIX}${generationId}`;
}

/** Prefix of the `callback_data` of a /language button; the language follows. */
export const LANGUAGE_BUTTON_PREFIX = 'lang:';

/** The `callback_data` of the button that chooses `language`. */
export function languageButtonData(language: string): string {
  return `${LANGUAGE_BUTTON_PREFIX}${language}`;
}

/** The admission workflow that hands out WaveSpeed concurrency permits fleet-wide (its first shard). */
export const ADMISSION_WORKFLOW_ID = 'wavespeed-admission';


/**
 * How many admission workflows share a cap of `maxConcurrency`. One workflow
 * takes every request's ask, grant and give-back: at Gold's 3,000 slots and 10
 * requests a second that is 30 signals a second into one history, more than
 * one workflow can take on a busy server (grants then fell minutes behind). A
 * large cap is split into shards, each granting its share of it in arrival
 * order; a small cap (Bronze, Silver, the default) keeps one line, so
 * everyone's place in it is exact.
 */
export function admissionShards(maxConcurrency: number, slotsPerShard = ADMISSION_SLOTS_PER_SHARD): number {
  return Math.max(1, Math.min(MAX_ADMISSION_SHARDS, Math.floor(maxConcurrency / slotsPerShard)));
}

/** The workflow id of admission shard `shard` (0 is the single workflow of a small cap). */
export function admissionWorkflowId(shard: number): string {
  return shard === 0 ? ADMISSION_WORKFLOW_ID : `${ADMISSION_WORKFLOW_ID}-${shard}`;
}

/** The shard a requester asks, the same for every retry of its ask (FNV-1a of its id). */
export function admissionShardOf(requesterId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < requesterId.length; i++) {
    hash ^= requesterId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

/** Shard `shard`'s part of `total` (slots, or places in line): the parts of all shards add up to `total`. */
export function shareOf(total: number, shards: number, shard: number): number {
  return Math.floor(total / shards) + (shard < total % shards ? 1 : 0);
}

export { MAX_ADMISSION_SHARDS };
