/** Shared wiring of setup's workflows: activity options for writes, failure → reason, batching helpers. */
import { ErrorType } from '../domain/errors.js';
import { activityOptions } from './activity-options.js';
import { failureMessage, failureType } from './kit/failures.js';
import type { FailureReason } from '../domain/replication.js';
import { reasonOf } from '../domain/replication.js';

/** Writes and batches of writes: quota-governed, so they may wait; heartbeats tell a stuck one from a slow one. */
export const WRITE_OPTIONS = activityOptions(
  { startToCloseTimeout: '15m', heartbeatTimeout: '1m' },
  { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
);

/** Reads of a batch (describe 100 secrets): a little more room than single reads. */
export const BATCH_READ_OPTIONS = activityOptions(
  { startToCloseTimeout: '5m', heartbeatTimeout: '1m' },
  { initialInterval: '500ms', maximumInterval: '10s', maximumAttempts: 5 },
);

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
