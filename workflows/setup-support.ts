/** Shared wiring of setup's workflows: activity options for writes, failure → reason, batching helpers. */
import type { ActivityOptions } from '@temporalio/workflow';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';
import { failureMessage, failureType } from './kit/failures.js';
import type { FailureReason } from '../domain/replication.js';
import { reasonOf } from '../domain/replication.js';

/** Writes and batches of writes: quota-governed, so they may wait; heartbeats tell a stuck one from a slow one. */
export const WRITE_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '15m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
};

/** Reads of a batch (describe 100 secrets): a little more room than single reads. */
export const BATCH_READ_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '5m',
  heartbeatTimeout: '1m',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '10s',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
};

/** The innermost message and error type of a failed activity/child (the kit's `rootCause` and `instanceof` reading). */
export function failureText(err: unknown): { message: string; type?: string } {
  return { message: failureMessage(err), type: failureType(err) };
}

export function failureReason(err: unknown): { reason: FailureReason; message: string } {
  const { message, type } = failureText(err);
  if (type === ErrorType.SecretNotFound) return { reason: 'deleted', message };
  return { reason: reasonOf(message, type), message };
}

/** One slicing helper for every batch loop (the kit's). */
export { chunk } from './kit/batch-loop.js';
