/**
 * Account DR commands (cross-account replicas in a plan's recovery account):
 *   `secrets-dr account setup --account ID [--wait]`      create and associate the replicas
 *   `secrets-dr account status --account ID`              both accounts' view, per secret
 *   `secrets-dr account failback --from-account ID`       reconcile into the primary account, re-associate
 *   `secrets-dr failover --to-account ID` (failover.ts)   fence the primary, promote in the recovery account
 *     [--dry-run] (reads both accounts, changes nothing) · a terminal prompt for the account id (--yes skips it)
 *     · the plan's approval gate (--approve answers it at start; else `secrets-dr approve ID`)
 * Each starts (or attaches to: one per plan and account) its workflow and follows it (`secrets-dr watch ID` too).
 * Exit codes: 0 done · 1 failed/rejected · 2 bad input · 3 some secrets need attention · 4 waiting for approval.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import { formatDuration } from '../../domain/duration.js';
import { workflowTaskQueue } from '../../domain/ids.js';
import { recoveryAccount, type FailoverMode, type Plan } from '../../domain/plan.js';
import {
  accountFailbackWorkflowId,
  accountFailbackPreview,
  accountFailoverPreview,
  type AccountFailbackPreview,
  accountHealthOf,
  accountFailoverWorkflowId,
  accountSetupWorkflowId,
  accountStatusWorkflowId,
  type AccountFailoverPreview,
  type AccountFailoverReport,
  type AccountProgress,
  type AccountReport,
  type AccountStatusReport,
} from '../../domain/account-dr.js';
import type { accountSetupWorkflow } from '../../workflows/account-setup.workflow.js';
import type { accountFailoverWorkflow } from '../../workflows/account-failover.workflow.js';
import type { accountFailbackWorkflow } from '../../workflows/account-failback.workflow.js';
import type { accountStatusWorkflow } from '../../workflows/account-status.workflow.js';
import { accountProgressQuery } from '../../workflows/account.messages.js';
import { defineCommand, PLAN_OPTION } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { printJson, table, type Io } from '../output.js';
import { withTemporal, type Connected } from '../temporal.js';
import { operatorName } from '../operator.js';
import { follow, type FollowSpec } from '../follow.js';
import { confirmByRegion, shouldConfirm } from '../confirm.js';
import { accountFailoverConfirmLines } from '../confirm-previews.js';

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
    const f = r.primaryFence;
    io.out(
      `  primary fence: ${f.state}${f.fenced ? ` (${f.fenced} fenced)` : ''}${f.state === 'off' ? ' (failover.fence: false)' : ''}${f.failed.length ? `; not fenced: ${f.failed.map((x) => x.name).join(', ')}` : ''}`,
    );
    for (const n of f.next) io.out(`    to fence: ${n}`);
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

function progressLine(p: AccountProgress): string {
  const counts = Object.entries(p.counts)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  return `${p.state}${counts ? ` · ${counts}` : ''}`;
}

/** How `follow` (and `watch`) shows an account operation: its machine state and counts, the approval gate, the report. */
const accountFollow = (noun: string) => ({
  noun,
  progressQuery: accountProgressQuery,
  line: progressLine,
  gates: (p: AccountProgress) => (p.state === 'awaitingApproval' ? [''] : []),
  render: (r: AccountReport, io: Io) => renderAccountReport(noun, r, io),
  exitCode: accountExitCode,
  quietMs: 2_000,
});
export const accountFailoverFollow: FollowSpec<typeof accountFailoverWorkflow, AccountProgress> = accountFollow('account failover');
export const accountFailbackFollow: FollowSpec<typeof accountFailbackWorkflow, AccountProgress> = accountFollow('account failback');
export const accountSetupFollow: FollowSpec<typeof accountSetupWorkflow, AccountProgress> = accountFollow('account setup');

/** Both accounts' view of the plan's secrets (the read-only status workflow): `account status`, the failover's dry run and its confirmation. */
function readAccountStatus(c: Connected, plan: Plan, accountId: string): Promise<AccountStatusReport> {
  return c.client.workflow.execute<typeof accountStatusWorkflow>('accountStatusWorkflow', {
    taskQueue: workflowTaskQueue(c.env.SECRETS_DR_TASK_QUEUE_PREFIX),
    workflowId: accountStatusWorkflowId(plan.name, accountId, randomUUID().slice(0, 8)),
    args: [{ plan, accountId, taskQueuePrefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX }],
  });
}

function renderAccountFailoverPreview(p: AccountFailoverPreview, io: Io): void {
  if (io.json) return printJson(io, { outcome: 'dry-run', ...p });
  io.out(`dry run: account failover of plan ${p.plan}, primary account → ${p.accountId} (${p.region}) — nothing was changed`);
  io.out(`  primary account: ${p.primaryAccount}; recovery account: ${p.recoveryAccount}`);
  const would = (i: AccountFailoverPreview['items'][number]) =>
    i.action === 'cannot'
      ? 'nothing (cannot)'
      : [
          i.fence ? 'fence the primary' : '',
          i.detach ? 'detach' : '',
          i.action === 'promote' ? 'promote (StopReplicationToReplica)' : 'keep (already standalone)',
        ]
          .filter(Boolean)
          .join(', then ');
  for (const line of table(
    ['SECRET', 'WOULD', 'NOTE'],
    p.items.slice(0, 200).map((i) => [i.name, would(i), i.note ?? '']),
  ))
    io.out(`  ${line}`);
  if (p.items.length > 200) io.out(`  ... and ${p.items.length - 200} more (--json for all)`);
  for (const c of p.consequences) io.out(`  ! ${c}`);
  for (const pr of p.problems) io.out(`problem: ${pr}`);
}

/**
 * `failover --to-account ID`: the account failover. `--dry-run` reads both accounts and prints what
 * it would do, per secret; on a terminal without --yes the operator sees that and types the account
 * id; then it starts and is followed to its end (or to its approval gate without --wait: exit 4).
 */
export async function runAccountFailover(
  plan: Plan,
  o: { accountId: string; mode?: FailoverMode; rotationWaitMs?: number; reason?: string; approve: boolean; wait: boolean; dryRun: boolean; yes: boolean },
  io: Io,
): Promise<ExitCode> {
  requireRecoveryAccount(plan, o.accountId, '--to-account');
  return withTemporal({ worker: true }, async (c) => {
    if (o.dryRun || shouldConfirm(o.yes)) {
      const preview = accountFailoverPreview(await readAccountStatus(c, plan, o.accountId), plan, o.mode);
      if (o.dryRun) {
        renderAccountFailoverPreview(preview, io);
        return preview.problems.length ? ExitCode.Failed : ExitCode.Ok;
      }
      await confirmByRegion(io, {
        action: `fail over to account ${o.accountId}`,
        regions: [o.accountId],
        noun: 'the recovery account id',
        preview: accountFailoverConfirmLines(preview, plan, o.approve),
      });
    }
    const handle = await c.client.workflow.start<typeof accountFailoverWorkflow>('accountFailoverWorkflow', {
      ...startOptions(c, accountFailoverWorkflowId(plan.name, o.accountId)),
      args: [
        {
          plan,
          accountId: o.accountId,
          reason: o.reason,
          requestedBy: operatorName(),
          skipApproval: o.approve,
          ...(o.mode ? { mode: o.mode } : {}),
          ...(o.rotationWaitMs !== undefined ? { rotationWaitMs: o.rotationWaitMs } : {}),
          taskQueuePrefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX,
        },
      ],
    });
    (io.json ? io.err : io.out)(
      `account failover ${handle.workflowId} started: primary account → ${o.accountId} (${plan.primaryRegion}); progress: secrets-dr watch ${handle.workflowId}`,
    );
    return (await follow(handle, accountFailoverFollow, io, { wait: o.wait })).code;
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
      return (await follow(handle, accountSetupFollow, io)).code;
    });
  },
});

export const accountFailbackCommand = defineCommand({
  words: ['account', 'failback'],
  summary: 'make the primary account authoritative again: reconcile what changed, back up, re-associate the replicas',
  examples: ['secrets-dr account failback --from-account 210987654321 --dry-run', 'secrets-dr account failback --from-account 210987654321 --approve'],
  options: {
    ...PLAN_OPTION,
    'from-account': { type: 'string', placeholder: 'ID', description: 'the recovery account the plan failed over to' },
    approve: {
      type: 'boolean',
      default: false,
      description: "answer the plan's approval gate now (failover.requireApproval); without it the gate waits for `secrets-dr approve`",
    },
    'dry-run': { type: 'boolean', default: false, description: 'read both accounts and show, per secret, what failback would do; change nothing' },
    yes: { type: 'boolean', short: 'y', default: false, description: 'do not ask to type the account id (asked only on a terminal)' },
  },
  schema: z.object({
    plan: z.string(),
    'from-account': ACCOUNT,
    approve: z.boolean(),
    'dry-run': z.boolean(),
    yes: z.boolean(),
    json: z.boolean(),
    positionals: z.array(z.string()).max(0, { error: 'account failback takes no arguments' }),
  }),
  async run(o, io) {
    const { plan } = loadPlanFile(o.plan);
    requireRecoveryAccount(plan, o['from-account'], '--from-account');
    return withTemporal({ worker: true }, async (c) => {
      if (o['dry-run'] || shouldConfirm(o.yes)) {
        const preview = accountFailbackPreview(await readAccountStatus(c, plan, o['from-account']));
        if (o['dry-run']) {
          renderAccountFailbackPreview(preview, io);
          return preview.problems.length ? ExitCode.Failed : ExitCode.Ok;
        }
        await confirmByRegion(io, {
          action: `fail back from account ${o['from-account']}`,
          regions: [o['from-account']],
          noun: 'the recovery account id',
          preview: [
            `  ${o['from-account']} → primary account: ${preview.counts['reconcile'] ?? 0} promoted secret(s) reconciled, ${preview.counts['re-associate'] ?? 0} re-associated, ${preview.counts['in-sync'] ?? 0} in sync (of ${preview.items.length})`,
            ...preview.problems.map((p) => `  problem: ${p}`),
            plan.failover.requireApproval && !o.approve ? '  then waits at the approval gate (secrets-dr approve ID)' : '  no approval gate',
          ],
        });
      }
      const handle = await c.client.workflow.start<typeof accountFailbackWorkflow>('accountFailbackWorkflow', {
        ...startOptions(c, accountFailbackWorkflowId(plan.name, o['from-account'])),
        args: [{ plan, accountId: o['from-account'], skipApproval: o.approve, taskQueuePrefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX }],
      });
      (io.json ? io.err : io.out)(`account failback ${handle.workflowId} started (progress: secrets-dr watch ${handle.workflowId})`);
      return (await follow(handle, accountFailbackFollow, io)).code;
    });
  },
});

function renderAccountFailbackPreview(p: AccountFailbackPreview, io: Io): void {
  if (io.json) return printJson(io, { outcome: 'dry-run', ...p });
  io.out(`dry run: account failback of plan ${p.plan}, ${p.accountId} → primary account (${p.region}) — nothing was changed`);
  for (const line of table(
    ['SECRET', 'ACTION', 'NOTE'],
    p.items.map((i) => [i.name, i.action, i.note ?? '']),
  ))
    io.out(`  ${line}`);
  for (const pr of p.problems) io.out(`problem: ${pr}`);
}

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
      const report = await readAccountStatus(c, plan, o.account);
      renderAccountStatus(report, io);
      const health = accountHealthOf(report);
      if (!io.json) for (const r of health.reasons) io.out(`attention: ${r}`);
      return health.state === 'healthy' ? ExitCode.Ok : ExitCode.NeedsAttention;
    });
  },
});
