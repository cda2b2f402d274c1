/** Shared wiring of setup's workflows: activity options for writes, failure → reason, batching helpers. */
import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';
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
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
};

/** The innermost message of a failed activity/child (ActivityFailure → ApplicationFailure). */
export function failureText(err: unknown): { message: string; type?: string } {
  let e = err as { cause?: unknown; message?: string; type?: string } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return { message: e?.message ?? String(err), type: e?.type };
}

export function failureReason(err: unknown): { reason: FailureReason; message: string } {
  const { message, type } = failureText(err);
  if (type === 'SecretNotFound') return { reason: 'deleted', message };
  return { reason: reasonOf(message, type), message };
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
