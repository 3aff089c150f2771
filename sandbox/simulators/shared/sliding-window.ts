/**
 * Timestamps of accepted events within a rolling window, for "N per window"
 * limits. Events older than the window are dropped lazily.
 */
export class SlidingWindow {
  private events: number[] = [];
  private head = 0;

  constructor(readonly windowMs: number) {}

  /** Events still inside the window at `now`. */
  count(now: number): number {
    this.prune(now);
    return this.events.length - this.head;
  }

  /** Records an event; also drops the expired ones, so a window nobody reads stays a window long. */
  record(now: number): void {
    this.events.push(now);
    this.prune(now);
  }

  /**
   * Milliseconds until fewer than `limit` events remain in the window, i.e. until
   * one more event would be accepted; 0 when it would be accepted now.
   */
  waitMs(limit: number, now: number): number {
    const inWindow = this.count(now);
    if (inWindow < limit) return 0;
    const freeing = this.events[this.head + inWindow - limit];
    return freeing === undefined ? 0 : Math.max(0, freeing + this.windowMs - now);
  }

  clear(): void {
    this.events = [];
    this.head = 0;
  }

  private prune(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.head < this.events.length && (this.events[this.head] ?? Infinity) <= cutoff) this.head++;
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
  }
}
