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
