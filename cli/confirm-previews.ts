/**
 * What the confirmation shows before a destructive command starts (cli/confirm.ts): built from the
 * same dry runs (`--dry-run`) and status reads the commands already have, never from a new path.
 * Counts per Region, groups in promotion order, the expected duration from the write quota, and
 * whether the plan's approval gate will still wait.
 */
import { formatDuration } from '../domain/duration.js';
import type { RestoreResult } from '../domain/backup.js';
import { expectedPromotionMs, REGION_WRITE_TPS, type FailoverReport } from '../domain/failover.js';
import type { FailbackReport } from '../domain/failback.js';
import { failbackWorkflowId, failoverWorkflowId } from '../domain/ids.js';
import { accountFailoverWorkflowId, type AccountFailoverPreview } from '../domain/account-dr.js';
import { writeShareText, type ConflictPolicy, type Plan } from '../domain/plan.js';
import { conflictPolicyFor } from '../domain/replication.js';
import type { StatusReport } from '../domain/status.js';
import { setupPreview, setupPreviewText } from '../domain/setup-preview.js';
import { table } from './output.js';

const countBy = <T>(items: readonly T[], key: (t: T) => string): Array<[string, number]> => {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return [...m];
};
const rate = (plan: Plan) => writeShareText(plan.failover, REGION_WRITE_TPS);

function gateLine(plan: Plan, approve: boolean, workflowId: string): string {
  if (!plan.failover.requireApproval) return '  approval: the plan does not require it (failover.requireApproval: false)';
  if (approve) return '  approval: given now (--approve)';
  return `  approval: after you confirm, it still waits at the plan's approval gate for \`secrets-dr approve ${workflowId}\` (--approve gives it now)`;
}

export function failoverPreview(r: FailoverReport, plan: Plan, approve: boolean): string[] {
  const items = r.preview ?? [];
  const partial = items.length < r.total ? ` — counted on the first ${items.length}` : '';
  const n = (a: string) => items.filter((i) => i.action === a).length;
  const groupNames = [...plan.failover.groups.map((g) => g.name), 'everything else'];
  const groups = groupNames.map((g, i) => [g, items.filter((x) => x.group === i && x.action === 'promote').length] as const).filter(([, k]) => k > 0);
  return [
    `failover of plan ${r.plan}: ${r.from} → ${r.to} (${r.mode})`,
    `  ${r.to}: ${n('promote')} replica(s) become standalone secrets (StopReplicationToReplica), ${n('already-standalone')} already standalone, ${n('skip')} skipped (of ${r.total}${partial})`,
    plan.failover.fence
      ? `  ${r.from}: the original of every promoted secret is fenced (deny-writes resource policy; best effort while ${r.from} is down)`
      : `  ${r.from}: not fenced (failover.fence: false)`,
    `  groups, promoted in this order: ${groups.map(([g, k]) => `${g} (${k})`).join(' → ') || 'none'}`,
    `  expected time from the quota: ${formatDuration(r.expectedMs)} (${rate(plan)})`,
    gateLine(plan, approve, failoverWorkflowId(plan.name)),
    ...r.problems.map((p) => `  problem: ${p}`),
    ...r.warnings.map((w) => `  warning: ${w}`),
  ];
}

/** Before `failover --to-account`: per action counts from its dry run, the fence, what an unusable primary means, the gate. */
export function accountFailoverConfirmLines(p: AccountFailoverPreview, plan: Plan, approve: boolean): string[] {
  const n = (a: string) => p.counts[a] ?? 0;
  const fenced = p.items.filter((i) => i.fence).length;
  return [
    `account failover of plan ${p.plan}: primary account → ${p.accountId} (${p.region})`,
    `  ${p.accountId}: ${n('promote')} replica(s) become standalone secrets, ${n('already-standalone')} already standalone, ${n('cannot')} without a replica (of ${p.items.length})`,
    p.primaryAccount !== 'answers'
      ? `  primary account: ${p.primaryAccount} — promoted as they stand, not fenced, not detached`
      : fenced
        ? `  primary account: ${fenced} secret(s) fenced first (deny-writes resource policy), then detached`
        : `  primary account: not fenced (failover.fence: false); replicas detached first`,
    gateLine(plan, approve, accountFailoverWorkflowId(plan.name, p.accountId)),
    ...p.consequences.map((c) => `  ! ${c}`),
    ...p.problems.map((x) => `  problem: ${x}`),
  ];
}

export function failbackPreview(r: FailbackReport, plan: Plan, approve: boolean, would: Record<string, string>): string[] {
  const direction = r.reverse ? `${r.to} stays primary, replicating into ${r.from}` : `${r.to} → ${r.from}`;
  const backups = r.items.filter((i) => i.backupOriginal || i.backupOverwritten).length;
  const partial = r.items.length < r.total ? ` — counted on the first ${r.items.length}` : '';
  return [
    `failback of plan ${r.plan}: ${direction}`,
    `  ${r.from} (written): ${
      countBy(r.items, (i) => would[i.resolution] ?? i.resolution)
        .map(([k, v]) => `${v} ${k}`)
        .join('; ') || 'nothing'
    } (of ${r.total}${partial})`,
    ...countBy(
      r.items.filter((i) => i.resolution !== 'skip'),
      (i) => i.dr ?? r.to,
    ).map(
      ([region, k]) =>
        `  ${region}: ${k} secret(s) reconciled against it${r.reverse ? ' (it stays primary)' : ' (its standalone copies become replicas again)'}`,
    ),
    `  backups taken first: ${backups}`,
    `  expected time from the quota: at least ${formatDuration(r.writes.expectedMs)} (${r.writes.expected} writes at ${rate(plan)})`,
    gateLine(plan, approve, failbackWorkflowId(plan.name)),
    ...r.problems.map((p) => `  problem: ${p}`),
    ...r.warnings.map((w) => `  warning: ${w}`),
  ];
}

/** What a restore does (and its dry run shows): the target, then a table of the fields it changes. */
export function restoreLines(result: RestoreResult, dryRun: boolean): string[] {
  const p = result.plan;
  if (!p) return [];
  const target =
    p.target === 'standalone'
      ? 'exists'
      : p.target === 'replica'
        ? 'is our replica (removed from replication first; the primary keeps its value)'
        : 'does not exist (created)';
  return [
    `${p.secret} (${p.region}): ${target}.`,
    ...(p.changes.length
      ? table(
          ['FIELD', 'NOW', 'AFTER RESTORE'],
          p.changes.map((ch) => [ch.field, ch.from ?? '-', ch.to ?? '-']),
        )
      : []),
    ...(p.needsBackup
      ? [`It changed since the backup: ${dryRun ? 'it would be' : 'it was'} backed up first${result.backupOfCurrent ? ` (${result.backupOfCurrent})` : ''}.`]
      : []),
  ];
}

/** Conflict policies that replace a same-named secret (adopt replaces the primary's value instead). */
const OVERWRITES: ReadonlySet<ConflictPolicy> = new Set(['overwrite-if-identical', 'backup-then-overwrite', 'adopt']);

/** Whether setup may overwrite anything under this plan's conflict policies. */
export function setupMayOverwrite(plan: Plan): boolean {
  return [plan.conflicts.policy, ...plan.conflicts.overrides.map((o) => o.policy)].some((p) => OVERWRITES.has(p));
}

/**
 * The same-named secrets setup would overwrite, per DR Region, from a status read. A tag-selected
 * override cannot be judged without the tags, so when one overwrites, every conflict counts.
 */
export function setupOverwrites(plan: Plan, status: StatusReport): Array<{ region: string; secrets: Array<{ name: string; policy: ConflictPolicy }> }> {
  const tagOverwrites = plan.conflicts.overrides.some((o) => 'tag' in o.match && OVERWRITES.has(o.policy));
  return status.drRegions
    .map((region) => ({
      region,
      secrets: status.rows
        .filter((row) => row.cells[region]?.state === 'conflict')
        .map((row) => ({ name: row.name, policy: conflictPolicyFor(plan, row.name) }))
        .filter((s) => OVERWRITES.has(s.policy) || tagOverwrites),
    }))
    .filter((r) => r.secrets.length > 0);
}

/** The confirmation's summary: setup's own dry-run preview (domain/setup-preview.ts), the secrets a policy replaces, the time. */
export function setupConfirmLines(plan: Plan, status: StatusReport, overwrites: ReturnType<typeof setupOverwrites>): string[] {
  const preview = setupPreview(plan, status);
  const writes = preview.regions.reduce((n, r) => n + r.replicate + Object.values(r.conflicts).reduce((a, b) => a + b, 0), 0);
  return [
    `setup of plan ${plan.name}: ${plan.primaryRegion} → ${status.drRegions.join(', ')}`,
    ...setupPreviewText(preview).slice(1),
    ...overwrites.flatMap((o) => [
      `  ${o.region}: ${o.secrets.length} same-named secret(s) that are not our replicas would be replaced by policy:`,
      ...o.secrets
        .slice(0, 20)
        .map(
          (s) =>
            `    ${s.name} (${s.policy}${s.policy === 'adopt' ? `: the primary in ${plan.primaryRegion} takes its value` : s.policy === 'backup-then-overwrite' ? ': backed up first' : ''})`,
        ),
      ...(o.secrets.length > 20 ? [`    ... and ${o.secrets.length - 20} more`] : []),
    ]),
    `  expected time from the quota: at least ${formatDuration(expectedPromotionMs(writes, plan.failover.writeQuotaShare))} (${writes} secret(s) to replicate at ${rate(plan)})`,
  ];
}
