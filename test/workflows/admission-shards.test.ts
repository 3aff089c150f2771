import { describe, expect, it } from 'vitest';
import { ADMISSION_WORKFLOW_ID, admissionShardOf, admissionShards, admissionWorkflowId, shareOf, videoWorkflowId } from '../../src/workflows/ids.js';

describe('admission shards', () => {
  it('keeps one workflow and one line for the small tiers and splits Gold and Ultra', () => {
    // Bronze 2, the default 3, Silver 300: one line, exact places.
    expect([2, 3, 300, 599].map((cap) => admissionShards(cap))).toEqual([1, 1, 1, 1]);
    expect([600, 1_000, 3_000, 10_000].map((cap) => admissionShards(cap))).toEqual([2, 3, 8, 8]);
    expect(admissionShards(4, 1)).toBe(4);
  });

  it('gives each shard a share of the cap and of the line that add up to the whole', () => {
    for (const [total, shards] of [[3_000, 8], [1_001, 3], [100, 8], [0, 8], [2, 2]] as const) {
      const shares = Array.from({ length: shards }, (_, k) => shareOf(total, shards, k));
      expect(shares.reduce((a, b) => a + b, 0)).toBe(total);
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
    }
  });

  it('sends a request to the same shard every time, the first shard keeping the old id, and spreads requests evenly', () => {
    expect(admissionWorkflowId(0)).toBe(ADMISSION_WORKFLOW_ID);
    expect(admissionWorkflowId(3)).toBe(`${ADMISSION_WORKFLOW_ID}-3`);
    const ids = Array.from({ length: 2_000 }, (_, i) => videoWorkflowId(1_000 + i, 7));
    expect(ids.map((id) => admissionShardOf(id, 8))).toEqual(ids.map((id) => admissionShardOf(id, 8)));
    const counts = Array<number>(8).fill(0);
    for (const id of ids) counts[admissionShardOf(id, 8)]! += 1;
    // 250 each if perfectly even; a shard with far more would fill its share of the cap first.
    for (const count of counts) {
      expect(count).toBeGreaterThan(200);
      expect(count).toBeLessThan(300);
    }
    expect(ids.every((id) => admissionShardOf(id, 1) === 0)).toBe(true);
  });
});
