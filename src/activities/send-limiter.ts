import type { PrismaClient } from '../generated/prisma/client.js';

/**
 * The fleet-wide send schedule for Telegram, kept in one PostgreSQL row
 * (`send_limiter`) as a GCRA: each sender reserves the next `n` time slots,
 * spaced 1/rate apart, in one statement, so however many workers run, together
 * they never exceed the rate. A 429 moves the next free slot past `retry_after`
 * for every sender at once.
 *
 * Why not Temporal's `maxTaskQueueActivitiesPerSecond`: it limits activity
 * starts, not messages (1,000 one-message activities a second would swamp a
 * small history service), and nothing can pause it when Telegram says
 * `retry_after`. The database is already the system of record for deliveries.
 */
const SAFETY = 0.98;

export class SendLimiter {
  private ensured = false;
  /** This process's own knowledge of a pause, so its slots already reserved are not spent during it. */
  private localPauseUntil = 0;
  /** When this process last sent: its own sends never come closer than one interval. */
  private lastLocalSend = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly key: string,
    private readonly ratePerSecond: number,
  ) {}

  /**
   * Slot spacing in milliseconds, 2% wider than the ceiling asks: sends leave a
   * little late or early with the event loop, and Telegram counts them in a
   * sliding window, so pacing exactly at the limit meets 429s.
   */
  get intervalMs(): number {
    return 1000 / (this.ratePerSecond * SAFETY);
  }

  /**
   * Reserves `n` consecutive slots. Returns the local time (`Date.now()` scale)
   * the first begins; slot `i` begins `i * intervalMs` later. The database says
   * how far ahead the slot is by its own clock, so worker clocks do not matter;
   * that distance is counted from just before the query, since the answer's way
   * back varies most under load.
   */
  async reserve(n: number): Promise<number> {
    await this.ensure();
    const asked = Date.now();
    const span = (n * this.intervalMs) / 1000;
    const rows = await this.prisma.$queryRaw<Array<{ delay_ms: number }>>`
      WITH cur AS (
        SELECT GREATEST(next_slot_at, clock_timestamp(), COALESCE(paused_until, '-infinity')) AS start
        FROM send_limiter WHERE id = ${this.key} FOR UPDATE
      )
      UPDATE send_limiter
      SET next_slot_at = cur.start + make_interval(secs => ${span}::float8), updated_at = clock_timestamp()
      FROM cur WHERE id = ${this.key}
      RETURNING (EXTRACT(EPOCH FROM (cur.start - clock_timestamp())) * 1000)::float8 AS delay_ms`;
    return asked + Math.max(0, rows[0]?.delay_ms ?? 0);
  }

  /**
   * The moment to send in `slot`: the slot itself, or one interval after this
   * process's previous send if two reservations' slots came out overlapping.
   */
  sendTime(slot: number): number {
    return Math.max(slot, this.lastLocalSend + this.intervalMs);
  }

  /**
   * Records that this process sends in the slot `sendTime` gave. The scheduled
   * time, not the clock, so timer lateness never accumulates into drift.
   */
  sending(at: number): void {
    this.lastLocalSend = at;
  }

  /** True while a pause this process learnt of is running: slots reserved before it must be given back. */
  get paused(): boolean {
    return Date.now() < this.localPauseUntil;
  }

  /** Telegram said `retry_after`: nobody in the fleet sends before it has passed. */
  async pause(seconds: number): Promise<void> {
    this.localPauseUntil = Math.max(this.localPauseUntil, Date.now() + seconds * 1000);
    await this.ensure();
    await this.prisma.$executeRaw`
      UPDATE send_limiter
      SET paused_until = GREATEST(COALESCE(paused_until, '-infinity'), clock_timestamp() + make_interval(secs => ${seconds}::float8)),
          next_slot_at = GREATEST(next_slot_at, clock_timestamp() + make_interval(secs => ${seconds}::float8)),
          updated_at = clock_timestamp()
      WHERE id = ${this.key}`;
  }

  private async ensure(): Promise<void> {
    if (this.ensured) return;
    await this.prisma.$executeRaw`
      INSERT INTO send_limiter (id, next_slot_at, updated_at) VALUES (${this.key}, clock_timestamp(), clock_timestamp())
      ON CONFLICT (id) DO NOTHING`;
    this.ensured = true;
  }
}
