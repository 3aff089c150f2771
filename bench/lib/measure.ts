import { readFileSync } from 'node:fs';

/** The most events in any one-second window. */
export function peakWindow(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= 1000) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

/** Peak resident memory of a process so far, from /proc (VmHWM); NaN when it is gone. */
export function peakRssMb(pid: number | undefined): number {
  return statusMb(pid, 'VmHWM');
}

/** Resident memory of a process now, from /proc (VmRSS); NaN when it is gone. */
export function currentRssMb(pid: number | undefined): number {
  return statusMb(pid, 'VmRSS');
}

function statusMb(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** The most intervals open at once; `end` undefined means still open at the end. */
export function peakOverlap(intervals: ReadonlyArray<{ start: number; end?: number }>): number {
  const edges = intervals.flatMap((i) => [
    [i.start, 1],
    [i.end ?? Number.POSITIVE_INFINITY, -1],
  ]) as Array<[number, number]>;
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, change] of edges) {
    open += change;
    peak = Math.max(peak, open);
  }
  return peak;
}
