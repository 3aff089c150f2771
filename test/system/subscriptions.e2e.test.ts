import { describe, expect, it } from 'vitest';
import { summaryWorkflowId } from '../../src/workflows/ids.js';
import { eventually, postApi, useTestSystem } from '../helpers/system.js';

const sys = useTestSystem();

const CHAT = 6100;
const SLUG = 'e2e-news';
const TITLE = 'End-to-End News';

const api = (path: string, body: unknown) => postApi(sys, path, body);

/** Sends a text as the user and waits for the bot's next message to the chat. */
async function say(text: string) {
  const before = sys.telegram!.messagesTo(CHAT).length;
  const res = await sys.telegram!.pushUpdate(sys.telegram!.makeTextUpdate({ chatId: CHAT, userId: CHAT, text }));
  expect(res.status).toBe(200);
  return eventually(() => sys.telegram!.messagesTo(CHAT)[before], 20_000, `the reply to ${text}`);
}

const subscriptionRows = () => sys.db.prisma.subscription.findMany({ where: { userId: BigInt(CHAT) }, include: { source: true } });

describe('subscriptions and the operators\' API, end to end', () => {
  it('subscribes by button, lists, and unsubscribes, recording each change', async () => {
    const created = await api('/sources', { slug: SLUG, title: TITLE });
    expect(created).toEqual({ status: 201, body: { id: expect.any(Number), slug: SLUG, title: TITLE } });

    const sources = await say('/sources');
    expect(sources.text).toContain(`${TITLE} (${SLUG})`);
    expect(sources.reply_markup).toEqual({ inline_keyboard: [[{ text: `Subscribe to ${TITLE}`, callback_data: `sub:${SLUG}` }]] });

    // The user presses the button.
    const press = sys.telegram!.makeCallbackQueryUpdate({ chatId: CHAT, userId: CHAT, messageId: sources.message_id, data: `sub:${SLUG}` });
    const before = sys.telegram!.messagesTo(CHAT).length;
    expect((await sys.telegram!.pushUpdate(press)).status).toBe(200);
    const confirmed = await eventually(() => sys.telegram!.messagesTo(CHAT)[before], 20_000, 'the subscription reply');
    expect(confirmed.text).toBe(`Subscribed to ${TITLE}.`);
    expect(confirmed.message.reply_to_message?.message_id).toBe(sources.message_id);
    const answers = sys.telegram!.callsTo('answerCallbackQuery').filter((c) => c.params.callback_query_id === press.callback_query!.id);
    expect(answers).toEqual([expect.objectContaining({ ok: true, params: expect.objectContaining({ text: expect.any(String) }) })]);
    expect(await subscriptionRows()).toEqual([expect.objectContaining({ source: expect.objectContaining({ slug: SLUG }) })]);
    expect(await sys.db.prisma.domainEvent.count({ where: { type: 'subscription.created', subject: `user:${CHAT}` } })).toBe(1);

    // Telegram redelivers the press: nothing new happens.
    expect((await sys.telegram!.pushUpdate(press)).status).toBe(200);

    const mine = await say('/mysubs');
    expect(mine.text).toContain(`• ${TITLE} (${SLUG})`);

    const again = await say(`/subscribe ${SLUG}`);
    expect(again.text).toBe(`You are already subscribed to ${TITLE}.`);

    const gone = await say(`/unsubscribe ${SLUG}`);
    expect(gone.text).toBe(`Unsubscribed from ${TITLE}.`);
    expect(await subscriptionRows()).toEqual([]);
    expect(await sys.db.prisma.domainEvent.count({ where: { type: 'subscription.removed', subject: `user:${CHAT}` } })).toBe(1);
    expect(await sys.db.prisma.domainEvent.count({ where: { type: 'subscription.created', subject: `user:${CHAT}` } })).toBe(1);
    // One reply per update: the redelivered press added none.
    expect(sys.telegram!.messagesTo(CHAT).filter((m) => m.text === `Subscribed to ${TITLE}.`)).toHaveLength(1);
  });

  it('accepts a summary once: two POSTs answer 202 with the same summary and workflow', async () => {
    await api('/sources', { slug: 'e2e-intake', title: 'Intake' });
    const summary = { source: 'e2e-intake', externalId: 'yt-e2e-1', title: 'A title', text: 'Some summary text.', videoUrl: 'https://example.com/v/1' };

    const first = await api('/summaries', summary);
    const second = await api('/summaries', summary);

    expect(first.status).toBe(202);
    expect(first.body).toEqual({ summaryId: expect.any(Number), workflowId: summaryWorkflowId(first.body.summaryId as number), created: true });
    expect(second).toEqual({ status: 202, body: { ...first.body, created: false } });
    const described = await sys.temporal.client.workflow.getHandle(first.body.workflowId as string).describe();
    expect(described.type).toBe('distributeSummary');
    expect(await sys.db.prisma.summary.count({ where: { externalId: 'yt-e2e-1' } })).toBe(1);
  });
});
