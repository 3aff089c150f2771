import { ApplicationFailure } from '@temporalio/common';
import { TelewanError } from '../errors.js';

/**
 * The activity boundary: a {@link TelewanError} becomes an `ApplicationFailure`
 * whose `type` is the error's class name, non-retryable when the error says so,
 * and with `nextRetryDelay` when the peer told us how long to wait (Telegram's
 * `retry_after`). Anything else propagates unchanged and is retried by policy.
 */
export function toApplicationFailure(err: unknown): unknown {
  if (!(err instanceof TelewanError)) return err;
  return ApplicationFailure.create({
    type: err.name,
    message: err.message,
    nonRetryable: !err.retryable,
    nextRetryDelay: err.retryAfterMs,
    details: detailsOf(err),
  });
}

function detailsOf(err: TelewanError): unknown[] {
  const { retryAfterMs, ...own } = Object.fromEntries(
    Object.entries(err).filter(([key]) => key !== 'retryable' && key !== 'stack' && key !== 'cause'),
  );
  void retryAfterMs;
  return Object.keys(own).length ? [own] : [];
}

type AnyFn = (...args: never[]) => Promise<unknown>;

/** Wraps every function of an activities object with {@link toApplicationFailure}. */
export function withFailureMapping<T extends Record<string, AnyFn>>(activities: T): T {
  const wrapped: Record<string, AnyFn> = {};
  for (const [name, fn] of Object.entries(activities)) {
    const named = {
      async [name](...args: never[]) {
        try {
          return await fn(...args);
        } catch (err) {
          throw toApplicationFailure(err);
        }
      },
    };
    wrapped[name] = named[name] as AnyFn;
  }
  return wrapped as T;
}
