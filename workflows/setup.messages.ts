/** Messages of setup's workflows: progress query, child → parent progress signals, the approval update. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { APPROVAL_UPDATE, PENDING_APPROVAL_QUERY, type ApprovalDecision, type PendingApproval } from '../domain/approval.js';
import type { SetupProgress } from '../domain/replication.js';

export const SETUP_PROGRESS_QUERY = 'progress';
export const setupProgressQuery = defineQuery<SetupProgress>(SETUP_PROGRESS_QUERY);

/** A batch reports how far it got (replicate-batch → replicate). */
export const batchProgressSignal = defineSignal<[{ batch: number; done: number; counts: Record<string, number> }]>('batchProgress');

/** A conflict starts or stops waiting for a person (resolve-conflict → replicate), so `setup` can say whom to ask. */
export const approvalStateSignal = defineSignal<[{ workflowId: string; secret: string; region: string; pending: boolean }]>('approvalState');

export const approvalUpdate = defineUpdate<{ accepted: true; decision: ApprovalDecision['decision'] }, [ApprovalDecision]>(APPROVAL_UPDATE);
export const pendingApprovalQuery = defineQuery<PendingApproval | null>(PENDING_APPROVAL_QUERY);
