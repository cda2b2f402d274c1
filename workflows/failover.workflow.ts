/**
 * failover: promote the DR Region's replicas to standalone secrets. The machine
 * (machines/failover.machine.ts) decides, the steps (failover*.steps.ts) act, this file wires
 * messages to machine events and runs the one driver (kit/run-machine.ts). Promotion runs in child
 * workflows (failover-chunk.workflow.ts) of ≤ 1,000 secrets, group by group (tier0 first), on the
 * DR Region's task queue; the pending fence goes to fence.workflow.ts.
 *
 * Decisions:
 * - Fence: planned mode fences every secret to promote on the old primary (deny-write statement
 *   `SecretsDrFenceDenyWrites` merged into its resource policy, then the `secrets-dr:fenced` tag)
 *   before the first StopReplicationToReplica, waits (bounded) for the replicas to catch up with
 *   the fenced primary, and lifts the fence of what it did not promote. Unplanned (or a fence cut
 *   short by the primary going down) hands the fence to `fenceWorkflowId(plan, from)`, an
 *   abandoned child that retries with backoff until the Region answers, so the failover's RTO
 *   never waits for a dead Region.
 * - Lineage: each promotion batch writes one JSON secret in the target Region,
 *   `secrets-dr/<plan>/lineage/<failoverId>/<chunk>-<batch>` (version ids, staging labels, HMACs —
 *   never values), tagged secrets-dr:role=failover-lineage; failback lists that prefix. Every
 *   promoted secret also carries the tag `secrets-dr:failover=<failoverId>`.
 * - Re-runs converge (DESIGN invariant 10): a secret counts as ours when a failover run recorded
 *   promoting it (PROMOTED_BY_TAG) or, with the primary readable, by its ARN suffix; every run
 *   hands all of ours to the fence (a pending fence of an earlier run gets them by signal), and
 *   the report is the union of all runs: per secret, by which run and what remains.
 * - Rotation in flight (invariant 11): planned mode waits, bounded, for it to finish on the
 *   primary and refuses what does not; unplanned promotes and reports the exact next steps, and
 *   never re-homes rotation onto it.
 * - Pause/resume/cancel change the machine's context and are relayed to the running chunk
 *   children; the batch loop reads them between batches (what is promoted stays promoted).
 * - History: the parent holds O(N/100) events (one progress signal per batch), each chunk child
 *   O(1,000/100); no continue-as-new is needed up to ~100,000 secrets.
 */
import { setHandler } from '@temporalio/workflow';
import type { FailoverInput, FailoverReport } from '../domain/failover.js';
import { failoverMachine } from './machines/failover.machine.js';
import { failoverBatchProgressSignal, failoverProgressQuery } from './failover.messages.js';
import { FailoverRun } from './failover.run.js';
import { announceStarted, applyFence, awaitReplicasCaughtUp, requestApproval, runPreflight, settleRotations } from './failover.steps.js';
import { liftFencesNotPromoted, promote, verify } from './failover-promotion.steps.js';
import { announceCompleted, handOffFence, rehomeRotation } from './failover-completion.steps.js';
import { MachineDriver } from './kit/run-machine.js';
import { onControl } from './kit/control.js';
import { controlEvent } from './kit/control-events.js';

export async function failoverWorkflow(raw: FailoverInput): Promise<FailoverReport> {
  const run = new FailoverRun(raw);
  const machine = new MachineDriver(failoverMachine, run.machineInput());

  onControl(
    (kind, req) => machine.send(controlEvent(kind, req)),
    () => run.children,
  );
  run.gate.install(() => `${run.workflowId}, step: ${machine.state}`);
  setHandler(failoverBatchProgressSignal, ({ key, counts, settled }) => {
    run.live.set(key, counts);
    if (settled) run.liveSettled.set(key, settled);
  });
  setHandler(failoverProgressQuery, () => run.progress(machine.context, machine.state));

  const output = await machine.run({
    runPreflight: () => runPreflight(run),
    requestApproval: () => requestApproval(run, () => machine.state === 'awaitingApproval'),
    announceStarted: () => announceStarted(run),
    settleRotations: () => settleRotations(run),
    applyFence: () => applyFence(run),
    awaitReplicasCaughtUp: () => awaitReplicasCaughtUp(run),
    promote: () => promote(run, () => machine.context),
    liftFencesNotPromoted: () => liftFencesNotPromoted(run),
    verify: () => verify(run),
    rehomeRotation: () => rehomeRotation(run),
    handOffFence: () => handOffFence(run),
    announceCompleted: () => announceCompleted(run, machine.context),
  });
  return run.report(output, machine.context);
}
