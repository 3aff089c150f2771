import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot } from '../../src/bot/bot.js';
import { UpdateRateLimiter } from '../../src/bot/update-limiter.js';
import { buildApp } from '../../src/gateway/app.js';
import type { Catalog } from '../../src/db/catalog.js';
import { signWebhook } from '../../src/integrations/wavespeed/webhook.js';
import { botInfo } from './bot-info.js';
import { CALLBACK_TOKENS, FakeWorkflows } from './fake-workflows.js';

/**
 * 10,000 fuzzed Telegram updates and WaveSpeed callbacks through the gateway:
 * random JSON, truncated bodies, wrong types, huge strings, odd unicode. No
 * answer may be a 5xx, and the heap may not grow beyond what the bounded
 * memories hold. The seed is fixed so CI is repeatable (16 other seeds were run
 * clean); FUZZ_SEED=<n> replays another, FUZZ_SEED=random explores (the seed is
 * in the test's name).
 */
const SEED_SETTING = process.env['FUZZ_SEED'] ?? '20261201';
const SEED = SEED_SETTING === 'random' ? Date.now() % 2 ** 31 : Number(SEED_SETTING);
const BODIES = Number(process.env['FUZZ_BODIES'] ?? 10_000);
const SECRET = 'fuzz-secret';
const WHSEC = 'whsec_fuzz0123456789abcdef0123456789';
const NOW = 1_800_000_000;

const unusedCatalog: Catalog = {
  upsertSource: () => Promise.reject(new Error('no catalog in this test')),
  acceptSummary: () => Promise.reject(new Error('no catalog in this test')),
};

/** mulberry32: small, fast, seedable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Fuzzer {
  constructor(readonly random: () => number) {}
  int(max: number): number {
    return Math.floor(this.random() * max);
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  string(): string {
    const kind = this.int(8);
    if (kind === 0) return '';
    if (kind === 1) return 'x'.repeat(this.pick([4096, 65_536, 200_000]));
    if (kind === 2) return '😀'.repeat(1 + this.int(3000));
    if (kind === 3) return String.fromCharCode(0xd800 + this.int(0x800)) + 'lone surrogate';
    if (kind === 4) return '\u202e\u0000\u200b\uFEFF/start@telewan_bot ' + '\u0301'.repeat(this.int(50));
    if (kind === 5) return this.pick(['/start', '/subscribe tech-news', '/cancel', '/status@telewan_bot', '/', '/unsubscribe ' + 'ü'.repeat(40)]);
    if (kind === 6) return this.pick(['sub:', 'sub:tech-news', 'sub:' + 'z'.repeat(100), 'vote:1']);
    return Array.from({ length: this.int(40) }, () => String.fromCodePoint(this.int(0x10ffff) & ~0x800)).join('');
  }

  number(): number {
    return this.pick([0, -1, 1, 7, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1.5, Number.MAX_VALUE, 1e-300, this.int(1_000_000)]);
  }

  /** Any JSON value, nested up to `depth`. */
  value(depth = 3): unknown {
    const kind = this.int(depth > 0 ? 8 : 6);
    if (kind === 0) return null;
    if (kind === 1) return this.chance(0.5);
    if (kind === 2) return this.number();
    if (kind === 3) return this.string();
    if (kind === 4) return [];
    if (kind === 5) return {};
    if (kind === 6) return Array.from({ length: this.int(5) }, () => this.value(depth - 1));
    return Object.fromEntries(Array.from({ length: this.int(5) }, () => [this.pick(['id', 'text', 'chat', 'from', 'photo', 'document', 'data', '__proto__', 'constructor', this.string().slice(0, 20)]), this.value(depth - 1)]));
  }

  /** Either a well-formed value for a field or, often, something of the wrong type. */
  maybe<T>(good: () => T): unknown {
    return this.chance(0.92) ? good() : this.value(2);
  }

  user(): unknown {
    return this.maybe(() => ({ id: this.maybe(() => 1 + this.int(300)), is_bot: this.maybe(() => false), first_name: this.maybe(() => this.string()), ...(this.chance(0.3) ? { username: this.value(1) } : {}) }));
  }

  chat(): unknown {
    return this.maybe(() => ({ id: this.maybe(() => 1 + this.int(300)), type: this.maybe(() => (this.chance(0.7) ? 'private' : this.pick(['group', 'supergroup', 'channel']))) }));
  }

  message(): Record<string, unknown> {
    const message: Record<string, unknown> = { message_id: this.maybe(() => this.int(1_000_000)), date: this.maybe(() => NOW), chat: this.chat() };
    if (this.chance(0.9)) message['from'] = this.user();
    const body = this.int(5);
    if (body === 0) {
      message['text'] = this.maybe(() => this.string());
      if (this.chance(0.5)) message['entities'] = this.maybe(() => [{ type: this.maybe(() => 'bot_command'), offset: this.maybe(() => this.int(5) - 1), length: this.maybe(() => this.int(20)) }]);
    } else if (body === 1) {
      message['photo'] = this.maybe(() => Array.from({ length: this.int(4) }, () => this.maybe(() => ({ file_id: this.maybe(() => this.string()), file_unique_id: 'u', width: 1280, height: 960 }))));
      if (this.chance(0.7)) message['caption'] = this.maybe(() => this.string());
    } else if (body === 2) {
      message['document'] = this.maybe(() => ({ file_id: this.maybe(() => this.string()), file_unique_id: 'u', mime_type: this.maybe(() => this.pick(['image/jpeg', 'image/svg+xml', 'IMAGE/PNG', 'image/', 'application/pdf', this.string()])), file_size: this.maybe(() => this.number()) }));
      if (this.chance(0.7)) message['caption'] = this.maybe(() => this.string());
    } else if (body === 3) {
      message['sticker'] = this.value(2);
    }
    return message;
  }

  update(): unknown {
    const update: Record<string, unknown> = { update_id: this.maybe(() => this.int(2 ** 31)) };
    const kind = this.int(6);
    if (kind <= 2) update['message'] = this.maybe(() => this.message());
    else if (kind === 3) update['edited_message'] = this.maybe(() => this.message());
    else if (kind === 4) update['callback_query'] = this.maybe(() => ({ id: this.maybe(() => String(this.int(1e9))), from: this.user(), chat_instance: '1', data: this.maybe(() => this.string()), message: this.maybe(() => this.message()) }));
    else Object.assign(update, { [this.pick(['poll', 'my_chat_member', 'pre_checkout_query', 'inline_query', 'channel_post'])]: this.value(3) });
    return update;
  }

  /** A body as bytes: mostly JSON of an update, sometimes cut short, garbage, nested deep or just another value. */
  telegramBody(): string {
    const kind = this.int(10);
    if (kind === 0) return JSON.stringify(this.value(4)) ?? 'null';
    if (kind === 1) {
      const json = JSON.stringify(this.update());
      return json.slice(0, this.int(json.length));
    }
    if (kind === 2) return this.pick(['', ' ', 'null', '[]', '"update"', '{', '\u0000\u0001', '{"update_id":1e999}', '{"update_id":-0}', '{"update_id":"7"}']);
    if (kind === 3) return '['.repeat(this.pick([100, 10_000, 200_000]));
    if (kind === 4) return `{"update_id":1,"message":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`;
    return JSON.stringify(this.update());
  }

  prediction(): unknown {
    return this.maybe(() => ({
      id: this.maybe(() => this.string().slice(0, 40) || 'p'),
      status: this.maybe(() => this.pick(['created', 'processing', 'completed', 'failed', 'cancelled', 'timeout', 'deleted'])),
      outputs: this.maybe(() => [this.value(1), 'http://127.0.0.1/out.mp4']),
      has_nsfw_contents: this.maybe(() => [this.value(0)]),
      timings: this.maybe(() => ({ inference: this.value(0) })),
      error: this.maybe(() => this.string()),
    }));
  }
}

/** encodeURIComponent of anything, lone surrogates included (they become U+FFFD). */
const encode = (text: string): string => encodeURIComponent(text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));

function gc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe(`gateway under 10,000 fuzzed bodies (FUZZ_SEED=${SEED})`, () => {
  let app: FastifyInstance;
  let workflows: FakeWorkflows;
  const fuzz = new Fuzzer(prng(SEED));
  const statuses = new Map<number, number>();
  const fiveHundreds: Array<{ what: string; status: number; body: string }> = [];

  beforeAll(async () => {
    workflows = new FakeWorkflows();
    for (let i = 0; i < 50; i++) workflows.running.add(`video-${i}-${i}`);
    const limiter = new UpdateRateLimiter({ limit: 20, windowSeconds: 60 });
    app = await buildApp({
      bot: createBot({ token: '1:fuzz', apiRoot: 'http://127.0.0.1:9', workflows, botInfo, updateLimiter: limiter }),
      workflows,
      telegramWebhookSecret: SECRET,
      wavespeedWebhookSecret: async () => WHSEC,
      wavespeedCallbackTokens: CALLBACK_TOKENS,
      catalog: unusedCatalog,
      readiness: {},
      now: () => NOW,
    });
  });
  afterAll(() => app.close());

  function record(what: string, res: LightMyRequestResponse): void {
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    if (res.statusCode >= 500 && fiveHundreds.length < 20) fiveHundreds.push({ what: what.slice(0, 300), status: res.statusCode, body: res.body.slice(0, 200) });
  }

  async function telegram(): Promise<void> {
    const body = fuzz.telegramBody();
    const headers: Record<string, string> = { 'x-telegram-bot-api-secret-token': fuzz.chance(0.97) ? SECRET : fuzz.string().slice(0, 50) };
    if (fuzz.chance(0.95)) headers['content-type'] = fuzz.chance(0.95) ? 'application/json' : fuzz.pick(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1']);
    record(body, await app.inject({ method: 'POST', url: '/telegram/webhook', headers, payload: body }));
  }

  async function wavespeed(): Promise<void> {
    const n = fuzz.int(60);
    const workflowId = fuzz.chance(0.8) ? (fuzz.chance(0.5) ? `video-${n}-${n}` : `video-${n}-${fuzz.int(60)}`) : encode(fuzz.string().slice(0, 300)) || 'x';
    const token = fuzz.chance(0.85) ? CALLBACK_TOKENS.sign(decodeURIComponent(workflowId)) : fuzz.string().slice(0, 300);
    const json = JSON.stringify(fuzz.prediction()) ?? '';
    const body = fuzz.chance(0.1) ? json.slice(0, fuzz.int(json.length)) : json;
    const id = fuzz.chance(0.9) ? `msg_${fuzz.int(5_000)}` : fuzz.string().slice(0, 100);
    const timestamp = fuzz.chance(0.9) ? String(NOW - fuzz.int(400)) : String(fuzz.value(0));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (fuzz.chance(0.9)) {
      headers['webhook-id'] = id;
      headers['webhook-timestamp'] = timestamp;
      headers['webhook-signature'] = fuzz.chance(0.8) ? signWebhook(WHSEC, id, timestamp, body) : `v3,${fuzz.string().slice(0, 80)}`;
    }
    // Header values must be ISO-8859-1 for the HTTP layer; what Node would refuse, WaveSpeed cannot send either.
    for (const [k, v] of Object.entries(headers)) if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(v)) headers[k] = encode(v);
    record(`${workflowId} ${body}`, await app.inject({ method: 'POST', url: `/webhooks/wavespeed/${workflowId}?t=${encode(token)}`, headers, payload: body }));
  }

  it('answers every body with a status below 500, the heap staying flat', async () => {
    const collect = gc();
    const send = () => (fuzz.chance(0.7) ? telegram() : wavespeed());
    const warmUp = Math.floor(BODIES / 5);
    for (let i = 0; i < warmUp; i++) await send();
    collect();
    const before = process.memoryUsage().heapUsed;
    const started = Date.now();
    for (let i = warmUp; i < BODIES; i++) await send();
    collect();
    const grown = process.memoryUsage().heapUsed - before;

    expect(fiveHundreds).toEqual([]);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(BODIES);
    // Everything stays in bounded memories (recent webhook ids, the update limiter's window).
    expect(grown).toBeLessThan(24 * 1024 * 1024);
    console.info(`fuzz seed ${SEED}: ${BODIES} bodies in ${Date.now() - started} ms after warm-up, statuses ${JSON.stringify(Object.fromEntries(statuses))}, heap ${Math.round(grown / 1024)} KiB, videos started ${workflows.videos.length}, commands ${workflows.commands.length}, signals ${workflows.signals.length}`);
  }, 60_000);
});
