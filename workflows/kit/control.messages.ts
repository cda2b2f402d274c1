/**
 * Control messages shared by every operation that can be steered between batches (failover,
 * failback, setup, ...): pause, resume, cancel, the approval gate's update and query, and the
 * progress query. Names from domain/ so the CLI and the workflows agree on one spelling.
 */
import { defineQuery, defineSignal, defineUpdate, type QueryDefinition } from '@temporalio/workflow';
import { APPROVAL_UPDATE, PENDING_APPROVAL_QUERY, type ApprovalDecision, type PendingApproval } from '../../domain/approval.js';
import { CANCEL_SIGNAL, PAUSE_SIGNAL, PROGRESS_QUERY, RESUME_SIGNAL, type ControlRequest } from '../../domain/control.js';

export const pauseSignal = defineSignal<[ControlRequest?]>(PAUSE_SIGNAL);
export const resumeSignal = defineSignal<[ControlRequest?]>(RESUME_SIGNAL);
export const cancelSignal = defineSignal<[ControlRequest?]>(CANCEL_SIGNAL);

/** The answer to an approval: accepted (a refused one never reaches history: the validator throws). */
export interface ApprovalAccepted {
  accepted: true;
  decision: ApprovalDecision['decision'];
  /** Which gate was answered, when a workflow has several (failback's per-secret asks). */
  subject?: string;
}
export const approvalUpdate = defineUpdate<ApprovalAccepted, [ApprovalDecision]>(APPROVAL_UPDATE);
export const pendingApprovalQuery = defineQuery<PendingApproval | null>(PENDING_APPROVAL_QUERY);

/** Every operation answers `progress`; each names its own payload type (one name, one definition site). */
export const progressQuery = <P>(): QueryDefinition<P> => defineQuery<P>(PROGRESS_QUERY);

export type ControlSignal = typeof pauseSignal;
