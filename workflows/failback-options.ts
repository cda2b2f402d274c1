/** Activity options of the failback workflows. */
import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';

/**
 * Batch activities (reads and quota-governed writes): they heartbeat per secret, so a killed worker
 * is noticed within the heartbeat timeout and the retry — describe-first, tokens from the workflow
 * id — skips what the killed attempt already did.
 */
export const FAILBACK_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '15m',
  heartbeatTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 20, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
};
