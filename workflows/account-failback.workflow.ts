/**
 * Account failback: the primary account (recovered, or rebuilt with the same secret names) becomes
 * authoritative again. Preflight: both accounts must answer; the secrets our failover promoted in
 * the recovery account are found by their tags. Reconcile, per secret (activities/account.activities.ts
 * `reconcileAccountSecrets`): which side changed since the promotion decides, with the plan's
 * failback policies, whether the recovery value is copied back (the primary backed up first) or the
 * primary's kept; the recovery account's standalone copy is backed up there and deleted; then
 * setup's tail creates the replica again, associates it and waits for InSync. A secret whose
 * policy says `ask` is left untouched on both sides and reported (exit code 3). The plan's approval
 * gate (failover.requireApproval, as Region failback) waits after preflight; once approved,
 * preflight runs again.
 */
import { AccountFailbackInput, type AccountReport } from '../domain/account-dr.js';
import { accountSetupMachine } from './machines/account-setup.machine.js';
import { AccountRun, answerProgress, associate, awaitInSync, createReplicas, failbackPreflight, inspect, reconcile } from './account.steps.js';
import { MachineDriver } from './kit/run-machine.js';
import { ApprovalGate } from './kit/approval-gate.js';

export async function accountFailbackWorkflow(raw: AccountFailbackInput): Promise<AccountReport> {
  const input = AccountFailbackInput.parse(raw);
  const run = new AccountRun(input);
  const gate = new ApprovalGate();
  const machine = new MachineDriver(accountSetupMachine, { failback: true, requireApproval: input.plan.failover.requireApproval && !input.skipApproval });
  gate.install(() => `${run.workflowId}, step: ${machine.state}`);
  answerProgress(run, () => machine.state);
  const outcome = await machine.run({
    preflight: () => failbackPreflight(run),
    requestApproval: () =>
      gate.wait(
        {
          step: 'account-failback',
          subject: `account ${input.accountId} → primary account (${run.states.length} promoted secrets)`,
          timeoutMs: input.plan.failback.approvalTimeout,
        },
        () => machine.state === 'awaitingApproval',
      ),
    reconcile: () => reconcile(run),
    inspect: () => inspect(run),
    createReplicas: () => createReplicas(run),
    associate: () => associate(run),
    awaitInSync: () => awaitInSync(run),
  });
  return run.report(outcome, machine.context.failure);
}
