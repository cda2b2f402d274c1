/**
 * Account status: how both accounts answer (a revoked primary shows as `denied`, never as an
 * outage) and, per plan secret, what the recovery account holds and the replication status each
 * side reports. Reads only. The monitor can run it as a child each cycle (or call `accountStatusOf`
 * from its steps) and fold `accountHealthOf(report)` into its per-Region states.
 */
import { AccountSetupInput, type AccountStatusReport } from '../domain/account-dr.js';
import { AccountRun } from './account.steps.js';

export async function accountStatusWorkflow(raw: AccountSetupInput): Promise<AccountStatusReport> {
  return accountStatusOf(new AccountRun(AccountSetupInput.parse(raw)));
}

/** Both accounts' reach and each plan secret's cross-account state (two probes, one inspect); the monitor runs it each cycle (monitor-accounts.steps.ts). */
export async function accountStatusOf(run: AccountRun): Promise<AccountStatusReport> {
  const [primaryAccount, recoveryAccount] = await Promise.all([
    run.read.probeAccount({ region: run.region, plan: run.input.plan }),
    run.read.probeAccount({ ...run.base }),
  ]);
  const secrets =
    recoveryAccount.reach === 'answers' ? await run.read.inspectAccountPairs({ ...run.base, primaryAnswers: primaryAccount.reach === 'answers' }) : [];
  return { plan: run.input.plan.name, accountId: run.input.accountId, region: run.region, primaryAccount, recoveryAccount, secrets };
}
