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

/** What one run hands the next when the history is cut with continue-as-new. */
export interface AdmissionCarry {
  holders: PermitEntry[];
  queue: QueuedEntry[];
  paused: boolean;
}

/** Input of {@link wavespeedAdmission}. */
export interface AdmissionInput {
  /** Predictions in flight at WaveSpeed, all workers together; each acquire may bring a newer value. */
  maxConcurrency: number;
  /** How often holders are checked for having closed without releasing. Default 1 minute. */
  leaseCheckMs?: number;
  /** History events one run may grow to before it continues as new. Default 5,000. */
  eventsPerRun?: number;
  /** Set only by continue-as-new. */
  carry?: AdmissionCarry;
}

/** Answer of {@link admissionStateQuery}. */
export interface AdmissionState {
  paused: boolean;
  maxConcurrency: number;
  holders: PermitEntry[];
  /** Waiting requests, first in line first. */
  queue: PermitEntry[];
}

/** A video workflow asks for a permit. Repeating it (an activity retried) changes nothing. */
export const acquirePermitSignal = defineSignal<[{ requesterId: string; maxConcurrency?: number }]>('acquirePermit');

/** A video workflow gives its permit back, or leaves the queue. Unknown requesters are ignored. */
export const releasePermitSignal = defineSignal<[{ requesterId: string }]>('releasePermit');

/** Operators pause (no new permits; requests wait in order) or resume new video generation. */
export const setGenerationPausedSignal = defineSignal<[{ paused: boolean }]>('setGenerationPaused');

/** Permits, queue and pause flag. */
export const admissionStateQuery = defineQuery<AdmissionState>('admissionState');

/** Sent by the admission workflow to a requester: it may submit to WaveSpeed now. */
export const permitGrantedSignal = defineSignal<[]>('permitGranted');

/** Sent by the admission workflow to a queued requester whose place in line (or the pause) changed. */
export const queuePositionSignal = defineSignal<[{ position: number; paused: boolean }]>('queuePosition');
