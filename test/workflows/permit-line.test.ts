import { describe, expect, it } from 'vitest';
import { PermitLine, TELL_POSITIONS_UP_TO } from '../../src/workflows/admission/permit-line.js';

/** The admission shard's state machine alone: no Temporal, no signals, times given. */

const ask = (line: PermitLine, ...ids: string[]) => ids.forEach((requesterId, i) => line.acquire({ requesterId }, 1_000 + i));

describe('PermitLine', () => {
  it('grants up to the cap in arrival order, and a released permit goes to the next in line', () => {
    const line = new PermitLine(2);
    ask(line, 'a', 'b', 'c', 'd');
    expect(line.takeGrants(5_000)).toEqual(['a', 'b']);
    expect(line.queue.map((q) => q.requesterId)).toEqual(['c', 'd']);
    expect(line.takeGrants(5_000)).toEqual([]);
    expect(line.release({ requesterId: 'a' })).toBe(true);
    expect(line.takeGrants(6_000)).toEqual(['c']);
    expect(line.state().holders.map((h) => h.requesterId)).toEqual(['b', 'c']);
  });

  it('grants nothing while paused, and says whether the pause changed', () => {
    const line = new PermitLine(3);
    expect(line.setPaused(true)).toBe(true);
    expect(line.setPaused(true)).toBe(false);
    ask(line, 'a');
    expect(line.canGrant()).toBe(false);
    expect(line.takeGrants(1)).toEqual([]);
    expect(line.setPaused(false)).toBe(true);
    expect(line.takeGrants(2)).toEqual(['a']);
  });

  it('grants a holder that asks again once more, and never queues it', () => {
    const line = new PermitLine(1);
    ask(line, 'a');
    expect(line.takeGrants(1)).toEqual(['a']);
    ask(line, 'a');
    expect(line.queue).toEqual([]);
    expect(line.takeGrants(2)).toEqual(['a']);
    expect(line.takeGrants(3)).toEqual([]);
  });

  it('keeps the slot of a permit given back while its prediction runs, until it ends or its time is up', () => {
    const line = new PermitLine(1);
    ask(line, 'a', 'b');
    line.takeGrants(1);
    line.release({ requesterId: 'a', running: { predictionId: 'p1', until: 100_000 } });
    expect(line.takeGrants(2)).toEqual([]);
    const checked = [...line.draining.values()];
    expect(line.endDrains(checked, [], 50_000)).toBe(false);
    expect(line.endDrains(checked, ['p1'], 50_000)).toBe(true);
    expect(line.takeGrants(3)).toEqual(['b']);
    // Or its time runs out with the prediction never seen to end.
    ask(line, 'c');
    line.release({ requesterId: 'b', running: { predictionId: 'p2', until: 10 } });
    expect(line.endDrains([...line.draining.values()], [], 10)).toBe(true);
    expect(line.takeGrants(11)).toEqual(['c']);
  });

  it('lets a request leave the line, and answers false for one that was never in it', () => {
    const line = new PermitLine(0);
    ask(line, 'a', 'b');
    expect(line.release({ requesterId: 'a' })).toBe(true);
    expect(line.release({ requesterId: 'zz' })).toBe(false);
    expect(line.queue.map((q) => q.requesterId)).toEqual(['b']);
  });

  it('refuses the newest untold requests beyond the limit, counting the free slots as not waiting', () => {
    const line = new PermitLine(1);
    line.acquire({ requesterId: 'r0', maxQueued: 2 }, 0);
    ask(line, 'r1', 'r2', 'r3', 'r4');
    // One free slot: r0 takes it, r1 and r2 wait, r3 and r4 are turned away.
    line.refuseOverflow();
    expect(line.takeRefused()).toEqual(['r4', 'r3']);
    expect(line.takeRefused()).toEqual([]);
    expect(line.takeGrants(10)).toEqual(['r0']);
    // A request already told its place is never refused.
    line.positionsToTell();
    ask(line, 'r5');
    line.refuseOverflow();
    expect(line.takeRefused()).toEqual(['r5']);
  });

  it('tells a place when it changed, up to the first places, and everyone when the pause changes', () => {
    const line = new PermitLine(0);
    const ids = Array.from({ length: TELL_POSITIONS_UP_TO + 5 }, (_, i) => `q${i}`);
    ask(line, ...ids);
    expect(line.positionsToTell()).toHaveLength(ids.length);
    expect(line.positionsToTell()).toEqual([]);
    line.leave('q0');
    const moved = line.positionsToTell();
    // Those now within the first places hear of their new place; those further back do not.
    expect(moved.map((t) => t.position)).toEqual(Array.from({ length: TELL_POSITIONS_UP_TO }, (_, i) => i + 1));
    line.setPaused(true);
    expect(line.positionsToTell().every((t) => t.paused)).toBe(true);
  });

  it('carries its whole state into the next run', () => {
    const line = new PermitLine(2);
    line.acquire({ requesterId: 'a', maxQueued: 7 }, 1);
    ask(line, 'b', 'c');
    line.takeGrants(2);
    line.release({ requesterId: 'a', running: { predictionId: 'p', until: 99 } });
    line.setPaused(true);
    const next = new PermitLine(2, line.carry());
    expect(next.state()).toEqual(line.state());
    expect(next.state()).toMatchObject({ paused: true, maxQueued: 7, queue: [{ requesterId: 'c' }] });
    expect(next.leave('c')).toBe(true);
  });

  it('takes the cap and the line limit a request brings', () => {
    const line = new PermitLine(1);
    line.acquire({ requesterId: 'a', maxConcurrency: 3, maxQueued: 10 }, 1);
    line.acquire({ requesterId: 'b', maxConcurrency: 0 }, 2);
    expect(line.state()).toMatchObject({ maxConcurrency: 3, maxQueued: 10 });
    ask(line, 'c', 'd');
    expect(line.takeGrants(3)).toEqual(['a', 'b', 'c']);
  });
});
