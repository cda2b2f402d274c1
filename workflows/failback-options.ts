/** Activity options and messages of the failback workflows. */
import { defineQuery, defineUpdate, type ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';
import { APPROVAL_UPDATE, PENDING_APPROVAL_QUERY, type ApprovalDecision, type PendingApproval } from '../domain/approval.js';
import { FAILBACK_PROGRESS_QUERY, type FailbackProgress } from '../domain/failback.js';

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

export const failbackProgressQuery = defineQuery<FailbackProgress>(FAILBACK_PROGRESS_QUERY);
export const failbackApprovalUpdate = defineUpdate<{ accepted: true; decision: ApprovalDecision['decision']; subject?: string }, [ApprovalDecision]>(APPROVAL_UPDATE);
export const failbackPendingApprovalQuery = defineQuery<PendingApproval | null>(PENDING_APPROVAL_QUERY);
