import type { BotCommandInput } from '../../workflows/command/workflow.js';

/**
 * One-line summaries shown for a workflow in the Temporal UI (`staticSummary`).
 * They are payloads, so they go through the payload codec like the inputs.
 */

const PROMPT_CHARS = 60;

/** `Video for chat 12345: "a cat surfing…"` */
export function videoSummary(chatId: number, prompt: string): string {
  const oneLine = prompt.replace(/\s+/g, ' ').trim();
  const short = oneLine.length > PROMPT_CHARS ? `${oneLine.slice(0, PROMPT_CHARS - 1)}…` : oneLine;
  return `Video for chat ${chatId}: "${short}"`;
}

/** `/subscribe tech-news for chat 12345`, or `Button press (/subscribe tech-news) in chat 12345`. */
export function commandSummary(input: Pick<BotCommandInput, 'command' | 'args' | 'callbackQueryId' | 'user'>): string {
  const what = input.command === 'no-caption' ? 'Photo without a caption' : input.command === 'unknown' ? 'Unknown command' : `/${input.command}`;
  const args = input.args ? ` ${input.args.replace(/\s+/g, ' ').slice(0, 40)}` : '';
  return input.callbackQueryId === undefined
    ? `${what}${args} for chat ${input.user.chatId}`
    : `Button press (${what}${args}) in chat ${input.user.chatId}`;
}

/** `Summary 7 of tech-news to its subscribers`, or its re-drive. */
export function distributionSummary(summaryId: number, sourceSlug: string | undefined, redrive = false): string {
  const of = sourceSlug ? ` of ${sourceSlug}` : '';
  return redrive ? `Re-drive of summary ${summaryId}${of}: retry failed deliveries` : `Summary ${summaryId}${of} to its subscribers`;
}
