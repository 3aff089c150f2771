import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat on Linux. */
const CLK_TCK = 100;

/** CPU seconds (user + system) a process has used so far; undefined off Linux or once it is gone. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** CPU seconds all cores spent busy (not idle, not waiting for I/O) since boot; undefined off Linux. */
export function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/**
 * Measures the share of one core each process used while running (between
 * each `start()` and `stop()`, summed over all such intervals), and what the rest
 * of the machine used meanwhile: other processes on a shared machine disturb the figures.
 */
export class CpuMeter {
  private readonly used = new Map<string, number>();
  private readonly before = new Map<string, number | undefined>();
  private machineUsed = 0;
  private machineBefore: number | undefined;
  private runningMs = 0;
  private startedAt: number | undefined;

  constructor(private readonly pids: Record<string, number | undefined>) {}

  start(): void {
    this.startedAt = performance.now();
    this.machineBefore = machineBusySeconds();
    for (const [name, pid] of Object.entries(this.pids)) this.before.set(name, cpuSeconds(pid));
  }

  /** Ends an interval; returns percent of one core per process over all intervals so far. */
  stop(): Record<string, number | undefined> {
    if (this.startedAt === undefined) return this.usage();
    this.runningMs += performance.now() - this.startedAt;
    this.startedAt = undefined;
    for (const [name, pid] of Object.entries(this.pids)) {
      const before = this.before.get(name);
      const after = cpuSeconds(pid);
      if (before !== undefined && after !== undefined) this.used.set(name, (this.used.get(name) ?? 0) + after - before);
    }
    const machineAfter = machineBusySeconds();
    if (this.machineBefore !== undefined && machineAfter !== undefined) this.machineUsed += machineAfter - this.machineBefore;
    return this.usage();
  }

  /** Percent of one core per process, e.g. `{ gateway: 37, 'rest of machine': 12 }`. */
  usage(): Record<string, number | undefined> {
    const seconds = this.runningMs / 1000;
    const pct = (cpu: number | undefined) => (cpu === undefined || seconds === 0 ? undefined : (100 * cpu) / seconds);
    const usage: Record<string, number | undefined> = Object.fromEntries(Object.keys(this.pids).map((name) => [name, pct(this.used.get(name))]));
    const ours = Object.values(usage).reduce<number>((sum, p) => sum + (p ?? 0), 0);
    const machine = pct(this.machineUsed);
    if (machine !== undefined) usage['rest of machine'] = Math.max(0, machine - ours);
    return usage;
  }
}

export function formatCpu(usage: Record<string, number | undefined>): string {
  return Object.entries(usage)
    .map(([name, pct]) => `${name} ${pct === undefined ? '?' : `${pct.toFixed(0)}%`}`)
    .join(', ');
}
