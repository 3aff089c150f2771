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

/** Reads a video workflow id back into its parts; undefined for anything else. */
export function parseVideoWorkflowId(id: string): { chatId: number; messageId: number } | undefined {
  const match = /^video-(-?\d+)-(\d+)$/.exec(id);
  if (!match) return undefined;
  return { chatId: Number(match[1]), messageId: Number(match[2]) };
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

/** The `botCommand` workflow id for a command message or, when it carries one, a button press. */
export function botCommandWorkflowId(input: { user: { chatId: number }; messageId: number; callbackQueryId?: string }): string {
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

/** The one admission workflow that hands out WaveSpeed concurrency permits fleet-wide. */
export const ADMISSION_WORKFLOW_ID = 'wavespeed-admission';
