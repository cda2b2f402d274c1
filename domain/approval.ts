/**
 * Approval gates: a workflow waiting for a person answers the `approval` update
 * (`secrets-dr approve ID` / `reject ID --reason`). One name, one payload, for every workflow.
 */
import { z } from 'zod';

export const APPROVAL_UPDATE = 'approval';
export const PENDING_APPROVAL_QUERY = 'pendingApproval';

export const ApprovalDecision = z.object({
  decision: z.enum(['approve', 'reject']),
  reason: z.string().max(1_000).optional(),
  by: z.string().max(200).optional(),
  /** Optional: which gate (e.g. a secret name) — a workflow with several gates checks it. */
  subject: z.string().optional(),
});
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;

export const PendingApproval = z.object({
  step: z.string(),
  subject: z.string().optional(),
  requestedAt: z.string(),
  timeoutMs: z.number(),
});
export type PendingApproval = z.infer<typeof PendingApproval>;
