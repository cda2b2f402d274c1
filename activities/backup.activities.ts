/**
 * Backups (DESIGN.md invariants 2 and 8; what a backup holds: domain/backup.ts). `backupSecret` saves a
 * secret of this Region before anything overwrites or relabels it: every labelled version under the
 * same labels, the same KMS key, the original's resource policy (retargeted to the backup) and tags,
 * and a manifest version with the rest (description, rotation settings, version ids). Order of the
 * writes: the secret is created without a value (key, tags), its policy put, and only then the values,
 * so no value is ever readable under weaker protection than the original's; the manifest goes last, so
 * a backup without one is known to be cut off. What cannot be carried (more than 50 tags, a policy that
 * is not a document, a policy that refuses the copy) fails with BackupNotPossible: nothing is written
 * over, and the caller reports the secret as needing attention.
 * Idempotent: every version's ClientRequestToken derives from workflow id + step + the original's
 * version id, and a describe-first check reuses a complete backup of the same original state (or
 * completes the one this workflow began under another name).
 */
import { heartbeat } from '@temporalio/activity';
import type { Tag } from '@aws-sdk/client-secrets-manager';
import {
  AWS_LIMITS,
  BackupTag,
  MANIFEST_STAGE,
  backupPrefix,
  backupTags,
  labelsDigest,
  originNameOf,
  originTags,
  retargetPolicy,
  tagValue,
  TOOL_FENCE_SIDS,
  TOOL_FENCE_TAGS,
  type BackupInfo,
  type BackupManifest,
  type TagPair,
} from '../domain/backup.js';
import type { RegionClients, RegionSecretsManager } from './clients.js';
import type { PeerClients } from './replication.activities.js';
import { isNotFound, toFailure } from './aws-errors.js';
import { forEachListedSecret } from './list-secrets.js';
import { requestToken } from './lineage.activities.js';
import { cannotBackUp, labelledVersions, notFound, secretOps, versionWith, type SecretOps } from './backup-support.js';
import { createRestoreActivities } from './restore.activities.js';
import type { WriteQuotaShareMode } from '../domain/plan.js';

const tagOf = (tags: Tag[] | undefined, key: string) => tags?.find((t) => t.Key === key)?.Value;
const pairs = (tags: Tag[] | undefined): TagPair[] => (tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''] as const);

export interface BackupRequest {
  planName: string;
  secret: string;
  /** The name to create (when no backup of the same state exists yet). */
  backup: string;
  reason: string;
  workflowId: string;
  writeQuotaShare: number;
  writeQuotaShareMode?: WriteQuotaShareMode;
  /**
   * Only when a write would take AWSPREVIOUS from a version (PutSecretValue moves it to the old
   * AWSCURRENT): back up when such a version exists, else answer `skipped` without writing.
   */
  onlyIfPreviousWouldMove?: boolean;
}

export interface BackupResult {
  /** The backup's name ('' when skipped). */
  backup: string;
  arn: string;
  reused: boolean;
  hasPrevious: boolean;
  /** Labelled versions kept. */
  versions?: number;
  /** onlyIfPreviousWouldMove: no version would lose AWSPREVIOUS, nothing written. */
  skipped?: boolean;
}

/** The Secrets Manager operations of backupSecret, listPlanBackups and deleteBackups (tests fake exactly these). */
export type BackupClients = RegionSecretsManager<
  | 'listSecrets'
  | 'describeSecret'
  | 'getSecretValue'
  | 'getResourcePolicy'
  | 'createSecret'
  | 'putResourcePolicy'
  | 'putSecretValue'
  | 'updateSecretVersionStage'
  | 'deleteSecret'
>;

/** The plan's backups in this Region, from ListSecrets (tags and labels; `withOrigin`: one describe per backup's original). */
async function listBackups(ops: SecretOps<BackupClients>, prefix: string, withOrigin: boolean): Promise<BackupInfo[]> {
  const out: BackupInfo[] = [];
  const request = { Filters: [{ Key: 'name' as const, Values: [prefix] }] };
  await forEachListedSecret(ops.sm, ops.region, { request, what: 'ListSecrets (backups)', heartbeat: true, bucket: ops.bucket }, async (s) => {
    if (!s.Name?.startsWith(prefix) || !s.ARN || s.DeletedDate) return;
    const stages = Object.values(s.SecretVersionsToStages ?? {});
    const info: BackupInfo = {
      name: s.Name,
      arn: s.ARN,
      region: ops.region,
      versionsKept: stages.filter((st) => (st ?? []).some((x) => x !== MANIFEST_STAGE)).length,
      complete: stages.some((st) => st?.includes(MANIFEST_STAGE)),
      hasPrevious: stages.some((st) => st?.includes('AWSPREVIOUS')),
    };
    const originName = originNameOf(s.Tags);
    if (originName !== undefined) info.originName = originName;
    for (const [k, tag] of [
      ['originArn', BackupTag.originArn],
      ['reason', BackupTag.reason],
      ['workflowId', BackupTag.workflowId],
    ] as const) {
      const v = tagOf(s.Tags, tag);
      if (v !== undefined) info[k] = v;
    }
    if (s.CreatedDate) info.createdAt = new Date(s.CreatedDate).toISOString();
    if (withOrigin && originName !== undefined) {
      const o = await ops.describe(originName);
      const savedLabels = tagOf(s.Tags, BackupTag.originLabels);
      info.originChanged =
        !o?.ARN ||
        o.DeletedDate !== undefined ||
        tagValue(o.ARN) !== info.originArn ||
        savedLabels === undefined ||
        labelsDigest(o.VersionIdsToStages) !== savedLabels;
    }
    out.push(info);
  });
  return out;
}

/** Backup activities, and restore (createRestoreActivities) over the same Region's clients. */
export function createBackupActivities(clients: RegionClients, peer?: PeerClients) {
  return { ...createBackupSecretActivities(clients), ...createRestoreActivities(clients, peer) };
}

/** backupSecret, listPlanBackups and deleteBackups over a client with just their operations. */
export function createBackupSecretActivities(clients: BackupClients) {
  const { region } = clients;

  return {
    /** Saves the secret `secret` of this Region (see the module comment) under `backup`, or reuses a backup of the same state. */
    async backupSecret(request: BackupRequest): Promise<BackupResult> {
      const ops = secretOps(clients, request.writeQuotaShare, request.writeQuotaShareMode);
      let input = request;
      const origin = await ops.describe(input.secret);
      if (!origin?.ARN) throw notFound(`backup in ${region}: ${input.secret} no longer exists`);
      const versions = labelledVersions(origin);
      const current = versionWith(versions, 'AWSCURRENT');
      if (!current) throw notFound(`backup in ${region}: ${input.secret} has no AWSCURRENT version`);
      const previous = versionWith(versions, 'AWSPREVIOUS');
      if (input.onlyIfPreviousWouldMove && (!previous || previous === current))
        return { backup: '', arn: '', reused: false, hasPrevious: false, skipped: true };
      const digest = labelsDigest(versions);
      const hasPrevious = previous !== undefined;

      // Describe first: a complete backup of this very state is reused; one this workflow began is completed.
      for (const candidate of await listBackups(ops, backupPrefix(input.planName, input.secret), false)) {
        if (candidate.name !== input.backup && candidate.originArn !== tagValue(origin.ARN)) continue;
        const d = await ops.describe(candidate.name);
        if (!d?.ARN || tagOf(d.Tags, BackupTag.originLabels) !== digest) continue;
        if (versionWith(labelledVersions(d), MANIFEST_STAGE)) {
          return { backup: candidate.name, arn: d.ARN, reused: true, hasPrevious, versions: Object.keys(versions).length };
        }
        if (tagOf(d.Tags, BackupTag.workflowId) === tagValue(input.workflowId)) {
          input = { ...input, backup: candidate.name };
          break;
        }
      }

      // What cannot be carried is refused before anything is written.
      const originTagList = originTags({
        planName: input.planName,
        originName: input.secret,
        originArn: origin.ARN,
        originVersion: current,
        originLabels: digest,
        reason: input.reason,
        workflowId: input.workflowId,
      });
      // Our fence (tag here, statement in the policy below) locks the original; it is not carried to the copy.
      const tagged = backupTags(
        pairs(origin.Tags).filter(([k]) => !TOOL_FENCE_TAGS.includes(k)),
        originTagList,
      );
      if ('problem' in tagged) throw cannotBackUp(`cannot back up ${input.secret} in ${region}: ${tagged.problem}; nothing was overwritten`);
      const policy = await ops.readPolicy(origin.ARN);
      if (policy !== undefined) {
        const check = retargetPolicy(policy, origin.ARN, origin.ARN);
        if ('problem' in check) throw cannotBackUp(`cannot back up ${input.secret} in ${region}: ${check.problem}; nothing was overwritten`);
      }

      const originArn = origin.ARN;
      const manifestOf = (createdAt: string, list: BackupManifest['origin']['versions']): BackupManifest => ({
        format: 1,
        origin: {
          name: input.secret,
          arn: originArn,
          region,
          ...(origin.KmsKeyId ? { kmsKeyId: origin.KmsKeyId } : {}),
          ...(origin.Description !== undefined ? { description: origin.Description } : {}),
          tags: pairs(origin.Tags).map(([k, v]) => [k, v]),
          ...(policy !== undefined ? { policy } : {}),
          rotation: {
            enabled: origin.RotationEnabled === true,
            ...(origin.RotationLambdaARN ? { lambdaArn: origin.RotationLambdaARN } : {}),
            ...(origin.RotationRules ? { rules: { ...origin.RotationRules } } : {}),
          },
          versions: list,
        },
        reason: input.reason,
        workflowId: input.workflowId,
        createdAt,
      });
      const estimate = manifestOf(
        new Date(0).toISOString(),
        Object.entries(versions).map(([originVersionId, stages]) => ({ originVersionId, stages, backupVersionId: 'x'.repeat(64), binary: false })),
      );
      if (Buffer.byteLength(JSON.stringify(estimate)) > AWS_LIMITS.valueMaxBytes) {
        throw cannotBackUp(
          `cannot back up ${input.secret} in ${region}: its description, tags, policy and ${Object.keys(versions).length} labelled versions do not fit in one manifest (${AWS_LIMITS.valueMaxBytes} bytes); nothing was overwritten`,
        );
      }

      let b = await ops.describe(input.backup);
      if (b && tagOf(b.Tags, BackupTag.originLabels) !== digest)
        throw cannotBackUp(`cannot back up ${input.secret}: ${input.backup} already exists and holds another backup`);
      const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
        try {
          return await fn();
        } catch (err) {
          if ((err as { type?: string }).type) throw err;
          if ((err as { name?: string }).name === 'AccessDeniedException') {
            throw cannotBackUp(
              `cannot back up ${input.secret} in ${region}: ${what} was refused (${(err as Error).message}); the original's resource policy, carried to the backup, may deny it; nothing was overwritten`,
            );
          }
          throw toFailure(err, `${what} (backup ${input.backup})`, region);
        }
      };
      if (!b) {
        await step('CreateSecret', async () => {
          try {
            await ops.gov.write(() =>
              ops.sm.createSecret({
                Name: input.backup,
                Description: `secrets-dr backup of ${input.secret} (${region}): ${input.reason}`.slice(0, 2048),
                ...(origin.KmsKeyId ? { KmsKeyId: origin.KmsKeyId } : {}),
                Tags: tagged.tags.map(([Key, Value]) => ({ Key, Value })),
              }),
            );
          } catch (err) {
            if ((err as { name?: string }).name !== 'ResourceExistsException') throw err; // a retried create that had succeeded
          }
        });
        b = await ops.describe(input.backup);
        if (!b?.ARN) throw toFailure(new Error(`${input.backup} not found right after CreateSecret`), 'backup', region);
      }
      const backupArn = b.ARN!;
      // Protection before values: the original's policy (our fence left out) now covers the backup.
      if (policy !== undefined) {
        const moved = retargetPolicy(policy, origin.ARN, backupArn, TOOL_FENCE_SIDS);
        if ('policy' in moved && moved.policy !== undefined) {
          const text = moved.policy;
          await step('PutResourcePolicy', () => ops.policyGov.write(() => ops.sm.putResourcePolicy({ SecretId: backupArn, ResourcePolicy: text })));
        }
      }
      // Values: AWSCURRENT first (the backup has none yet, so no label moves by itself), then the others.
      const have = labelledVersions(b);
      const haveIds = new Set(Object.keys(have));
      const order = [current, ...Object.keys(versions).filter((v) => v !== current)];
      const manifestVersions: BackupManifest['origin']['versions'] = [];
      const wanted: Record<string, string[]> = {};
      for (const originVersionId of order) {
        const token = requestToken(input.workflowId, 'backup', region, input.secret, originVersionId);
        const stages = versions[originVersionId]!;
        wanted[token] = stages;
        const v = await ops.readVersion(origin.ARN, originVersionId);
        manifestVersions.push({ originVersionId, stages, backupVersionId: token, binary: v.SecretString === undefined });
        if (!haveIds.has(token)) {
          await step('PutSecretValue', () =>
            ops.gov.write(() =>
              ops.sm.putSecretValue({
                SecretId: backupArn,
                ClientRequestToken: token,
                ...(v.SecretString !== undefined ? { SecretString: v.SecretString } : { SecretBinary: v.SecretBinary }),
                VersionStages: stages,
              }),
            ),
          );
        }
        heartbeat();
      }
      // The backup's own creation time: the manifest's text is the same on every retry (same token, same value).
      const manifest = manifestOf(new Date(b.CreatedDate ?? 0).toISOString(), manifestVersions);
      const manifestToken = requestToken(input.workflowId, 'backup-manifest', region, input.secret, digest);
      wanted[manifestToken] = [MANIFEST_STAGE];
      await step('labels', () => ops.ensureLabels(backupArn, Object.fromEntries(Object.entries(wanted).filter(([id]) => id !== manifestToken))));
      if (!haveIds.has(manifestToken)) {
        await step('PutSecretValue (manifest)', () =>
          ops.gov.write(() =>
            ops.sm.putSecretValue({
              SecretId: backupArn,
              ClientRequestToken: manifestToken,
              SecretString: JSON.stringify(manifest),
              VersionStages: [MANIFEST_STAGE],
            }),
          ),
        );
      }
      // Describe, don't assume: the backup now holds every labelled version under its labels, and the manifest.
      const done = labelledVersions(await ops.describe(backupArn));
      for (const [id, stages] of Object.entries(wanted)) {
        if ([...(done[id] ?? [])].sort().join(',') !== [...stages].sort().join(',')) {
          throw toFailure(new Error(`backup ${input.backup} does not hold version ${id} as ${stages.join(',')} after writing`), 'backup', region);
        }
      }
      return { backup: input.backup, arn: backupArn, reused: false, hasPrevious, versions: order.length };
    },

    /** The plan's backups in this Region (`secrets-dr-backup/<plan>/`); `withOrigin`: whether each original changed since. */
    async listPlanBackups(input: { planName: string; withOrigin?: boolean }): Promise<BackupInfo[]> {
      return listBackups(secretOps(clients), backupPrefix(input.planName), input.withOrigin === true);
    },

    /** Schedules backups for deletion with the normal recovery window (never ForceDeleteWithoutRecovery). */
    async deleteBackups(input: {
      planName: string;
      names: string[];
      writeQuotaShare: number;
      writeQuotaShareMode?: WriteQuotaShareMode;
    }): Promise<Array<{ name: string; ok: boolean; skipped?: boolean; reason?: string }>> {
      const ops = secretOps(clients, input.writeQuotaShare, input.writeQuotaShareMode);
      const out: Array<{ name: string; ok: boolean; skipped?: boolean; reason?: string }> = [];
      for (const name of input.names) {
        if (!name.startsWith(backupPrefix(input.planName))) {
          out.push({ name, ok: false, reason: `not a backup of plan ${input.planName}` });
          continue;
        }
        const d = await ops.describe(name);
        if (!d || d.DeletedDate) {
          out.push({ name, ok: true, skipped: true });
          continue;
        }
        try {
          await ops.gov.write(() => ops.sm.deleteSecret({ SecretId: d.ARN! }));
          out.push({ name, ok: true });
        } catch (err) {
          if (isNotFound(err)) out.push({ name, ok: true, skipped: true });
          else out.push({ name, ok: false, reason: toFailure(err, 'DeleteSecret', region).message });
        }
        heartbeat();
      }
      return out;
    },
  };
}

export type BackupActivities = ReturnType<typeof createBackupActivities>;
