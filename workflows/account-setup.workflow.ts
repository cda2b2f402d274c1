/**
 * Account setup: a cross-account replica of every plan secret in the recovery account, in the
 * primary Region. The machine (machines/account-setup.machine.ts) decides, the steps
 * (account.steps.ts) act. Per secret: inspect both accounts → create the replica in the recovery
 * account (CreateSecret with CrossAccountPrimaryARN and the plan's customer managed key; a
 * same-name secret there is resolved by the plan's conflict policy, backed up first) → associate
 * from the primary account → wait for InSync (bounded by setup.inSyncTimeout).
 * Re-runs converge: InSync pairs are skipped, creation and association are idempotent.
 */
import { AccountSetupInput, type AccountReport } from '../domain/account-dr.js';
import { accountSetupMachine } from './machines/account-setup.machine.js';
import { AccountRun, answerProgress, associate, awaitInSync, createReplicas, inspect } from './account.steps.js';
import { MachineDriver } from './kit/run-machine.js';

export async function accountSetupWorkflow(raw: AccountSetupInput): Promise<AccountReport> {
  const run = new AccountRun(AccountSetupInput.parse(raw));
  const machine = new MachineDriver(accountSetupMachine, { failback: false });
  answerProgress(run, () => machine.state);
  const outcome = await machine.run({
    preflight: () => ({ type: 'STEP_FAILED', reason: 'setup has no preflight step' }),
    reconcile: () => ({ type: 'STEP_FAILED', reason: 'setup does not reconcile' }),
    inspect: () => inspect(run),
    createReplicas: () => createReplicas(run),
    associate: () => associate(run),
    awaitInSync: () => awaitInSync(run),
  });
  return run.report(outcome, machine.context.failure);
}
