/**
 * Account failover (`failover --to-account ACCOUNT_ID`): the recovery account's cross-account
 * replicas become standalone secrets there, for the day the primary account itself is the
 * disaster (compromised, locked, deleted). The machine (machines/account-failover.machine.ts)
 * decides, the steps (account.steps.ts) act.
 *
 * Decisions:
 * - Preflight probes both accounts. The recovery account must answer. The primary account may not:
 *   no answer means "promote as they stand" (unplanned), and the report's `consequences` say what
 *   that means (RPO unknown, later primary writes lost). AccessDenied/expired keys alone are refused
 *   unless the operator says `--mode unplanned` (accountFailoverPath): a missing permission looks the
 *   same as a compromised account. A throttled probe is retried. After the approval gate, preflight
 *   runs again; a path that changed fails the run before anything is written.
 * - When the primary answers, DisassociateCrossAccountReplica first (graceful: the primary stops
 *   sending), then StopReplicationToReplica in the recovery account; a detach that fails is a
 *   warning, since promotion cuts the link from the recovery side anyway.
 * - Promotion tags each secret with this run and the version it was promoted at: failback reads
 *   them to tell which side changed. Re-runs converge (an earlier run's promotion is reported as
 *   already-standalone). Verify describes each promoted secret again.
 * - Planned: a rotation in flight on a primary is waited for (--rotation-wait) before the fence;
 *   after the fence each replica must catch up with its primary before the detach; what does not is
 *   neither detached nor promoted.
 * - Planned (the primary answers): its secrets are fenced first (deny-writes statement, tagged with
 *   this run), then detached; unplanned: the report says they are unfenced and how to fence them.
 */
import { AccountFailoverInput, primaryFenceOf, unreachablePrimaryConsequences, type AccountFailoverReport } from '../domain/account-dr.js';
import { accountFailoverMachine } from './machines/account-failover.machine.js';
import { AccountRun, answerProgress, catchUp, detach, failoverPreflight, fencePrimaries, promote, settleRotations, verify } from './account.steps.js';
import { DEFAULT_ROTATION_WAIT_MS } from '../domain/failover.js';
import { MachineDriver } from './kit/run-machine.js';
import { ApprovalGate } from './kit/approval-gate.js';

export async function accountFailoverWorkflow(raw: AccountFailoverInput): Promise<AccountFailoverReport> {
  const input = AccountFailoverInput.parse(raw);
  const run = new AccountRun(input);
  const gate = new ApprovalGate();
  const requireApproval = input.plan.failover.requireApproval && !input.skipApproval;
  const machine = new MachineDriver(accountFailoverMachine, { requireApproval, fence: input.plan.failover.fence });
  gate.install(() => `${run.workflowId}, step: ${machine.state}`);
  answerProgress(run, () => machine.state);
  const outcome = await machine.run({
    runPreflight: () => failoverPreflight(run, input.mode),
    requestApproval: () =>
      gate.wait(
        {
          step: 'account-failover',
          subject: `primary account → ${input.accountId} (${run.states.length} secrets)`,
          timeoutMs: input.plan.failover.approvalTimeout,
        },
        () => machine.state === 'awaitingApproval',
      ),
    settleRotations: () => settleRotations(run, input.rotationWaitMs ?? DEFAULT_ROTATION_WAIT_MS),
    fence: () => fencePrimaries(run),
    catchUp: () => catchUp(run),
    detach: () => detach(run),
    promote: () => promote(run),
    verify: () => verify(run),
  });
  const reach = run.primaryProbe?.reach ?? 'unreachable';
  return {
    ...run.report(outcome, machine.context.failure),
    primaryAccount: reach,
    detachedFromPrimary: machine.context.primaryAnswers && outcome !== 'rejected',
    consequences: unreachablePrimaryConsequences(reach, input.accountId),
    primaryFence: primaryFenceOf({
      planName: input.plan.name,
      accountId: input.accountId,
      reach,
      fenceEnabled: input.plan.failover.fence,
      ran: run.fenceRan,
      fenced: run.fenced,
      failed: run.fenceFailed,
    }),
  };
}
