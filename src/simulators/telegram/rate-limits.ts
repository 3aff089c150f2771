import { SlidingWindow } from '../shared/sliding-window.js';

/** Telegram's flood limits, as the simulator enforces them. `0` or `Infinity` disables one. */
export interface SendLimits {
  /** Sends per second per bot (about 30 in production). */
  globalRatePerSecond: number;
  /** Sends per second to one chat (about 1). */
  perChatRatePerSecond: number;
  /** Sends per minute to one group or channel (about 20). */
  groupRatePerMinute: number;
  /** Bot-wide rate for sends with `allow_paid_broadcast: true` (up to 1000). */
  paidBroadcastRatePerSecond: number;
}

const enabled = (limit: number): boolean => limit > 0 && Number.isFinite(limit);

/**
 * Sliding-window flood control for "send" methods. `admit` either records the
 * send and returns `undefined`, or returns the `retry_after` (whole seconds,
 * at least 1) after which the window that refused it has room again.
 */
export class SendRateLimiter {
  private readonly bot = new SlidingWindow(1000);
  private readonly perChat = new Map<string, SlidingWindow>();
  private readonly perGroup = new Map<string, SlidingWindow>();

  constructor(private readonly limits: SendLimits) {}

  admit(chatId: number | string, paidBroadcast: boolean, now = Date.now()): number | undefined {
    const key = String(chatId);
    const isGroup = typeof chatId === 'string' || chatId < 0;
    const botLimit = paidBroadcast ? this.limits.paidBroadcastRatePerSecond : this.limits.globalRatePerSecond;
    const checks: Array<[SlidingWindow, number]> = [];
    if (enabled(this.limits.perChatRatePerSecond)) checks.push([window(this.perChat, key, 1000), this.limits.perChatRatePerSecond]);
    if (isGroup && enabled(this.limits.groupRatePerMinute)) checks.push([window(this.perGroup, key, 60_000), this.limits.groupRatePerMinute]);
    if (enabled(botLimit)) checks.push([this.bot, botLimit]);

    const waitMs = Math.max(0, ...checks.map(([w, limit]) => w.waitMs(limit, now)));
    if (waitMs > 0) return Math.max(1, Math.ceil(waitMs / 1000));
    for (const [w] of checks) w.record(now);
    if (!enabled(botLimit)) this.bot.record(now);
    this.sweep(now);
    return undefined;
  }

  clear(): void {
    this.bot.clear();
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
