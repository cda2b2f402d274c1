/**
 * An activity's cancellation reaches its AWS calls. Temporal cancels a running activity when its workflow asks
 * (delivered with a heartbeat), when a heartbeat's answer says the attempt no longer exists (its heartbeat timed
 * out: a retry replaces it, and this one must stop writing), and when its worker shuts down (after the worker's
 * shutdownGraceTime). Without this, an AWS call in flight ran to its timeout (3 sends × SECRETS_DR_AWS_TIMEOUT_MS)
 * and the attempt went on with its next secret, a second writer beside its retry. This process also ends its
 * activities of a Region at once when it loses or yields that Region's write lease (worker/region-lease.ts): their
 * writes are refused from then on anyway, and their retries belong to the new holder.
 * - `activitySignal()`: the running activity's signal, aborted by either (Temporal's cancellation, the lease's end).
 * - `abortable(client, operations)`: every listed operation called inside an activity gets that signal as its
 *   `abortSignal` (the SDK aborts the request; the error is an `AbortError`, which activities/aws-errors.ts counts
 *   as no answer, so a batch activity throws instead of recording it per secret). The signed-request clients
 *   (worker/cross-account-client.ts, STS) read `activitySignal()` themselves.
 * - `cancelledOutcome(leaseSignal)`: the Region worker's interceptor. An activity that returns or throws after its
 *   cancellation is reported cancelled (after its lease's end: WriteLeaseLost, retried), not completed: its result
 *   may hold secrets it recorded as failed only because their calls were aborted.
 * - `pause(ms)`: a poll's sleep that ends with the activity.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setMaxListeners } from 'node:events';
import { asyncLocalStorage } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { ErrorType } from '../domain/errors.js';

/** Calls of one activity in flight at once (a batch runs up to a few dozen): each adds an abort listener, removed when its request closes. */
const LISTENERS_PER_ACTIVITY = 1_000;
/** The write lease the running activity was started under (set by cancelledOutcome). */
const leaseScope = new AsyncLocalStorage<AbortSignal>();
/** Per activity: its signal, combined with its lease's when it runs under one. */
const signals = new WeakMap<AbortSignal, AbortSignal>();

/** The running activity's signal (Temporal's cancellation, or the end of its write lease); undefined outside an activity. */
export function activitySignal(): AbortSignal | undefined {
  const own = asyncLocalStorage.getStore()?.cancellationSignal;
  if (!own) return undefined;
  let signal = signals.get(own);
  if (!signal) {
    const lease = leaseScope.getStore();
    signal = lease ? AbortSignal.any([own, lease]) : own;
    // Node warns (MaxListenersExceededWarning) past 10 listeners on one signal: a batch's concurrent calls are not a leak.
    setMaxListeners(LISTENERS_PER_ACTIVITY, signal);
    signals.set(own, signal);
  }
  return signal;
}

/** The error of work stopped by the activity's end; activities/aws-errors.ts `isBatchFailure` fails the batch on it. */
export function cancelledFailure(what = 'the activity was cancelled'): CancelledFailure {
  return new CancelledFailure(what);
}

/** Throws once the running activity is cancelled: a step that swallowed a failed (aborted) call must not record an outcome from it. */
export function throwIfCancelled(): void {
  if (activitySignal()?.aborted) throw cancelledFailure();
}

/** Sleeps `ms` inside an activity; rejects (CancelledFailure) as soon as the activity is cancelled or its lease ends. */
export function pause(ms: number): Promise<void> {
  const signal = activitySignal();
  if (signal?.aborted) return Promise.reject(cancelledFailure());
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelledFailure());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
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
 * The Region worker's activity interceptor. Once the activity is cancelled, its outcome is "cancelled", whatever it
 * returned or threw: a result may hold secrets recorded as failed only because their calls were aborted; an error
 * may be the abort's (counted as no answer) or a refusal made final by it. For a worker's shutdown the attempt is
 * then retried at once elsewhere, and a retry does the work again (activities resume from what AWS holds). Once the
 * write lease it started under (`leaseSignal()` at its start) has ended, the outcome is WriteLeaseLost (retryable):
 * its retry runs on the new holder.
 */
export function cancelledOutcome(leaseSignal: () => AbortSignal | undefined = () => undefined): ActivityInterceptorsFactory {
  return (ctx) => {
    const lease = leaseSignal();
    const ended = (): Error | undefined => {
      const own = ctx.cancellationSignal;
      if (own.aborted) return new CancelledFailure(`${ctx.info.activityType} was cancelled (${reasonOf(own)}): its outcome is not used`);
      if (lease?.aborted)
        return ApplicationFailure.create({
          type: ErrorType.WriteLeaseLost,
          message: `${ctx.info.activityType} stopped: ${reasonOf(lease)}; the activity is retried on the worker that holds the Region's write lease`,
        });
      return undefined;
    };
    return {
      inbound: {
        execute: async (input, next) => {
          let result: unknown;
          try {
            result = lease ? await leaseScope.run(lease, () => next(input)) : await next(input);
          } catch (err) {
            throw ended() ?? err;
          }
          const e = ended();
          if (e) throw e;
          return result;
        },
      },
    };
  };
}

function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : String(reason ?? 'cancelled');
}
