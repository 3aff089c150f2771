import { describe, expect, it } from 'vitest';
import { mp4Header, mp4Size, mp4Stream, probeMp4 } from '../../sandbox/simulators/shared/mp4.js';
import { SlidingWindow } from '../../sandbox/simulators/shared/sliding-window.js';

describe('minimal MP4', () => {
  it('round-trips duration and frame size through the header', () => {
    const info = { durationSeconds: 8, width: 1280, height: 720 };
    expect(probeMp4(mp4Header(info))).toEqual(info);
    expect(probeMp4(Buffer.from('not a video'))).toBeUndefined();
  });

  it('streams exactly the requested size, deterministically per seed', async () => {
    const info = { durationSeconds: 5, width: 832, height: 480 };
    const read = async (seed: string): Promise<Buffer> => {
      const chunks: Buffer[] = [];
      for await (const c of mp4Stream(info, 200_000, seed)) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    const [a, a2, b] = await Promise.all([read('a'), read('a'), read('b')]);
    expect(a.length).toBe(200_000);
    expect(mp4Size(info, 200_000)).toBe(200_000);
    expect(a.equals(a2)).toBe(true);
    expect(a.equals(b)).toBe(false);
    expect(probeMp4(a)).toEqual(info);
    expect(mp4Size(info, 10)).toBeGreaterThan(10);
  });
});

describe('SlidingWindow', () => {
  it('counts events in the last window and says when one more fits', () => {
    const w = new SlidingWindow(1000);
    w.record(0);
    w.record(100);
    w.record(200);
    expect(w.count(500)).toBe(3);
    expect(w.waitMs(3, 500)).toBe(500);
    expect(w.waitMs(2, 500)).toBe(600);
    expect(w.waitMs(4, 500)).toBe(0);
    expect(w.count(1000)).toBe(2);
  });
});
