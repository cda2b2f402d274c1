/**
 * How each kind of operation is read for the dashboard: which query gives its progress, and how
 * its answer (or, once finished, its report) becomes rows of the page. Pure mappings over the
 * workflows' own payload types; the queries themselves run in collect.ts.
 */
import type { PendingApproval } from '../domain/approval.js';
import { formatDuration } from '../domain/duration.js';
import type { FailbackProgress, FailbackReport } from '../domain/failback.js';
import type { FailoverProgress, FailoverReport } from '../domain/failover.js';
import { PROGRESS_QUERY as CONTROL_PROGRESS_QUERY } from '../domain/control.js';
import type { RecoverStatus } from '../domain/recover.js';
import { RECOVER_STATUS_QUERY } from '../domain/recover.js';
import type { SetupProgress, SetupReport } from '../domain/replication.js';
import { OUTCOME_ROWS_LIMIT, type ApprovalView, type FinishedView, type OperationKind, type OperationView, type OutcomeRow } from './model.js';

/** A word a shell takes as it is, else single-quoted: commands on the page are pasted into a terminal. */
export function shellArg(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The progress query of each kind that has one. */
export const PROGRESS_QUERY: Partial<Record<OperationKind, string>> = {
  setup: CONTROL_PROGRESS_QUERY,
  failover: CONTROL_PROGRESS_QUERY,
  failback: CONTROL_PROGRESS_QUERY,
  recover: RECOVER_STATUS_QUERY,
};

/** Kinds whose workflow answers the pending-approval query (plus setup's conflict children). */
export const APPROVAL_KINDS: ReadonlySet<string> = new Set(['failover', 'failback', 'recover', 'conflict']);

type Base = Pick<OperationView, 'kind' | 'workflowId' | 'runId' | 'startedAt'>;
const nonZero = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));

/** A running operation as the page shows it, from its progress answer (undefined: it has no query). */
export function operationView(base: Base, progress: unknown, nowMs: number): OperationView {
  const v: OperationView = { ...base, notes: [], commands: [] };
  const id = shellArg(base.workflowId);
  switch (base.kind) {
    case 'failover': {
      const p = progress as FailoverProgress | undefined;
      v.commands.push(`secrets-dr watch ${id}`, `secrets-dr pause ${id}`, `secrets-dr cancel ${id} --reason TEXT`);
      if (!p) break;
      Object.assign(v, { step: p.paused ? `${p.step} (PAUSED)` : p.cancelRequested ? `${p.step} (cancelling)` : p.step, done: p.processed, total: p.total });
      v.counts = { promoted: p.counts.promoted, 'already standalone': p.counts.alreadyStandalone, failed: p.counts.failed, skipped: p.counts.skipped };
      v.notes.push(`${p.from} → ${p.to}, ${p.mode}`);
      if (p.ratePerSecond > 0) v.notes.push(`${p.ratePerSecond} secrets/s${p.etaMs !== undefined ? `, ETA ${formatDuration(p.etaMs)}` : ''}`);
      if (p.expectedMs !== undefined) v.notes.push(`expected ${formatDuration(p.expectedMs)} at the plan's write quota share`);
      v.notes.push(
        `fence: ${p.fence.state}${p.fence.fenced ? ` (${p.fence.fenced} fenced)` : ''}${p.fence.handedTo ? `, pending in ${p.fence.handedTo}` : ''}`,
      );
      if (p.settled?.length) v.rows = p.settled.map((o) => ({ secret: o.name, region: p.to, status: o.status, ...(o.reason ? { detail: o.reason } : {}) }));
      break;
    }
    case 'failback': {
      const p = progress as FailbackProgress | undefined;
      if (!p) break;
      const finished = (p.counts.verified ?? 0) + (p.counts.failed ?? 0) + (p.counts.skipped ?? 0);
      Object.assign(v, { step: p.step, done: finished, total: p.total, counts: nonZero(p.counts) });
      v.notes.push(p.reverse ? `reverse: ${p.to} stays primary, replicating into ${p.from}` : `${p.to} → ${p.from}`);
      if (p.pendingAsks.length) v.notes.push(`${p.pendingAsks.length} secret(s) waiting for a decision (see pending approvals)`);
      if (p.settled?.length) v.rows = p.settled.map((o) => ({ secret: o.name, status: o.status, ...(o.reason ? { detail: o.reason } : {}) }));
      break;
    }
    case 'setup': {
      const p = progress as SetupProgress | undefined;
      if (!p) break;
      Object.assign(v, { step: p.phase, done: p.done, total: p.total, counts: nonZero(p.counts) });
      if (p.awaitingApproval.length) v.notes.push(`${p.awaitingApproval.length} conflict(s) waiting for approval`);
      break;
    }
    case 'recover': {
      const p = progress as RecoverStatus | undefined;
      if (!p) break;
      v.step = p.phase;
      v.notes.push(`${p.hints} hint(s), ${p.duplicates} duplicate(s), ${p.failedProbes} failed probe(s) of the primary`);
      if (p.failoverWorkflowId) v.notes.push(`failover: ${p.failoverWorkflowId}`);
      break;
    }
    case 'fence':
      v.step = 'pending';
      v.notes.push(`fences the old primary in ${base.workflowId.split('/').pop()} when that Region answers again`);
      break;
    default:
      v.notes.push(`running for ${formatDuration(Math.max(0, nowMs - Date.parse(base.startedAt)))} (it has no progress query)`);
  }
  return v;
}

/** Kinds whose approval update picks the gate by `--subject` (failback's per-secret asks; one conflict per child). */
const SUBJECT_KINDS: ReadonlySet<string> = new Set(['failback', 'conflict']);

/** Approvals a workflow waits for: its pending gate, and (failback) every per-secret ask. */
export function approvalViews(kind: string, workflowId: string, gate: PendingApproval | null | undefined, progress: unknown): ApprovalView[] {
  const asks: PendingApproval[] = gate ? [gate] : [];
  if (kind === 'failback') {
    for (const a of (progress as FailbackProgress | undefined)?.pendingAsks ?? []) {
      if (!asks.some((x) => x.subject === a.subject))
        asks.push({ step: `failback-${a.change}`, subject: a.subject, requestedAt: a.requestedAt, timeoutMs: a.timeoutMs });
    }
  }
  const id = shellArg(workflowId);
  return asks.map((a) => {
    // Only workflows with several gates at once tell them apart by subject (a failover's subject is a description).
    const subject = a.subject && SUBJECT_KINDS.has(kind) ? ` --subject ${shellArg(a.subject)}` : '';
    return {
      workflowId,
      kind,
      step: a.step,
      subject: a.subject,
      requestedAt: a.requestedAt,
      timeoutMs: a.timeoutMs,
      approve: `secrets-dr approve ${id}${subject}`,
      reject: `secrets-dr reject ${id}${subject} --reason TEXT`,
    };
  });
}

/** A finished operation with its per-secret outcomes, from its report (the workflow's result). */
export function finishedView(base: Base & { status: string; closedAt?: string }, report: unknown): FinishedView {
  const { startedAt: _s, ...rest } = base;
  let rows: OutcomeRow[] = [];
  let summary: string | undefined;
  let outcome: string | undefined;
  let counts: Record<string, number> | undefined;
  if (report && typeof report === 'object') {
    if (base.kind === 'failover') {
      const r = report as FailoverReport;
      outcome = r.outcome;
      counts = { promoted: r.counts.promoted, 'already standalone': r.counts.alreadyStandalone, failed: r.counts.failed, skipped: r.counts.skipped };
      summary = `${r.from} → ${r.to}, ${r.mode}, ${r.total} secret(s) in ${formatDuration(r.durationMs)}${r.rtoMs !== undefined ? `, RTO ${formatDuration(r.rtoMs)}` : ''}${r.detail ? ` — ${r.detail}` : ''}`;
      rows = (r.outcomes ?? r.attention ?? []).map((o) => ({ secret: o.name, region: r.to, status: o.status, detail: o.reason ?? o.remains?.[0] }));
    } else if (base.kind === 'failback') {
      const r = report as FailbackReport;
      outcome = r.outcome;
      counts = nonZero(r.counts);
      summary = `${r.reverse ? `reverse into ${r.from}` : `${r.to} → ${r.from}`}, ${r.total} secret(s) in ${formatDuration(r.durationMs)}${r.detail ? ` — ${r.detail}` : ''}`;
      rows = (r.items ?? []).map((i) => ({ secret: i.name, region: i.dr ?? r.to, status: i.status, detail: i.reason ?? String(i.change) }));
    } else if (base.kind === 'setup') {
      const r = report as SetupReport;
      outcome = r.attention > 0 ? 'needs attention' : 'done';
      counts = nonZero(r.counts);
      summary = `${r.primaryRegion} → ${r.drRegions.join(', ')}, ${r.outcomes.length + (r.omittedOutcomes ?? 0)} replica(s) in ${formatDuration(r.durationMs)}`;
      rows = r.outcomes.map((o) => ({
        secret: o.secret,
        region: o.region,
        status: o.state,
        detail: [o.action, o.reason, o.detail].filter(Boolean).join(': '),
      }));
    }
  }
  return { ...rest, outcome, counts, summary, rows: rows.slice(0, OUTCOME_ROWS_LIMIT), more: Math.max(0, rows.length - OUTCOME_ROWS_LIMIT) };
}
