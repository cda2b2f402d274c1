/** Failover's signals, queries and updates (names from domain/, so the CLI needs no workflow code). */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { APPROVAL_UPDATE, PENDING_APPROVAL_QUERY, type ApprovalDecision, type PendingApproval } from '../domain/approval.js';
import {
  BATCH_PROGRESS_SIGNAL,
  CANCEL_SIGNAL,
  FAILOVER_PROGRESS_QUERY,
  FENCE_ADD_SIGNAL,
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

/** Secrets a failover run made standalone, to fence on the old primary (with the ARN suffix each has in `to`). */
export interface FenceRequest {
  failoverId: string;
  to: string;
  /** Absent: every plan secret that is a primary in the fenced Region. */
  names?: string[];
  suffixes?: Record<string, string>;
}
/** A later failover run adds its secrets to a fence that is still pending (idempotent: a fenced name is skipped). */
export const fenceAddSignal = defineSignal<[FenceRequest]>(FENCE_ADD_SIGNAL);
