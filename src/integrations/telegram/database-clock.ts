/** Samples the database's clock is read from: the fastest round trip of the last {@link CLOCK_WINDOW_MS}. */
const CLOCK_WINDOW_MS = 30_000;
/** A round trip this fast bounds the offset well enough: the 2% margin is 20 ms, at any rate. */
const GOOD_RTT_MS = 4;
/** Without such a sample, the clock is probed at most this often. */
const PROBE_EVERY_MS = 1_000;

/**
 * Where the database's clock stands against this process's, for the Telegram
 * budget (`budget.ts`), whose slots are times by the database's clock. Mapping
 * one with the query's start would put it early by whatever the query waited for
 * (a pool connection, the row's lock, a connect), with its end late by the event
 * loop's delays. As NTP does, each answer bounds the offset by its round trip and
 * the fastest recent one is believed: on loopback that is right to a fraction of
 * a millisecond.
 */
export class DatabaseClock {
  private samples: Array<{ at: number; rtt: number; offset: number }> = [];
  private lastProbe = 0;

  /** Records one answer: asked and received by our clock, `dbNow` by the database's. */
  observe(asked: number, received: number, dbNow: number): void {
    this.samples = this.samples.filter((s) => received - s.at < CLOCK_WINDOW_MS);
    this.samples.push({ at: received, rtt: received - asked, offset: (asked + received) / 2 - dbNow });
  }

  /** Whether a recent answer came back fast enough to be believed. */
  accurate(now: number): boolean {
    return this.samples.some((s) => now - s.at < CLOCK_WINDOW_MS && s.rtt <= GOOD_RTT_MS);
  }

  /** Whether to ask the database for its time first: not {@link accurate}, and not asked lately. */
  needsProbe(now: number): boolean {
    if (now - this.lastProbe < PROBE_EVERY_MS || this.accurate(now)) return false;
    this.lastProbe = now;
    return true;
  }

  /** Our time of a moment `msFromNow` after the database's `dbNow`. */
  local(dbNow: number, msFromNow: number): number {
    const best = this.samples.reduce((a, b) => (b.rtt < a.rtt ? b : a));
    return dbNow + msFromNow + best.offset;
  }
}
