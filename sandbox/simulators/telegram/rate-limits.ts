import { SlidingWindow } from '../shared/sliding-window.js';

/** Telegram's flood limits, as the simulator enforces them. `0` or `Infinity` disables one. */
export interface SendLimits {
  /** Ordinary sends (without `allow_paid_broadcast`) per second per bot (about 30 in production). */
  globalRatePerSecond: number;
  /** Sends per second to one chat (about 1). */
  perChatRatePerSecond: number;
  /** Sends per minute to one group or channel (about 20). */
  groupRatePerMinute: number;
  /** Sends per second per bot, every send counted, for sends with `allow_paid_broadcast: true` (up to 1000). */
  paidBroadcastRatePerSecond: number;
}

const enabled = (limit: number): boolean => limit > 0 && Number.isFinite(limit);

/**
 * Sliding-window flood control for "send" methods. `admit` either records the
 * send and returns `undefined`, or returns the `retry_after` (whole seconds,
 * at least 1) after which the window that refused it has room again.
 *
 * The bot-wide limits, as API-NOTES gives them: bulk notifications about 30 a
 * second "unless paid broadcasts are enabled", which raises the bulk limit to
 * about 1,000 a second for the messages that pay (`allow_paid_broadcast`).
 * Telegram does not say how the two share a bot, so the simulator takes the
 * reading that neither starves the other: an ordinary send is refused when 30
 * ordinary sends fell in the last second (paid ones do not count against it: a
 * paid broadcast at 1,000 a second leaves users' answers their 30), and a paid
 * send when 1,000 sends of either kind did (ordinary ones take their share of
 * the paid rate). Per chat and per group every send counts.
 *
 * Cost per send: a few array operations (each window keeps the timestamps of its
 * last second or minute), so at 1,000 sends a second the simulator stays far from
 * being the bottleneck it measures.
 */
export class SendRateLimiter {
  /** Ordinary sends, against `globalRatePerSecond`. */
  private readonly ordinary = new SlidingWindow(1000);
  /** Every send, paid or not, against `paidBroadcastRatePerSecond`. */
  private readonly all = new SlidingWindow(1000);
  private readonly perChat = new Map<string, SlidingWindow>();
  private readonly perGroup = new Map<string, SlidingWindow>();

  constructor(private readonly limits: SendLimits) {}

  admit(chatId: number | string, paidBroadcast: boolean, now = Date.now()): number | undefined {
    const key = String(chatId);
    const isGroup = typeof chatId === 'string' || chatId < 0;
    const checks: Array<[SlidingWindow, number]> = [];
    if (enabled(this.limits.perChatRatePerSecond)) checks.push([window(this.perChat, key, 1000), this.limits.perChatRatePerSecond]);
    if (isGroup && enabled(this.limits.groupRatePerMinute)) checks.push([window(this.perGroup, key, 60_000), this.limits.groupRatePerMinute]);
    if (paidBroadcast && enabled(this.limits.paidBroadcastRatePerSecond)) checks.push([this.all, this.limits.paidBroadcastRatePerSecond]);
    if (!paidBroadcast && enabled(this.limits.globalRatePerSecond)) checks.push([this.ordinary, this.limits.globalRatePerSecond]);

    const waitMs = Math.max(0, ...checks.map(([w, limit]) => w.waitMs(limit, now)));
    if (waitMs > 0) return Math.max(1, Math.ceil(waitMs / 1000));
    for (const [w] of checks) if (w !== this.all && w !== this.ordinary) w.record(now);
    this.all.record(now);
    if (!paidBroadcast) this.ordinary.record(now);
    this.sweep(now);
    return undefined;
  }

  clear(): void {
    this.ordinary.clear();
    this.all.clear();
    this.perChat.clear();
    this.perGroup.clear();
  }

  /** Drops idle per-chat windows so broadcasts to many chats do not grow memory forever. */
  private sweep(now: number): void {
    for (const map of [this.perChat, this.perGroup]) {
      if (map.size < 10_000) continue;
      for (const [key, w] of map) if (w.count(now) === 0) map.delete(key);
    }
  }
}

function window(map: Map<string, SlidingWindow>, key: string, ms: number): SlidingWindow {
  let w = map.get(key);
  if (!w) {
    w = new SlidingWindow(ms);
    map.set(key, w);
  }
  return w;
}
