/**
 * A bounded memory of recently seen keys: at most `capacity` entries, each
 * forgotten `ttlMs` after it was added. The oldest entry goes first when full,
 * so memory stays flat however many keys arrive; a key forgotten early only
 * loses what remembering it was for (a dedupe, a pass), never correctness.
 */
export class RecentKeys<K> {
  private readonly entries = new Map<K, number>();

  constructor(
    readonly capacity: number,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  /** How many keys are remembered now. */
  get size(): number {
    this.expire();
    return this.entries.size;
  }

  /** Whether `key` was added less than `ttlMs` ago (and not evicted or taken since). */
  has(key: K): boolean {
    const added = this.entries.get(key);
    if (added === undefined) return false;
    if (this.now() - added < this.ttlMs) return true;
    this.entries.delete(key);
    return false;
  }

  /** Remembers `key` from now on, evicting the oldest entries beyond `capacity`. */
  add(key: K): void {
    this.entries.delete(key);
    this.entries.set(key, this.now());
    this.expire();
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  /** Adds `key` unless it is remembered; true when it was new. */
  addIfAbsent(key: K): boolean {
    if (this.has(key)) return false;
    this.add(key);
    return true;
  }

  /** Forgets `key`; true when it was remembered. */
  take(key: K): boolean {
    const present = this.has(key);
    this.entries.delete(key);
    return present;
  }

  /** Entries are in insertion order, so expired ones are at the front. */
  private expire(): void {
    const cutoff = this.now() - this.ttlMs;
    for (const [key, added] of this.entries) {
      if (added > cutoff) break;
      this.entries.delete(key);
    }
  }
}
