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
import { RECOVERY_PLAN_TAG, isCoveredByPlan, isRecoveryCopyOfPlan } from '../domain/selection.js';
import { conflictPolicyFor } from '../domain/replication.js';
import { backupName } from '../domain/backup.js';
import { recoveryAccount, type Plan, type RecoveryAccount } from '../domain/plan.js';
import { FENCE_SID, FENCED_ACTIONS, rotationInFlightOf } from '../domain/failover.js';
import { FAILBACK_FENCE_SID, FAILBACK_FENCED_ACTIONS, hasDenyStatement, hasStatement, policyWithDeny, policyWithout } from '../domain/failback.js';
import { FENCE_TAG } from '../domain/status.js';
import {
  ACCOUNT_PROMOTED_AT_TAG,
  ACCOUNT_PROMOTED_BY_TAG,
  ACCOUNT_PROMOTED_VERSION_TAG,
  accountFailbackDecision,
  accountFenceTagValue,
  isAccountFence,
  type AccountOutcome,
  type AccountPairState,
  type AccountProbe,
  type ChangedSide,
  type ReplicaKind,
} from '../domain/account-dr.js';
import type { AccountClientsOf, AccountRegionClients, CrossAccountDescribe } from './clients.js';
import { classifyAwsError, describeAwsError, isNotFound, toFailure } from './aws-errors.js';
import { requestToken } from './lineage.activities.js';
import { sameValue } from './backup-support.js';
import { createBackupSecretActivities } from './backup.activities.js';
import { forEachListedSecret } from './list-secrets.js';
import { accountCalls } from './account-support.js';

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

/** No answer, throttled, or this process's write lease lapsed (WriteLeaseLost): never one secret's failure, the batch's (retried). */
const failsTheBatch = (err: unknown) => {
  const cls = classifyAwsError(err);
  return cls === 'unreachable' || cls === 'throttled';
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

/** A cross-account link: the primary and its replica in the recovery account. */
interface LinkItem {
  name: string;
  primaryArn: string;
  replicaArn: string;
}

/** The tag account setup puts on every replica it creates in a recovery account: how the recovery side knows the plan's secrets. */

export function createAccountActivities(region: string, clientsOf: AccountClientsOf) {
  const guard = (r: string, what: string) => {
    if (r !== region) throw ApplicationFailure.nonRetryable(`${what} for ${r} reached the worker of ${region} (task queue routing bug)`, ErrorType.RoutingBug);
  };
  const sides = (input: AccountStepInput) => {
    guard(input.region, 'account activity');
    const account = recoveryAccountOf(input.plan, input.accountId);
    return { account, primary: clientsOf(region), recovery: clientsOf(region, account) };
  };
  const { gov, where, describe } = accountCalls(region);
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
    await forEachListedSecret(c.secretsManager, where(c), { heartbeat: true, bucket: c.bucket }, (s) => {
      if (!s.Name || s.DeletedDate || (s.PrimaryRegion && s.PrimaryRegion !== region)) return;
      const selected = recoverySide ? isRecoveryCopyOfPlan(plan.name, { name: s.Name, tags: s.Tags }) : isCoveredByPlan(plan, { name: s.Name, tags: s.Tags });
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
  /**
   * Adds (`on`) or removes the deny-to-everyone statement `sid` in the resource policy of `arn` (in
   * c's account); describe first: nothing is written when it is already so. Returns whether it wrote.
   */
  const setDeny = async (c: AccountRegionClients, share: number, arn: string, sid: string, actions: readonly string[], on: boolean): Promise<boolean> => {
    const g = gov(c, share, 'policy');
    try {
      const text = (await g.write(() => c.secretsManager.getResourcePolicy({ SecretId: arn }))).ResourcePolicy;
      // Fencing judges the statement, not its Sid (an edited one is replaced); lifting removes whatever carries our Sid.
      if ((on ? hasDenyStatement(text, sid, actions) : hasStatement(text, sid)) === on) return false;
      const rest = on ? policyWithDeny(text, sid, actions) : policyWithout(text!, sid);
      if (rest === undefined) await g.write(() => c.secretsManager.deleteResourcePolicy({ SecretId: arn }));
      else await g.write(() => c.secretsManager.putResourcePolicy({ SecretId: arn, ResourcePolicy: rest, BlockPublicPolicy: false }));
      return true;
    } catch (err) {
      if (failsTheBatch(err)) throw toFailure(err, `${on ? 'PutResourcePolicy' : 'removing'} ${sid} on ${arn}`, where(c));
      throw err;
    }
  };
  /** Lifts account failover's fence from a primary (statement, then the tag); a fence that is not ours (a Region failover's) stays. */
  const unfencePrimary = async (c: AccountRegionClients, share: number, p: CrossAccountDescribe) => {
    if (!isAccountFence(tagOf(p, FENCE_TAG))) return;
    await setDeny(c, share, p.ARN!, FENCE_SID, FENCED_ACTIONS, false);
    await gov(c, share, 'tagging').write(() => c.secretsManager.untagResource({ SecretId: p.ARN!, TagKeys: [FENCE_TAG] }));
  };
  /**
   * One describe-then-write per cross-account link, from the primary account: `step` gets the
   * primary's entry for the item's replica (undefined when not listed) and returns the item's
   * outcome. An account that does not answer or throttles fails the activity (retried: every step
   * is idempotent); any other error is that item's outcome.
   */
  const eachPrimaryLink = async (
    input: AccountStepInput & { items: LinkItem[] },
    what: string,
    step: (
      item: LinkItem,
      listed: NonNullable<CrossAccountDescribe['CrossAccountReplicas']>[number] | undefined,
      p: CrossAccountDescribe | undefined,
    ) => Promise<AccountOutcome>,
  ): Promise<AccountOutcome[]> => {
    const primary = clientsOf(region);
    const out: AccountOutcome[] = [];
    for (const item of input.items) {
      try {
        // Inside the try: a primary revoked or deleted since the fence is this item's outcome (a warning), not the step's failure.
        const p = await describe(primary, item.primaryArn);
        out.push(
          await step(
            item,
            p?.CrossAccountReplicas?.find((x) => x.ReplicaSecretARN === item.replicaArn),
            p,
          ),
        );
      } catch (err) {
        if (failsTheBatch(err)) throw toFailure(err, `${what}: ${item.name}`, where(primary));
        out.push(failed(item.name, err, what));
      }
      heartbeat({ done: out.length });
    }
    return out;
  };
  const forceDelete = async (c: AccountRegionClients, share: number, name: string) => {
    try {
      await gov(c, share).write(() => c.secretsManager.deleteSecret({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    } catch (err) {
      if (!isNotFound(err)) throw toFailure(err, `DeleteSecret ${name}`, where(c));
    }
  };

  return {
    /**
     * Does the account answer? (ListSecrets, one item.) `unreachable` is an outage; `denied` is a revoked, locked or compromised
     * account or merely a missing permission (account failover refuses it without --mode unplanned); throttled is retried.
     */
    async probeAccount(input: { region: string; plan: Plan; accountId?: string }): Promise<AccountProbe> {
      guard(input.region, 'probeAccount');
      const c = input.accountId === undefined ? clientsOf(region) : clientsOf(region, recoveryAccountOf(input.plan, input.accountId));
      try {
        await c.secretsManager.listSecrets({ MaxResults: 1 });
        return { reach: 'answers' };
      } catch (err) {
        const cls = classifyAwsError(err);
        // Throttled says nothing about the account: the activity is retried (never read as an outage).
        if (cls === 'throttled') throw toFailure(err, 'probing the account (ListSecrets)', where(c));
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
        const by = tagOf(r, ACCOUNT_PROMOTED_BY_TAG);
        if (by && replica === 'standalone') state.promotedBy = by;
        if (r?.KmsKeyId) state.replicaKmsKeyId = r.KmsKeyId;
        const rotation = rotationInFlightOf(input.primaryAnswers ? p?.VersionIdsToStages : r?.VersionIdsToStages);
        if (rotation) state.rotationPending = rotation.pending;
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
        const promotedBy = kind === 'standalone' ? tagOf(r, ACCOUNT_PROMOTED_BY_TAG) : undefined;
        if (promotedBy !== undefined) {
          // The copy our account failover promoted (it may hold the applications' newer writes): never a conflict to overwrite.
          out.push({
            name,
            outcome: {
              name,
              status: 'needs-failback',
              reason: `account ${account.accountId} holds the copy account failover ${promotedBy} promoted (standalone, maybe written since): setup leaves it as it is; run secrets-dr account failback --from-account ${account.accountId} to reconcile it and re-associate`,
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
              Tags: [{ Key: RECOVERY_PLAN_TAG, Value: input.plan.name }],
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
          if (failsTheBatch(err)) throw toFailure(err, `CreateSecret ${name}`, where(recovery));
          out.push({ name, outcome: { ...failed(name, err, `CreateSecret (CrossAccountPrimaryARN) in account ${account.accountId}`), backups } });
        }
        heartbeat({ done: out.length });
      }
      return out;
    },

    /** AssociateCrossAccountReplica from the primary account (idempotent: it also repairs a Failed replication). */
    async associateCrossAccountReplicas(input: AccountStepInput & { items: LinkItem[] }): Promise<AccountOutcome[]> {
      const { account, primary } = sides(input);
      const share = input.plan.failover.writeQuotaShare;
      return eachPrimaryLink(input, `AssociateCrossAccountReplica to account ${account.accountId}`, async (item, listed, p) => {
        if (listed?.ReplicationStatus === 'InSync') return { name: item.name, status: 'in-sync' };
        // Another replica still linked (an earlier recovery copy after a failback): unlinked first, and confirmed by a
        // describe, never left for AWS to replace (a primary has at most one cross-account replica).
        const others = (q: CrossAccountDescribe | undefined) =>
          (q?.CrossAccountReplicas ?? []).filter((x) => x.ReplicaSecretARN !== item.replicaArn && x.ReplicationStatus !== 'Detached');
        for (const o of others(p))
          await gov(primary, share).write(() =>
            primary.crossAccount.disassociateCrossAccountReplica({ SecretId: item.primaryArn, CrossAccountReplicaARN: o.ReplicaSecretARN! }),
          );
        const still = others(p && others(p).length ? await describe(primary, item.primaryArn) : p);
        if (still.length)
          return {
            name: item.name,
            status: 'failed',
            reason: `the primary still replicates to ${still.map((x) => x.ReplicaSecretARN).join(', ')} after DisassociateCrossAccountReplica: run setup again (or disassociate it by hand)`,
          };
        const a = await gov(primary, input.plan.failover.writeQuotaShare).write(() =>
          primary.crossAccount.associateCrossAccountReplica({
            SecretId: item.primaryArn,
            CrossAccountReplicaARN: item.replicaArn,
            ...(account.replicaRestriction ? { ReplicaRestriction: account.replicaRestriction } : {}),
          }),
        );
        return { name: item.name, status: a.ReplicationStatus === 'InSync' ? 'in-sync' : 'associated' };
      });
    },

    /** DisassociateCrossAccountReplica from the primary account (describe first: a replica already Detached or not listed is skipped). */
    async detachCrossAccountReplicas(input: AccountStepInput & { items: LinkItem[] }): Promise<AccountOutcome[]> {
      const { account, primary } = sides(input);
      return eachPrimaryLink(input, `DisassociateCrossAccountReplica from account ${account.accountId}`, async (item, listed) => {
        if (listed && listed.ReplicationStatus !== 'Detached')
          await gov(primary, input.plan.failover.writeQuotaShare).write(() =>
            primary.crossAccount.disassociateCrossAccountReplica({ SecretId: item.primaryArn, CrossAccountReplicaARN: item.replicaArn }),
          );
        return { name: item.name, status: 'unchanged' };
      });
    },

    /**
     * Planned account failover, per link, before the cut: a rotation in flight on the primary (AWSPENDING on a version
     * that is not AWSCURRENT), and whether the replica has caught up with the primary's AWSCURRENT. Caught up when the
     * replica's AWSCURRENT version id is the primary's, or else when both AWSCURRENT values are equal (read here, never
     * returned): that a sync keeps version ids across accounts is not documented, so it is not relied upon.
     */
    async checkAccountCutReadiness(
      input: AccountStepInput & { items: LinkItem[] },
    ): Promise<Array<{ name: string; rotationPending?: string; caughtUp: boolean; reason?: string }>> {
      const { account, primary, recovery } = sides(input);
      const out: Array<{ name: string; rotationPending?: string; caughtUp: boolean; reason?: string }> = [];
      for (const item of input.items) {
        try {
          const p = await describe(primary, item.primaryArn);
          const r = await describe(recovery, item.replicaArn);
          const rotation = rotationInFlightOf(p?.VersionIdsToStages);
          const [pv, rv] = [currentOf(p), currentOf(r)];
          let caughtUp = pv !== undefined && pv === rv;
          if (!caughtUp && p?.ARN && r?.ARN) {
            const [a, b] = [await readCurrent(primary, p.ARN), await readCurrent(recovery, r.ARN)];
            caughtUp = a !== undefined && b !== undefined && sameValue(a, b);
          }
          const view =
            p?.CrossAccountReplicas?.find((x) => x.ReplicaSecretARN === item.replicaArn)?.ReplicationStatus ?? r?.CrossAccountPrimary?.ReplicationStatus;
          out.push({
            name: item.name,
            ...(rotation ? { rotationPending: rotation.pending } : {}),
            caughtUp,
            ...(caughtUp
              ? {}
              : { reason: `the replica in account ${account.accountId} does not hold the primary's AWSCURRENT yet (replication ${view ?? 'status unknown'})` }),
          });
        } catch (err) {
          if (failsTheBatch(err)) throw toFailure(err, `checking ${item.name} before the cut`, where(primary));
          out.push({ name: item.name, caughtUp: false, reason: failed(item.name, err, 'checking before the cut').reason });
        }
        heartbeat({ done: out.length });
      }
      return out;
    },

    /**
     * Planned account failover: fences each primary in the primary account before its replica is
     * detached and promoted — Region failover's deny-writes statement merged into its resource
     * policy, then the `secrets-dr:fenced` tag naming this account failover. The statement decides
     * (read first, written only when missing), never the tag: a retried attempt re-fences a tagged
     * primary whose statement is gone.
     */
    async fenceAccountPrimaries(
      input: AccountStepInput & { items: Array<{ name: string; primaryArn: string }>; workflowId: string },
    ): Promise<AccountOutcome[]> {
      const { primary } = sides(input);
      const share = input.plan.failover.writeQuotaShare;
      const out: AccountOutcome[] = [];
      for (const item of input.items) {
        try {
          const p = await describe(primary, item.primaryArn);
          if (!p?.ARN || p.DeletedDate !== undefined) {
            out.push({ name: item.name, status: 'failed', reason: `no secret ${item.primaryArn} in the primary account: nothing to fence` });
            continue;
          }
          // The statement is the fence, not the tag: a tagged primary whose statement is gone (a crash, a hand edit) is fenced again.
          await setDeny(primary, share, p.ARN, FENCE_SID, FENCED_ACTIONS, true);
          if (tagOf(p, FENCE_TAG) === undefined) {
            await gov(primary, share, 'tagging').write(() =>
              primary.secretsManager.tagResource({
                SecretId: p.ARN!,
                Tags: [{ Key: FENCE_TAG, Value: accountFenceTagValue(input.workflowId, input.accountId) }],
              }),
            );
          }
          out.push({ name: item.name, status: 'unchanged' });
        } catch (err) {
          if (failsTheBatch(err)) throw toFailure(err, `fencing ${item.name}`, where(primary));
          out.push(failed(item.name, err, 'fencing the primary'));
        }
        heartbeat({ done: out.length });
      }
      return out;
    },

    /**
     * Promotes each replica in the recovery account (StopReplicationToReplica there, which also works
     * on a replica still associated when the primary account is gone), then tags it with this run
     * and the version it was promoted at (failback's "what changed since"). A standalone secret this
     * run saw as its replica (a retried attempt after a crash between the stop and the tag) is tagged
     * then; one this run tagged already keeps its promoted-version. Both are counted as promoted.
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
          const tagged = tagOf(r, ACCOUNT_PROMOTED_VERSION_TAG);
          const tag = (v: string | undefined) =>
            gov(recovery, share, 'tagging').write(() =>
              recovery.secretsManager.tagResource({
                SecretId: r.ARN!,
                Tags: [
                  { Key: ACCOUNT_PROMOTED_BY_TAG, Value: input.workflowId.slice(0, 256) },
                  { Key: ACCOUNT_PROMOTED_AT_TAG, Value: input.promotedAt },
                  ...(v ? [{ Key: ACCOUNT_PROMOTED_VERSION_TAG, Value: v }] : []),
                ],
              }),
            );
          // TagResource is refused on a secret that still replicates (the lab answers as for a Region replica; AWS documents
          // nothing else), so the stop comes first; a retried attempt finds the copy standalone and tags it then, and an
          // existing promoted-version (this run's earlier attempt) is kept: the applications may have written since.
          if (r.CrossAccountPrimary) await gov(recovery, share).write(() => recovery.secretsManager.stopReplicationToReplica({ SecretId: r.ARN! }));
          const promotedVersion = tagged ?? version;
          if (ours !== input.workflowId || tagged === undefined) await tag(promotedVersion);
          out.push({ name, status: 'promoted', ...(promotedVersion ? { version: promotedVersion } : {}) });
        } catch (err) {
          if (failsTheBatch(err)) throw toFailure(err, `StopReplicationToReplica ${name}`, where(recovery));
          out.push(failed(name, err, `StopReplicationToReplica in account ${account.accountId}`));
        }
        heartbeat({ done: out.length });
      }
      return out;
    },

    /**
     * Failback: the plan's primaries that carry our account-fence tag while their recovery copy is not a promoted copy
     * (a failover that fenced, maybe detached, then failed or held them back): nothing to reconcile, the primary is
     * the only writable side, so its fence is lifted (statement, then tag); setup's tail re-associates. Returns their names.
     */
    async liftStrandedAccountFences(input: AccountStepInput): Promise<string[]> {
      const { primary, recovery } = sides(input);
      const share = input.plan.failover.writeQuotaShare;
      const lifted: string[] = [];
      for (const name of await listPlanNames(primary, input.plan)) {
        const p = await describe(primary, name);
        if (!p?.ARN || p.DeletedDate !== undefined || !isAccountFence(tagOf(p, FENCE_TAG))) continue;
        const r = await describe(recovery, name);
        const promoted =
          replicaKindOf(r, p.ARN, name) === 'standalone' && (tagOf(r, ACCOUNT_PROMOTED_BY_TAG) ?? tagOf(r, ACCOUNT_PROMOTED_VERSION_TAG)) !== undefined;
        if (promoted) continue; // reconcileAccountSecrets decides for it
        await unfencePrimary(primary, share, p);
        lifted.push(name);
        heartbeat({ lifted: lifted.length });
      }
      return lifted;
    },

    /**
     * Failback of one batch into the (recovered or rebuilt) primary account. Per secret: first the
     * recovery account's copy is fenced (failback's deny-writes statement: the applications there
     * stop changing it), then both sides are read again — what was written before the fence is in
     * that read, anything later is refused. Which side changed since the promotion (the recovery
     * side: its AWSCURRENT is not the promoted version; the primary: its value differs from the
     * promoted version's), decided by the plan's failback policies; the primary is backed up before it
     * is overwritten (through account failover's fence, lifted for the write); then the recovery copy
     * is backed up (in that account) and deleted, and the primary unfenced: it is the writable side
     * again, and setup's tail creates the replica and re-associates. Exactly one side stays writable
     * whatever fails: `ask`, or a step that fails before the delete, lifts the recovery fence and
     * puts the primary's back; after the delete, the primary is the writable one.
     */
    async reconcileAccountSecrets(input: AccountStepInput & { names: string[]; workflowId: string }): Promise<AccountOutcome[]> {
      const { account, primary, recovery } = sides(input);
      const share = input.plan.failover.writeQuotaShare;
      const out: AccountOutcome[] = [];
      for (const name of input.names) {
        const before = await describe(recovery, name);
        const p = await describe(primary, name);
        if (!before?.ARN || before.DeletedDate !== undefined || before.CrossAccountPrimary) {
          // A retried attempt whose copy is already gone: the primary is the writable side, its fence goes.
          if (p?.ARN && p.DeletedDate === undefined) await unfencePrimary(primary, share, p);
          out.push({ name, status: 'unchanged', reason: 'no promoted secret in the recovery account (already failed back, or never promoted)' });
          continue;
        }
        if (!p?.ARN || p.DeletedDate !== undefined) {
          // A rebuilt primary account without this secret: nothing is fenced, nothing written.
          out.push({
            name,
            status: 'failed',
            reason: `${name} does not exist in the primary account: create it there (or restore it from a backup), then run failback again`,
          });
          continue;
        }
        const backups: NonNullable<AccountOutcome['backups']> = [];
        let deleted = false;
        /**
         * Undoes this secret's fences so that exactly one side is writable: the recovery copy while it exists. Decided from the
         * primary's account-fence tag, not from what this attempt did: a retry after a crash mid copy-back puts the deny back too.
         */
        const reopenRecovery = async () => {
          if (deleted) return;
          await setDeny(recovery, share, before.ARN!, FAILBACK_FENCE_SID, FAILBACK_FENCED_ACTIONS, false);
          if (isAccountFence(tagOf(p, FENCE_TAG))) await setDeny(primary, share, p.ARN!, FENCE_SID, FENCED_ACTIONS, true);
        };
        try {
          await setDeny(recovery, share, before.ARN, FAILBACK_FENCE_SID, FAILBACK_FENCED_ACTIONS, true);
          // Re-check after the fence: every write the applications made before it is in this read.
          const r = await describe(recovery, before.ARN);
          if (!r?.ARN || r.DeletedDate !== undefined || r.CrossAccountPrimary)
            throw new Error(`${name} changed in account ${account.accountId} while it was being fenced`);
          const recoveryValue = await readCurrent(recovery, r.ARN);
          const primaryValue = await readCurrent(primary, p.ARN);
          if (!recoveryValue || !primaryValue) throw new Error('a side has no readable AWSCURRENT version');
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
            await reopenRecovery();
            out.push({
              name,
              status: 'conflict',
              reason: `${changed === 'both' ? 'both sides' : 'the primary'} changed since the promotion; failback.${changed === 'both' ? 'onBothChanged' : 'onOriginalChanged'} is ask: compare them, set keep-dr or keep-original, and run failback again`,
            });
            continue;
          }
          if (decision === 'copy-back') {
            backups.push(await backup(primary, input.plan, name, `account-failback:${account.accountId}`, input.workflowId));
            // Through account failover's fence on the primary (only ours: a Region failover's fence refuses the write).
            if (isAccountFence(tagOf(p, FENCE_TAG))) await setDeny(primary, share, p.ARN, FENCE_SID, FENCED_ACTIONS, false);
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
          deleted = true;
          // The primary may still list the promoted copy (Detached): unlink it, so the new replica is its one cross-account replica.
          if (p.CrossAccountReplicas?.some((x) => x.ReplicaSecretARN === r.ARN)) {
            try {
              await gov(primary, share).write(() => primary.crossAccount.disassociateCrossAccountReplica({ SecretId: p.ARN!, CrossAccountReplicaARN: r.ARN! }));
            } catch (err) {
              if (!isNotFound(err) && describeAwsError(err).name !== 'InvalidRequestException') throw err;
            }
          }
          await unfencePrimary(primary, share, p);
          out.push({ name, status: decision === 'copy-back' ? 'copied-back' : decision === 'keep-primary' ? 'kept-primary' : 'unchanged', backups });
        } catch (err) {
          const batchFailure = failsTheBatch(err);
          try {
            await reopenRecovery();
          } catch (undo) {
            if (!batchFailure) throw undo; // the retried activity fences, reads and decides again
          }
          if (batchFailure) throw toFailure(err, `failback of ${name}`, where(primary));
          // A Region failover's fence on the primary refuses the copy-back: that failover is failed back first.
          const fence = tagOf(p, FENCE_TAG);
          const regionFenced = fence !== undefined && !isAccountFence(fence) && /explicit deny/i.test(describeAwsError(err).message);
          out.push({
            ...failed(name, err, 'failback'),
            ...(regionFenced
              ? { reason: `the primary is fenced by a Region failover (${fence}): fail that back first (secrets-dr failback), then run account failback again` }
              : {}),
            backups,
          });
          continue;
        }
        heartbeat({ done: out.length });
      }
      return out;
    },
  };
}

export type AccountActivities = ReturnType<typeof createAccountActivities>;
