/**
 * failback: make the original primary authoritative again without losing a value (DESIGN.md).
 * The machine (machines/failback.machine.ts) orders the fleet-wide steps and decides the outcome;
 * the steps (failback*.steps.ts) act; this file wires messages to machine events and runs the one
 * driver (kit/run-machine.ts). Every step over secrets runs in child workflows
 * (failback-batch.workflow.ts) of ≤ 500 secrets, through the one batch loop (failback-phase.ts).
 *
 * Decisions:
 * - "Changed since failover" is decided per secret against the lineage recorded at promotion
 *   (`secrets-dr/<plan>/lineage/<failoverId>/…` in the DR Region: version ids and HMACs) by the
 *   earliest failover since the failback that last verified the secret: every failover run, and
 *   failovers to different DR Regions, are reconciled, not only the latest. Each failback leaves
 *   `secrets-dr/<plan>/failback/<stamp>/…` (names it verified) for the next one: AWS-side truth
 *   that outlives Temporal's history retention.
 * - One writable side at a time: the side replication overwrites gets failback's deny-writes fence
 *   before it is read for the last time; copy-back lifts the original's fence for its own write
 *   only; re-replication lifts it once the other side is fenced. A secret that does not fail back
 *   gets the original's fence back before the other side's is lifted.
 * - Per-secret asks (plan.failback.onOriginalChanged/onBothChanged = ask) wait for the `approval`
 *   update with `subject` = the secret, up to plan.failback.approvalTimeout, while the other
 *   secrets are reconciled; nothing of an asked secret is written before its answer. Approve = the
 *   DR value wins (`--reason keep-original` keeps the original's); reject = the secret is left as
 *   it is (still standalone in the DR Region, still fenced) and reported.
 * - Re-replication overwrites a whole secret (ForceOverwriteReplicaSecret): it is sent only after
 *   the copy-back or the backups of reconciliation, and the activity itself refuses it when the
 *   overwritten side holds a value that exists nowhere else.
 * - Pause holds between chunks in every phase; cancel stops reconciling new secrets, and carries
 *   the reconciled ones through to the end (a secret half failed back would be writable nowhere).
 * - The fence stays until the end (unfencing), except for the statement lifted by the
 *   orchestrator's own writes; secrets that did not fail back stay fenced.
 */
import { setHandler } from '@temporalio/workflow';
import { ApprovalDecision } from '../domain/approval.js';
import type { FailbackInput, FailbackReport } from '../domain/failback.js';
import { failbackMachine } from './machines/failback.machine.js';
import { failbackProgressQuery } from './failback.messages.js';
import { FailbackRun } from './failback.run.js';
import { reconcile, requestApproval, runPreflight } from './failback.steps.js';
import { announceCompleted, awaitInSync, reReplicate, restoreRotation, unfence, verify } from './failback-completion.steps.js';
import { MachineDriver } from './kit/run-machine.js';
import { onControl } from './kit/control.js';
import { controlEvent } from './kit/control-events.js';
import { approvalUpdate, pendingApprovalQuery } from './kit/control.messages.js';

export async function failbackWorkflow(raw: FailbackInput): Promise<FailbackReport> {
  const run = new FailbackRun(raw);
  const machine = new MachineDriver(failbackMachine, run.machineInput());
  const control = () => machine.context;

  onControl((kind, req) => machine.send(controlEvent(kind, req)));
  setHandler(failbackProgressQuery, () => run.progress(machine.context, machine.state));
  // One update answers the fleet-wide gate or, while it is closed, a per-secret ask (by subject).
  setHandler(pendingApprovalQuery, () => {
    const a = run.asks.get(run.openAsks()[0] ?? '');
    return run.gate.pending ?? (a ? { step: `failback-${a.change}`, subject: a.subject, requestedAt: a.requestedAt, timeoutMs: a.timeoutMs } : null);
  });
  setHandler(
    approvalUpdate,
    (d) => {
      if (run.gate.pending) return run.gate.accept(d);
      const subject = d.subject ?? run.openAsks()[0]!;
      run.answers.set(subject, d);
      return { accepted: true as const, decision: d.decision, subject };
    },
    {
      // Validators run synchronously: a refused answer never reaches history.
      validator: (d) => {
        ApprovalDecision.parse(d);
        if (run.gate.pending) return run.gate.validate(d, `${run.workflowId}, step: ${machine.state}`);
        if (d.decision === 'reject' && !d.reason) throw new Error('a rejection needs a reason');
        const open = run.openAsks();
        if (open.length === 0) throw new Error(`${run.workflowId} is not waiting for approval (step: ${machine.state})`);
        if (d.subject === undefined && open.length > 1)
          throw new Error(
            `${open.length} secrets wait for an answer: say which with --subject (${open.slice(0, 5).join(', ')}${open.length > 5 ? ', ...' : ''})`,
          );
        if (d.subject !== undefined && !open.includes(d.subject))
          throw new Error(`no pending question about ${d.subject} (pending: ${open.slice(0, 5).join(', ') || 'none'})`);
      },
    },
  );

  const output = await machine.run({
    runPreflight: () => runPreflight(run, control),
    requestApproval: () => requestApproval(run, () => machine.state === 'awaitingApproval'),
    reconcile: () => reconcile(run, control),
    reReplicate: () => reReplicate(run, control),
    awaitInSync: () => awaitInSync(run, control),
    verify: () => verify(run, control),
    restoreRotation: () => restoreRotation(run),
    unfence: () => unfence(run, control),
    announceCompleted: () => announceCompleted(run, machine.context),
  });
  return run.report(output, machine.context);
}
