import {
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  log,
  makeContinueAsNewFunc,
  patched,
  proxyActivities,
  setHandler,
  setWorkflowOptions,
  sleep,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import { TASK_QUEUES } from '../../constants.js';
import { parseVideoWorkflowId } from '../ids.js';
import {
  acquirePermitSignal,
  admissionStateQuery,
  permitGrantedSignal,
  permitRefusedSignal,
  queuePositionSignal,
  releasePermitSignal,
  setGenerationPausedSignal,
  type AdmissionInput,
} from './messages.js';
import { PermitLine } from './permit-line.js';

export * from './messages.js';

const { findClosedWorkflows, findEndedPredictions, recordGenerationPause } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  // The loop must go on granting permits even when the database is away for a while.
  scheduleToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** Best effort, once per beat: a beat that fails is simply the next beat's job. */
const { showChatActions } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 1 },
});

/**
 * Grants reach their requests one after the other, in arrival order, and a
 * request that arrived during a grant round is granted a free slot before it is
 * told a place in line.
 */
const GRANT_IN_ORDER = 'grant-in-order';
/** Rounds granting more than {@link GRANT_IN_ORDER_UP_TO} permits signal them all at once. */
const PARALLEL_GRANTS = 'parallel-grants';
const GRANT_IN_ORDER_UP_TO = 4;
/**
 * Requests that joined while the previous refusals were being signalled are
 * checked against the line's limit before anyone is told a place: before, they
 * were told places beyond it and kept waiting (a line of 100 held 200).
 */
const REFUSE_BEFORE_TELLING = 'refuse-before-telling';
/**
 * The chats of permit holders (requests being generated) are shown "sending
 * video…" by this workflow, one activity a beat for the whole fleet, instead of
 * a long-running activity per request.
 */
const FLEET_PRESENCE = 'fleet-presence';
/** Telegram shows a chat action for at most 5 s. */
const PRESENCE_INTERVAL_MS = 4_000;
/**
 * Chats shown per beat, the rest in later beats: about what Telegram's 30
 * messages/s leave for chat actions over one beat, and a bound on the activity's input.
 */
export const PRESENCE_CHATS_PER_BEAT = 120;
const LEASE_CHECK_MS = 60_000;
/** Holders described per lease check: a bound on the calls a check makes, whatever the cap. */
const LEASES_PER_CHECK = 100;
const DRAIN_CHECK_MS = 5_000;
const EVENTS_PER_RUN = 5_000;
/**
 * The fleet-wide WaveSpeed concurrency cap: a semaphore whose permits, FIFO
 * queue and pause flag live in this one workflow (id `wavespeed-admission`),
 * so no worker restart can lose or double them.
 *
 * Video workflows ask with {@link acquirePermitSignal} (signal-with-start, so the
 * first request starts it) and give back with {@link releasePermitSignal}. At most
 * `maxConcurrency` requesters hold a permit; the rest wait in arrival order and
 * hear their place through {@link queuePositionSignal}; a grant is
 * {@link permitGrantedSignal}. While paused no permit is granted. A requester that
 * ends before its prediction (cancelled) hands the slot over: it stays taken until
 * WaveSpeed says the prediction ended, or its deadline. A holder that
 * closed without releasing (terminated, or a bug) loses its permit at the next
 * lease check; a requester that cannot be signalled any more is dropped. The run
 * continues as new before its history grows long, carrying holders, queue and pause.
 */
export async function wavespeedAdmission(input: AdmissionInput): Promise<void> {
  // Permits, draining slots, the line, the pause and the line's limit (a plain state machine).
  const line = new PermitLine(input.maxConcurrency, input.carry);
  const { holders, draining } = line;
  /** A presence beat is under way; continue-as-new waits for it, and no beat starts once `closing`. */
  let beating = false;
  let closing = false;
  const pauseChanges: boolean[] = [];
  let changed = true;

  setHandler(acquirePermitSignal, (ask) => {
    line.acquire(ask, Date.now());
    changed = true;
  });
  setHandler(releasePermitSignal, (release) => {
    if (line.release(release)) changed = true;
  });
  setHandler(setGenerationPausedSignal, ({ paused: wanted }) => {
    if (!line.setPaused(wanted)) return;
    pauseChanges.push(wanted);
    changed = true;
  });
  setHandler(admissionStateQuery, () => line.state());

  /** Grants free permits in arrival order; a requester that is gone gives its permit straight back. */
  async function grant(): Promise<void> {
    for (;;) {
      const granted = line.takeGrants(Date.now());
      if (granted.length === 0) return;
      const signal = (id: string) => getExternalWorkflowHandle(id).signal(permitGrantedSignal);
      // In order, one after the other: the earlier request hears first, so it submits first.
      // A round granting many at once (a large cap, a burst) signals them together: one
      // round trip each would hold grants to a few a second, behind the arrivals.
      const inOrder = patched(GRANT_IN_ORDER) && (granted.length <= GRANT_IN_ORDER_UP_TO || !patched(PARALLEL_GRANTS));
      const results = inOrder ? await signalInOrder(granted, signal) : await Promise.allSettled(granted.map(signal));
      let gone = 0;
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') return;
        gone += 1;
        line.reclaim(granted[i]!);
        log.info('Requester gone before its permit; permit reclaimed', { requesterId: granted[i] });
      });
      if (gone === 0) return;
    }
  }

  /** Tells the requests turned away; one gone already needs nothing. */
  async function tellRefused(): Promise<void> {
    const told = line.takeRefused();
    if (told.length === 0) return;
    await Promise.allSettled(told.map((id) => getExternalWorkflowHandle(id).signal(permitRefusedSignal, { reason: 'busy' })));
    log.info('Line full; requests refused as busy', { refused: told.length, queued: line.queue.length, maxQueued: line.maxQueued });
  }

  /**
   * Shows "sending video…" in the chats of the requests holding a permit (their
   * videos are being made), a slice of at most {@link PRESENCE_CHATS_PER_BEAT}
   * chats a beat, taking turns. Costs one activity a beat for the fleet, none per
   * request, and stops while no one holds a permit. A holder's chat leaves the
   * set when it gives its permit back, before its video is sent.
   */
  async function showPresence(): Promise<void> {
    const intervalMs = input.presenceIntervalMs ?? PRESENCE_INTERVAL_MS;
    let turn = 0;
    for (;;) {
      await condition(() => holders.size > 0);
      // A beat a beat after the last (or after the first holder): a new run does not start with one.
      await sleep(intervalMs);
      if (closing) return;
      const chats = [...new Set([...holders.keys()].map((id) => parseVideoWorkflowId(id)?.chatId).filter((c) => c !== undefined))];
      if (chats.length === 0) continue;
      turn %= chats.length;
      // The shards of a split cap share the beat's chats between them.
      const slice = [...chats.slice(turn), ...chats.slice(0, turn)].slice(0, Math.ceil(PRESENCE_CHATS_PER_BEAT / (input.shards ?? 1)));
      turn += slice.length;
      beating = true;
      try {
        await showChatActions({ chatIds: slice, action: 'upload_video' });
      } catch (err) {
        log.debug('Chat actions skipped this beat', { error: String(err) });
      } finally {
        beating = false;
      }
    }
  }

  /** Tells queued requesters their place when it (or the pause) changed. */
  async function tellPositions(): Promise<void> {
    const tell = line.positionsToTell();
    if (tell.length === 0) return;
    const results = await Promise.allSettled(
      tell.map(({ requesterId, position, paused }) => getExternalWorkflowHandle(requesterId).signal(queuePositionSignal, { position, paused })),
    );
    results.forEach((result, i) => {
      if (result.status === 'rejected' && line.leave(tell[i]!.requesterId)) {
        changed = true;
        log.info('Queued requester gone; removed from the queue', { requesterId: tell[i]!.requesterId });
      }
    });
  }

  async function recordPauseChanges(): Promise<void> {
    while (pauseChanges.length > 0) {
      const nowPaused = pauseChanges.shift()!;
      try {
        await recordGenerationPause({ eventId: uuid4(), paused: nowPaused, queued: line.queue.length, inFlight: holders.size, admissionId: workflowInfo().workflowId });
      } catch (err) {
        log.warn('Could not record the pause change', { paused: nowPaused, error: String(err) });
      }
    }
  }

  /**
   * Reclaims the permits of holders that closed without giving them back. Each
   * round describes at most {@link LEASES_PER_CHECK} holders, taking turns, so
   * thousands of holders cost the same few calls a minute (a closed one is then
   * found within a few rounds, not one).
   */
  async function checkLeases(): Promise<void> {
    const leaseCheckMs = input.leaseCheckMs ?? LEASE_CHECK_MS;
    let turn = 0;
    for (;;) {
      await condition(() => holders.size > 0);
      await sleep(leaseCheckMs);
      const all = [...holders.keys()];
      if (all.length === 0) continue;
      turn %= all.length;
      // Only the activity's input changes with this: histories of checks of every holder replay the same.
      const held = [...all.slice(turn), ...all.slice(0, turn)].slice(0, LEASES_PER_CHECK);
      turn += held.length;
      let closed: string[];
      try {
        closed = await findClosedWorkflows({ workflowIds: held });
      } catch (err) {
        log.warn('Could not check permit holders; will check again', { error: String(err) });
        continue;
      }
      for (const id of closed) {
        if (line.reclaim(id)) {
          changed = true;
          log.warn('Permit holder closed without releasing; permit reclaimed', { requesterId: id });
        }
      }
    }
  }

  /** Frees the slots of given-back permits once their predictions have ended at WaveSpeed. */
  async function checkDrains(): Promise<void> {
    const drainCheckMs = input.drainCheckMs ?? DRAIN_CHECK_MS;
    for (;;) {
      await condition(() => draining.size > 0);
      await sleep(drainCheckMs);
      const entries = [...draining.values()];
      let ended: string[];
      try {
        ended = await findEndedPredictions({ predictionIds: entries.map((d) => d.predictionId) });
      } catch (err) {
        log.warn('Could not check predictions of given-back permits; will check again', { error: String(err) });
        ended = [];
      }
      if (line.endDrains(entries, ended, Date.now())) changed = true;
    }
  }

  const historyLong = (): boolean => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= (input.eventsPerRun ?? EVENTS_PER_RUN);
  };

  void checkLeases();
  void checkDrains();
  if (patched(FLEET_PRESENCE)) void showPresence();
  for (;;) {
    await condition(() => changed || historyLong());
    if (!changed) {
      // Handlers only change state, so what they saw is in the carry; a beat under way ends first.
      closing = true;
      await condition(() => allHandlersFinished() && !beating);
      // On its own task queue: a run started on the media queue (before it had one) moves there now.
      await makeContinueAsNewFunc<typeof wavespeedAdmission>({ taskQueue: TASK_QUEUES.admission })({
        maxConcurrency: line.maxConcurrency,
        leaseCheckMs: input.leaseCheckMs,
        eventsPerRun: input.eventsPerRun,
        drainCheckMs: input.drainCheckMs,
        presenceIntervalMs: input.presenceIntervalMs,
        ...(input.shards !== undefined ? { shards: input.shards } : {}),
        carry: line.carry(),
      });
    }
    changed = false;
    await recordPauseChanges();
    await grant();
    line.refuseOverflow();
    await tellRefused();
    // A request that arrived while the grants were being signalled, and finds a
    // slot free, is granted before being told to wait (it would briefly read
    // "queued, position 1"); those already waiting are told their new place first, as before.
    if (patched(GRANT_IN_ORDER) && line.canGrant() && line.queue[0]!.told === undefined) {
      changed = true;
      continue;
    }
    if (patched(REFUSE_BEFORE_TELLING)) {
      // In the same tick as the places are taken: nobody can join in between.
      line.refuseOverflow();
      await Promise.all([tellPositions(), tellRefused()]);
    } else await tellPositions();
  }
}

/** Runs `send` for each id in turn, settling each like `Promise.allSettled`. */
async function signalInOrder(ids: string[], send: (id: string) => Promise<void>): Promise<PromiseSettledResult<void>[]> {
  const results: PromiseSettledResult<void>[] = [];
  for (const id of ids) {
    try {
      await send(id);
      results.push({ status: 'fulfilled', value: undefined });
    } catch (reason) {
      results.push({ status: 'rejected', reason });
    }
  }
  return results;
}

/**
 * Auto-upgrade (Worker Versioning): the line lives for as long as the bot runs,
 * across continue-as-new, and moves to the current build at its next workflow
 * task; a change to it goes through `patched()`, and its histories of every
 * earlier version stay in test/replay.
 */
setWorkflowOptions({ versioningBehavior: 'AUTO_UPGRADE' }, wavespeedAdmission);
