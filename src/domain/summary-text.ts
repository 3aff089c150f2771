/**
 * The one message a subscriber receives for a summary, and Telegram's limit on
 * it. Pure: the operators' API checks a summary with it at intake, and the
 * distribution builds the message it sends with the same join.
 */

/** Telegram's limit on one text message, counted after entity parsing. */
export const TELEGRAM_MESSAGE_MAX_LENGTH = 4096;

/** What of a summary goes into its message. */
export interface SummaryParts {
  title: string;
  text: string;
  videoUrl?: string | null;
}

/** The text sent to each subscriber: title, text and link, blank lines between, empty parts left out. */
export function summaryText(summary: SummaryParts): string {
  return [summary.title, summary.text, summary.videoUrl].filter(Boolean).join('\n\n');
}

/**
 * A message's length as Telegram counts it: UTF-16 code units (what a JS
 * string's `length` is), so an emoji outside the BMP counts 2. Summaries are
 * sent as plain text, without `parse_mode`, so no markup is removed first.
 */
export function telegramTextLength(text: string): number {
  return text.length;
}

/** How long a summary's message is, and whether it fits in one Telegram message. */
export function measureSummary(summary: SummaryParts): { length: number; limit: number; fits: boolean } {
  const length = telegramTextLength(summaryText(summary));
  return { length, limit: TELEGRAM_MESSAGE_MAX_LENGTH, fits: length <= TELEGRAM_MESSAGE_MAX_LENGTH };
}

/** A summary whose message would exceed Telegram's limit: refused at intake (HTTP 422), never stored. */
export class SummaryTooLongError extends Error {
  constructor(
    readonly length: number,
    readonly limit: number = TELEGRAM_MESSAGE_MAX_LENGTH,
  ) {
    super(
      `The summary's message would be ${length} characters (UTF-16 code units) once title, text and link are joined; ` +
        `Telegram allows at most ${limit} in one message. Shorten the text by ${length - limit}.`,
    );
    this.name = 'SummaryTooLongError';
  }
}

/** Throws {@link SummaryTooLongError} unless the summary fits in one Telegram message. */
export function assertSummaryFits(summary: SummaryParts): void {
  const { length, limit, fits } = measureSummary(summary);
  if (!fits) throw new SummaryTooLongError(length, limit);
}
