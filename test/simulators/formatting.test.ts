import { describe, expect, it } from 'vitest';
import { TelegramApiError } from '../../sandbox/simulators/telegram/errors.js';
import { parseFormatted } from '../../sandbox/simulators/telegram/formatting.js';

function error(text: string, mode: string): string {
  try {
    parseFormatted(text, mode, undefined);
  } catch (err) {
    if (err instanceof TelegramApiError) return err.description;
    throw err;
  }
  throw new Error('expected a parse error');
}

describe('parse_mode like the Bot API', () => {
  it('HTML: tags become entities with UTF-16 offsets, entities are decoded', () => {
    expect(parseFormatted('🎬 <b>Ready</b> &lt;3 <a href="https://t.me/x">link</a>', 'HTML', undefined)).toEqual({
      text: '🎬 Ready <3 link',
      entities: [
        { type: 'bold', offset: 3, length: 5 },
        { type: 'text_link', offset: 12, length: 4, url: 'https://t.me/x' },
      ],
    });
    expect(parseFormatted('<pre><code class="language-ts">x</code></pre>', 'HTML', undefined).entities).toEqual([
      { type: 'pre', offset: 0, length: 1, language: 'ts' },
    ]);
  });

  it('HTML: reports bad markup as "can\'t parse entities"', () => {
    expect(error('a <foo>b</foo>', 'HTML')).toBe('Bad Request: can\'t parse entities: Unsupported start tag "foo" at byte offset 2');
    expect(error('<b>open', 'HTML')).toBe('Bad Request: can\'t parse entities: Can\'t find end tag corresponding to start tag "b"');
    expect(error('<b>x</i>', 'HTML')).toMatch(/Unmatched end tag at byte offset 4, expected "<\/b>", found "<\/i>"/);
  });

  it('MarkdownV2: formatting, escapes and reserved characters', () => {
    expect(parseFormatted('*bold* _it_ __u__ ~s~ ||sp|| `c` [t](https://a.b/c\\)d) 50\\.5\\%', 'MarkdownV2', undefined)).toEqual({
      text: 'bold it u s sp c t 50.5%',
      entities: [
        { type: 'bold', offset: 0, length: 4 },
        { type: 'italic', offset: 5, length: 2 },
        { type: 'underline', offset: 8, length: 1 },
        { type: 'strikethrough', offset: 10, length: 1 },
        { type: 'spoiler', offset: 12, length: 2 },
        { type: 'code', offset: 15, length: 1 },
        { type: 'text_link', offset: 17, length: 1, url: 'https://a.b/c)d' },
      ],
    });
    expect(error('Done!', 'MarkdownV2')).toBe("Bad Request: can't parse entities: Character '!' is reserved and must be escaped with the preceding '\\'");
    expect(error('*open', 'MarkdownV2')).toBe("Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 0");
  });

  it('legacy Markdown and plain text; whitespace is trimmed', () => {
    expect(parseFormatted('*b* _i_', 'Markdown', undefined).entities).toHaveLength(2);
    expect(error('*b', 'Markdown')).toMatch(/Can't find end of the entity starting at byte offset 0/);
    expect(parseFormatted('  a.b!  ', undefined, undefined)).toEqual({ text: 'a.b!', entities: [] });
    expect(error('x', 'Markdown3')).toBe('Bad Request: unsupported parse_mode');
  });
});
