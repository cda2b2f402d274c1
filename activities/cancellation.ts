/**
 * An activity's cancellation reaches its AWS calls. Temporal cancels a running activity when its workflow asks
 * (delivered with a heartbeat), when a heartbeat's answer says the attempt no longer exists (its heartbeat timed
 * out: a retry replaces it, and this one must stop writing), and when its worker shuts down (after the worker's
 * shutdownGraceTime). Without this, an AWS call in flight ran to its timeout (3 sends × SECRETS_DR_AWS_TIMEOUT_MS)
 * and the attempt went on with its next secret, a second writer beside its retry.
 * - `abortable(client, operations)`: every listed operation called inside an activity gets the activity's
 *   cancellation signal as its `abortSignal` (the SDK aborts the request; the error is an `AbortError`, which
 *   activities/aws-errors.ts counts as no answer, so a batch activity throws instead of recording it per secret).
 *   The signed-request clients (worker/cross-account-client.ts, STS) read `activitySignal()` themselves.
 * - `cancelledOutcome`: an activity that returns after its cancellation is reported cancelled, not completed: its
 *   result may hold secrets it recorded as failed only because their calls were aborted.
 */
import { setMaxListeners } from 'node:events';
import { asyncLocalStorage } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/** Calls of one activity in flight at once (a batch runs up to a few dozen): each adds an abort listener, removed when its request closes. */
const LISTENERS_PER_ACTIVITY = 1_000;
const raised = new WeakSet<AbortSignal>();

/** The running activity's cancellation signal; undefined outside an activity. */
export function activitySignal(): AbortSignal | undefined {
  const signal = asyncLocalStorage.getStore()?.cancellationSignal;
  if (signal && !raised.has(signal)) {
    // Node warns (MaxListenersExceededWarning) past 10 listeners on one signal: a batch's concurrent calls are not a leak.
    setMaxListeners(LISTENERS_PER_ACTIVITY, signal);
    raised.add(signal);
  }
  return signal;
}

/** Throws once the running activity is cancelled: a step that swallowed a failed (aborted) call must not record an outcome from it. */
export function throwIfCancelled(): void {
  const signal = activitySignal();
  if (signal?.aborted) throw new CancelledFailure('the activity was cancelled');
}

type HandlerOptions = { abortSignal?: unknown } | undefined;

/**
 * `client` with `operations` taking the running activity's signal (an explicit `abortSignal` wins). Outside an
 * activity the call is unchanged. Any other member (config, middlewareStack, send) is the client's own.
 */
export function abortable<T extends object>(client: T, operations: readonly string[]): T {
  const wrapped = new Set(operations);
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || !wrapped.has(String(prop))) return value;
      const hit = cache.get(prop);
      if (hit) return hit;
      const fn = value as (input: unknown, options?: HandlerOptions) => unknown;
      const call = (input: unknown, options?: HandlerOptions): unknown => {
        const signal = activitySignal();
        if (!signal || options?.abortSignal !== undefined) return fn.call(target, input, options);
        return fn.call(target, input, { ...options, abortSignal: signal });
      };
      cache.set(prop, call);
      return call;
    },
  });
}

/**
 * Activity interceptor: once the activity is cancelled, its outcome is "cancelled", whatever it returned or threw.
 * A result may hold secrets recorded as failed only because their calls were aborted; an error may be the abort's
 * (counted as no answer) or a refusal made final by it. For a worker's shutdown the attempt is then retried at once
 * elsewhere, and a retry does the work again (activities resume from what AWS holds).
 */
export const cancelledOutcome: ActivityInterceptorsFactory = (ctx) => {
  const cancelled = (): CancelledFailure | undefined => {
    const signal = ctx.cancellationSignal;
    if (!signal.aborted) return undefined;
    const reason: unknown = signal.reason;
    const why = reason instanceof Error ? reason.message : String(reason ?? 'cancelled');
    return new CancelledFailure(`${ctx.info.activityType} was cancelled (${why}): its outcome is not used`);
  };
  return {
    inbound: {
      execute: async (input, next) => {
        let result: unknown;
        try {
          result = await next(input);
        } catch (err) {
          throw cancelled() ?? err;
        }
        const c = cancelled();
        if (c) throw c;
        return result;
      },
    },
  };
};
