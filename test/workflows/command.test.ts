import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import type { SendMessageInput } from '../../src/activities/telegram.js';
import { BotBlockedError, TelegramAmbiguousSendError, TelegramRequestError } from '../../src/errors.js';
import { workerTuning } from '../../src/temporal/worker/worker-tuning.js';
import type { BotCommandInput } from '../../src/workflows/command/workflow.js';
import { botCommandWorkflowId } from '../../src/workflows/ids.js';
import { STALE_BUTTON_TEXT, SUBSCRIBE_USAGE_TEXT, UNSUBSCRIBE_USAGE_TEXT } from '../helpers/texts.js';
import { useWorkflowEnvironment } from '../helpers/temporal.js';
import { fakeActivities, type ActivityOverrides } from './fake-activities.js';

const t = useWorkflowEnvironment();
let nextMessage = 1;

const USER = { userId: 42, chatId: 42, firstName: 'Ada' };

/**
 * An in-memory catalog behaving like the real subscription activities, and a
 * log of the calls the workflow made, in order.
 */
function catalog(sources: Record<string, string>, subscribed: string[] = []) {
  const subs = new Set(subscribed);
  const calls: string[] = [];
  const sent: SendMessageInput[] = [];
  const answers: Array<{ callbackQueryId: string; text?: string }> = [];
  const requests: Array<{ slug: string; requestId: string }> = [];
  const overrides: ActivityOverrides = {
    async listSources({ userId }) {
      calls.push('listSources');
      return Object.entries(sources)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([slug, title]) => ({ slug, title, subscribed: subs.has(`${userId}:${slug}`) }));
    },
    async subscribe({ user, slug, requestId }) {
      calls.push('subscribe');
      requests.push({ slug, requestId });
      const title = sources[slug];
      if (title === undefined) return { outcome: 'unknown-source' };
      const key = `${user.userId}:${slug}`;
      if (subs.has(key)) return { outcome: 'already-subscribed', title };
      subs.add(key);
      return { outcome: 'subscribed', title };
    },
    async unsubscribe({ userId, slug, requestId }) {
      calls.push('unsubscribe');
      requests.push({ slug, requestId });
      const title = sources[slug];
      if (title === undefined) return { outcome: 'unknown-source' };
      return subs.delete(`${userId}:${slug}`) ? { outcome: 'unsubscribed', title } : { outcome: 'not-subscribed', title };
    },
    async listSubscriptions({ userId }) {
      calls.push('listSubscriptions');
      return Object.entries(sources)
        .filter(([slug]) => subs.has(`${userId}:${slug}`))
        .map(([slug, title]) => ({ slug, title }));
    },
    async answerCallbackQuery(input) {
      calls.push('answerCallbackQuery');
      answers.push(input);
      return { answered: true };
    },
    async sendMessage(input) {
      calls.push('sendMessage');
      sent.push(input);
      return { messageId: 9000 + sent.length };
    },
  };
  return { overrides, subs, calls, sent, answers, requests };
}

type Catalog = ReturnType<typeof catalog>;

function command(command: BotCommandInput['command'], extra: Partial<BotCommandInput> = {}): BotCommandInput {
  return { command, user: USER, messageId: nextMessage++, ...extra };
}

/** Runs one botCommand workflow to completion; `more` replaces single activities of the catalog. */
async function run(input: BotCommandInput, world: Catalog, more: ActivityOverrides = {}) {
  const { activities, world: base } = fakeActivities(() => ({ ...world.overrides, ...more }));
  const taskQueue = `command-test-${input.messageId}`;
  const worker = await Worker.create({ connection: t.env.nativeConnection, taskQueue, workflowBundle: t.bundle, activities, ...workerTuning });
  const workflowId = botCommandWorkflowId(input);
  await worker.runUntil(t.env.client.workflow.execute('botCommand', { taskQueue, workflowId, args: [input] }));
  return { workflowId, blockedUsers: base.blockedUsers };
}

const SOURCES = { 'tech-news': 'Tech News', science: 'Daily Science', 'a-very-long-slug-of-32-chars-xyz': 'Long One' };

describe('botCommand: /sources', () => {
  it('lists every source with its state and offers a button for each one not yet followed', async () => {
    const world = catalog(SOURCES, ['42:science']);
    const input = command('sources');

    await run(input, world);

    expect(world.calls).toEqual(['listSources', 'sendMessage']);
    const [reply] = world.sent;
    expect(reply).toMatchObject({ chatId: 42, replyToMessageId: input.messageId });
    expect(reply!.text).toContain('✅ Daily Science (science) – subscribed');
    expect(reply!.text).toContain('• Tech News (tech-news)');
    expect(reply!.buttons).toEqual([
      { text: 'Subscribe to Long One', data: 'sub:a-very-long-slug-of-32-chars-xyz' },
      { text: 'Subscribe to Tech News', data: 'sub:tech-news' },
    ]);
    for (const button of reply!.buttons!) expect(Buffer.byteLength(button.data)).toBeLessThanOrEqual(64);
  });

  it('says so when there are no sources, with no keyboard', async () => {
    const world = catalog({});
    await run(command('sources'), world);
    expect(world.sent).toEqual([{ chatId: 42, text: expect.stringMatching(/no sources yet/), replyToMessageId: expect.any(Number) }]);
  });
});

describe('botCommand: /subscribe', () => {
  it('subscribes by slug (case-insensitive), naming the request after the workflow, then says already subscribed', async () => {
    const world = catalog(SOURCES);

    const { workflowId } = await run(command('subscribe', { args: 'Tech-News please' }), world);
    await run(command('subscribe', { args: 'tech-news' }), world);

    expect(world.requests[0]).toEqual({ slug: 'tech-news', requestId: workflowId });
    expect(world.subs).toEqual(new Set(['42:tech-news']));
    expect(world.sent.map((m) => m.text)).toEqual(['Subscribed to Tech News.', 'You are already subscribed to Tech News.']);
    expect(world.calls).not.toContain('answerCallbackQuery');
  });

  it('points to /sources for an unknown source, and explains the usage without an argument', async () => {
    const world = catalog(SOURCES);
    await run(command('subscribe', { args: 'nope' }), world);
    await run(command('subscribe'), world);
    expect(world.sent.map((m) => m.text)).toEqual(['There is no source called nope. /sources lists them.', SUBSCRIBE_USAGE_TEXT]);
    expect(world.requests).toHaveLength(1);
  });

  it('for a button press, answers the callback query first, then replies to the message that carried the button', async () => {
    const world = catalog(SOURCES);
    const input = command('subscribe', { args: 'science', messageId: 555, callbackQueryId: 'cbq-1' });

    const { workflowId } = await run(input, world);

    expect(workflowId).toBe('command-42-cb-cbq-1');
    expect(world.calls).toEqual(['subscribe', 'answerCallbackQuery', 'sendMessage']);
    expect(world.answers).toEqual([{ callbackQueryId: 'cbq-1', text: 'Subscribed ✅' }]);
    expect(world.sent).toEqual([{ chatId: 42, text: 'Subscribed to Daily Science.', replyToMessageId: 555 }]);
  });

  it('still replies when the callback query cannot be answered', async () => {
    const world = catalog(SOURCES);
    let attempts = 0;
    await run(command('subscribe', { args: 'science', callbackQueryId: 'cbq-2' }), world, {
      async answerCallbackQuery() {
        attempts += 1;
        throw new TelegramRequestError('answerCallbackQuery', 'Bad Request: something unexpected');
      },
    });
    expect(attempts).toBe(1);
    expect(world.sent.map((m) => m.text)).toEqual(['Subscribed to Daily Science.']);
  });

  it('answers a press on an unknown button with a notice and no message', async () => {
    const world = catalog(SOURCES);
    await run(command('unknown', { callbackQueryId: 'cbq-3' }), world);
    expect(world.calls).toEqual(['answerCallbackQuery']);
    expect(world.answers).toEqual([{ callbackQueryId: 'cbq-3', text: STALE_BUTTON_TEXT }]);
  });
});

describe('botCommand: /unsubscribe and /mysubs', () => {
  it('unsubscribes, then says the user was not subscribed; unknown sources and a missing argument are explained', async () => {
    const world = catalog(SOURCES, ['42:science']);

    const { workflowId } = await run(command('unsubscribe', { args: 'science' }), world);
    await run(command('unsubscribe', { args: 'science' }), world);
    await run(command('unsubscribe', { args: 'nope' }), world);
    await run(command('unsubscribe'), world);

    expect(world.requests[0]).toEqual({ slug: 'science', requestId: workflowId });
    expect(world.subs.size).toBe(0);
    expect(world.sent.map((m) => m.text)).toEqual([
      'Unsubscribed from Daily Science.',
      'You were not subscribed to Daily Science.',
      'There is no source called nope. /sources lists them.',
      UNSUBSCRIBE_USAGE_TEXT,
    ]);
  });

  it('lists the user\'s subscriptions, or points to /sources when there are none', async () => {
    const world = catalog(SOURCES);
    await run(command('mysubs'), world);
    world.subs.add('42:tech-news');
    world.subs.add('42:science');
    await run(command('mysubs'), world);

    const [none, some] = world.sent.map((m) => m.text);
    expect(none).toMatch(/no subscriptions yet.*\/sources/);
    expect(some).toContain('• Tech News (tech-news)');
    expect(some).toContain('• Daily Science (science)');
    expect(some).not.toContain('Long One');
  });

  it('marks the user blocked when Telegram refuses the reply with 403', async () => {
    const world = catalog(SOURCES);
    const { blockedUsers } = await run(command('mysubs'), world, {
      async sendMessage({ chatId }) {
        throw new BotBlockedError(chatId, 'blocked', 'Forbidden: bot was blocked by the user');
      },
    });
    expect(blockedUsers).toEqual([42]);
  });

  it('does not send the reply again when Telegram lost the answer to it: the command ends answered, nothing resent', async () => {
    const world = catalog(SOURCES);
    let attempts = 0;
    await run(command('help'), world, {
      async sendMessage({ chatId }) {
        attempts += 1;
        throw new TelegramAmbiguousSendError('sendMessage', chatId, 'no answer in time');
      },
    });
    expect(attempts).toBe(1);
  });
});
