import { Api, GrammyError, HttpError } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { TelegramSimulator, type TelegramSimulatorOptions } from '../../sandbox/simulators/telegram.js';
import { SendRateLimiter } from '../../sandbox/simulators/telegram/rate-limits.js';

const TOKEN = '424242:limits';
const running: TelegramSimulator[] = [];

async function setup(opts: Partial<TelegramSimulatorOptions> = {}): Promise<{ sim: TelegramSimulator; api: Api }> {
  const sim = new TelegramSimulator({ token: TOKEN, ...opts });
  running.push(sim);
  const api = new Api(TOKEN, { apiRoot: await sim.start() });
  return { sim, api };
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

function grammyErrors(results: PromiseSettledResult<unknown>[]): GrammyError[] {
  return results.flatMap((r) => (r.status === 'rejected' && r.reason instanceof GrammyError ? [r.reason] : []));
}

describe('flood control', () => {
  it('answers 429 with retry_after once the bot-wide rate is exceeded', async () => {
    const { sim, api } = await setup({ globalRatePerSecond: 30 });
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => api.sendMessage(1000 + i, `hi ${i}`)));
    const errors = grammyErrors(results);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(30);
    expect(errors).toHaveLength(10);
    for (const e of errors) {
      expect(e.error_code).toBe(429);
      expect(e.parameters.retry_after).toBeGreaterThanOrEqual(1);
      expect(e.description).toBe(`Too Many Requests: retry after ${e.parameters.retry_after}`);
    }
    expect(sim.stats).toMatchObject({ sent: 30, rateLimited: 10 });
  });

  it('limits one chat to one message per second, then lets it through after retry_after', async () => {
    const { sim, api } = await setup();
    await api.sendMessage(2000, 'one');
    const err = await api.sendMessage(2000, 'two').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrammyError);
    const retryAfter = (err as GrammyError).parameters.retry_after ?? 0;
    expect(retryAfter).toBe(1);
    await api.sendMessage(2001, 'another chat is fine');
    await new Promise((r) => setTimeout(r, retryAfter * 1000));
    await expect(api.sendMessage(2000, 'three')).resolves.toMatchObject({ message_id: 2 });
    expect(sim.messagesTo(2000).map((m) => m.text)).toEqual(['one', 'three']);
    expect(sim.callsTo('sendMessage').map((c) => c.errorCode ?? 200)).toEqual([200, 429, 200, 200]);
  });

  it('does not rate-limit edits and chat actions', async () => {
    const { api } = await setup();
    const m = await api.sendMessage(3000, 'p 0');
    for (let i = 1; i <= 5; i++) await api.editMessageText(3000, m.message_id, `p ${i}`);
    await Promise.all(Array.from({ length: 5 }, () => api.sendChatAction(3000, 'upload_video')));
  });

  it('measures paid broadcasts against the paid rate, and ordinary sends against the ordinary one', async () => {
    const { api } = await setup({ globalRatePerSecond: 5, paidBroadcastRatePerSecond: 1000 });
    const paid = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => api.sendMessage(4000 + i, 'paid', { allow_paid_broadcast: true })),
    );
    expect(grammyErrors(paid)).toHaveLength(0);
    // A paid broadcast does not use up the ordinary sends' share.
    const free = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => api.sendMessage(4100 + i, 'free')));
    expect(free.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect(grammyErrors(free).map((e) => e.error_code)).toEqual([429]);
  });

  it('limits groups to 20 messages per minute', async () => {
    const { api } = await setup({ perChatRatePerSecond: 0 });
    for (let i = 0; i < 20; i++) await api.sendMessage(-1001234567890, `g${i}`);
    const err = (await api.sendMessage(-1001234567890, 'g20').catch((e: unknown) => e)) as GrammyError;
    expect(err.error_code).toBe(429);
    expect(err.parameters.retry_after).toBeGreaterThanOrEqual(59);
  });

  it('can be switched off', async () => {
    const { sim, api } = await setup({ rateLimitMode: 'off' });
    await Promise.all(Array.from({ length: 40 }, (_, i) => api.sendMessage(5000, `m${i}`)));
    expect(sim.messagesTo(5000).map((m) => m.message_id)).toHaveLength(40);
    expect(new Set(sim.messagesTo(5000).map((m) => m.message_id)).size).toBe(40);
  });
});

describe('paid and ordinary sends sharing a bot', () => {
  const limits = { globalRatePerSecond: 30, perChatRatePerSecond: 1, groupRatePerMinute: 20, paidBroadcastRatePerSecond: 1000 };

  it('lets ordinary sends through at their own 30 a second while a paid broadcast runs at 1,000', () => {
    const limiter = new SendRateLimiter(limits);
    const t0 = 1_000_000;
    for (let i = 0; i < 970; i++) expect(limiter.admit(10_000 + i, true, t0 + i)).toBeUndefined();
    // Amid the broadcast's second: 30 ordinary sends pass, the 31st waits.
    for (let i = 0; i < 30; i++) expect(limiter.admit(20_000 + i, false, t0 + 970 + i)).toBeUndefined();
    expect(limiter.admit(20_100, false, t0 + 999)).toBe(1);
  });

  it('counts ordinary sends against the paid rate', () => {
    const limiter = new SendRateLimiter({ ...limits, paidBroadcastRatePerSecond: 50 });
    const t0 = 1_000_000;
    for (let i = 0; i < 30; i++) expect(limiter.admit(30_000 + i, false, t0 + i)).toBeUndefined();
    for (let i = 0; i < 20; i++) expect(limiter.admit(31_000 + i, true, t0 + 100 + i)).toBeUndefined();
    expect(limiter.admit(31_100, true, t0 + 200)).toBe(1);
    // A second after the first sends, there is room again.
    expect(limiter.admit(31_101, true, t0 + 1000)).toBeUndefined();
  });
});

describe('chat behaviours', () => {
  it.each([
    ['blocked', 403, 'Forbidden: bot was blocked by the user'],
    ['deactivated', 403, 'Forbidden: user is deactivated'],
    ['not-found', 400, 'Bad Request: chat not found'],
    ['cant-initiate', 403, "Forbidden: bot can't initiate conversation with a user"],
  ] as const)('answers a %s chat with %i', async (behaviour, code, description) => {
    const { sim, api } = await setup();
    sim.setChat(6000, behaviour);
    const err = (await api.sendMessage(6000, 'hello').catch((e: unknown) => e)) as GrammyError;
    expect(err).toBeInstanceOf(GrammyError);
    expect(err.error_code).toBe(code);
    expect(err.description).toBe(description);
    const action = (await api.sendChatAction(6000, 'typing').catch((e: unknown) => e)) as GrammyError;
    expect(action.error_code).toBe(code);
    sim.setChat(6000, 'ok');
    await expect(api.sendMessage(6000, 'unblocked')).resolves.toMatchObject({ text: 'unblocked' });
    expect(sim.calls.filter((c) => !c.ok).every((c) => c.chatId === 6000)).toBe(true);
  });
});

describe('fault injection', () => {
  it('fails the next calls of a method with the given error', async () => {
    const { sim, api } = await setup();
    sim.failNext('sendVideo', { errorCode: 429, description: 'Too Many Requests: retry after 3', retryAfter: 3 });
    sim.failNext('sendMessage', { errorCode: 500, description: 'Internal Server Error', count: 2 });
    const video = (await api.sendVideo(7000, 'BAAC-any').catch((e: unknown) => e)) as GrammyError;
    expect(video.error_code).toBe(429);
    expect(video.parameters.retry_after).toBe(3);
    for (let i = 0; i < 2; i++) {
      const e = (await api.sendMessage(7000 + i, 'x').catch((err: unknown) => err)) as GrammyError;
      expect(e.error_code).toBe(500);
    }
    await expect(api.sendMessage(7002, 'now fine')).resolves.toMatchObject({ text: 'now fine' });
    expect(sim.stats).toMatchObject({ rateLimited: 1, serverErrors: 2 });
  });

  it('answers random 500 (JSON) and 502 (nginx HTML) at serverErrorRate', async () => {
    const { sim, api } = await setup({ serverErrorRate: 1 });
    const statuses = new Set<number>();
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${sim.apiRoot}/bot${TOKEN}/getMe`);
      statuses.add(res.status);
      const text = await res.text();
      if (res.status === 502) expect(text).toContain('502 Bad Gateway');
      else expect(JSON.parse(text)).toEqual({ ok: false, error_code: 500, description: 'Internal Server Error' });
    }
    expect([...statuses].sort()).toEqual([500, 502]);
    const err = await api.getMe().catch((e: unknown) => e);
    expect(err instanceof GrammyError || err instanceof HttpError).toBe(true);
    sim.configure({ serverErrorRate: 0 });
    await expect(api.getMe()).resolves.toMatchObject({ is_bot: true });
  });

  it('adds latency to every call', async () => {
    const { api } = await setup({ latencyMs: [40, 60] });
    const started = performance.now();
    await api.getMe();
    expect(performance.now() - started).toBeGreaterThanOrEqual(38);
  });
});
