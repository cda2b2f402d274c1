/**
 * The one approval gate: a pending approval shown by the `pendingApproval` query, answered by the
 * `approval` update (`secrets-dr approve|reject ID`), validated synchronously (a refused answer
 * never reaches history: update validators must not be async), bounded by a timeout. Its answer
 * is the machine event the workflow sends: APPROVED, REJECTED or APPROVAL_TIMEOUT.
 */
import { condition, setHandler } from '@temporalio/workflow';
import type { ApprovalDecision, PendingApproval } from '../../domain/approval.js';
import { approvalUpdate, pendingApprovalQuery, type ApprovalAccepted } from './control.messages.js';

export type GateEvent = { type: 'APPROVED'; by?: string } | { type: 'REJECTED'; reason?: string; by?: string } | { type: 'APPROVAL_TIMEOUT' };

/** How the gate waits: Temporal's `condition` (true when `ready`, false at the timeout); a unit test passes its own. */
type TimedWait = (ready: () => boolean, timeoutMs: number) => Promise<boolean>;

export class ApprovalGate {
  constructor(readonly waitFor: TimedWait = condition) {}

  #pending: PendingApproval | null = null;
  #decision: ApprovalDecision | undefined;
  /** How long the last wait lasted (RTO excludes it). */
  waitedMs = 0;

  get pending(): PendingApproval | null {
    return this.#pending;
  }

  /** Throws (synchronously) when the answer cannot be taken; `where` names the workflow's step for the message. */
  validate(d: ApprovalDecision, where: string): void {
    if (this.#pending === null || this.#decision !== undefined) throw new Error(`not waiting for approval (${where})`);
    if (d.decision === 'reject' && !d.reason) throw new Error('a rejection needs a reason: reject ID --reason TEXT');
  }

  accept(d: ApprovalDecision): ApprovalAccepted {
    this.#decision = d;
    return { accepted: true, decision: d.decision };
  }

  /**
   * Opens the gate, then announces it (`announce`: the Approval Requested event), then waits for the
   * answer or the timeout. The gate is open before anything is awaited: an operator who sees the
   * step (or the event) can answer at once. Returns undefined when `stillWanted` turned false
   * meanwhile (the machine moved on, e.g. cancelled): then there is nothing to send.
   */
  async wait(
    request: Omit<PendingApproval, 'requestedAt'>,
    stillWanted: () => boolean = () => true,
    announce?: () => Promise<unknown>,
  ): Promise<GateEvent | undefined> {
    this.#decision = undefined;
    this.#pending = { ...request, requestedAt: new Date().toISOString() };
    const t0 = Date.now();
    await announce?.();
    const answered = await this.waitFor(() => this.#decision !== undefined || !stillWanted(), request.timeoutMs);
    this.waitedMs += Date.now() - t0;
    this.#pending = null;
    if (!stillWanted()) return undefined;
    if (!answered) return { type: 'APPROVAL_TIMEOUT' };
    return decisionEvent(this.#decision!);
  }

  /** The update and query handlers, for a workflow whose only gate is this one. */
  install(where: () => string): void {
    setHandler(pendingApprovalQuery, () => this.pending);
    setHandler(approvalUpdate, (d) => this.accept(d), { validator: (d) => this.validate(d, where()) });
  }
}

/** An approval decision as the machine event it stands for. */
export function decisionEvent(d: ApprovalDecision): GateEvent {
  return d.decision === 'approve'
    ? { type: 'APPROVED', ...(d.by ? { by: d.by } : {}) }
    : { type: 'REJECTED', ...(d.reason ? { reason: d.reason } : {}), ...(d.by ? { by: d.by } : {}) };
}
