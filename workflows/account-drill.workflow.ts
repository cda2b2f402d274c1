/**
 * Account drill (`secrets-dr drill run --account ID`): the drill of a recovery account, on canary secrets
 * `secrets-dr-drill/<plan>/account/<id>/<n>` only, never the plan's secrets. The Region drill's machine
 * (machines/drill.machine.ts) decides, with the same steps and the same outcome rules; the steps
 * (account-drill.steps.ts) act on both accounts in the primary Region:
 *   prepare (both accounts answer) → remove leftovers → create canaries + their cross-account replicas →
 *   associate → InSync → canary write → replica (RPO) → promote: DisassociateCrossAccountReplica, then
 *   StopReplicationToReplica on the detached replica; RTO until an application in the recovery account reads
 *   the version written there after promotion → verify → clean up both accounts (always) → Drill Completed.
 *
 * Decisions:
 * - One machine for both kinds of drill: an account drill is a drill whose DR side is another account.
 * - Clean-up runs outside cancellation; a failure or a cancel ends in a report, not a failed workflow.
 * - The report has the Region drill's shape (`recoveryAccountId` set; the lanes are `<region>` and
 *   `<region>@<accountId>`), so the Markdown, the SVG timeline and `drill list` serve both.
 */
import { workflowInfo } from '@temporalio/workflow';
import type { DrillReport } from '../domain/drill.js';
import { AccountDrillInput } from '../domain/account-drill.js';
import { AccountDrillRun } from './account-drill.steps.js';
import { driveDrill } from './drill-kit.js';

export async function accountDrillWorkflow(raw: AccountDrillInput): Promise<DrillReport> {
  const input = AccountDrillInput.parse(raw);
  return driveDrill(new AccountDrillRun(input, workflowInfo().workflowId), input.plan.drills.rtoTarget);
}
