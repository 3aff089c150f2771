import { describe, expect, it } from 'vitest';
import { videoWorkflowId } from '../../src/workflows/ids.js';
import type { VideoOutcome } from '../../src/workflows/video/messages.js';
import { useTestSystem } from '../helpers/system.js';

/**
 * More requests in flight than the worker has activity slots. Before the fleet
 * presence loop, every request held one of the media worker's slots for its
 * whole life (its chat-action loop); with 10 slots, 10 waiting requests froze
 * the bot for everyone.
 */
const CAP = 3;
const SLOTS = 10;
const USERS = 60;

const sys = useTestSystem({
    env: {
      WAVESPEED_MAX_CONCURRENCY: String(CAP),
      WORKER_MEDIA_ACTIVITY_SLOTS: String(SLOTS),
      WORKER_TRANSFER_ACTIVITY_SLOTS: '4',
      WAVESPEED_QUEUE_MAX: String(USERS),
      VIDEO_POLL_INITIAL_MS: '5000',
      VIDEO_POLL_MAX_MS: '5000',
    },
    // Telegram's real flood limits; the account's own limit above the cap, so the cap is ours.
    telegram: { rateLimitMode: 'enforce' },
    wavespeed: { maxConcurrent: 100, latencyMs: 800, processingAfterMs: 100 },
  });

describe('requests in flight beyond the worker slots', () => {
  it(`delivers all ${USERS} videos of ${USERS} users at once with ${SLOTS} activity slots and a cap of ${CAP}`, async () => {
    const chats = Array.from({ length: USERS }, (_, i) => 9001 + i);
    const ids = await Promise.all(
      chats.map(async (chatId) => {
        const update = await sys.telegram!.makePhotoUpdate({ chatId, userId: chatId, caption: `the harbour at dawn, take ${chatId}` });
        expect((await sys.telegram!.pushUpdate(update)).status).toBe(200);
        return videoWorkflowId(chatId, update.message!.message_id);
      }),
    );
    const startedAt = Date.now();
    const outcomes: VideoOutcome[] = [];
    for (const id of ids) outcomes.push((await sys.temporal.client.workflow.getHandle(id).result()) as VideoOutcome);
    const tookMs = Date.now() - startedAt;

    expect(outcomes.map((o) => o.status)).toEqual(Array(USERS).fill('completed'));
    for (const chatId of chats) expect(sys.telegram!.messagesTo(chatId).filter((m) => m.video)).toHaveLength(1);
    expect(sys.wavespeed!.stats.submitted).toBe(USERS);
    expect(sys.wavespeed!.stats.maxUnfinishedSeen).toBeLessThanOrEqual(CAP);
    // The chats being generated had the one presence loop's "sending video…" beats: shown, or skipped when
    // the bot's Telegram budget had no room at that instant (best effort: on a loaded machine all may be).
    const beats = (await sys.worker!.metrics.chatActions.get()).values;
    expect(beats.reduce((n, v) => n + v.value, 0)).toBeGreaterThan(0);
    const sent = sys.telegram!.callsTo('sendChatAction').filter((c) => c.ok);
    expect(sent.length).toBe(beats.find((v) => v.labels.result === 'shown')?.value ?? 0);
    const shown = new Set(sent.map((c) => c.chatId));
    // Most videos were done before the first poll: the webhook is the path.
    expect(outcomes.filter((o) => o.resultVia === 'callback').length).toBeGreaterThanOrEqual(USERS - 3);
    console.log(`${USERS} videos in ${(tookMs / 1000).toFixed(1)} s; chat actions shown in ${shown.size} chats`);
  }, 240_000);
});
