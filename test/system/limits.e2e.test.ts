import { describe, expect, it } from 'vitest';
import { spendByDay } from '../../src/db/costs.js';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import { refusalText } from '../helpers/texts.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { eventually, useTestSystem } from '../helpers/system.js';

const sys = useTestSystem({ env: { USER_MAX_ACTIVE_GENERATIONS: '1', USER_DAILY_QUOTA: '5', WAVESPEED_PRICES: '{"wavespeed-ai/wan-2.2/i2v-480p":{"5":0.2}}' } });

const CHAT = 7100;

async function sendPhoto(caption: string) {
  const update = await sys.telegram!.makePhotoUpdate({ chatId: CHAT, userId: CHAT, caption, width: 800, height: 600 });
  expect((await sys.telegram!.pushUpdate(update)).status).toBe(200);
  return videoWorkflowId(CHAT, update.message!.message_id);
}

const outcomeOf = async (workflowId: string) => (await sys.temporal.client.workflow.getHandle(workflowId).result()) as VideoOutcome;

describe('per-user limits and cost, end to end', () => {
  it('refuses a second video while the first runs, records the cost of the first, and /usage tells both', async () => {
    const first = await sendPhoto('the waves roll in [slow:3000]');
    await eventually(async () => (await sys.db.prisma.generation.findUnique({ where: { id: first } }))?.status === 'submitted' || undefined, 20_000, 'first submitted');
    const second = await sendPhoto('and again');

    expect(await outcomeOf(second)).toEqual({ status: 'refused', reason: 'active-limit' });
    expect(await outcomeOf(first)).toMatchObject({ status: 'completed' });

    const rows = await sys.db.prisma.generation.findMany({ where: { chatId: BigInt(CHAT) }, orderBy: { requestedAt: 'asc' } });
    expect(rows.map((r) => [r.status, r.costUsd === null ? null : Number(r.costUsd)])).toEqual([
      ['completed', 0.2],
      ['refused', 0],
    ]);
    expect(sys.telegram!.messagesTo(CHAT).map((m) => m.text)).toContain(refusalText({ decision: 'refused', reason: 'active-limit', limit: 1 }));
    expect((await spendByDay(sys.db.prisma, { days: 1 }))[0]).toMatchObject({ costUsd: 0.2, charged: 1 });

    const usage = sys.telegram!.makeTextUpdate({ chatId: CHAT, userId: CHAT, text: '/usage' });
    expect((await sys.telegram!.pushUpdate(usage)).status).toBe(200);
    const reply = await eventually(() => sys.telegram!.messagesTo(CHAT).find((m) => m.text?.startsWith('Your usage today')), 20_000, '/usage reply');
    expect(reply.text).toContain('• Videos: 1 of 5 (4 left)');
    expect(reply.text).toContain('• In progress: 0 of 1');
    expect(reply.text).toContain('• Cost: $0.20');
  }, 60_000);
});
