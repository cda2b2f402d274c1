/**
 * Replica setup, side effects per Region. Batch activities (one bounded batch of the same effect,
 * heartbeating) describe and replicate many secrets per call, so a fleet of 1,000 secrets costs a
 * few dozen activities, not thousands. Every write passes the Region's write governor and is
 * preceded by a describe that skips work already done (invariant 3). Values are only read inside
 * `adoptTargetValue` (target → primary, one activity) and never returned.
 */
import type { DescribeSecretResponse } from '@aws-sdk/client-secrets-manager';
import type { Plan, WriteQuotaShareMode } from '../domain/plan.js';
import { isCoveredByPlan } from '../domain/selection.js';
import type { ItemResult, PrimaryView, StatusItem, TargetView } from '../domain/replication.js';
import { reasonOf } from '../domain/replication.js';
import { backupCovers } from '../domain/backup.js';
import type { RegionClients } from './clients.js';
import { describeAwsError, isNotFound, isThrottling, toFailure } from './aws-errors.js';
import { forEachListedSecret } from './list-secrets.js';
import { requestToken } from './lineage.activities.js';
import { writeGovernor } from './write-governor.js';
import { pool } from './pool.js';

/** Other Regions' clients, for the two steps that span Regions (adopt, overwrite-after-backup check). */
export type PeerClients = (region: string) => RegionClients;

const currentOf = (d: DescribeSecretResponse) => Object.entries(d.VersionIdsToStages ?? {}).find(([, s]) => s?.includes('AWSCURRENT'))?.[0];

export function createReplicationActivities({ region, secretsManager }: RegionClients, peer?: PeerClients) {
  const describe = async (secretId: string): Promise<DescribeSecretResponse | undefined> => {
    try {
      return await secretsManager.describeSecret({ SecretId: secretId });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw toFailure(err, `DescribeSecret ${secretId}`, region);
    }
  };

  const primaryView = (name: string, d: DescribeSecretResponse | undefined): PrimaryView => {
    if (!d) return { name, exists: false };
    const v: PrimaryView = { name, exists: true, arn: d.ARN };
    if (d.DeletedDate) v.deleted = true;
    if (d.PrimaryRegion && d.PrimaryRegion !== region) v.replicaOf = d.PrimaryRegion;
    const current = currentOf(d);
    if (current) v.current = current;
    if (d.Tags?.length) v.tags = d.Tags.map((t) => [t.Key ?? '', t.Value ?? '']);
    v.replication = Object.fromEntries(
      (d.ReplicationStatus ?? []).map((r) => [
        r.Region ?? '',
        {
          status: (r.Status ?? 'InProgress') as 'InProgress' | 'InSync' | 'Failed',
          ...(r.StatusMessage ? { message: r.StatusMessage } : {}),
          ...(r.KmsKeyId ? { kmsKeyId: r.KmsKeyId } : {}),
        },
      ]),
    );
    return v;
  };

  return {
    /** The plan's secret set in the primary Region (names only: the payload stays small for large fleets). */
    /** The plan's secrets in this (the primary) Region, sorted; with `maxPages`, that many pages from `nextToken` on (a large fleet). */
    async listSetupSecrets(input: {
      secrets: Plan['secrets'];
      nextToken?: string;
      maxPages?: number;
    }): Promise<{ names: string[]; listCalls: number; nextToken?: string }> {
      const names: string[] = [];
      const { listCalls, nextToken } = await forEachListedSecret(
        secretsManager,
        region,
        { heartbeat: true, from: input.nextToken, maxPages: input.maxPages },
        (s) => {
          if (!s.Name || s.DeletedDate) return;
          if (s.PrimaryRegion && s.PrimaryRegion !== region) return; // a replica of elsewhere
          if (isCoveredByPlan({ secrets: input.secrets }, { name: s.Name, tags: s.Tags })) names.push(s.Name);
        },
      );
      return { names: names.sort(), listCalls, ...(nextToken ? { nextToken } : {}) };
    },

    /** Primary side of a batch of secrets: ARN, AWSCURRENT version, tags, per-Region replication status. */
    async describePrimaries(input: { names: string[]; concurrency?: number }): Promise<PrimaryView[]> {
      return pool(input.names, input.concurrency ?? 32, async (name) => primaryView(name, await describe(name)));
    },

    /** DR side of a batch of secrets: whatever holds each name in this Region. */
    async describeTargets(input: { names: string[]; concurrency?: number }): Promise<TargetView[]> {
      return pool(input.names, input.concurrency ?? 32, async (name): Promise<TargetView> => {
        const d = await describe(name);
        if (!d) return { name, exists: false };
        const current = currentOf(d);
        return {
          name,
          exists: true,
          ...(d.ARN ? { arn: d.ARN } : {}),
          ...(d.PrimaryRegion && d.PrimaryRegion !== region ? { primaryRegion: d.PrimaryRegion } : {}),
          ...(d.DeletedDate ? { deleted: true } : {}),
          ...(current ? { current } : {}),
        };
      });
    },

    /**
     * ReplicateSecretToRegions (no force) for a batch of secret × Region, in this (the primary) Region.
     * Describe first: an entry that is already InSync/InProgress is not requested again.
     */
    async replicateBatch(input: {
      items: Array<{ secret: string; region: string; kmsKeyId?: string }>;
      writeQuotaShare: number;
      writeQuotaShareMode?: WriteQuotaShareMode;
      concurrency?: number;
    }): Promise<ItemResult[]> {
      const gov = writeGovernor(region, input.writeQuotaShare, input.writeQuotaShareMode);
      return pool(input.items, input.concurrency ?? 64, async ({ secret, region: target, kmsKeyId }): Promise<ItemResult> => {
        const base = { name: secret, region: target };
        try {
          const d = await secretsManager.describeSecret({ SecretId: secret });
          const entry = d.ReplicationStatus?.find((r) => r.Region === target);
          if (entry && entry.Status !== 'Failed') return { ...base, ok: true, skipped: true };
          await gov.write(() =>
            secretsManager.replicateSecretToRegions({
              SecretId: secret,
              AddReplicaRegions: [{ Region: target, ...(kmsKeyId ? { KmsKeyId: kmsKeyId } : {}) }],
              ForceOverwriteReplicaSecret: false,
            }),
          );
          return { ...base, ok: true };
        } catch (err) {
          const info = describeAwsError(err);
          if (isThrottling(err)) return { ...base, ok: false, reason: 'throttled', message: `${info.name}: ${info.message}` };
          if (isNotFound(err)) return { ...base, ok: false, reason: 'deleted', message: `${info.name}: ${info.message}` };
          // An unreachable Region is the activity's failure (retried), not one secret's.
          if (info.status === undefined || info.status >= 500) throw toFailure(err, `ReplicateSecretToRegions ${secret}`, region);
          return { ...base, ok: false, reason: reasonOf(info.message, info.name), message: `${info.name}: ${info.message}` };
        }
      });
    },

    /** The primary's replication status for a batch of secret × Region (DescribeSecret each). */
    async replicationStatusBatch(input: { items: Array<{ secret: string; region: string }>; concurrency?: number }): Promise<StatusItem[]> {
      return pool(input.items, input.concurrency ?? 32, async ({ secret, region: target }): Promise<StatusItem> => {
        const d = await describe(secret);
        if (!d) return { name: secret, region: target, status: 'deleted', message: `the primary no longer exists in ${region}` };
        if (d.DeletedDate) return { name: secret, region: target, status: 'deleted', message: `the primary is scheduled for deletion in ${region}` };
        const e = d.ReplicationStatus?.find((r) => r.Region === target);
        const current = currentOf(d);
        if (!e)
          return {
            name: secret,
            region: target,
            status: 'missing',
            message: `${target} is no longer in the replication list`,
            ...(current ? { primaryCurrent: current } : {}),
          };
        return {
          name: secret,
          region: target,
          status: (e.Status ?? 'InProgress') as 'InProgress' | 'InSync' | 'Failed',
          ...(e.StatusMessage ? { message: e.StatusMessage } : {}),
          ...(current ? { primaryCurrent: current } : {}),
        };
      });
    },

    /**
     * Adopt (run in the primary Region): copies the conflicting secret's AWSCURRENT value from `targetRegion`
     * into the primary as its new AWSCURRENT, inside this one activity. Idempotent: the token is the
     * new version's id, so a retry finds it already current.
     */
    async adoptTargetValue(input: {
      secret: string;
      targetRegion: string;
      workflowId: string;
      writeQuotaShare: number;
      writeQuotaShareMode?: WriteQuotaShareMode;
    }): Promise<{ versionId: string; alreadyDone: boolean }> {
      if (!peer) throw new Error('adoptTargetValue needs the clients of the target Region (worker composition bug)');
      const token = requestToken(input.workflowId, 'adopt', input.targetRegion, input.secret);
      const d = await describe(input.secret);
      if (!d) throw toFailure(Object.assign(new Error(`${input.secret} not found`), { name: 'ResourceNotFoundException' }), 'adopt', region);
      if (currentOf(d) === token) return { versionId: token, alreadyDone: true };
      let value;
      try {
        value = await peer(input.targetRegion).secretsManager.getSecretValue({ SecretId: input.secret, VersionStage: 'AWSCURRENT' });
      } catch (err) {
        throw toFailure(err, `GetSecretValue ${input.secret}`, input.targetRegion);
      }
      const gov = writeGovernor(region, input.writeQuotaShare, input.writeQuotaShareMode);
      try {
        const out = await gov.write(() =>
          secretsManager.putSecretValue({
            SecretId: input.secret,
            ClientRequestToken: token,
            ...(value.SecretString !== undefined ? { SecretString: value.SecretString } : { SecretBinary: value.SecretBinary }),
          }),
        );
        return { versionId: out.VersionId ?? token, alreadyDone: false };
      } catch (err) {
        throw toFailure(err, `PutSecretValue ${input.secret} (adopt)`, region);
      }
    },

    /**
     * ReplicateSecretToRegions with ForceOverwriteReplicaSecret (primary Region). AWS deletes the
     * same-named secret in the target Region, so this refuses to run unless a backup of it exists
     * there (checked here, in the target Region) or the caller says the values are identical.
     * Describe first: when the target already holds our replica, nothing is sent.
     */
    async forceReplicate(input: {
      secret: string;
      region: string;
      kmsKeyId?: string;
      force: boolean;
      backup?: string;
      identical: boolean;
      writeQuotaShare: number;
      writeQuotaShareMode?: WriteQuotaShareMode;
    }): Promise<{ primaryArn: string; replicaArn: string; skipped: boolean }> {
      if (!peer) throw new Error('forceReplicate needs the clients of the target Region (worker composition bug)');
      const d = await describe(input.secret);
      if (!d?.ARN) throw toFailure(Object.assign(new Error(`${input.secret} not found`), { name: 'ResourceNotFoundException' }), 'forceReplicate', region);
      const replicaArn = d.ARN.replace(`:${region}:`, `:${input.region}:`);
      const target = peer(input.region).secretsManager;
      let t: DescribeSecretResponse | undefined;
      try {
        t = await target.describeSecret({ SecretId: input.secret });
      } catch (err) {
        if (!isNotFound(err)) throw toFailure(err, `DescribeSecret ${input.secret}`, input.region);
      }
      const ours = t?.ARN === replicaArn && t.PrimaryRegion === region;
      const entry = d.ReplicationStatus?.find((r) => r.Region === input.region);
      if (ours && entry && entry.Status !== 'Failed') return { primaryArn: d.ARN, replicaArn, skipped: true };
      if (t && !ours && input.force) {
        if (input.backup) {
          let b: DescribeSecretResponse;
          try {
            b = await target.describeSecret({ SecretId: input.backup });
          } catch (err) {
            throw toFailure(err, `refusing to overwrite ${input.secret}: its backup ${input.backup} cannot be read`, input.region);
          }
          // The backup must hold what is there now, not an older state (a write or label move after the backup would be lost).
          if (!backupCovers(b.Tags, t.VersionIdsToStages)) {
            throw toFailure(
              Object.assign(new Error(`refusing to overwrite ${input.secret}: it changed after its backup ${input.backup} was made`), {
                name: 'InvalidRequestException',
              }),
              'forceReplicate',
              region,
            );
          }
        } else if (!input.identical || !(await labelledValuesKept(secretsManager, input.secret, target, input.secret))) {
          // "Identical" was decided on AWSCURRENT; the overwrite also deletes AWSPREVIOUS and every other
          // labelled version of the target: without a backup, each of them must exist on the primary.
          throw toFailure(
            Object.assign(new Error(`refusing to overwrite ${input.secret} without a backup`), { name: 'InvalidRequestException' }),
            'forceReplicate',
            region,
          );
        }
      }
      try {
        await writeGovernor(region, input.writeQuotaShare, input.writeQuotaShareMode).write(() =>
          secretsManager.replicateSecretToRegions({
            SecretId: input.secret,
            AddReplicaRegions: [{ Region: input.region, ...(input.kmsKeyId ? { KmsKeyId: input.kmsKeyId } : {}) }],
            ForceOverwriteReplicaSecret: input.force && t !== undefined && !ours,
          }),
        );
      } catch (err) {
        throw toFailure(err, `ReplicateSecretToRegions ${input.secret}`, region);
      }
      return { primaryArn: d.ARN, replicaArn, skipped: false };
    },
  };
}

export type ReplicationActivities = ReturnType<typeof createReplicationActivities>;

type ValueReader = Pick<RegionClients['secretsManager'], 'describeSecret' | 'getSecretValue'>;

/** The values of a secret's labelled versions (inside this activity only; never returned). */
async function labelledValues(sm: ValueReader, secretId: string): Promise<string[]> {
  const d = await sm.describeSecret({ SecretId: secretId });
  const out: string[] = [];
  for (const [versionId, stages] of Object.entries(d.VersionIdsToStages ?? {})) {
    if (!stages?.length) continue;
    const v = await sm.getSecretValue({ SecretId: secretId, VersionId: versionId });
    out.push(v.SecretString ?? Buffer.from(v.SecretBinary ?? new Uint8Array()).toString('base64'));
  }
  return out;
}

/** True when every labelled value of the target also exists among the primary's labelled values. */
async function labelledValuesKept(primary: ValueReader, primaryId: string, target: ValueReader, targetId: string): Promise<boolean> {
  try {
    const kept = new Set(await labelledValues(primary, primaryId));
    return (await labelledValues(target, targetId)).every((v) => kept.has(v));
  } catch {
    return false; // cannot tell: treat as not identical (no overwrite without a backup)
  }
}
