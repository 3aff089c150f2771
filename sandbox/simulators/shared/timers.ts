/** A delay in milliseconds: a fixed value, or a `[min, max]` range drawn uniformly. */
export type Latency = number | readonly [min: number, max: number];

/** Draws one delay from a {@link Latency}; `undefined` gives `fallback`. */
export function pickLatency(latency: Latency | undefined, fallback = 0): number {
  if (latency === undefined) return fallback;
  if (typeof latency === 'number') return Math.max(0, latency);
  const [min, max] = latency;
  return Math.max(0, min + Math.random() * (max - min));
}

/**
 * Every timer a simulator arms goes through one of these, so that `stop()` can
 * disarm them all and the test process is free to exit. Pending `sleep()`s are
 * resolved early on `clearAll()` rather than left hanging, so request handlers
 * waiting on them finish and the HTTP server can close.
 */
export class TimerSet {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();

  /** Like `setTimeout`, but tracked. */
  set(fn: () => void, ms: number): NodeJS.Timeout {
    const handle = setTimeout(() => {
      this.timers.delete(handle);
      fn();
    }, Math.max(0, ms));
    this.timers.add(handle);
    return handle;
  }

  clear(handle: NodeJS.Timeout | undefined): void {
    if (handle === undefined) return;
    clearTimeout(handle);
    this.timers.delete(handle);
  }

  /** Resolves after `ms`, or at once when the set is cleared. */
  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const handle = this.set(() => {
        this.sleepers.delete(handle);
        resolve();
      }, ms);
      this.sleepers.set(handle, resolve);
    });
  }

  clearAll(): void {
    for (const handle of this.timers) clearTimeout(handle);
    this.timers.clear();
    const wake = [...this.sleepers.values()];
    this.sleepers.clear();
    for (const resolve of wake) resolve();
  }
}
