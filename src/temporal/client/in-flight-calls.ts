import { InterceptingCall, ListenerBuilder, RequesterBuilder, type Interceptor } from '@grpc/grpc-js';
import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';

/**
 * Counts a Temporal connection's gRPC calls from their start to their final
 * status, retries included, so that the connection is closed only once none is
 * left. The client's retry interceptor waits out its backoff on a timer and
 * then makes a new call on the channel: closed meanwhile, the channel throws
 * `Channel has been shut down` from that timer, an uncaught exception.
 *
 * Put {@link interceptors} on the connection: this counter outermost, so it
 * sees the status only when the retries are over.
 */
export class InFlightCalls {
  private count = 0;
  private idle: Array<() => void> = [];

  /** Calls started and not yet ended. */
  get size(): number {
    return this.count;
  }

  readonly interceptor: Interceptor = (options, nextCall) =>
    new InterceptingCall(
      nextCall(options),
      new RequesterBuilder()
        .withStart((metadata, listener, next) => {
          this.count += 1;
          let ended = false;
          next(
            metadata,
            new ListenerBuilder()
              .withOnReceiveStatus((status, nextStatus) => {
                if (!ended) {
                  ended = true;
                  this.count -= 1;
                  if (this.count === 0) for (const resolve of this.idle.splice(0)) resolve();
                }
                nextStatus(status);
              })
              .build(),
          );
        })
        .build(),
    );

  /** This counter, then the client's default retries: the interceptors for `Connection.lazy` or `connect`. */
  interceptors(): Interceptor[] {
    return [this.interceptor, makeGrpcRetryInterceptor(defaultGrpcRetryOptions())];
  }

  /** Resolves once no call is in flight, or after `timeoutMs` (true when none is left). */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.idle.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([idle, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
