import { CancellationScope, condition, isCancellation, log, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import { RECORDING } from '../activity-options.js';
import { recording } from './recording.js';
import { permitGrantedSignal, permitRefusedSignal, queuePositionSignal, type PermitRefusal, type ReleasePermit } from '../admission/messages.js';

const { releasePermit } = proxyActivities<Activities>(RECORDING);


/** A place in line for a WaveSpeed slot, as the admission workflow last told it. */
export interface QueuePlace {
  position: number;
  paused: boolean;
}

/**
 * How a wait in line ended: a permit, a full line (`busy`), or the longest wait
 * the fleet allows passed (`timed-out`; the request has left the line).
 */
export type Admitted = 'granted' | PermitRefusal | 'timed-out';

/**
 * One video workflow's side of the fleet-wide WaveSpeed semaphore
 * (`wavespeedAdmission`): ask, wait in line, give back once. Must be created
 * once, at the start of the workflow, so its signal handlers are in place.
 */
export class WavespeedPermit {
  private granted = false;
  private refused: PermitRefusal | undefined;
  private place: QueuePlace | undefined;
  private state: 'none' | 'requested' | 'released' = 'none';
  /** The one `releasePermit` call, once made. */
  private giving: Promise<void> | undefined;
  /** The admission shard that was asked, to give back to; unset before the ask returns (the first shard). */
  private admissionId: string | undefined;

  constructor(private readonly requesterId: string) {
    setHandler(permitGrantedSignal, () => {
      this.granted = true;
    });
    setHandler(queuePositionSignal, (place) => {
      this.place = place;
    });
    setHandler(permitRefusedSignal, ({ reason }) => {
      // The admission workflow has dropped the request already: nothing to give back.
      if (!this.granted) this.refused = reason;
    });
  }

  /** Whether a permit was asked for and not yet given back (held, or still queued). */
  get held(): boolean {
    return this.state === 'requested';
  }

  /**
   * Asks for a permit and waits for it in line, calling `onPlace` with each new
   * place (coalesced: a slow `onPlace` sees only the latest; at most once per
   * `placeEveryMs` the asking worker's configuration gives). The wait is
   * workflow state (one timer for its whole length), never a worker slot: it
   * ends when the permit comes, when the line is full (`busy`), or after the
   * longest wait the asking worker's configuration allows (`timed-out`, the
   * request leaving the line). Cancellable while waiting; the request itself is
   * not, so a later {@link release} always follows it.
   */
  async acquire(onPlace: (place: QueuePlace) => Promise<void>): Promise<Admitted> {
    // Only an answer to this run's own request counts. A re-drive resets a video
    // to before its permit request and re-applies the signals that came after that
    // point, the failed run's grant among them: honoured, it let the new run submit
    // without holding a slot of the fleet cap.
    this.granted = false;
    this.refused = undefined;
    this.place = undefined;
    this.state = 'requested';
    const asked = await CancellationScope.nonCancellable(() => recording.requestPermit({ requesterId: this.requesterId }));
    this.admissionId = asked?.admissionId;
    let timedOut = false;
    const timer = new CancellationScope();
    if (asked?.maxWaitMs !== undefined) {
      const maxWaitMs = asked.maxWaitMs;
      timer
        .run(() => sleep(maxWaitMs))
        .then(
          () => (timedOut = true),
          (err: unknown) => {
            if (!isCancellation(err)) throw err;
          },
        );
    }
    try {
      let shown: QueuePlace | undefined;
      for (;;) {
        await condition(() => this.ended(timedOut) || (this.place !== undefined && !samePlace(this.place, shown)));
        if (this.granted) return 'granted';
        if (this.refused) {
          this.state = 'released';
          return this.refused;
        }
        if (timedOut) {
          await this.release();
          return 'timed-out';
        }
        shown = this.place!;
        await onPlace(shown);
        // A long line moves often: the user's place is edited at most this often (each edit is a Bot API call).
        if (asked?.placeEveryMs !== undefined) await condition(() => this.ended(timedOut), asked.placeEveryMs);
      }
    } finally {
      if (!timedOut) timer.cancel();
    }
  }

  private ended(timedOut: boolean): boolean {
    return this.granted || this.refused !== undefined || timedOut;
  }

  /**
   * Gives the permit back, or leaves the queue; once (a later call returns the
   * first call's promise). With `running`, the prediction has not ended yet and
   * its slot stays taken until it does. Never fails: a permit left behind is
   * reclaimed by the lease check.
   */
  release(running?: ReleasePermit['running']): Promise<void> {
    if (this.state === 'requested') {
      this.state = 'released';
      this.giving = this.giveBack(running);
    }
    // A later call waits for the first one's answer, so the workflow never ends before it.
    return this.giving ?? Promise.resolve();
  }

  private async giveBack(running?: ReleasePermit['running']): Promise<void> {
    try {
      await CancellationScope.nonCancellable(() =>
        releasePermit({ requesterId: this.requesterId, ...(running ? { running } : {}), ...(this.admissionId !== undefined ? { admissionId: this.admissionId } : {}) }),
      );
    } catch (err) {
      log.warn('Could not give the WaveSpeed permit back; the lease check will reclaim it', { error: String(err) });
    }
  }

}

function samePlace(a: QueuePlace, b: QueuePlace | undefined): boolean {
  return b !== undefined && a.position === b.position && a.paused === b.paused;
}
