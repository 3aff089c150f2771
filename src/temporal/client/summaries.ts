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

/** The hints: not commands a user typed, but what the bot answers to something else. */
const HINTS: Partial<Record<BotCommandInput['command'], string>> = {
  'no-caption': 'Photo without a caption',
  album: 'Album photos without a caption',
  'unsupported-media': 'Something other than a photo',
  edited: 'Edited caption',
  unknown: 'Unknown command',
};

/** `/subscribe tech-news for chat 12345`, or `Button press (/subscribe tech-news) in chat 12345`. */
export function commandSummary(input: Pick<BotCommandInput, 'command' | 'args' | 'callbackQueryId' | 'user'>): string {
  const hint = HINTS[input.command];
  const what = hint ?? `/${input.command}`;
  const args = input.args && !hint ? ` ${input.args.replace(/\s+/g, ' ').slice(0, 40)}` : input.command === 'unsupported-media' ? ` (${input.args ?? 'other'})` : '';
  return input.callbackQueryId === undefined
    ? `${what}${args} for chat ${input.user.chatId}`
    : `Button press (${what}${args}) in chat ${input.user.chatId}`;
}

/** `Summary 7 of tech-news to its subscribers`, or its re-drive. */
export function distributionSummary(summaryId: number, sourceSlug: string | undefined, redrive = false): string {
  const of = sourceSlug ? ` of ${sourceSlug}` : '';
  return redrive ? `Re-drive of summary ${summaryId}${of}: retry failed deliveries` : `Summary ${summaryId}${of} to its subscribers`;
}
