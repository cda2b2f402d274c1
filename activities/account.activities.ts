/**
 * Account DR activities: cross-account replicas of the plan's secrets in a recovery account, in the
 * primary Region. Each runs on the Region's task queue and reaches the primary account with the
 * worker's own credentials and the recovery account through STS AssumeRole (AccountClientsOf).
 *
 * Invariants kept here: values are read and written inside one activity and never returned
 * (invariant 1); a recovery-account secret is backed up (in its own account) before it is deleted
 * or replaced, a primary before it is overwritten (2); every write carries a ClientRequestToken
 * from workflow id + step, and each step describes first (3); writes pass the write governor of
 * their (account, Region) bucket: each account has its own 50 TPS (5).
 */
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { GetSecretValueResponse } from '@aws-sdk/client-secrets-manager';
import { ErrorType } from '../domain/errors.js';
import { isCoveredByPlan } from '../domain/selection.js';
import { conflictPolicyFor } from '../domain/replication.js';
import { backupName } from '../domain/backup.js';
import { recoveryAccount, type Plan, type RecoveryAccount } from '../domain/plan.js';
import {
  ACCOUNT_PROMOTED_AT_TAG,
  ACCOUNT_PROMOTED_BY_TAG,
  ACCOUNT_PROMOTED_VERSION_TAG,
  accountFailbackDecision,
  type AccountOutcome,
  type AccountPairState,
  type AccountProbe,
  type ChangedSide,
  type ReplicaKind,
} from '../domain/account-dr.js';
import type { AccountClientsOf, AccountRegionClients, CrossAccountDescribe } from './clients.js';
import { classifyAwsError, describeAwsError, isNotFound, toFailure } from './aws-errors.js';
import { writeGovernor } from './write-governor.js';
import { requestToken } from './lineage.activities.js';
import { sameValue } from './backup-support.js';
import { createBackupSecretActivities } from './backup.activities.js';
import { forEachListedSecret } from './list-secrets.js';

/** A replica ensured in the recovery account (its ARN, and the backups its conflict resolution made), or why not. */
interface EnsuredReplica {
  name: string;
  replicaArn?: string;
  backups?: AccountOutcome['backups'];
  outcome?: AccountOutcome;
}

/** The statement of a replica's resource policy that lets the primary account replicate into it. */
const ACCEPT_SID = 'SecretsDrAcceptCrossAccountReplication';

interface AccountStepInput {
  region: string;
  plan: Plan;
  accountId: string;
}

const tagOf = (d: CrossAccountDescribe | undefined, key: string) => d?.Tags?.find((t) => t.Key === key)?.Value;
const currentOf = (d: CrossAccountDescribe | undefined) => Object.entries(d?.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
const failed = (name: string, err: unknown, what: string): AccountOutcome => {
  const e = describeAwsError(err);
  return { name, status: 'failed', reason: `${what}: ${e.name}: ${e.message}` };
};

/** The plan's recovery account `accountId`, or a non-retryable failure naming the plan field. */
function recoveryAccountOf(plan: Plan, accountId: string): RecoveryAccount {
  const a = recoveryAccount(plan, accountId);
  if (!a)
    throw ApplicationFailure.nonRetryable(
      `account ${accountId} is not in recoveryAccounts of plan ${plan.name} (${plan.recoveryAccounts.map((r) => r.accountId).join(', ') || 'none listed'}): add it there first`,
      ErrorType.PlanInvalid,
    );
  return a;
}

/** What the recovery account holds under a name, seen against the primary's ARN (when known). */
export function replicaKindOf(d: CrossAccountDescribe | undefined, primaryArn: string | undefined, name: string): ReplicaKind {
  if (!d?.ARN) return 'absent';
  if (d.DeletedDate !== undefined) return 'deleted';
  const from = d.CrossAccountPrimary?.PrimarySecretARN;
  if (!from) return 'standalone';
  if (primaryArn !== undefined) return from === primaryArn ? 'replica' : 'foreign';
  // The primary account did not answer: ours when it replicates a secret of the same name in the same Region.
  const m = /^arn:[^:]+:secretsmanager:([^:]+):\d{12}:secret:(.+)-[A-Za-z0-9]{6}$/.exec(from);
  return m?.[2] === name ? 'replica' : 'foreign';
}

/** The tag account setup puts on every replica it creates in a recovery account: how the recovery side knows the plan's secrets. */
const PLAN_TAG = 'secrets-dr:plan';

export function createAccountActivities(region: string, clientsOf: AccountClientsOf) {
  const guard = (r: string, what: string) => {
    if (r !== region) throw ApplicationFailure.nonRetryable(`${what} for ${r} reached the worker of ${region} (task queue routing bug)`, ErrorType.RoutingBug);
  };
  const sides = (input: AccountStepInput) => {
    guard(input.region, 'account activity');
    const account = recoveryAccountOf(input.plan, input.accountId);
    return { account, primary: clientsOf(region), recovery: clientsOf(region, account) };
  };
  const gov = (c: AccountRegionClients, share: number, group?: string) => writeGovernor(group ? `${c.bucket}/${group}` : c.bucket, share);
  const where = (c: AccountRegionClients) => (c.accountId ? `${region} (account ${c.accountId})` : `${region} (primary account)`);
  const describe = async (c: AccountRegionClients, id: string): Promise<CrossAccountDescribe | undefined> => {
    try {
      return await c.crossAccount.describeSecretCrossAccount({ SecretId: id });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw toFailure(err, `DescribeSecret ${id}`, where(c));
    }
  };
  const readCurrent = async (c: AccountRegionClients, id: string, versionId?: string): Promise<GetSecretValueResponse | undefined> => {
    try {
      return await c.secretsManager.getSecretValue({ SecretId: id, ...(versionId ? { VersionId: versionId } : { VersionStage: 'AWSCURRENT' }) });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw toFailure(err, `GetSecretValue ${id}`, where(c));
    }
  };
  /**
   * The plan's secrets as `c`'s account lists them (names only), one ListSecrets page per 100. In a recovery
   * account by the `secrets-dr:plan` tag setup puts on each replica it creates: a cross-account replica does not
   * carry the primary's tags, so the plan's tag selectors would silently miss secrets there.
   */
  const listPlanNames = async (c: AccountRegionClients, plan: Plan): Promise<string[]> => {
    const names: string[] = [];
    const recoverySide = c.accountId !== undefined;
    await forEachListedSecret(c.secretsManager, where(c), { heartbeat: true }, (s) => {
      if (!s.Name || s.DeletedDate || (s.PrimaryRegion && s.PrimaryRegion !== region)) return;
      const selected = recoverySide
        ? (s.Tags ?? []).some((t) => t.Key === PLAN_TAG && t.Value === plan.name)
        : isCoveredByPlan(plan, { name: s.Name, tags: s.Tags });
      if (selected) names.push(s.Name);
    });
    return names.sort();
  };
  /** Backs up `name` in `c`'s account and Region (a backup secret beside it), before it is replaced or deleted. */
  const backup = async (c: AccountRegionClients, plan: Plan, name: string, reason: string, workflowId: string) => {
    const { backupSecret } = createBackupSecretActivities({ region, bucket: c.bucket, secretsManager: c.secretsManager });
    const b = await backupSecret({
      planName: plan.name,
      secret: name,
      backup: backupName(plan.name, name, new Date()),
      reason,
      workflowId,
      writeQuotaShare: plan.failover.writeQuotaShare,
    });
    return { account: c.accountId ?? 'primary', name: b.backup };
  };
  /**
   * The replica's resource policy lets the primary's account replicate into it
   * (secretsmanager:AcceptCrossAccountReplication, which AssociateCrossAccountReplica exercises on
   * the replica): merged into any policy it has, written only when missing.
   */
  const allowPrimary = async (c: AccountRegionClients, share: number, replicaArn: string, primaryArn: string) => {
    const primaryAccount = primaryArn.split(':')[4];
    let doc: { Version?: string; Statement?: Array<{ Sid?: string }> } = { Version: '2012-10-17', Statement: [] };
    try {
      const text = (await gov(c, share, 'policy').write(() => c.secretsManager.getResourcePolicy({ SecretId: replicaArn }))).ResourcePolicy;
      if (text) doc = JSON.parse(text) as typeof doc;
    } catch (err) {
      throw toFailure(err, `GetResourcePolicy ${replicaArn}`, where(c));
    }
    const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
    if (statements.some((st) => st.Sid === ACCEPT_SID)) return;
    const statement = {
      Sid: ACCEPT_SID,
      Effect: 'Allow',
      Principal: { AWS: `arn:${primaryArn.split(':')[1]}:iam::${primaryAccount}:root` },
      Action: 'secretsmanager:AcceptCrossAccountReplication',
      Resource: '*',
    };
    try {
      await gov(c, share, 'policy').write(() =>
        c.secretsManager.putResourcePolicy({ SecretId: replicaArn, ResourcePolicy: JSON.stringify({ ...doc, Statement: [...statements, statement] }) }),
      );
    } catch (err) {
      throw toFailure(err, `PutResourcePolicy ${replicaArn}`, where(c));
    }
  };
  const forceDelete = async (c: AccountRegionClients, share: number, name: string) => {
    try {
      await gov(c, share).write(() => c.secretsManager.deleteSecret({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    } catch (err) {
      if (!isNotFound(err)) throw toFailure(err, `DeleteSecret ${name}`, where(c));
    }
  };

  return {
    /** Does the account answer? (ListSecrets, one item.) Only `unreachable` is an outage; `denied` is a revoked, locked or compromised account. */
    async probeAccount(input: { region: string; plan: Plan; accountId?: string }): Promise<AccountProbe> {
      guard(input.region, 'probeAccount');
      const c = input.accountId === undefined ? clientsOf(region) : clientsOf(region, recoveryAccountOf(input.plan, input.accountId));
      try {
        await c.secretsManager.listSecrets({ MaxResults: 1 });
        return { reach: 'answers' };
      } catch (err) {
        const cls = classifyAwsError(err);
        const e = describeAwsError(err);
        return { reach: cls === 'rejected' ? 'answers' : cls, error: e.name, message: e.message.slice(0, 300) };
      }
    },

    /**
     * Both sides of each plan secret: the primary (when `primaryAnswers`) and the recovery account.
     * Without `names`, the plan's secrets as the primary lists them (or the recovery account, when the primary does not answer).
     */
    async inspectAccountPairs(input: AccountStepInput & { names?: string[]; primaryAnswers: boolean }): Promise<AccountPairState[]> {
      const { primary, recovery } = sides(input);
      const names = input.names ?? (await listPlanNames(input.primaryAnswers ? primary : recovery, input.plan));
      const out: AccountPairState[] = [];
      for (const name of names) {
        const p = input.primaryAnswers ? await describe(primary, name) : undefined;
        const primaryArn = p?.ARN && p.DeletedDate === undefined ? p.ARN : undefined;
        const r = await describe(recovery, name);
        const replica = replicaKindOf(r, primaryArn, name);
        // Only the entry of this very replica: after a failback the primary may still list the old, detached one.
        const entry = p?.CrossAccountReplicas?.find((x) => r?.ARN !== undefined && x.ReplicaSecretARN === r.ARN);
        const state: AccountPairState = { name, replica };
        if (primaryArn) state.primaryArn = primaryArn;
        if (entry?.ReplicationStatus) state.primaryView = entry.ReplicationStatus;
        if (r?.ARN) state.replicaArn = r.ARN;
        if (r?.CrossAccountPrimary?.ReplicationStatus) state.replicaView = r.CrossAccountPrimary.ReplicationStatus;
        const message = r?.CrossAccountPrimary?.StatusMessage ?? entry?.StatusMessage;
        if (message) state.statusMessage = message.slice(0, 300);
        const current = currentOf(r);
        if (current) state.replicaCurrent = current;
        const promoted = tagOf(r, ACCOUNT_PROMOTED_VERSION_TAG);
        if (promoted) state.promotedVersion = promoted;
        if (r?.KmsKeyId) state.replicaKmsKeyId = r.KmsKeyId;
        out.push(state);
        heartbeat({ inspected: out.length });
      }
      return out;
    },

    /**
     * Creates the cross-account replica (CreateSecret with CrossAccountPrimaryARN and the plan's key)
     * of each item whose recovery-account name is free. A same-name secret there is a conflict,
     * resolved by the plan's conflict policy: skip; fail/ask/adopt (reported, nothing written);
     * backup-then-overwrite, or overwrite-if-identical when the values match: backed up in the
     * recovery account first, then deleted and created as the replica. Returns the replica's ARN per
     * name, or the outcome of a secret that will not be associated.
     */
    async ensureCrossAccountReplicas(
      input: AccountStepInput & { items: Array<Pick<AccountPairState, 'name' | 'primaryArn' | 'replica'>>; workflowId: string },
    ): Promise<EnsuredReplica[]> {
      const { account, primary, recovery } = sides(input);
      const share = input.plan.failover.writeQuotaShare;
      const out: EnsuredReplica[] = [];
      for (const item of input.items) {
        const { name, primaryArn } = item;
        if (!primaryArn) {
          out.push({ name, outcome: { name, status: 'failed', reason: 'the primary secret was not found in the primary account' } });
          continue;
        }
        let r = await describe(recovery, name);
        let kind = replicaKindOf(r, primaryArn, name);
        const backups: AccountOutcome['backups'] = [];
        if (kind === 'replica') {
          await allowPrimary(recovery, share, r!.ARN!, primaryArn);
          out.push({ name, replicaArn: r!.ARN! });
          continue;
        }
        if (kind === 'deleted') {
          // Ours, just force-deleted by failback (the name frees up shortly): retry; anyone else's: report.
          if (tagOf(r, ACCOUNT_PROMOTED_BY_TAG))
            throw ApplicationFailure.retryable(`${name} in account ${account.accountId} is still being deleted`, 'NameNotFreeYet');
          out.push({
            name,
            outcome: {
              name,
              status: 'conflict',
              reason: `a secret named ${name} is scheduled for deletion in account ${account.accountId}: restore or delete it, then run setup again`,
            },
          });
          continue;
        }
        if (kind === 'standalone' || kind === 'foreign') {
          const policy = conflictPolicyFor(
            input.plan,
            name,
            (r?.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''] as const),
          );
          const what = kind === 'foreign' ? `a cross-account replica of another primary (${r?.CrossAccountPrimary?.PrimarySecretARN})` : 'a standalone secret';
          if (policy === 'skip') {
            out.push({
              name,
              outcome: { name, status: 'skipped', reason: `account ${account.accountId} already holds ${what} named ${name} (conflicts.policy skip)` },
            });
            continue;
          }
          let overwrite = policy === 'backup-then-overwrite';
          if (policy === 'overwrite-if-identical') {
            const [a, b] = [await readCurrent(primary, primaryArn), await readCurrent(recovery, r!.ARN!)];
            overwrite = a !== undefined && b !== undefined && sameValue(a, b);
          }
          if (!overwrite) {
            out.push({
              name,
              outcome: {
                name,
                status: 'conflict',
                reason: `account ${account.accountId} already holds ${what} named ${name}; conflicts.policy ${policy} leaves it as it is${policy === 'overwrite-if-identical' ? ' (the values differ)' : ''}: back it up and delete it, or set the policy to backup-then-overwrite, then run setup again`,
              },
            });
            continue;
          }
          backups.push(await backup(recovery, input.plan, name, `account-setup-conflict:${primaryArn}`, input.workflowId));
          await forceDelete(recovery, share, name);
          r = undefined;
          kind = 'absent';
        }
        try {
          const created = await gov(recovery, share).write(() =>
            recovery.crossAccount.createCrossAccountReplica({
              Name: name,
              CrossAccountPrimaryARN: primaryArn,
              KmsKeyId: account.kmsKeyId,
              ClientRequestToken: requestToken(input.workflowId, 'account-replica', account.accountId, name),
              Tags: [{ Key: PLAN_TAG, Value: input.plan.name }],
            }),
          );
          const replicaArn = created.ARN ?? (await describe(recovery, name))?.ARN;
          if (replicaArn) await allowPrimary(recovery, share, replicaArn, primaryArn);
          out.push({ name, ...(replicaArn ? { replicaArn } : {}), ...(backups.length ? { backups } : {}) });
        } catch (err) {
          const e = describeAwsError(err);
          if (e.name === 'ResourceExistsException') {
            const again = await describe(recovery, name);
            if (replicaKindOf(again, primaryArn, name) === 'replica') {
              await allowPrimary(recovery, share, again!.ARN!, primaryArn);
              out.push({ name, replicaArn: again!.ARN! });
              continue;
            }
          }
          // A name just freed by a forced delete: AWS may still refuse it for a moment.
          if (e.name === 'InvalidRequestException' && /scheduled for deletion/i.test(e.message))
            throw ApplicationFailure.retryable(`${name}: ${e.message}`, 'NameNotFreeYet');
          if (classifyAwsError(err) === 'unreachable' || classifyAwsError(err) === 'throttled') throw toFailure(err, `CreateSecret ${name}`, where(recovery));
          out.push({ name, outcome: { ...failed(name, err, `CreateSecret (CrossAccountPrimaryARN) in account ${account.accountId}`), backups } });
        }
        heartbeat({ done: out.length });
      }
      return out;
    },

    /** AssociateCrossAccountReplica from the primary account (idempotent: it also repairs a Failed replication). */
    async associateCrossAccountReplicas(
      input: AccountStepInput & { items: Array<{ name: string; primaryArn: string; replicaArn: string }> },
    ): Promise<AccountOutcome[]> {
      const { account, primary } = sides(input);
      const out: AccountOutcome[] = [];
      for (const item of input.items) {
        const p = await describe(primary, item.primaryArn);
        const listed = p?.CrossAccountReplicas?.find((x) => x.ReplicaSecretARN === item.replicaArn);
        if (listed?.ReplicationStatus === 'InSync') {
          out.push({ name: item.name, status: 'in-sync' });
          continue;
        }
        try {
          const a = await gov(primary, input.plan.failover.writeQuotaShare).write(() =>
            primary.crossAccount.associateCrossAccountReplica({
              SecretId: item.primaryArn,
              CrossAccountReplicaARN: item.replicaArn,
              ...(account.replicaRestriction ? { ReplicaRestriction: account.replicaRestriction } : {}),
            }),
          );
          out.push({ name: item.name, status: a.ReplicationStatus === 'InSync' ? 'in-sync' : 'associated' });
        } catch (err) {
          const cls = classifyAwsError(err);
          if (cls === 'unreachable' || cls === 'throttled') throw toFailure(err, `AssociateCrossAccountReplica ${item.name}`, where(primary));
          out.push(failed(item.name, err, `AssociateCrossAccountReplica to account ${account.accountId}`));
        }
        heartbeat({ done: out.length });
      }
      return out;
    },

    /** DisassociateCrossAccountReplica from the primary account (describe first: a replica already Detached or not listed is skipped). */
    async detachCrossAccountReplicas(
      input: AccountStepInput & { items: Array<{ name: string; primaryArn: string; replicaArn: string }> },
    ): Promise<AccountOutcome[]> {
      const { account, primary } = sides(input);
      const out: AccountOutcome[] = [];
      for (const item of input.items) {
        const p = await describe(primary, item.primaryArn);
        const listed = p?.CrossAccountReplicas?.find((x) => x.ReplicaSecretARN === item.replicaArn);
        if (!listed || listed.ReplicationStatus === 'Detached') {
          out.push({ name: item.name, status: 'unchanged' });
          continue;
        }
        try {
          await gov(primary, input.plan.failover.writeQuotaShare).write(() =>
            primary.crossAccount.disassociateCrossAccountReplica({ SecretId: item.primaryArn, CrossAccountReplicaARN: item.replicaArn }),
          );
          out.push({ name: item.name, status: 'unchanged' });
        } catch (err) {
          const cls = classifyAwsError(err);
          if (cls === 'unreachable' || cls === 'throttled') throw toFailure(err, `DisassociateCrossAccountReplica ${item.name}`, where(primary));
          out.push(failed(item.name, err, `DisassociateCrossAccountReplica from account ${account.accountId}`));
        }
        heartbeat({ done: out.length });
      }
      return out;
    },

    /**
     * Promotes each replica in the recovery account (StopReplicationToReplica there, which also works
     * on a replica still associated when the primary account is gone), then tags it with this run
     * and the version it was promoted at (failback's "what changed since"). A standalone secret this
     * run saw as its replica (a retried attempt) is tagged and counted as promoted.
     */
    async promoteCrossAccountReplicas(input: AccountStepInput & { names: string[]; workflowId: string; promotedAt: string }): Promise<AccountOutcome[]> {
      const { account, recovery } = sides(input);
      const share = input.plan.failover.writeQuotaShare;
      const out: AccountOutcome[] = [];
      for (const name of input.names) {
        const r = await describe(recovery, name);
        const version = currentOf(r);
        if (!r?.ARN || r.DeletedDate !== undefined) {
          out.push({ name, status: 'failed', reason: `no replica named ${name} in account ${account.accountId}` });
          continue;
        }
        const ours = tagOf(r, ACCOUNT_PROMOTED_BY_TAG);
        if (!r.CrossAccountPrimary && ours !== undefined && ours !== input.workflowId) {
          out.push({ name, status: 'already-standalone', ...(version ? { version } : {}), reason: `promoted earlier by ${ours}` });
          continue;
        }
        try {
          if (r.CrossAccountPrimary) await gov(recovery, share).write(() => recovery.secretsManager.stopReplicationToReplica({ SecretId: r.ARN! }));
          const tags = [
            { Key: ACCOUNT_PROMOTED_BY_TAG, Value: input.workflowId.slice(0, 256) },
            { Key: ACCOUNT_PROMOTED_AT_TAG, Value: input.promotedAt },
            ...(version ? [{ Key: ACCOUNT_PROMOTED_VERSION_TAG, Value: version }] : []),
          ];
          if (ours !== input.workflowId)
            await gov(recovery, share, 'tagging').write(() => recovery.secretsManager.tagResource({ SecretId: r.ARN!, Tags: tags }));
          out.push({ name, status: 'promoted', ...(version ? { version } : {}) });
        } catch (err) {
          const cls = classifyAwsError(err);
          if (cls === 'unreachable' || cls === 'throttled') throw toFailure(err, `StopReplicationToReplica ${name}`, where(recovery));
          out.push(failed(name, err, `StopReplicationToReplica in account ${account.accountId}`));
        }
        heartbeat({ done: out.length });
      }
      return out;
    },

    /**
     * Failback of one batch into the (recovered or rebuilt) primary account. Per secret: which side
     * changed since the promotion (the recovery side: its AWSCURRENT is not the promoted version; the
     * primary: its value differs from the promoted version's), decided by the plan's failback
     * policies; the primary is backed up before it is overwritten; then the recovery account's
     * standalone secret is backed up (in that account) and deleted, so that setup can create the
     * replica again and re-associate. `ask` leaves both sides as they are and reports the secret.
     */
    async reconcileAccountSecrets(input: AccountStepInput & { names: string[]; workflowId: string }): Promise<AccountOutcome[]> {
      const { account, primary, recovery } = sides(input);
      const share = input.plan.failover.writeQuotaShare;
      const out: AccountOutcome[] = [];
      for (const name of input.names) {
        const r = await describe(recovery, name);
        const p = await describe(primary, name);
        if (!r?.ARN || r.DeletedDate !== undefined || r.CrossAccountPrimary) {
          out.push({ name, status: 'unchanged', reason: 'no promoted secret in the recovery account (already failed back, or never promoted)' });
          continue;
        }
        if (!p?.ARN || p.DeletedDate !== undefined) {
          // A rebuilt primary account without this secret: it is created from the recovery copy, as in a copy-back.
          out.push({
            name,
            status: 'failed',
            reason: `${name} does not exist in the primary account: create it there (or restore it from a backup), then run failback again`,
          });
          continue;
        }
        const recoveryValue = await readCurrent(recovery, r.ARN);
        const primaryValue = await readCurrent(primary, p.ARN);
        if (!recoveryValue || !primaryValue) {
          out.push({ name, status: 'failed', reason: 'a side has no readable AWSCURRENT version' });
          continue;
        }
        const promotedVersion = tagOf(r, ACCOUNT_PROMOTED_VERSION_TAG);
        let changed: ChangedSide;
        if (sameValue(recoveryValue, primaryValue)) changed = 'none';
        else {
          const recoveryChanged = promotedVersion === undefined || currentOf(r) !== promotedVersion;
          const atPromotion = promotedVersion ? await readCurrent(recovery, r.ARN, promotedVersion) : undefined;
          const primaryChanged = atPromotion === undefined || !sameValue(atPromotion, primaryValue);
          changed = recoveryChanged && primaryChanged ? 'both' : recoveryChanged ? 'recovery' : 'primary';
        }
        const decision = accountFailbackDecision(changed, input.plan.failback);
        if (decision === 'ask') {
          out.push({
            name,
            status: 'conflict',
            reason: `${changed === 'both' ? 'both sides' : 'the primary'} changed since the promotion; failback.${changed === 'both' ? 'onBothChanged' : 'onOriginalChanged'} is ask: compare them, set keep-dr or keep-original, and run failback again`,
          });
          continue;
        }
        const backups: NonNullable<AccountOutcome['backups']> = [];
        try {
          if (decision === 'copy-back') {
            backups.push(await backup(primary, input.plan, name, `account-failback:${account.accountId}`, input.workflowId));
            const token = requestToken(input.workflowId, 'account-copy-back', name, currentOf(r) ?? '');
            await gov(primary, share).write(() =>
              primary.secretsManager.putSecretValue({
                SecretId: p.ARN!,
                ClientRequestToken: token,
                ...(recoveryValue.SecretBinary !== undefined
                  ? { SecretBinary: recoveryValue.SecretBinary }
                  : { SecretString: recoveryValue.SecretString ?? '' }),
              }),
            );
          }
          backups.push(await backup(recovery, input.plan, name, `account-failback-replace:${p.ARN}`, input.workflowId));
          await forceDelete(recovery, share, name);
          // The primary may still list the promoted copy (Detached): unlink it, so the new replica is its one cross-account replica.
          if (p.CrossAccountReplicas?.some((x) => x.ReplicaSecretARN === r.ARN)) {
            try {
              await gov(primary, share).write(() => primary.crossAccount.disassociateCrossAccountReplica({ SecretId: p.ARN!, CrossAccountReplicaARN: r.ARN! }));
            } catch (err) {
              if (!isNotFound(err) && describeAwsError(err).name !== 'InvalidRequestException') throw err;
            }
          }
        } catch (err) {
          if ((err as { type?: string }).type === ErrorType.RegionUnreachable) throw err;
          out.push({ ...failed(name, err, 'failback'), backups });
          continue;
        }
        out.push({ name, status: decision === 'copy-back' ? 'copied-back' : decision === 'keep-primary' ? 'kept-primary' : 'unchanged', backups });
        heartbeat({ done: out.length });
      }
      return out;
    },
  };
}

export type AccountActivities = ReturnType<typeof createAccountActivities>;
