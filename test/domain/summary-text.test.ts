import { describe, expect, it } from 'vitest';
import { assertSummaryFits, measureSummary, summaryText, SummaryTooLongError, TELEGRAM_MESSAGE_MAX_LENGTH } from '../../src/domain/summary-text.js';

describe('summary text', () => {
  it('joins title, text and link with blank lines, leaving out a missing link', () => {
    expect(summaryText({ title: 'T', text: 'body', videoUrl: 'https://x.test/v' })).toBe('T\n\nbody\n\nhttps://x.test/v');
    expect(summaryText({ title: 'T', text: 'body', videoUrl: null })).toBe('T\n\nbody');
    expect(summaryText({ title: 'T', text: 'body' })).toBe('T\n\nbody');
  });

  it('counts UTF-16 code units, as Telegram does: an emoji outside the BMP is 2', () => {
    expect(measureSummary({ title: '😀', text: 'é' })).toEqual({ length: 2 + 2 + 1, limit: TELEGRAM_MESSAGE_MAX_LENGTH, fits: true });
  });

  it('lets exactly 4,096 through and refuses 4,097 with the length and the limit', () => {
    const title = 'x'.repeat(TELEGRAM_MESSAGE_MAX_LENGTH - 3);
    expect(() => assertSummaryFits({ title, text: 'y' })).not.toThrow();
    const refuse = () => assertSummaryFits({ title, text: 'yz' });
    expect(refuse).toThrow(SummaryTooLongError);
    expect(refuse).toThrow(/4097 characters.*at most 4096.*by 1\./);
  });
});
