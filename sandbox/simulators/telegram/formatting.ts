import { badRequest, type TelegramApiError } from './errors.js';
import type { TgMessageEntity } from './types.js';

/** Message text as Telegram stores it: plain text plus entities (UTF-16 offsets). */
export interface FormattedText {
  text: string;
  entities: TgMessageEntity[];
}

/**
 * Applies `parse_mode` (or explicit `entities`) the way the Bot API does, with its
 * error messages, so that a client that forgets to escape MarkdownV2 or closes an
 * HTML tag wrongly fails here as it would in production. Leading and trailing
 * whitespace is stripped, as Telegram does.
 */
export function parseFormatted(source: string, parseMode: string | undefined, entities: unknown): FormattedText {
  let parsed: FormattedText;
  if (Array.isArray(entities)) parsed = { text: source, entities: entities as TgMessageEntity[] };
  else if (parseMode === undefined || parseMode === '') parsed = { text: source, entities: [] };
  else if (parseMode === 'HTML') parsed = parseHtml(source);
  else if (parseMode === 'MarkdownV2') parsed = parseMarkdownV2(source);
  else if (parseMode === 'Markdown') parsed = parseMarkdown(source);
  else throw badRequest('unsupported parse_mode');
  return trim(parsed);
}

const cantParse = (what: string): TelegramApiError => badRequest(`can't parse entities: ${what}`);
const byteOffset = (src: string, i: number): number => Buffer.byteLength(src.slice(0, i), 'utf8');

function sortEntities(entities: TgMessageEntity[]): TgMessageEntity[] {
  return entities.filter((e) => e.length > 0).sort((a, b) => a.offset - b.offset || b.length - a.length);
}

function trim({ text, entities }: FormattedText): FormattedText {
  const lead = text.length - text.trimStart().length;
  const trimmed = text.trim();
  const shifted = entities
    .map((e) => {
      const start = Math.max(0, e.offset - lead);
      const end = Math.min(trimmed.length, e.offset + e.length - lead);
      return { ...e, offset: start, length: end - start };
    })
    .filter((e) => e.length > 0);
  return { text: trimmed, entities: shifted };
}

// --- HTML -------------------------------------------------------------------

const HTML_TAGS: Record<string, string> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  a: 'text_link',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};

function parseAttributes(s: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const m of s.matchAll(/([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    attrs[(m[1] ?? '').toLowerCase()] = m[2] ?? m[3] ?? m[4] ?? '';
  }
  return attrs;
}

function decodeHtmlEntity(m: RegExpExecArray): string {
  const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };
  if (m[2] !== undefined) return String.fromCodePoint(Number(m[2]));
  if (m[3] !== undefined) return String.fromCodePoint(parseInt(m[3], 16));
  return named[m[1] ?? ''] ?? '';
}

function parseHtml(src: string): FormattedText {
  let out = '';
  const entities: TgMessageEntity[] = [];
  const open: Array<{ tag: string; entity?: TgMessageEntity }> = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (c === '&') {
      const m = /^&(lt|gt|amp|quot|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));/.exec(src.slice(i, i + 12));
      out += m ? decodeHtmlEntity(m) : '&';
      i += m ? m[0].length : 1;
      continue;
    }
    if (c !== '<') {
      out += c;
      i++;
      continue;
    }
    const end = src.indexOf('>', i);
    if (end < 0) throw cantParse(`Unclosed start tag at byte offset ${byteOffset(src, i)}`);
    const inner = src.slice(i + 1, end);
    if (inner.startsWith('/')) {
      const name = inner.slice(1).trim().toLowerCase();
      const top = open.pop();
      if (!top) throw cantParse(`Unexpected end tag at byte offset ${byteOffset(src, i)}`);
      if (top.tag !== name) {
        throw cantParse(
          `Unmatched end tag at byte offset ${byteOffset(src, i)}, expected "</${top.tag}>", found "</${name}>"`,
        );
      }
      if (top.entity) {
        top.entity.length = out.length - top.entity.offset;
        entities.push(top.entity);
      }
    } else {
      const m = /^([a-zA-Z][a-zA-Z0-9-]*)([\s\S]*)$/.exec(inner);
      const name = (m?.[1] ?? '').toLowerCase();
      const type = HTML_TAGS[name];
      if (!m || !type) throw cantParse(`Unsupported start tag "${name}" at byte offset ${byteOffset(src, i)}`);
      const attrs = parseAttributes(m[2] ?? '');
      const entity: TgMessageEntity = { type, offset: out.length, length: 0 };
      const parent = open[open.length - 1];
      let keep = true;
      if (name === 'span' && attrs['class'] !== 'tg-spoiler') {
        throw cantParse(`Tag "span" must have class "tg-spoiler" at byte offset ${byteOffset(src, i)}`);
      } else if (name === 'a') {
        keep = Boolean(attrs['href']);
        entity.url = attrs['href'];
      } else if (name === 'code' && parent?.tag === 'pre' && parent.entity && attrs['class']?.startsWith('language-')) {
        parent.entity.language = attrs['class'].slice('language-'.length);
        keep = false;
      } else if (name === 'blockquote' && 'expandable' in attrs) {
        entity.type = 'expandable_blockquote';
      }
      open.push(keep ? { tag: name, entity } : { tag: name });
    }
    i = end + 1;
  }
  const unclosed = open[open.length - 1];
  if (unclosed) throw cantParse(`Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  return { text: out, entities: sortEntities(entities) };
}

// --- MarkdownV2 ---------------------------------------------------------------

const MDV2_RESERVED = '_*[]()~`>#+-=|{}.!';
const MDV2_TOGGLES: Record<string, { type: string; name: string }> = {
  '*': { type: 'bold', name: 'Bold' },
  _: { type: 'italic', name: 'Italic' },
  __: { type: 'underline', name: 'Underline' },
  '~': { type: 'strikethrough', name: 'Strikethrough' },
  '||': { type: 'spoiler', name: 'Spoiler' },
  '[': { type: 'text_link', name: 'TextUrl' },
};

/** Reads until an unescaped `close`, unescaping `\x`; returns the text and the index after `close`. */
function readVerbatim(src: string, from: number, close: string): { text: string; next: number } | undefined {
  let text = '';
  let i = from;
  while (i < src.length) {
    if (src[i] === '\\' && i + 1 < src.length) {
      text += src[i + 1];
      i += 2;
    } else if (src.startsWith(close, i)) {
      return { text, next: i + close.length };
    } else {
      text += src[i];
      i++;
    }
  }
  return undefined;
}

function parseMarkdownV2(src: string): FormattedText {
  let out = '';
  const entities: TgMessageEntity[] = [];
  const open: Array<{ token: string; entity: TgMessageEntity; at: number }> = [];
  let quote: TgMessageEntity | undefined;
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    const code = src.charCodeAt(i + 1);
    if (c === '\\' && code > 0 && code < 127) {
      out += src[i + 1];
      i += 2;
      continue;
    }
    if (c === '\n' && quote && src[i + 1] !== '>') {
      quote.length = out.length - quote.offset;
      entities.push(quote);
      quote = undefined;
    }
    if (!MDV2_RESERVED.includes(c)) {
      out += c;
      i++;
      continue;
    }
    if (c === '>' && (i === 0 || src[i - 1] === '\n')) {
      quote ??= { type: 'blockquote', offset: out.length, length: 0 };
      i++;
      continue;
    }
    if (c === '`') {
      const pre = src.startsWith('```', i);
      const body = readVerbatim(src, i + (pre ? 3 : 1), pre ? '```' : '`');
      if (!body) throw cantParse(`Can't find end of ${pre ? 'Pre' : 'Code'} entity at byte offset ${byteOffset(src, i)}`);
      let text = body.text;
      const entity: TgMessageEntity = { type: pre ? 'pre' : 'code', offset: out.length, length: 0 };
      const newline = text.indexOf('\n');
      if (pre && newline > 0 && /^\S+$/.test(text.slice(0, newline))) {
        entity.language = text.slice(0, newline);
        text = text.slice(newline + 1);
      } else if (pre && newline === 0) {
        text = text.slice(1);
      }
      out += text;
      entity.length = text.length;
      entities.push(entity);
      i = body.next;
      continue;
    }
    if (c === ']') {
      const at = open.findIndex((o) => o.token === '[');
      const link = open[at];
      if (!link) throw cantParse(`Character ']' is reserved and must be escaped with the preceding '\\'`);
      if (src[i + 1] !== '(') throw cantParse(`Can't find end of a URL at byte offset ${byteOffset(src, i)}`);
      const url = readVerbatim(src, i + 2, ')');
      if (!url) throw cantParse(`Can't find end of a URL at byte offset ${byteOffset(src, i)}`);
      open.splice(at, 1);
      link.entity.length = out.length - link.entity.offset;
      link.entity.url = url.text;
      entities.push(link.entity);
      i = url.next;
      continue;
    }
    const token = src.startsWith('__', i) ? '__' : src.startsWith('||', i) ? '||' : c;
    const toggle = MDV2_TOGGLES[token];
    if (!toggle) throw cantParse(`Character '${c}' is reserved and must be escaped with the preceding '\\'`);
    const at = token === '[' ? -1 : open.findIndex((o) => o.token === token);
    const opened = open[at];
    if (opened) {
      open.splice(at, 1);
      opened.entity.length = out.length - opened.entity.offset;
      entities.push(opened.entity);
    } else {
      open.push({ token, entity: { type: toggle.type, offset: out.length, length: 0 }, at: i });
    }
    i += token.length;
  }
  if (quote) {
    quote.length = out.length - quote.offset;
    entities.push(quote);
  }
  const unclosed = open[0];
  if (unclosed) {
    const name = MDV2_TOGGLES[unclosed.token]?.name ?? 'unknown';
    throw cantParse(`Can't find end of ${name} entity at byte offset ${byteOffset(src, unclosed.at)}`);
  }
  return { text: out, entities: sortEntities(entities) };
}

// --- legacy Markdown ------------------------------------------------------------

function parseMarkdown(src: string): FormattedText {
  let out = '';
  const entities: TgMessageEntity[] = [];
  const unclosed = (i: number): TelegramApiError =>
    cantParse(`Can't find end of the entity starting at byte offset ${byteOffset(src, i)}`);
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (c === '\\' && '_*`['.includes(src[i + 1] ?? 'x')) {
      out += src[i + 1];
      i += 2;
    } else if (c === '*' || c === '_') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw unclosed(i);
      const text = src.slice(i + 1, end);
      entities.push({ type: c === '*' ? 'bold' : 'italic', offset: out.length, length: text.length });
      out += text;
      i = end + 1;
    } else if (c === '`') {
      const pre = src.startsWith('```', i);
      const end = src.indexOf(pre ? '```' : '`', i + (pre ? 3 : 1));
      if (end < 0) throw unclosed(i);
      let text = src.slice(i + (pre ? 3 : 1), end);
      const entity: TgMessageEntity = { type: pre ? 'pre' : 'code', offset: out.length, length: 0 };
      const newline = text.indexOf('\n');
      if (pre && newline > 0 && /^\S+$/.test(text.slice(0, newline))) {
        entity.language = text.slice(0, newline);
        text = text.slice(newline + 1);
      }
      entity.length = text.length;
      entities.push(entity);
      out += text;
      i = end + (pre ? 3 : 1);
    } else if (c === '[') {
      const close = src.indexOf(']', i + 1);
      if (close < 0) throw unclosed(i);
      const text = src.slice(i + 1, close);
      const urlEnd = src[close + 1] === '(' ? src.indexOf(')', close + 2) : -1;
      if (urlEnd >= 0) {
        entities.push({ type: 'text_link', offset: out.length, length: text.length, url: src.slice(close + 2, urlEnd) });
        i = urlEnd + 1;
      } else {
        i = close + 1;
      }
      out += text;
    } else {
      out += c;
      i++;
    }
  }
  return { text: out, entities: sortEntities(entities) };
}
