/**
 * Account drill activities (domain/account-drill.ts): canaries `secrets-dr-drill/<plan>/account/<id>/<n>` in the
 * primary account and their cross-account replicas in the recovery account, in the primary Region; never a plan
 * secret. They run on the primary Region's task queue with both accounts' clients (AccountClientsOf: the worker's
 * own credentials for the primary, STS AssumeRole for the recovery account), as account.activities.ts does.
 *
 * - `sweepAccountDrillCanaries`: DisassociateCrossAccountReplica on every linked canary primary, then in the
 *   recovery account StopReplicationToReplica and DeleteSecret (AWS refuses to delete a replica still replicating,
 *   and a primary still associated), waits (bounded) until each deleted replica is gone, and only then deletes the
 *   primaries. A primary whose replica is still there when the wait ends is kept and reported.
 * - `createAccountDrillCanaries`: a random value generated here and never returned; the replica lets the primary
 *   account replicate into it (secretsmanager:AcceptCrossAccountReplication in its resource policy).
 * - `writeAccountCanaryAndMeasureLag`, `promoteAccountDrillCanaries`: one canary write each (version quota), and the
 *   time until the other side shows it, polled every 50 ms inside the activity (not across Temporal's scheduling).
 *   Values are compared inside the activity: cross-account version ids are not assumed to match.
 */
import { randomBytes } from 'node:crypto';
import { heartbeat } from '@temporalio/activity';
import { pause as sleep } from './cancellation.js';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../domain/errors.js';
import { recoveryAccount, type Plan } from '../domain/plan.js';
import { DRILL_ID_TAG, DRILL_ROLE, DRILL_ROLE_TAG } from '../domain/drill.js';
import { accountDrillCanaryPrefix, type AccountCanaryLag, type AccountPromoteResult, type AccountSweepResult } from '../domain/account-drill.js';
import type { AccountClientsOf, AccountRegionClients, CrossAccountDescribe } from './clients.js';
import { describeAwsError, isNotFound, toFailure } from './aws-errors.js';
import { forEachListedSecret } from './list-secrets.js';
import { requestToken } from './lineage.activities.js';
import { accountCalls } from './account-support.js';

const POLL_MS = 50;
const DEFAULT_TIMEOUT_MS = 120_000;
const canaryValue = () => JSON.stringify({ canary: randomBytes(24).toString('base64url') });
const isLive = (status: string | undefined) => status !== undefined && status !== 'Detached';

interface DrillSides {
  region: string;
  plan: Plan;
  accountId: string;
}

export function createAccountDrillActivities(region: string, clientsOf: AccountClientsOf) {
  const sides = (input: DrillSides) => {
    if (input.region !== region)
      throw ApplicationFailure.nonRetryable(`account drill for ${input.region} reached the worker of ${region} (task queue routing bug)`, ErrorType.RoutingBug);
    const account = recoveryAccount(input.plan, input.accountId);
    if (!account)
      throw ApplicationFailure.nonRetryable(
        `account ${input.accountId} is not in recoveryAccounts of plan ${input.plan.name}: add it there before drilling it`,
        ErrorType.PlanInvalid,
      );
    return { account, primary: clientsOf(region), recovery: clientsOf(region, account), share: input.plan.failover.writeQuotaShare };
  };
  const { where, gov, describe } = accountCalls(region);
  /** The value `c` answers for `id` (a version, else AWSCURRENT), with its version id; undefined when not there. Stays in this module. */
  const read = async (c: AccountRegionClients, id: string, versionId?: string) => {
    try {
      const v = await c.secretsManager.getSecretValue({ SecretId: id, ...(versionId ? { VersionId: versionId } : {}) });
      return { value: v.SecretString, versionId: v.VersionId };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw toFailure(err, `GetSecretValue ${id}`, where(c));
    }
  };
  const write = async <T>(c: AccountRegionClients, share: number, what: string, call: () => Promise<T>, group?: string): Promise<T> => {
    try {
      return await gov(c, share, group).write(call);
    } catch (err) {
      throw toFailure(err, what, where(c));
    }
  };
  const listCanaries = async (c: AccountRegionClients, planName: string, accountId: string): Promise<string[]> => {
    const prefix = accountDrillCanaryPrefix(planName, accountId);
    const names: string[] = [];
    await forEachListedSecret(c.secretsManager, where(c), { request: { Filters: [{ Key: 'name', Values: [prefix] }] }, bucket: c.bucket }, (s) => {
      if (s.Name?.startsWith(prefix)) names.push(s.Name);
    });
    return names.sort();
  };
  /** The primary's link to the replica `replicaArn` (its entry in CrossAccountReplicas). */
  const linkOf = (p: CrossAccountDescribe | undefined, replicaArn: string | undefined) =>
    p?.CrossAccountReplicas?.find((x) => replicaArn !== undefined && x.ReplicaSecretARN === replicaArn);

  return {
    /** Removes every canary of this plan and account from both accounts (see the module comment for the order). */
    async sweepAccountDrillCanaries(input: DrillSides & { removalTimeoutMs?: number }): Promise<AccountSweepResult> {
      const { primary, recovery, share } = sides(input);
      const deleted: string[] = [];
      let detached = 0;
      const primaries = await listCanaries(primary, input.plan.name, input.accountId);
      for (const name of primaries) {
        for (const l of (await describe(primary, name))?.CrossAccountReplicas ?? []) {
          if (!isLive(l.ReplicationStatus) || !l.ReplicaSecretARN) continue;
          try {
            await gov(primary, share).write(() =>
              primary.crossAccount.disassociateCrossAccountReplica({ SecretId: name, CrossAccountReplicaARN: l.ReplicaSecretARN! }),
            );
            detached++;
          } catch (err) {
            if (!isNotFound(err)) throw toFailure(err, `DisassociateCrossAccountReplica ${name}`, where(primary));
          }
        }
        heartbeat({ detached });
      }
      const replicas = await listCanaries(recovery, input.plan.name, input.accountId);
      for (const name of replicas) {
        const r = await describe(recovery, name);
        if (!r?.ARN) continue;
        if (r.CrossAccountPrimary)
          await write(recovery, share, `StopReplicationToReplica ${name}`, () => recovery.secretsManager.stopReplicationToReplica({ SecretId: r.ARN! }));
        await write(recovery, share, `DeleteSecret ${name}`, () =>
          recovery.secretsManager.deleteSecret({ SecretId: r.ARN!, ForceDeleteWithoutRecovery: true }),
        );
        deleted.push(`${input.accountId}:${name}`);
        heartbeat({ deleted: deleted.length });
      }
      // Describe, don't assume: the replicas are gone before their primaries go.
      const deadline = Date.now() + (input.removalTimeoutMs ?? DEFAULT_TIMEOUT_MS);
      let lingering = replicas;
      while (lingering.length && Date.now() < deadline) {
        lingering = (await Promise.all(lingering.map(async (n) => ((await describe(recovery, n)) ? n : undefined)))).filter((n) => n !== undefined);
        if (lingering.length) await sleep(500);
      }
      for (const name of primaries) {
        if (lingering.includes(name)) continue; // kept: deleting it first could strand its replica; the next drill removes both
        try {
          await gov(primary, share).write(() => primary.secretsManager.deleteSecret({ SecretId: name, ForceDeleteWithoutRecovery: true }));
          deleted.push(`primary:${name}`);
        } catch (err) {
          if (!isNotFound(err)) throw toFailure(err, `DeleteSecret ${name}`, where(primary));
        }
      }
      const remaining = [
        ...(await listCanaries(primary, input.plan.name, input.accountId)).map((n) => `primary:${n}`),
        ...(await listCanaries(recovery, input.plan.name, input.accountId)).map((n) => `${input.accountId}:${n}`),
      ];
      return { deleted, detached, remaining };
    },

    /** Each canary in the primary account and its cross-account replica (same name, the plan's key) in the recovery account. Idempotent per drill. */
    async createAccountDrillCanaries(input: DrillSides & { drillId: string; names: string[] }): Promise<{ created: number }> {
      const { account, primary, recovery, share } = sides(input);
      const tags = [
        { Key: 'secrets-dr:plan', Value: input.plan.name },
        { Key: DRILL_ROLE_TAG, Value: DRILL_ROLE },
        { Key: DRILL_ID_TAG, Value: input.drillId.slice(0, 256) },
      ];
      let created = 0;
      for (const name of input.names) {
        let p = await describe(primary, name);
        if (p && !p.Tags?.some((t) => t.Key === DRILL_ID_TAG && t.Value === tags[2]!.Value))
          throw ApplicationFailure.nonRetryable(
            `${name} exists in the primary account and is not a canary of this drill (leftovers were not removed)`,
            'ResourceExistsException',
          );
        if (!p) {
          await write(primary, share, `CreateSecret ${name}`, () =>
            primary.secretsManager.createSecret({
              Name: name,
              Description: 'secrets-dr account drill canary (deleted when the drill ends)',
              SecretString: canaryValue(),
              ClientRequestToken: requestToken(input.drillId, 'account-canary', name),
              Tags: tags,
            }),
          );
          p = await describe(primary, name);
          created++;
        }
        const r = await describe(recovery, name);
        if (r && r.CrossAccountPrimary?.PrimarySecretARN !== p?.ARN)
          throw ApplicationFailure.nonRetryable(`${name} exists in account ${account.accountId} and is not this drill's replica`, 'ResourceExistsException');
        // Created by an earlier attempt: its policy is written again below (the attempt may have stopped before it).
        const replicaArn =
          r?.ARN ??
          (
            await write(recovery, share, `CreateSecret ${name} (CrossAccountPrimaryARN)`, () =>
              recovery.crossAccount.createCrossAccountReplica({
                Name: name,
                CrossAccountPrimaryARN: p!.ARN!,
                KmsKeyId: account.kmsKeyId,
                ClientRequestToken: requestToken(input.drillId, 'account-canary-replica', account.accountId, name),
                Tags: tags,
              }),
            )
          ).ARN ??
          (await describe(recovery, name))?.ARN;
        const policy = {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'SecretsDrAcceptCrossAccountReplication',
              Effect: 'Allow',
              Principal: { AWS: `arn:${p!.ARN!.split(':')[1]}:iam::${p!.ARN!.split(':')[4]}:root` },
              Action: 'secretsmanager:AcceptCrossAccountReplication',
              Resource: '*',
            },
          ],
        };
        await write(
          recovery,
          share,
          `PutResourcePolicy ${name}`,
          () => recovery.secretsManager.putResourcePolicy({ SecretId: replicaArn ?? name, ResourcePolicy: JSON.stringify(policy) }),
          'policy',
        );
        heartbeat({ created });
      }
      return { created };
    },

    /** AssociateCrossAccountReplica of each canary (idempotent), then each link's status as the primary lists it. */
    async associateAccountDrillCanaries(
      input: DrillSides & { names: string[]; associate: boolean },
    ): Promise<Array<{ name: string; status: string; message?: string }>> {
      const { account, primary, recovery, share } = sides(input);
      const out: Array<{ name: string; status: string; message?: string }> = [];
      for (const name of input.names) {
        const [p, r] = [await describe(primary, name), await describe(recovery, name)];
        if (!p?.ARN || !r?.ARN) {
          out.push({ name, status: 'missing', message: `${!p?.ARN ? 'the primary canary' : `its replica in account ${account.accountId}`} is not there` });
          continue;
        }
        let link = linkOf(p, r.ARN);
        if (input.associate && link?.ReplicationStatus !== 'InSync') {
          await write(primary, share, `AssociateCrossAccountReplica ${name}`, () =>
            primary.crossAccount.associateCrossAccountReplica({
              SecretId: p.ARN!,
              CrossAccountReplicaARN: r.ARN!,
              ...(account.replicaRestriction ? { ReplicaRestriction: account.replicaRestriction } : {}),
            }),
          );
          link = linkOf(await describe(primary, name), r.ARN);
        }
        const message = link?.StatusMessage ?? r.CrossAccountPrimary?.StatusMessage;
        out.push({
          name,
          status: link?.ReplicationStatus ?? r.CrossAccountPrimary?.ReplicationStatus ?? 'not-linked',
          ...(message ? { message: message.slice(0, 300) } : {}),
        });
        heartbeat({ done: out.length });
      }
      return out;
    },

    /**
     * One canary write per canary in the primary account (token from the drill id; a retry finds its version and
     * does not write again), then the time until each replica answers GetSecretValue with that value.
     */
    async writeAccountCanaryAndMeasureLag(input: DrillSides & { drillId: string; names: string[]; timeoutMs?: number }): Promise<AccountCanaryLag> {
      const { primary, recovery, share } = sides(input);
      const written = new Map<string, string | undefined>();
      let alreadyWritten = 0;
      for (const name of input.names) {
        const token = requestToken(input.drillId, 'account-canary-write', name);
        const p = await describe(primary, name);
        if (!p) throw ApplicationFailure.nonRetryable(`canary ${name} is not in the primary account`, 'ResourceNotFoundException');
        if (p.VersionIdsToStages?.[token]) alreadyWritten++;
        else {
          const value = canaryValue();
          await write(primary, share, `PutSecretValue ${name}`, () =>
            primary.secretsManager.putSecretValue({ SecretId: name, SecretString: value, ClientRequestToken: token }),
          );
        }
        written.set(name, (await read(primary, name, token))?.value);
      }
      const writtenAt = Date.now();
      const deadline = writtenAt + (input.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      const waiting = new Set(input.names);
      let lastSeen = writtenAt;
      while (waiting.size && Date.now() < deadline) {
        for (const name of [...waiting]) {
          const r = await read(recovery, name).catch(() => undefined); // a slow or failing read: poll again
          if (r?.value !== undefined && r.value === written.get(name)) {
            waiting.delete(name);
            lastSeen = Date.now();
          }
        }
        if (waiting.size) await sleep(POLL_MS);
        heartbeat({ waiting: waiting.size });
      }
      return {
        lagMs: (waiting.size ? Date.now() : lastSeen) - writtenAt,
        timedOut: waiting.size > 0,
        writtenAt: new Date(writtenAt).toISOString(),
        alreadyWritten,
      };
    },

    /**
     * The promotion, timed as an application in the recovery account sees it: DisassociateCrossAccountReplica from the
     * primary account, StopReplicationToReplica on the detached replica, a new version written there, and GetSecretValue
     * polled until it answers with that version. Describe first: a link already Detached or a replica already standalone
     * (a retry) is not called again.
     */
    async promoteAccountDrillCanaries(input: DrillSides & { drillId: string; names: string[]; timeoutMs?: number }): Promise<AccountPromoteResult> {
      const { account, primary, recovery, share } = sides(input);
      const started = Date.now();
      let alreadyStandalone = 0;
      const arns = new Map<string, string>();
      for (const name of input.names) {
        const r = await describe(recovery, name);
        if (!r?.ARN) throw ApplicationFailure.nonRetryable(`canary ${name} has no replica in account ${account.accountId}`, 'ResourceNotFoundException');
        arns.set(name, r.ARN);
        const p = await describe(primary, name);
        if (p?.ARN && isLive(linkOf(p, r.ARN)?.ReplicationStatus))
          await write(primary, share, `DisassociateCrossAccountReplica ${name}`, () =>
            primary.crossAccount.disassociateCrossAccountReplica({ SecretId: p.ARN!, CrossAccountReplicaARN: r.ARN! }),
          );
        if (r.CrossAccountPrimary)
          await write(recovery, share, `StopReplicationToReplica ${name}`, () => recovery.secretsManager.stopReplicationToReplica({ SecretId: r.ARN! }));
        else alreadyStandalone++;
      }
      const promotedAt = Date.now();
      // The writer in the recovery account: a new version per canary; a retry finds its version by the token.
      const versions = new Map<string, string>();
      for (const name of input.names) {
        const token = requestToken(input.drillId, 'account-rto-write', name);
        try {
          const out = await gov(recovery, share).write(() =>
            recovery.secretsManager.putSecretValue({ SecretId: name, SecretString: canaryValue(), ClientRequestToken: token }),
          );
          versions.set(name, out.VersionId ?? token);
        } catch (err) {
          if (describeAwsError(err).name !== 'ResourceExistsException')
            throw toFailure(err, `PutSecretValue ${name} (the writer in account ${account.accountId})`, where(recovery));
          versions.set(name, token);
        }
      }
      const deadline = started + (input.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      const waiting = new Set(input.names);
      let readableAt = Date.now();
      while (waiting.size) {
        for (const name of [...waiting]) {
          const r = await read(recovery, name).catch(() => undefined);
          if (r?.versionId === versions.get(name)) {
            waiting.delete(name);
            readableAt = Date.now();
          }
        }
        if (!waiting.size) break;
        if (Date.now() > deadline)
          throw ApplicationFailure.nonRetryable(
            `${[...waiting].join(', ')}: GetSecretValue in account ${account.accountId} did not answer with the version written after promotion within ${input.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`,
            'TimeoutError',
          );
        await sleep(POLL_MS);
        heartbeat({ waiting: waiting.size });
      }
      // Describe, don't assume: what the primary account lists for each replica now.
      const stillLinked: string[] = [];
      for (const name of input.names) if (isLive(linkOf(await describe(primary, name), arns.get(name))?.ReplicationStatus)) stillLinked.push(name);
      return {
        startedAt: new Date(started).toISOString(),
        promoteMs: promotedAt - started,
        rtoMs: readableAt - started,
        readableAt: new Date(readableAt).toISOString(),
        alreadyStandalone,
        stillLinked,
      };
    },

    /**
     * After the promotion: each canary standalone in the recovery account, and the value replicated before it (now
     * AWSPREVIOUS there, under the RTO write) equal to the primary's current value. Compared here; only problems return.
     */
    async verifyAccountDrillCanaries(input: DrillSides & { names: string[] }): Promise<{ problems: string[] }> {
      const { account, primary, recovery } = sides(input);
      const problems: string[] = [];
      for (const name of input.names) {
        const r = await describe(recovery, name);
        const previous = Object.entries(r?.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSPREVIOUS'))?.[0];
        const [kept, source] = [previous ? await read(recovery, name, previous) : undefined, await read(primary, name)];
        const problem = !r?.ARN
          ? `missing in account ${account.accountId}`
          : r.CrossAccountPrimary
            ? `still a replica of ${r.CrossAccountPrimary.PrimarySecretARN} (${r.CrossAccountPrimary.ReplicationStatus})`
            : kept?.value === undefined || kept.value !== source?.value
              ? "the replicated value differs from the primary's canary"
              : undefined;
        if (problem) problems.push(`${name}: ${problem}`);
      }
      return { problems };
    },
  };
}

export type AccountDrillActivities = ReturnType<typeof createAccountDrillActivities>;
