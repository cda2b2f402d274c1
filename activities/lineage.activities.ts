/**
 * Lineage activities: the orchestrator's HMAC key (a secret per plan, replicated to every plan
 * Region) and the lineage of a secret in one Region (labelled versions with the HMAC of each value).
 * Values are read and hashed here and never returned (DESIGN.md invariant 1).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { heartbeat } from '@temporalio/activity';
import type { SecretLineage, VersionLineage } from '../domain/lineage.js';
import { hmacKeySecretName } from '../domain/lineage.js';
import type { DescribeSecretResponse } from '@aws-sdk/client-secrets-manager';
import type { RegionClients, SecretsManagerApi } from './clients.js';
import { describeAwsError, isNotFound, toFailure } from './aws-errors.js';
import { writeGovernor } from './write-governor.js';
import { pool } from './pool.js';
import type { WriteQuotaShareMode } from '../domain/plan.js';

/** A ClientRequestToken (32-64 chars) derived from stable parts, so a retried write is the same write. */
export function requestToken(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 64);
}

/** One record secret of a plan: what a failover or a failback leaves in AWS about its run (names, version ids, HMACs; never a value). */
interface RecordSecret {
  name: string;
  description: string;
  body: unknown;
  planName: string;
  /** The `secrets-dr:role` tag, and the first part of the request token. */
  role: string;
  /** The rest of the request token: what makes this record one of a kind (run id, part). */
  tokenParts: string[];
  writeQuotaShare: number;
  /** The plan's share mode (absent: the Region governor keeps its current mode). */
  writeQuotaShareMode?: WriteQuotaShareMode | undefined;
  tags?: Array<{ Key: string; Value: string }>;
}

/**
 * Writes a record secret in `region` through its create governor. Idempotent: the request token comes from the
 * record's role and parts, and a record that is already there (ResourceExistsException) is written.
 */
export async function writeRecordSecret(sm: Pick<SecretsManagerApi, 'createSecret'>, region: string, r: RecordSecret): Promise<void> {
  try {
    await writeGovernor(`${region}/create`, r.writeQuotaShare, r.writeQuotaShareMode).write(() =>
      sm.createSecret({
        Name: r.name,
        Description: r.description,
        SecretString: JSON.stringify(r.body),
        ClientRequestToken: requestToken(r.role, r.planName, ...r.tokenParts),
        Tags: [{ Key: 'secrets-dr:plan', Value: r.planName }, { Key: 'secrets-dr:role', Value: r.role }, ...(r.tags ?? [])],
      }),
    );
  } catch (err) {
    if (describeAwsError(err).name !== 'ResourceExistsException') throw toFailure(err, `CreateSecret ${r.name}`, region);
  }
}

export function hmacOf(key: Buffer, value: string | Uint8Array): string {
  return `hmac-sha256:${createHmac('sha256', key).update(value).digest('hex')}`;
}

const KEY_TTL_MS = 5 * 60_000;
const keyCache = new Map<string, { key: Buffer; at: number }>();

/**
 * HMACs of versions already read, by Region, ARN, version id and HMAC key: a version's value never changes
 * (AWS refuses a second value under a version id), so a secret read again (failback reads each side up to
 * four times) costs its describe and one GetSecretValue, not one per labelled version. HMACs only, never a value.
 * An HMAC computed under a rotated-out key is never found (the key's hash is in the cache key). AWSCURRENT is
 * read on every call, never from here: a secret whose value can no longer be decrypted (its KMS key disabled,
 * deleted or its grant revoked since the last read) fails that read as it would uncached, instead of looking
 * healthy; the other labelled versions (one key encrypts them all) come from here.
 */
const VERSION_CACHE_MAX = 200_000;
const versionCache = new Map<string, { hmac?: string; createdDate?: string }>();
const keyIds = new WeakMap<Buffer, string>();
const keyIdOf = (key: Buffer) => keyIds.get(key) ?? keyIds.set(key, createHash('sha256').update(key).digest('hex').slice(0, 16)).get(key)!;
function remember(k: string, v: { hmac?: string; createdDate?: string }): void {
  if (versionCache.size >= VERSION_CACHE_MAX) versionCache.delete(versionCache.keys().next().value!);
  versionCache.set(k, v);
}

/** The plan's HMAC key in this Region, cached for KEY_TTL_MS. */
function keyLoader({ region, secretsManager }: RegionClients) {
  async function loadKey(planName: string): Promise<Buffer> {
    const cacheKey = `${region}/${planName}`;
    const cached = keyCache.get(cacheKey);
    if (cached && Date.now() - cached.at < KEY_TTL_MS) return cached.key;
    let out;
    try {
      out = await secretsManager.getSecretValue({ SecretId: hmacKeySecretName(planName) });
    } catch (err) {
      throw toFailure(err, `reading the HMAC key ${hmacKeySecretName(planName)} (run \`secrets-dr setup\` first)`, region);
    }
    const key = Buffer.from(out.SecretString ?? '', 'base64');
    if (key.length < 32) throw toFailure(new Error('the HMAC key secret does not hold a 32-byte base64 key'), 'reading the HMAC key', region);
    keyCache.set(cacheKey, { key, at: Date.now() });
    return key;
  }

  return loadKey;
}

/**
 * Lineage of a secret from a DescribeSecret answer the caller already holds (no second describe): each
 * labelled version's HMAC, the versions read at once.
 */
export function lineageReader(clients: RegionClients) {
  const { region, secretsManager } = clients;
  const loadKey = keyLoader(clients);
  return async function lineageOf(planName: string, d: DescribeSecretResponse): Promise<SecretLineage> {
    const key = await loadKey(planName);
    const id = d.ARN ?? d.Name ?? '?';
    const labelled = Object.entries(d.VersionIdsToStages ?? {}).filter(([, stages]) => stages && stages.length > 0);
    // Four at a time (AWS allows about 20 labels per secret); none started after one failed. Heartbeats without
    // details (below): a caller's own progress details are never replaced by the pool's count.
    const versions = await pool(
      labelled,
      4,
      async ([versionId, stages]): Promise<VersionLineage> => {
        const v: VersionLineage = { versionId, stages: [...stages!].sort() };
        const cacheKey = `${region}\u0000${d.ARN}\u0000${versionId}\u0000${keyIdOf(key)}`;
        const known = stages!.includes('AWSCURRENT') ? undefined : versionCache.get(cacheKey);
        if (known) Object.assign(v, known);
        else
          try {
            const value = await secretsManager.getSecretValue({ SecretId: d.ARN, VersionId: versionId });
            const bytes = value.SecretString ?? value.SecretBinary;
            if (bytes !== undefined) v.hmac = hmacOf(key, bytes);
            if (value.CreatedDate) v.createdDate = new Date(value.CreatedDate).toISOString();
            if (v.hmac) remember(cacheKey, { hmac: v.hmac, ...(v.createdDate ? { createdDate: v.createdDate } : {}) });
          } catch (err) {
            if (!isNotFound(err)) throw toFailure(err, `GetSecretValue ${id}`, region);
          }
        heartbeat();
        return v;
      },
      { beat: false },
    );
    versions.sort((a, b) => a.versionId.localeCompare(b.versionId));
    return {
      region,
      name: d.Name ?? id,
      arn: id,
      ...(d.PrimaryRegion && d.PrimaryRegion !== region ? { primaryRegion: d.PrimaryRegion } : {}),
      versions,
      readAt: new Date().toISOString(),
    };
  };
}

export function createLineageActivities(clients: RegionClients) {
  const { region, secretsManager } = clients;
  const loadKey = keyLoader(clients);
  const lineageOf = lineageReader(clients);
  return {
    /**
     * Makes sure the plan's HMAC key exists in this (the primary) Region and is replicated to every
     * DR Region. Idempotent: describes first, writes only what is missing.
     */
    async ensureHmacKey(input: {
      planName: string;
      drRegions: Array<{ region: string; kmsKeyId?: string }>;
      writeQuotaShare: number;
      writeQuotaShareMode?: WriteQuotaShareMode;
    }): Promise<{ arn: string; created: boolean; replicatedTo: string[] }> {
      const name = hmacKeySecretName(input.planName);
      const gov = writeGovernor(region, input.writeQuotaShare, input.writeQuotaShareMode);
      let arn: string | undefined;
      let created = false;
      let existing: string[] = [];
      try {
        const d = await secretsManager.describeSecret({ SecretId: name });
        arn = d.ARN;
        existing = (d.ReplicationStatus ?? []).map((r) => r.Region ?? '');
      } catch (err) {
        if (!isNotFound(err)) throw toFailure(err, `DescribeSecret ${name}`, region);
      }
      if (!arn) {
        try {
          const c = await gov.write(() =>
            secretsManager.createSecret({
              Name: name,
              Description: 'secrets-dr: HMAC key for value lineage (never a copy of a protected value)',
              SecretString: randomBytes(32).toString('base64'),
              ClientRequestToken: requestToken('hmac-key', input.planName, region),
              AddReplicaRegions: input.drRegions.map((d) => ({ Region: d.region, ...(d.kmsKeyId ? { KmsKeyId: d.kmsKeyId } : {}) })),
              Tags: [
                { Key: 'secrets-dr:plan', Value: input.planName },
                { Key: 'secrets-dr:role', Value: 'hmac-key' },
              ],
            }),
          );
          arn = c.ARN!;
          created = true;
          existing = input.drRegions.map((d) => d.region);
        } catch (err) {
          throw toFailure(err, `CreateSecret ${name}`, region);
        }
      }
      const missing = input.drRegions.filter((d) => !existing.includes(d.region));
      if (missing.length > 0) {
        try {
          await gov.write(() =>
            secretsManager.replicateSecretToRegions({
              SecretId: name,
              AddReplicaRegions: missing.map((d) => ({ Region: d.region, ...(d.kmsKeyId ? { KmsKeyId: d.kmsKeyId } : {}) })),
            }),
          );
        } catch (err) {
          throw toFailure(err, `ReplicateSecretToRegions ${name}`, region);
        }
      }
      return { arn: arn!, created, replicatedTo: input.drRegions.map((d) => d.region) };
    },

    /** Lineage of one secret in this Region; undefined when it does not exist. */
    async readLineage(input: { planName: string; secretId: string }): Promise<SecretLineage | undefined> {
      await loadKey(input.planName); // without the plan's key nothing is described (lineageOf uses it, cached)
      let d;
      try {
        d = await secretsManager.describeSecret({ SecretId: input.secretId });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw toFailure(err, `DescribeSecret ${input.secretId}`, region);
      }
      return lineageOf(input.planName, d);
    },
  };
}

export type LineageActivities = ReturnType<typeof createLineageActivities>;
