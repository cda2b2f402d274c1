/**
 * Account DR payloads (cross-account replicas of the plan's secrets in a recovery account, in the
 * primary Region): what each side holds, per-secret outcomes, the workflows' inputs and reports, and
 * their ids. JSON-plain zod schemas; never a secret value (invariant 1): names, ARNs, version ids,
 * statuses, counts and reasons only.
 */
import { z } from 'zod';
import type { Plan } from './plan.js';
import { FailoverMode, PlanPayload } from './plan.js';
import { FENCE_SID, FENCED_ACTIONS } from './failover.js';
import { policyWithDeny } from './failback.js';

const CrossAccountStatus = z.enum(['InSync', 'Failed', 'InProgress', 'Pending', 'Detached']);

/** What the recovery account holds under a plan secret's name. */
export const ReplicaKind = z.enum([
  'absent', // nothing by that name
  'replica', // our cross-account replica of this primary (CrossAccountPrimary = the primary's ARN)
  'standalone', // a secret with no cross-account primary: promoted by us (PROMOTED_TAG) or someone else's (a conflict)
  'foreign', // a cross-account replica of another primary (a conflict)
  'deleted', // scheduled for deletion (the name is taken until it is gone)
]);
export type ReplicaKind = z.infer<typeof ReplicaKind>;

export const AccountPairState = z.object({
  name: z.string(),
  /** The primary's ARN in the primary account (absent when that account did not answer, or the secret is gone there). */
  primaryArn: z.string().optional(),
  /** Replication status as the primary lists it for its cross-account replica. */
  primaryView: CrossAccountStatus.optional(),
  replica: ReplicaKind,
  replicaArn: z.string().optional(),
  /** Replication status as the replica lists it (CrossAccountPrimary.ReplicationStatus). */
  replicaView: CrossAccountStatus.optional(),
  statusMessage: z.string().optional(),
  /** The replica's AWSCURRENT version id (for reports and the RPO statement; never a value). */
  replicaCurrent: z.string().optional(),
  /** Set by our promotion: the version that was AWSCURRENT when the replica was promoted. */
  promotedVersion: z.string().optional(),
  /** Set by our promotion: the run (workflow id) that promoted it. */
  promotedBy: z.string().optional(),
  /** The replica's KMS key. */
  replicaKmsKeyId: z.string().optional(),
  /** A rotation in flight: the version that is AWSPENDING and not AWSCURRENT (on the primary when it answered, else on the replica). */
  rotationPending: z.string().optional(),
});
export type AccountPairState = z.infer<typeof AccountPairState>;

/** Tags our promotion writes on the promoted secret in the recovery account: by which run, from which version. */
export const ACCOUNT_PROMOTED_BY_TAG = 'secrets-dr:account-promoted-by';
export const ACCOUNT_PROMOTED_VERSION_TAG = 'secrets-dr:account-promoted-version';
export const ACCOUNT_PROMOTED_AT_TAG = 'secrets-dr:account-promoted-at';

/** A standalone copy in the recovery account that our account failover promoted (its tags say so). */
export const isPromotedCopy = (s: Pick<AccountPairState, 'replica' | 'promotedVersion' | 'promotedBy'>) =>
  s.replica === 'standalone' && (s.promotedBy !== undefined || s.promotedVersion !== undefined);
/** What account failover promotes: our replica, or a copy an earlier run promoted (a re-run converges). */
export const isPromotable = (s: Pick<AccountPairState, 'replica' | 'promotedVersion' | 'promotedBy'>) => s.replica === 'replica' || isPromotedCopy(s);

/**
 * The fence of a planned account failover on the primary account's secrets: Region failover's deny
 * statement (FENCE_SID) and `secrets-dr:fenced` tag, whose value names the account failover, so
 * that account failback lifts only its own fence (never a Region failover's).
 */
const ACCOUNT_FENCE_PREFIX = 'account failover';
export const accountFenceTagValue = (workflowId: string, accountId: string) => `${ACCOUNT_FENCE_PREFIX} ${workflowId} to account ${accountId}`.slice(0, 256);
export const isAccountFence = (tagValue: string | undefined) => tagValue?.startsWith(`${ACCOUNT_FENCE_PREFIX} `) === true;

const AccountOutcomeStatus = z.enum([
  'in-sync',
  'associated', // association requested, not InSync yet
  'promoted',
  'already-standalone',
  'copied-back', // failback: the recovery account's value written to the primary (after a backup)
  'kept-primary', // failback: the primary's value kept (the recovery copy was backed up)
  'unchanged',
  'conflict',
  'needs-failback', // setup: the recovery account holds the copy our failover promoted (run account failback, not setup)
  'skipped',
  'failed',
]);
type AccountOutcomeStatus = z.infer<typeof AccountOutcomeStatus>;

export const AccountOutcome = z.object({
  name: z.string(),
  status: AccountOutcomeStatus,
  reason: z.string().optional(),
  /** Backups made before anything destructive (names in the account and Region where they live). */
  backups: z.array(z.object({ account: z.string(), name: z.string() })).optional(),
  /** Version ids, for the report (never values). */
  version: z.string().optional(),
});
export type AccountOutcome = z.infer<typeof AccountOutcome>;

const NEEDS_ATTENTION: ReadonlySet<AccountOutcomeStatus> = new Set(['conflict', 'failed', 'associated', 'needs-failback']);
export const accountNeedsAttention = (o: AccountOutcome) => NEEDS_ATTENTION.has(o.status);

export function countAccountOutcomes(outcomes: readonly AccountOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
  return counts;
}

/** The account as a whole, as a probe sees it: only `unreachable` is an outage (invariant 9); `denied` is the compromised/locked account's face. */
const AccountReach = z.enum(['answers', 'denied', 'unreachable', 'throttled']);
type AccountReach = z.infer<typeof AccountReach>;

export const AccountProbe = z.object({ reach: AccountReach, error: z.string().optional(), message: z.string().optional() });
export type AccountProbe = z.infer<typeof AccountProbe>;

export const AccountSetupInput = z.object({
  plan: PlanPayload,
  accountId: z.string(),
  taskQueuePrefix: z.string().optional(),
  /** Secrets per activity (default 50). */
  batchSize: z.number().int().min(1).max(200).optional(),
  /** Poll interval while waiting for InSync (default 2 s). */
  pollMs: z.number().int().min(100).optional(),
});
export type AccountSetupInput = z.input<typeof AccountSetupInput>;

export const AccountOperationOutcome = z.enum(['done', 'partial', 'failed', 'rejected']);
export type AccountOperationOutcome = z.infer<typeof AccountOperationOutcome>;

export const AccountReport = z.object({
  plan: z.string(),
  accountId: z.string(),
  region: z.string(),
  workflowId: z.string(),
  outcome: AccountOperationOutcome,
  problems: z.array(z.string()),
  warnings: z.array(z.string()),
  counts: z.record(z.string(), z.number()),
  attention: z.array(AccountOutcome),
  outcomes: z.array(AccountOutcome),
  startedAt: z.string(),
  durationMs: z.number(),
});
export type AccountReport = z.infer<typeof AccountReport>;

/**
 * The primary account's fence after an account failover: `fenced` (every secret), `partial` (some
 * could not be: `failed`), `unfenced` (the primary account did not answer), `off` (failover.fence:
 * false). `next` says how to fence what is left.
 */
const PrimaryFence = z.object({
  state: z.enum(['fenced', 'partial', 'unfenced', 'off']),
  fenced: z.number(),
  failed: z.array(z.object({ name: z.string(), reason: z.string() })),
  next: z.array(z.string()),
});
type PrimaryFence = z.infer<typeof PrimaryFence>;

export const AccountFailoverInput = AccountSetupInput.extend({
  reason: z.string().max(1_000).optional(),
  requestedBy: z.string().max(200).optional(),
  skipApproval: z.boolean().default(false),
  /** `--mode`: unset lets the probe decide (answers → planned, unreachable → unplanned; denied is refused); unplanned promotes without the primary account. */
  mode: FailoverMode.optional(),
  /** Planned: how long a rotation in flight on a primary is waited for before that secret is refused (default 5 min). */
  rotationWaitMs: z.number().int().min(0).max(86_400_000).optional(),
});
export type AccountFailoverInput = z.input<typeof AccountFailoverInput>;

export const AccountFailoverReport = AccountReport.extend({
  /** How the primary account answered at preflight. */
  primaryAccount: AccountReach,
  /** Replicas were detached from the primary side (DisassociateCrossAccountReplica) before promotion. */
  detachedFromPrimary: z.boolean(),
  /** What promoting without the primary means (RPO unknown, later writes lost...): empty when the primary answered. */
  consequences: z.array(z.string()),
  primaryFence: PrimaryFence,
});
export type AccountFailoverReport = z.infer<typeof AccountFailoverReport>;

export const AccountFailbackInput = AccountSetupInput.extend({
  /** `--approve`: the plan's approval gate (failover.requireApproval) is answered at start. */
  skipApproval: z.boolean().default(false),
});
export type AccountFailbackInput = z.input<typeof AccountFailbackInput>;

/** The plan's failback policies, as account failback reads them. */
export type ChangedSide = 'none' | 'recovery' | 'primary' | 'both';

/**
 * Which value wins for one secret at failback, from which sides changed since the promotion
 * (`onOriginalChanged`/`onBothChanged` of the plan's failback policies). Pure: the activity
 * measures, this decides.
 */
export function accountFailbackDecision(
  changed: ChangedSide,
  policy: Pick<Plan['failback'], 'onOriginalChanged' | 'onBothChanged'>,
): 'none' | 'copy-back' | 'keep-primary' | 'ask' {
  switch (changed) {
    case 'none':
      return 'none';
    case 'recovery':
      return 'copy-back';
    case 'primary':
      return policy.onOriginalChanged === 'keep-dr' ? 'copy-back' : policy.onOriginalChanged === 'keep-original' ? 'keep-primary' : 'ask';
    case 'both':
      return policy.onBothChanged === 'keep-dr' ? 'copy-back' : policy.onBothChanged === 'keep-original' ? 'keep-primary' : 'ask';
  }
}

/**
 * What an unplanned account failover means, said in the report (the primary account did not
 * answer: nothing could be detached nor compared).
 */
export function unreachablePrimaryConsequences(reach: AccountReach, accountId: string): string[] {
  if (reach === 'answers') return [];
  return [
    `the primary account ${reach === 'denied' ? 'refused our credentials (revoked, locked or compromised)' : 'did not answer'}: replicas were promoted as they stood, without DisassociateCrossAccountReplica`,
    'RPO unknown: a write to a primary shortly before the outage may not have reached its replica (the status last seen is in each outcome)',
    `writes made to the primary account from now on are lost to ${accountId}: nothing replicates to a promoted secret`,
    'the primary still lists its replica until it answers again; failback reconciles both sides (secrets-dr account failback --from-account) and re-associates',
  ];
}

/**
 * The path of an account failover, from how the primary account answered and the operator's
 * `--mode`, or why it must not run. AccessDenied alone is never an outage (a missing permission or
 * a wrong profile looks the same as a compromised account): a `denied` primary is promoted without
 * only when the operator says `--mode unplanned`. The workflow's preflight and the dry run both
 * decide with this. Pure.
 */
export function accountFailoverPath(
  primary: Pick<AccountProbe, 'reach' | 'error'>,
  mode: FailoverMode | undefined,
): { path: 'planned' | 'unplanned'; problem?: undefined } | { path?: undefined; problem: string } {
  if (mode === 'unplanned') return { path: 'unplanned' };
  const cause = primary.error ? ` (${primary.error})` : '';
  switch (primary.reach) {
    case 'answers':
      return { path: 'planned' };
    case 'unreachable':
      if (mode === 'planned')
        return {
          problem: `the primary account did not answer${cause}: --mode planned needs it (fence, detach); run again with --mode unplanned to promote as they stand`,
        };
      return { path: 'unplanned' };
    case 'denied':
      return {
        problem: `the primary account refused our credentials${cause}: AccessDenied alone is not treated as an outage (missing permissions look the same); if the account is revoked, locked or compromised, run again with --mode unplanned (promotes the replicas as they stand, without fencing the primary); otherwise fix the primary account's credentials and run again`,
      };
    case 'throttled':
      return { problem: `the primary account throttled our probe${cause}: run again in a moment` };
  }
}

/**
 * A rotation in flight (AWSPENDING on a version that is not AWSCURRENT) at an account failover: planned, it is
 * waited for (bounded) before the fence, and a secret still rotating is not promoted; unplanned, the copy is
 * promoted as it stands and the rotation must be finished or cancelled there. Said the same in the dry run and the report.
 */
export function accountRotationNote(pendingVersion: string, planned: boolean): string {
  return planned
    ? `rotation in flight (AWSPENDING on version ${pendingVersion}): waited for before the fence; not promoted if it does not finish in time`
    : `rotation in flight (AWSPENDING on version ${pendingVersion}): the promoted copy serves the AWSCURRENT value from before it; in the recovery account, check the new credential with its owner, then finish the rotation (secrets-dr rotate, or rotate-secret) or remove AWSPENDING (update-secret-version-stage)`;
}

/** The commands that fence the primary account's secrets later (the account failover could not). */
function fenceLaterCommands(planName: string, accountId: string): string[] {
  return [
    `once the primary account answers again: secrets-dr failover --to-account ${accountId} -f <plan of ${planName}>, then secrets-dr approve ID at its approval gate (a re-run converges: it fences the primary's secrets, detaches the replicas, and promotes nothing twice)`,
    `or by hand, per secret, in the primary account (merge the statement into any policy the secret has): aws secretsmanager put-resource-policy --secret-id NAME --no-block-public-policy --resource-policy '${policyWithDeny(undefined, FENCE_SID, FENCED_ACTIONS)}'`,
  ];
}

/** The primary fence of an account failover's report, from how the primary answered and what the fence step did. Pure. */
export function primaryFenceOf(o: {
  planName: string;
  accountId: string;
  reach: AccountReach;
  fenceEnabled: boolean;
  /** The fence step ran (not when the run was rejected or failed before it). */
  ran: boolean;
  fenced: number;
  failed: Array<{ name: string; reason: string }>;
}): PrimaryFence {
  if (!o.fenceEnabled) return { state: 'off', fenced: 0, failed: [], next: [] };
  if (o.reach !== 'answers') return { state: 'unfenced', fenced: 0, failed: [], next: fenceLaterCommands(o.planName, o.accountId) };
  if (!o.ran) return { state: 'unfenced', fenced: 0, failed: [], next: [] };
  if (o.failed.length) return { state: 'partial', fenced: o.fenced, failed: o.failed, next: fenceLaterCommands(o.planName, o.accountId) };
  return { state: 'fenced', fenced: o.fenced, failed: [], next: [] };
}

/** What `failover --to-account --dry-run` shows per secret (names and statuses; never a value). */
const AccountFailoverPreviewItem = z.object({
  name: z.string(),
  action: z.enum(['promote', 'already-standalone', 'cannot']),
  fence: z.boolean(),
  detach: z.boolean(),
  note: z.string().optional(),
});
export const AccountFailoverPreview = z.object({
  plan: z.string(),
  accountId: z.string(),
  region: z.string(),
  primaryAccount: AccountReach,
  recoveryAccount: AccountReach,
  problems: z.array(z.string()),
  consequences: z.array(z.string()),
  counts: z.record(z.string(), z.number()),
  items: z.array(AccountFailoverPreviewItem),
});
export type AccountFailoverPreview = z.infer<typeof AccountFailoverPreview>;

/** The head both account dry runs share: the plan, both accounts' reach, and the count of each action. */
function previewHead<A extends string>(status: AccountStatusReport, items: ReadonlyArray<{ action: A }>) {
  const counts: Record<string, number> = {};
  for (const i of items) counts[i.action] = (counts[i.action] ?? 0) + 1;
  return {
    plan: status.plan,
    accountId: status.accountId,
    region: status.region,
    primaryAccount: status.primaryAccount.reach,
    recoveryAccount: status.recoveryAccount.reach,
    counts,
  };
}

/**
 * What an account failover would do, from a read of both accounts (`account status`): per secret,
 * promote (after fencing the primary and detaching, when the primary answers), already standalone
 * (an earlier run), or cannot (no replica: run setup). The workflow decides with the same
 * predicates (isPromotable). Pure.
 */
export function accountFailoverPreview(status: AccountStatusReport, plan: Pick<Plan, 'name' | 'failover'>, mode?: FailoverMode): AccountFailoverPreview {
  const route = accountFailoverPath(status.primaryAccount, mode);
  const answers = route.path === 'planned';
  const problems: string[] = route.problem ? [route.problem] : [];
  if (status.recoveryAccount.reach !== 'answers')
    problems.push(
      `the recovery account ${status.accountId} ${status.recoveryAccount.reach}${status.recoveryAccount.error ? ` (${status.recoveryAccount.error})` : ''}: nothing can be promoted there`,
    );
  const items = status.secrets.map((s): AccountFailoverPreview['items'][number] => {
    if (!isPromotable(s))
      return { name: s.name, action: 'cannot', fence: false, detach: false, note: `no cross-account replica (${s.replica}): run account setup first` };
    const fence = answers && plan.failover.fence;
    if (isPromotedCopy(s))
      return { name: s.name, action: 'already-standalone', fence, detach: false, note: `promoted earlier${s.promotedBy ? ` by ${s.promotedBy}` : ''}` };
    const view = s.primaryView ?? s.replicaView;
    const notes = [
      view && view !== 'InSync' ? `replication ${view}: writes not yet replicated are not in the promoted copy` : undefined,
      s.rotationPending ? accountRotationNote(s.rotationPending, answers) : undefined,
    ].filter((n) => n !== undefined);
    const note = notes.length ? notes.join('; ') : undefined;
    return { name: s.name, action: 'promote', fence, detach: answers, ...(note ? { note } : {}) };
  });
  if (status.recoveryAccount.reach === 'answers' && !items.some((i) => i.action !== 'cannot'))
    problems.push(`no replica of plan ${plan.name} found in account ${status.accountId}: nothing to fail over`);
  return {
    ...previewHead(status, items),
    problems,
    consequences: route.path === 'unplanned' ? unreachablePrimaryConsequences(status.primaryAccount.reach, status.accountId) : [],
    items,
  };
}

/** What `account failback --dry-run` shows per secret (names and states; never a value). */
export interface AccountFailbackPreview {
  plan: string;
  accountId: string;
  region: string;
  primaryAccount: AccountProbe['reach'];
  recoveryAccount: AccountProbe['reach'];
  problems: string[];
  counts: Record<string, number>;
  items: Array<{ name: string; action: 'reconcile' | 're-associate' | 'in-sync'; note?: string }>;
}

/**
 * What an account failback would do, from a read of both accounts (`account status`): each copy our failover
 * promoted is reconciled (fenced, compared, copied back or kept by the failback policies, backed up, replaced by a
 * new replica); any other plan secret not InSync is re-associated by setup's tail. Both accounts must answer, as the
 * run's preflight requires. Pure.
 */
export function accountFailbackPreview(status: AccountStatusReport): AccountFailbackPreview {
  const problems: string[] = [];
  for (const [who, p] of [
    ['the primary account', status.primaryAccount],
    [`the recovery account ${status.accountId}`, status.recoveryAccount],
  ] as const)
    if (p.reach !== 'answers')
      problems.push(`${who} ${p.reach === 'denied' ? 'refused our credentials' : 'did not answer'} (${p.error ?? p.reach}): failback needs both`);
  const items = status.secrets.map((s): AccountFailbackPreview['items'][number] => {
    if (isPromotedCopy(s))
      return {
        name: s.name,
        action: 'reconcile',
        note: `promoted${s.promotedBy ? ` by ${s.promotedBy}` : ''}; which side changed is decided after the recovery copy is fenced`,
      };
    if (s.replica === 'replica' && (s.primaryView ?? s.replicaView) === 'InSync') return { name: s.name, action: 'in-sync' };
    return { name: s.name, action: 're-associate', note: `in the recovery account: ${s.replica}` };
  });
  return { ...previewHead(status, items), problems, items };
}

export function accountSetupWorkflowId(planName: string, accountId: string): string {
  return `secrets-dr/${planName}/account/${accountId}/setup`;
}
export function accountFailoverWorkflowId(planName: string, accountId: string): string {
  return `secrets-dr/${planName}/account/${accountId}/failover`;
}
export function accountFailbackWorkflowId(planName: string, accountId: string): string {
  return `secrets-dr/${planName}/account/${accountId}/failback`;
}

/** What `watch`/the progress query shows of a running account operation (names and counts only). */
export const AccountProgress = z.object({ workflowId: z.string(), accountId: z.string(), state: z.string(), counts: z.record(z.string(), z.number()) });
export type AccountProgress = z.infer<typeof AccountProgress>;

/** `secrets-dr account status`: both accounts' view of each plan secret (names, ARNs, statuses; never values). */
export const AccountStatusReport = z.object({
  plan: z.string(),
  accountId: z.string(),
  region: z.string(),
  primaryAccount: AccountProbe,
  recoveryAccount: AccountProbe,
  secrets: z.array(AccountPairState),
});
export type AccountStatusReport = z.infer<typeof AccountStatusReport>;

export function accountStatusWorkflowId(planName: string, accountId: string, nonce: string): string {
  return `secrets-dr/${planName}/account/${accountId}/status/${nonce}`;
}

/**
 * One recovery account's health, for the monitor (and `account status`): `healthy` when both
 * accounts answer and every plan secret's cross-account replica is InSync; `degraded` with the
 * reasons otherwise. Only unreachability makes it `unreachable` (invariant 9): a `denied` primary —
 * the revoked or compromised account — is reported as degraded with that reason, and it never
 * starts an account failover by itself (that is the operator's decision: `failover --to-account`).
 */
interface AccountHealth {
  accountId: string;
  state: 'healthy' | 'degraded' | 'unreachable';
  reasons: string[];
  inSync: number;
  total: number;
}

export function accountHealthOf(report: Pick<AccountStatusReport, 'accountId' | 'primaryAccount' | 'recoveryAccount' | 'secrets'>): AccountHealth {
  const reasons: string[] = [];
  for (const [who, p] of [
    ['primary account', report.primaryAccount],
    [`recovery account ${report.accountId}`, report.recoveryAccount],
  ] as const) {
    if (p.reach !== 'answers') reasons.push(`${who}: ${p.reach}${p.error ? ` (${p.error})` : ''}`);
  }
  const inSync = report.secrets.filter((s) => s.replica === 'replica' && (s.primaryView ?? s.replicaView) === 'InSync');
  const behind = report.secrets.filter((s) => !inSync.includes(s));
  if (behind.length)
    reasons.push(
      `${behind.length} of ${report.secrets.length} secret(s) without an InSync cross-account replica: ${behind
        .slice(0, 5)
        .map((s) => `${s.name} (${s.replica}${s.primaryView ? ` ${s.primaryView}` : ''})`)
        .join(', ')}${behind.length > 5 ? ', ...' : ''}`,
    );
  const unreachable = report.primaryAccount.reach === 'unreachable' || report.recoveryAccount.reach === 'unreachable';
  return {
    accountId: report.accountId,
    state: unreachable ? 'unreachable' : reasons.length ? 'degraded' : 'healthy',
    reasons,
    inSync: inSync.length,
    total: report.secrets.length,
  };
}
