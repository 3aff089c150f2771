import { describe, expect, it } from 'vitest';
import { RecentKeys } from '../../src/gateway/recent-keys.js';

describe('RecentKeys', () => {
  it('remembers keys for ttlMs', () => {
    let now = 0;
    const keys = new RecentKeys<string>(10, 100, () => now);
    expect(keys.addIfAbsent('a')).toBe(true);
    expect(keys.addIfAbsent('a')).toBe(false);
    now = 99;
    expect(keys.has('a')).toBe(true);
    now = 100;
    expect(keys.has('a')).toBe(false);
    expect(keys.addIfAbsent('a')).toBe(true);
  });

  it('keeps at most capacity keys, forgetting the oldest first', () => {
    const keys = new RecentKeys<number>(3, 60_000);
    for (let i = 0; i < 1_000; i++) keys.add(i);
    expect(keys.size).toBe(3);
    expect([997, 998, 999].every((k) => keys.has(k))).toBe(true);
    expect(keys.has(996)).toBe(false);
  });

  it('take forgets a key and says whether it was there', () => {
    const keys = new RecentKeys<number>(3, 60_000);
    keys.add(1);
    expect(keys.take(1)).toBe(true);
    expect(keys.take(1)).toBe(false);
  });
});
