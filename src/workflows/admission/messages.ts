import { defineQuery, defineSignal } from '@temporalio/workflow';

/** One request for (or holder of) a permit: a video workflow, by its workflow id. */
export interface PermitEntry {
  requesterId: string;
  /** When the request arrived (ms since the epoch, workflow time). */
  since: number;
}

/** A queued request and the position it was last told, so it is told only changes. */
export interface QueuedEntry extends PermitEntry {
  told?: { position: number; paused: boolean };
}

/**
 * A permit given back by a workflow that ended while its prediction still runs at
 * WaveSpeed (cancelled): it keeps counting until the prediction ends or `until` passes.
 */
export interface DrainingEntry extends PermitEntry {
  predictionId: string;
  /** The requester's deadline for the prediction (ms since the epoch). */
  until: number;
}

/** What one run hands the next when the history is cut with continue-as-new. */
export interface AdmissionCarry {
  holders: PermitEntry[];
  draining?: DrainingEntry[];
  queue: QueuedEntry[];
  paused: boolean;
  /** The longest line the requests last asked for. */
  maxQueued?: number;
}

/** Input of {@link wavespeedAdmission}. */
export interface AdmissionInput {
  /** Predictions in flight at WaveSpeed, all workers together; each acquire may bring a newer value. */
  maxConcurrency: number;
  /** How often holders are checked for having closed without releasing. Default 1 minute. */
  leaseCheckMs?: number;
  /** How often predictions of given-back permits are checked for having ended. Default 5 s. */
  drainCheckMs?: number;
  /** History events one run may grow to before it continues as new. Default 5,000. */
  eventsPerRun?: number;
  /** How often the chats of permit holders are shown "sending video…". Default 4 s (Telegram shows it ≤ 5 s). */
  presenceIntervalMs?: number;
  /** How many admission workflows share the fleet's cap (`admissionShards`); each shows its part of a beat's chats. Default 1. */
  shards?: number;
  /** Set only by continue-as-new. */
  carry?: AdmissionCarry;
}

/** Answer of {@link admissionStateQuery}. */
export interface AdmissionState {
  paused: boolean;
  maxConcurrency: number;
  /** Longest line: a request arriving when it is full is refused as busy. Unset: no limit. */
  maxQueued?: number;
  holders: PermitEntry[];
  /** Permits whose requester left while its prediction still runs: they count until it ends. */
  draining: DrainingEntry[];
  /** Waiting requests, first in line first. */
  queue: PermitEntry[];
}

/** What a video workflow sends to ask for a permit; the limits are the asking worker's configuration. */
export interface AcquirePermit {
  requesterId: string;
  maxConcurrency?: number;
  /** Longest line the fleet keeps; a request beyond it is refused with {@link permitRefusedSignal}. */
  maxQueued?: number;
}

/** A video workflow asks for a permit. Repeating it (an activity retried) changes nothing. */
export const acquirePermitSignal = defineSignal<[AcquirePermit]>('acquirePermit');

/** What a requester says when it gives its permit back. */
export interface ReleasePermit {
  requesterId: string;
  /**
   * Set when the requester ends before its prediction (WaveSpeed cannot stop one): the slot stays taken until it ends,
   * or until `until` when the prediction's id is {@link UNKNOWN_PREDICTION} (a submission whose answer was lost).
   */
  running?: { predictionId: string; until: number };
}

/** The prediction id of a submission WaveSpeed may have accepted without saying which id it got. */
export const UNKNOWN_PREDICTION = '';

/** A video workflow gives its permit back, or leaves the queue. Unknown requesters are ignored. */
export const releasePermitSignal = defineSignal<[ReleasePermit]>('releasePermit');

/** Operators pause (no new permits; requests wait in order) or resume new video generation. */
export const setGenerationPausedSignal = defineSignal<[{ paused: boolean }]>('setGenerationPaused');

/** Permits, queue and pause flag. */
export const admissionStateQuery = defineQuery<AdmissionState>('admissionState');

/** Sent by the admission workflow to a requester: it may submit to WaveSpeed now. */
export const permitGrantedSignal = defineSignal<[]>('permitGranted');

/** Why a request for a permit was turned away: the line was full. */
export type PermitRefusal = 'busy';

/** Sent by the admission workflow to a requester it will not queue (the line is full); it has left the line. */
export const permitRefusedSignal = defineSignal<[{ reason: PermitRefusal }]>('permitRefused');

/** Sent by the admission workflow to a queued requester whose place in line (or the pause) changed. */
export const queuePositionSignal = defineSignal<[{ position: number; paused: boolean }]>('queuePosition');
