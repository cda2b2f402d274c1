/**
 * How workflows reach activities: per-Region proxies on the Region's task queue, with retry
 * policies that stop on the project's non-retryable error types.
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';
import { regionTaskQueue } from '../domain/ids.js';

/** Reads: a Region that does not answer within a minute is reported, not waited for. */
const READ_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '90s',
  heartbeatTimeout: '30s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '10s',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
};

export function regionActivities<T>(region: string, prefix: string | undefined, options: ActivityOptions = READ_OPTIONS): T {
  return proxyActivities<T & Record<string, never>>({ ...options, taskQueue: regionTaskQueue(region, prefix) }) as T;
}
