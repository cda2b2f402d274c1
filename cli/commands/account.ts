/**
 * Account DR commands (cross-account replicas in a plan's recovery account):
 *   `secrets-dr account setup --account ID [--wait]`      create and associate the replicas
 *   `secrets-dr account status --account ID`              both accounts' view, per secret
 *   `secrets-dr account failback --from-account ID`       reconcile into the primary account, re-associate
 *   `secrets-dr failover --to-account ID` (failover.ts)   promote in the recovery account
 * Each starts (or attaches to: one per plan and account) its workflow and prints its report.
 * Exit codes: 0 done · 1 failed/rejected · 2 bad input · 3 some secrets need attention · 4 waiting for approval.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import { formatDuration } from '../../domain/duration.js';
import { workflowTaskQueue } from '../../domain/ids.js';
import { recoveryAccount, type Plan } from '../../domain/plan.js';
import {
  accountFailbackWorkflowId,
  accountHealthOf,
  accountFailoverWorkflowId,
  accountSetupWorkflowId,
  accountStatusWorkflowId,
  type AccountFailoverReport,
  type AccountReport,
  type AccountStatusReport,
} from '../../domain/account-dr.js';
import type { accountSetupWorkflow } from '../../workflows/account-setup.workflow.js';
import type { accountFailoverWorkflow } from '../../workflows/account-failover.workflow.js';
import type { accountFailbackWorkflow } from '../../workflows/account-failback.workflow.js';
import type { accountStatusWorkflow } from '../../workflows/account-status.workflow.js';
import { pendingApprovalQuery } from '../../workflows/kit/control.messages.js';
import { defineCommand, PLAN_OPTION } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { printJson, table, type Io } from '../output.js';
import { withTemporal, type Connected } from '../temporal.js';
import { operatorName } from '../operator.js';

const ACCOUNT = z
  .string({ error: 'name the recovery account: a 12-digit id listed under recoveryAccounts' })
  .regex(/^\d{12}$/, { error: 'expected a 12-digit AWS account id' });

/** The plan's recovery account, or a usage error listing the ones it has. */
function requireRecoveryAccount(plan: Plan, accountId: string, option: string): void {
  if (!recoveryAccount(plan, accountId))
    throw new OperatorError(
      ErrorType.UsageError,
      `${option} ${accountId}: not in recoveryAccounts of plan ${plan.name} (${plan.recoveryAccounts.map((a) => a.accountId).join(', ') || 'none: add recoveryAccounts to the plan'})`,
    );
}

function accountExitCode(r: Pick<AccountReport, 'outcome'>): ExitCode {
  return r.outcome === 'done' ? ExitCode.Ok : r.outcome === 'partial' ? ExitCode.NeedsAttention : ExitCode.Failed;
}

export function renderAccountReport(what: string, r: AccountReport | AccountFailoverReport, io: Io): void {
  if (io.json) return printJson(io, r);
  io.out(
    `${what} ${r.workflowId}: ${r.outcome.toUpperCase()} — plan ${r.plan}, recovery account ${r.accountId} in ${r.region}, took ${formatDuration(r.durationMs)}`,
  );
  io.out(
    `  ${
      Object.entries(r.counts)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ') || 'no secret'
    }`,
  );
  if ('primaryAccount' in r) {
    io.out(`  primary account: ${r.primaryAccount}${r.detachedFromPrimary ? '; replicas detached from the primary first' : ''}`);
    for (const c of r.consequences) io.out(`  ! ${c}`);
  }
  if (r.outcomes.length <= 100)
    for (const line of table(
      ['SECRET', 'OUTCOME', 'NOTE'],
      r.outcomes.map((o) => [o.name, o.status, o.reason ?? '']),
    ))
      io.out(`  ${line}`);
  for (const o of r.attention.slice(0, 50)) io.out(`  attention: ${o.name}: ${o.status}${o.reason ? ` — ${o.reason}` : ''}`);
  for (const p of r.problems) io.out(`problem: ${p}`);
  for (const w of r.warnings) io.out(`warning: ${w}`);
}

const startOptions = (c: Connected, workflowId: string) => ({
  taskQueue: workflowTaskQueue(c.env.SECRETS_DR_TASK_QUEUE_PREFIX),
  workflowId,
  workflowIdConflictPolicy: 'USE_EXISTING' as const,
});

/** `failover --to-account ID`: the account failover, followed to its end (or to its approval gate without --wait). */
export async function runAccountFailover(plan: Plan, o: { accountId: string; reason?: string; approve: boolean; wait: boolean }, io: Io): Promise<ExitCode> {
  requireRecoveryAccount(plan, o.accountId, '--to-account');
  return withTemporal({ worker: true }, async (c) => {
    const handle = await c.client.workflow.start<typeof accountFailoverWorkflow>('accountFailoverWorkflow', {
      ...startOptions(c, accountFailoverWorkflowId(plan.name, o.accountId)),
      args: [
        {
          plan,
          accountId: o.accountId,
          reason: o.reason,
          requestedBy: operatorName(),
          skipApproval: o.approve,
          taskQueuePrefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX,
        },
      ],
    });
    (io.json ? io.err : io.out)(`account failover ${handle.workflowId} started: primary account → ${o.accountId} (${plan.primaryRegion})`);
    if (!o.wait) {
      for (let i = 0; i < 50; i++) {
        const [pending, d] = await Promise.all([handle.query(pendingApprovalQuery).catch(() => null), handle.describe()]);
        if (pending) {
          (io.json ? io.err : io.out)(`waiting for approval: secrets-dr approve ${handle.workflowId}   (or reject ${handle.workflowId} --reason TEXT)`);
          return ExitCode.AwaitingApproval;
        }
        if (d.status.name !== 'RUNNING') break;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const report = await handle.result();
    renderAccountReport('account failover', report, io);
    return accountExitCode(report);
  });
}

export const accountSetupCommand = defineCommand({
  words: ['account', 'setup'],
  summary: "create the plan's cross-account replicas in a recovery account and associate them (account DR)",
  examples: ['secrets-dr account setup --account 210987654321', 'secrets-dr account setup --account 210987654321 --json'],
  options: { ...PLAN_OPTION, account: { type: 'string', placeholder: 'ID', description: 'the recovery account (listed under recoveryAccounts)' } },
  schema: z.object({
    plan: z.string(),
    account: ACCOUNT,
    json: z.boolean(),
    positionals: z.array(z.string()).max(0, { error: 'account setup takes no arguments' }),
  }),
  async run(o, io) {
    const { plan } = loadPlanFile(o.plan);
    requireRecoveryAccount(plan, o.account, '--account');
    return withTemporal({ worker: true }, async (c) => {
      const handle = await c.client.workflow.start<typeof accountSetupWorkflow>('accountSetupWorkflow', {
        ...startOptions(c, accountSetupWorkflowId(plan.name, o.account)),
        args: [{ plan, accountId: o.account, taskQueuePrefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX }],
      });
      (io.json ? io.err : io.out)(`account setup ${handle.workflowId} started (progress: secrets-dr watch ${handle.workflowId})`);
      const report = await handle.result();
      renderAccountReport('account setup', report, io);
      return accountExitCode(report);
    });
  },
});

export const accountFailbackCommand = defineCommand({
  words: ['account', 'failback'],
  summary: 'make the primary account authoritative again: reconcile what changed, back up, re-associate the replicas',
  examples: ['secrets-dr account failback --from-account 210987654321'],
  options: { ...PLAN_OPTION, 'from-account': { type: 'string', placeholder: 'ID', description: 'the recovery account the plan failed over to' } },
  schema: z.object({
    plan: z.string(),
    'from-account': ACCOUNT,
    json: z.boolean(),
    positionals: z.array(z.string()).max(0, { error: 'account failback takes no arguments' }),
  }),
  async run(o, io) {
    const { plan } = loadPlanFile(o.plan);
    requireRecoveryAccount(plan, o['from-account'], '--from-account');
    return withTemporal({ worker: true }, async (c) => {
      const handle = await c.client.workflow.start<typeof accountFailbackWorkflow>('accountFailbackWorkflow', {
        ...startOptions(c, accountFailbackWorkflowId(plan.name, o['from-account'])),
        args: [{ plan, accountId: o['from-account'], taskQueuePrefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX }],
      });
      (io.json ? io.err : io.out)(`account failback ${handle.workflowId} started`);
      const report = await handle.result();
      renderAccountReport('account failback', report, io);
      return accountExitCode(report);
    });
  },
});

function renderAccountStatus(r: AccountStatusReport, io: Io): void {
  if (io.json) return printJson(io, r);
  const reach = (p: AccountStatusReport['primaryAccount']) => `${p.reach}${p.error ? ` (${p.error})` : ''}`;
  io.out(`plan ${r.plan}, ${r.region}: primary account ${reach(r.primaryAccount)}; recovery account ${r.accountId} ${reach(r.recoveryAccount)}`);
  const rows = r.secrets.map((s) => [s.name, s.replica, s.primaryView ?? '-', s.replicaView ?? '-', s.promotedVersion ? 'promoted' : '']);
  for (const line of table(['SECRET', 'IN RECOVERY ACCOUNT', 'PRIMARY SAYS', 'REPLICA SAYS', ''], rows)) io.out(`  ${line}`);
}

export const accountStatusCommand = defineCommand({
  words: ['account', 'status'],
  summary: "both accounts' view of the plan's cross-account replicas (a revoked primary shows as denied)",
  examples: ['secrets-dr account status --account 210987654321 --json'],
  options: { ...PLAN_OPTION, account: { type: 'string', placeholder: 'ID', description: 'the recovery account (listed under recoveryAccounts)' } },
  schema: z.object({
    plan: z.string(),
    account: ACCOUNT,
    json: z.boolean(),
    positionals: z.array(z.string()).max(0, { error: 'account status takes no arguments' }),
  }),
  async run(o, io) {
    const { plan } = loadPlanFile(o.plan);
    requireRecoveryAccount(plan, o.account, '--account');
    return withTemporal({ worker: true }, async (c) => {
      const report = await c.client.workflow.execute<typeof accountStatusWorkflow>('accountStatusWorkflow', {
        taskQueue: workflowTaskQueue(c.env.SECRETS_DR_TASK_QUEUE_PREFIX),
        workflowId: accountStatusWorkflowId(plan.name, o.account, randomUUID().slice(0, 8)),
        args: [{ plan, accountId: o.account, taskQueuePrefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX }],
      });
      renderAccountStatus(report, io);
      const health = accountHealthOf(report);
      if (!io.json) for (const r of health.reasons) io.out(`attention: ${r}`);
      return health.state === 'healthy' ? ExitCode.Ok : ExitCode.NeedsAttention;
    });
  },
});
