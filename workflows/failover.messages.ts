/** Failover's signals, queries and updates (names from domain/, so the CLI needs no workflow code). */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { APPROVAL_UPDATE, PENDING_APPROVAL_QUERY, type ApprovalDecision, type PendingApproval } from '../domain/approval.js';
import {
  BATCH_PROGRESS_SIGNAL,
  CANCEL_SIGNAL,
  FAILOVER_PROGRESS_QUERY,
  PAUSE_SIGNAL,
  RESUME_SIGNAL,
  type ControlRequest,
  type FailoverProgress,
  type OutcomeCounts,
} from '../domain/failover.js';

export const pauseSignal = defineSignal<[ControlRequest?]>(PAUSE_SIGNAL);
export const resumeSignal = defineSignal<[ControlRequest?]>(RESUME_SIGNAL);
export const cancelSignal = defineSignal<[ControlRequest?]>(CANCEL_SIGNAL);
export const failoverProgressQuery = defineQuery<FailoverProgress>(FAILOVER_PROGRESS_QUERY);
export const failoverApprovalUpdate = defineUpdate<{ accepted: true; decision: ApprovalDecision['decision'] }, [ApprovalDecision]>(APPROVAL_UPDATE);
export const failoverPendingApprovalQuery = defineQuery<PendingApproval | null>(PENDING_APPROVAL_QUERY);

/** A promotion child reports each finished batch (key = chunk/batch), so `watch` moves while a child runs. */
export interface BatchProgress {
  key: string;
  counts: OutcomeCounts;
}
export const failoverBatchProgressSignal = defineSignal<[BatchProgress]>(BATCH_PROGRESS_SIGNAL);
