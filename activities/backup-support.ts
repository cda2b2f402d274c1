/**
 * What the backup and restore activities share: describe/read helpers over one Region's client, the
 * manifest reader, and `ensureLabels`, which makes a secret's staging labels exactly a wanted map
 * (AWS moves AWSPREVIOUS by itself whenever AWSCURRENT moves, so AWSCURRENT goes first and the
 * secret is described again before anything else moves). Values stay inside the calling activity.
 */
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { DescribeSecretResponse, GetSecretValueResponse } from '@aws-sdk/client-secrets-manager';
import { BackupManifest, MANIFEST_STAGE } from '../domain/backup.js';
import { ErrorType } from '../domain/errors.js';
import type { RegionSecretsManager } from './clients.js';
import { isNotFound, toFailure } from './aws-errors.js';
import { writeGovernor } from './write-governor.js';
import type { WriteQuotaShareMode } from '../domain/plan.js';

type VersionMap = Record<string, string[]>;

/** Labelled versions only (AWS leaves unlabelled ones out of describe, but not every emulator does). */
export function labelledVersions(d: DescribeSecretResponse | undefined): VersionMap {
  const out: VersionMap = {};
  for (const [id, stages] of Object.entries(d?.VersionIdsToStages ?? {})) if (stages && stages.length > 0) out[id] = [...stages];
  return out;
}

export const versionWith = (versions: VersionMap, stage: string) => Object.entries(versions).find(([, s]) => s.includes(stage))?.[0];

/** Two values equal, string or binary (inside an activity only). */
export function sameValue(a: GetSecretValueResponse, b: GetSecretValueResponse): boolean {
  if (a.SecretString !== undefined || b.SecretString !== undefined) return a.SecretString === b.SecretString;
  return Buffer.from(a.SecretBinary ?? new Uint8Array()).equals(Buffer.from(b.SecretBinary ?? new Uint8Array()));
}

export const cannotBackUp = (message: string) => ApplicationFailure.nonRetryable(message, ErrorType.BackupNotPossible);
export const notFound = (message: string) => ApplicationFailure.nonRetryable(message, ErrorType.SecretNotFound);

/** The operations `secretOps` itself calls; callers may pass a client with more (`sm` keeps the caller's type). */
type SecretOpsClients = RegionSecretsManager<'describeSecret' | 'getSecretValue' | 'getResourcePolicy' | 'updateSecretVersionStage'>;

export function secretOps<C extends SecretOpsClients>(clients: C, writeQuotaShare = 0.6, mode?: WriteQuotaShareMode) {
  const { region } = clients;
  const sm: C['secretsManager'] = clients.secretsManager;
  // Another account's clients (account DR) write in that account's own buckets of the Region.
  const bucket = clients.bucket ?? region;
  const gov = writeGovernor(bucket, writeQuotaShare, mode);
  const policyGov = writeGovernor(`${bucket}/policy`, writeQuotaShare, mode);
  const tagGov = writeGovernor(`${bucket}/tagging`, writeQuotaShare, mode);
  const rotationGov = writeGovernor(`${bucket}/rotation`, writeQuotaShare, mode);

  const describe = async (id: string): Promise<DescribeSecretResponse | undefined> => {
    try {
      return await sm.describeSecret({ SecretId: id });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw toFailure(err, `DescribeSecret ${id}`, region);
    }
  };
  const readVersion = async (id: string, versionId: string): Promise<GetSecretValueResponse> => {
    try {
      return await sm.getSecretValue({ SecretId: id, VersionId: versionId });
    } catch (err) {
      throw toFailure(err, `GetSecretValue ${id} (version ${versionId})`, region);
    }
  };
  const readPolicy = async (id: string): Promise<string | undefined> => {
    try {
      return (await policyGov.write(() => sm.getResourcePolicy({ SecretId: id }))).ResourcePolicy || undefined;
    } catch (err) {
      throw toFailure(err, `GetResourcePolicy ${id}`, region);
    }
  };
  /** The manifest of a backup; undefined when it has none (cut off, or made by an older secrets-dr). */
  const readManifest = async (backupArn: string): Promise<BackupManifest | undefined> => {
    let v: GetSecretValueResponse;
    try {
      v = await sm.getSecretValue({ SecretId: backupArn, VersionStage: MANIFEST_STAGE });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw toFailure(err, `reading the manifest of ${backupArn}`, region);
    }
    const parsed = BackupManifest.safeParse(JSON.parse(v.SecretString ?? 'null'));
    if (!parsed.success) throw ApplicationFailure.nonRetryable(`the manifest of ${backupArn} is not a secrets-dr manifest (format 1)`, ErrorType.AwsRejected);
    return parsed.data;
  };

  /**
   * Makes the labels of `secretId` exactly `wanted` (version id → labels): desired labels moved onto their
   * versions, every other label removed. Describe first: nothing is sent when they already match.
   */
  async function ensureLabels(secretId: string, wanted: VersionMap): Promise<void> {
    const target = new Map<string, string>();
    for (const [id, stages] of Object.entries(wanted)) for (const s of stages) target.set(s, id);
    const move = async (stage: string, to: string | undefined, from: string | undefined) => {
      await gov.write(() =>
        sm.updateSecretVersionStage({
          SecretId: secretId,
          VersionStage: stage,
          ...(to ? { MoveToVersionId: to } : {}),
          ...(from ? { RemoveFromVersionId: from } : {}),
        }),
      );
      heartbeat();
    };
    try {
      let have = labelledVersions(await describe(secretId));
      const current = target.get('AWSCURRENT');
      if (current && versionWith(have, 'AWSCURRENT') !== current) {
        await move('AWSCURRENT', current, versionWith(have, 'AWSCURRENT'));
        have = labelledVersions(await describe(secretId));
      }
      for (const [stage, id] of target) {
        const holder = versionWith(have, stage);
        if (holder !== id) await move(stage, id, holder);
      }
      have = labelledVersions(await describe(secretId));
      for (const [id, stages] of Object.entries(have)) {
        for (const s of stages) if (!target.has(s) && s !== 'AWSCURRENT') await move(s, undefined, id);
      }
    } catch (err) {
      if ((err as { type?: string }).type) throw err;
      throw toFailure(err, `UpdateSecretVersionStage ${secretId}`, region);
    }
  }

  return { sm, region, bucket, gov, policyGov, tagGov, rotationGov, describe, readVersion, readPolicy, readManifest, ensureLabels };
}
export type SecretOps<C extends SecretOpsClients = SecretOpsClients> = ReturnType<typeof secretOps<C>>;
