import type { AcquirePermit, AdmissionCarry, AdmissionState, DrainingEntry, PermitEntry, QueuedEntry, ReleasePermit } from './messages.js';

/**
 * Queued requests up to this place hear of every change of it; those further
 * back are told their place when they join and again once they get this close,
 * so a long queue does not cost a signal per request on every grant.
 */
export const TELL_POSITIONS_UP_TO = 20;

/**
 * The state machine of one admission shard, without Temporal: the permits
 * (holders), the slots still taken by given-back permits whose predictions run
 * on (draining), the line in arrival order, the pause, and the line's limit.
 * `wavespeedAdmission` feeds it its signals and does what it answers (signals,
 * activities); test/workflows/permit-line.test.ts runs it alone.
 *
 * Times come from the caller (`now`): in a workflow, `Date.now()` is the
 * workflow's deterministic clock.
 */
export class PermitLine {
  maxConcurrency: number;
  maxQueued: number | undefined;
  paused: boolean;
  readonly holders: Map<string, PermitEntry>;
  readonly draining: Map<string, DrainingEntry>;
  /** In arrival order. */
  queue: QueuedEntry[];
  private readonly queued: Set<string>;
  /** Holders that asked again (an activity retried, a workflow reset): granted again, harmlessly. */
  private readonly regrant = new Set<string>();
  /** Requests turned away because the line is full, to be told so. */
  private readonly refused: string[] = [];

  constructor(maxConcurrency: number, carry?: AdmissionCarry) {
    this.maxConcurrency = maxConcurrency;
    this.holders = new Map(carry?.holders.map((h) => [h.requesterId, h]));
    this.draining = new Map(carry?.draining?.map((d) => [d.requesterId, d]));
    this.queue = [...(carry?.queue ?? [])];
    this.queued = new Set(this.queue.map((q) => q.requesterId));
    this.paused = carry?.paused ?? false;
    this.maxQueued = carry?.maxQueued;
  }

  /** A request asks for a permit (the cap and the line's limit it brings apply from now on). */
  acquire({ requesterId, maxConcurrency: cap, maxQueued: longest }: AcquirePermit, now: number): void {
    if (cap !== undefined && cap > 0) this.maxConcurrency = cap;
    if (longest !== undefined && longest >= 0) this.maxQueued = longest;
    if (this.holders.has(requesterId)) this.regrant.add(requesterId);
    else if (!this.queued.has(requesterId)) {
      this.queue.push({ requesterId, since: now });
      this.queued.add(requesterId);
    }
  }

  /**
   * A request gives its permit back, or leaves the line. With `running` its
   * prediction goes on at WaveSpeed, so the slot stays taken (draining). True when something changed.
   */
  release({ requesterId, running }: ReleasePermit): boolean {
    const holder = this.holders.get(requesterId);
    if (holder && running) this.draining.set(requesterId, { ...holder, ...running });
    return this.holders.delete(requesterId) || this.leave(requesterId);
  }

  /** True when the pause changed. */
  setPaused(wanted: boolean): boolean {
    if (wanted === this.paused) return false;
    this.paused = wanted;
    return true;
  }

  /** Takes a request out of the line; false when it was not in it. */
  leave(requesterId: string): boolean {
    if (!this.queued.delete(requesterId)) return false;
    this.queue = this.queue.filter((q) => q.requesterId !== requesterId);
    return true;
  }

  /** A free slot and someone waiting for it, not paused. */
  canGrant(): boolean {
    return !this.paused && this.holders.size + this.draining.size < this.maxConcurrency && this.queue.length > 0;
  }

  /** The permits to signal now, in arrival order: holders that asked again, then the line's first into the free slots. */
  takeGrants(now: number): string[] {
    const granted: string[] = [...this.regrant].filter((id) => this.holders.has(id));
    this.regrant.clear();
    while (this.canGrant()) {
      const next = this.queue.shift()!;
      this.queued.delete(next.requesterId);
      this.holders.set(next.requesterId, { requesterId: next.requesterId, since: now });
      granted.push(next.requesterId);
    }
    return granted;
  }

  /** Takes back the permit of a holder that is gone (never signalled, or closed without releasing). True when it held one. */
  reclaim(requesterId: string): boolean {
    return this.holders.delete(requesterId);
  }

  /**
   * Turns away the requests that joined a full line: the newest, never told a
   * place, beyond `maxQueued` once the free slots are granted.
   */
  refuseOverflow(): void {
    if (this.maxQueued === undefined) return;
    // Those a free slot is about to take (their grant on its way) are not waiting in line.
    const free = this.paused ? 0 : Math.max(0, this.maxConcurrency - this.holders.size - this.draining.size);
    for (let i = this.queue.length - 1; i >= this.maxQueued + free && this.queue[i]!.told === undefined; i--) {
      const { requesterId } = this.queue[i]!;
      this.leave(requesterId);
      this.refused.push(requesterId);
    }
  }

  /** The requests turned away since the last call, to be told so. */
  takeRefused(): string[] {
    return this.refused.splice(0);
  }

  /**
   * The places to tell: every queued request whose place (or the pause) changed
   * since it was last told, up to {@link TELL_POSITIONS_UP_TO}, and any never told.
   * Each is marked told as it is returned.
   */
  positionsToTell(): Array<{ requesterId: string; position: number; paused: boolean }> {
    const tell: Array<{ requesterId: string; position: number; paused: boolean }> = [];
    this.queue.forEach((entry, i) => {
      const position = i + 1;
      const told = entry.told;
      if (told && told.paused === this.paused && (told.position === position || position > TELL_POSITIONS_UP_TO)) return;
      entry.told = { position, paused: this.paused };
      tell.push({ requesterId: entry.requesterId, position, paused: this.paused });
    });
    return tell;
  }

  /**
   * Frees the slots of the given-back permits `checked` (those asked about) whose
   * predictions ended, or whose time is up. True when any was freed.
   */
  endDrains(checked: readonly DrainingEntry[], ended: readonly string[], now: number): boolean {
    let freed = false;
    for (const entry of checked) {
      if (ended.includes(entry.predictionId) || now >= entry.until) {
        this.draining.delete(entry.requesterId);
        freed = true;
      }
    }
    return freed;
  }

  /** What `admissionStateQuery` answers. */
  state(): AdmissionState {
    return {
      paused: this.paused,
      maxConcurrency: this.maxConcurrency,
      ...(this.maxQueued !== undefined ? { maxQueued: this.maxQueued } : {}),
      holders: [...this.holders.values()],
      draining: [...this.draining.values()],
      queue: this.queue.map(({ requesterId, since }) => ({ requesterId, since })),
    };
  }

  /** What the next run starts from, after continue-as-new. */
  carry(): AdmissionCarry {
    return {
      holders: [...this.holders.values()],
      draining: [...this.draining.values()],
      queue: this.queue,
      paused: this.paused,
      ...(this.maxQueued !== undefined ? { maxQueued: this.maxQueued } : {}),
    };
  }
}
