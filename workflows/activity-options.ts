/**
 * How workflows reach activities: per-Region proxies on the Region's task queue, with retry
 * policies that stop on the project's non-retryable error types.
 */
import { proxyActivities, type ActivityOptions, type RetryPolicy } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';
import { regionTaskQueue } from '../domain/ids.js';

type Timeouts = Pick<ActivityOptions, 'startToCloseTimeout' | 'scheduleToCloseTimeout' | 'heartbeatTimeout'>;
type Backoff = Required<Pick<RetryPolicy, 'initialInterval' | 'maximumInterval' | 'maximumAttempts'>>;

/** Activity options with the house retry policy: backoff doubling from `initialInterval`, stopping on the project's non-retryable error types. */
export function activityOptions(timeouts: Timeouts, { initialInterval, maximumInterval, maximumAttempts }: Backoff): ActivityOptions {
  return {
    ...timeouts,
    retry: { initialInterval, backoffCoefficient: 2, maximumInterval, maximumAttempts, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
  };
}

/** Reads: a Region that does not answer within a minute is reported, not waited for. */
const READ_OPTIONS = activityOptions(
  { startToCloseTimeout: '2m', scheduleToCloseTimeout: '90s', heartbeatTimeout: '30s' },
  { initialInterval: '500ms', maximumInterval: '10s', maximumAttempts: 3 },
);

export function regionActivities<T>(region: string, prefix: string | undefined, options: ActivityOptions = READ_OPTIONS): T {
  return proxyActivities<T & Record<string, never>>({ ...options, taskQueue: regionTaskQueue(region, prefix) }) as T;
}
