/**
 * Restore (`secrets-dr backups restore`): puts a backup back under the name of the secret it saved, in
 * the backup's Region — every labelled version under its labels, the KMS key, the resource policy
 * (retargeted to the restored secret's ARN), tags, description and rotation settings. `inspectRestore`
 * says what would change (values compared here, never returned); `restoreBackup` makes it so:
 * protection first (key, tags, policy), then values, then labels, then rotation (RotateSecret refuses
 * while AWSPENDING sits on another version, so AWSPENDING is attached last). Idempotent: each value's
 * ClientRequestToken derives from workflow id + step + the original's version id, and every step
 * describes first. What it could not put back (e.g. a rotation function that no longer exists) is
 * returned as `attention`, never silently dropped.
 */
import { rulesToRehome } from '../domain/rotation-schedule.js';
import { heartbeat } from '@temporalio/activity';
import { pause as sleep } from './cancellation.js';
import type { DescribeSecretResponse, GetSecretValueResponse } from '@aws-sdk/client-secrets-manager';
import { retargetPolicy, TOOL_FENCE_SIDS, TOOL_FENCE_TAGS, type BackupManifest, type RestorePlan, type RestoreResult } from '../domain/backup.js';
import type { RegionClients } from './clients.js';
import type { PeerClients } from './replication.activities.js';
import { describeAwsError, toFailure } from './aws-errors.js';
import { requestToken } from './lineage.activities.js';
import { writeGovernor } from './write-governor.js';
import { labelledVersions, notFound, sameValue, secretOps, versionWith, type SecretOps } from './backup-support.js';
import type { WriteQuotaShareMode } from '../domain/plan.js';

/** Holds an AWSPENDING-only version between its write and the rotation settings (then removed). */
const RESTORING_STAGE = 'SECRETS_DR_RESTORING';
const DEFAULT_KEY = 'alias/aws/secretsmanager';
const keyOf = (k: string | undefined) => (k && k !== DEFAULT_KEY ? k : undefined);
/** JSON with sorted keys: two policies or rule sets compare equal whatever their key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}
const canonicalPolicy = (p: string | undefined) => (p === undefined ? '' : canonical(JSON.parse(p)));
/**
 * What the restored secret must carry: the original's tags and policy, less secrets-dr's fence (its
 * statement denies writes to everyone, the restore's own included; the fence is failover's lock on an
 * old primary, not the original's protection) — the policy's ARN retargeted to the restored secret.
 */
const wantedTags = (m: BackupManifest) => m.origin.tags.filter(([k]) => !TOOL_FENCE_TAGS.includes(k));
const wantedPolicy = (m: BackupManifest, arn: string) =>
  m.origin.policy === undefined ? undefined : (retargetPolicy(m.origin.policy, m.origin.arn, arn, TOOL_FENCE_SIDS) as { policy?: string }).policy;
const tagText = (tags: readonly (readonly [string, string])[]) => canonical([...tags].map(([k, v]) => `${k}=${v}`).sort());

interface Loaded {
  backupArn: string;
  manifest: BackupManifest;
  target: DescribeSecretResponse | undefined;
  kind: RestorePlan['target'];
}

export function createRestoreActivities(clients: RegionClients, peer?: PeerClients) {
  const { region } = clients;

  async function load(ops: SecretOps, backup: string): Promise<Loaded> {
    const b = await ops.describe(backup);
    if (!b?.ARN) throw notFound(`backup ${backup} not found in ${region}`);
    const manifest = await ops.readManifest(b.ARN);
    if (!manifest) throw notFound(`${backup} has no manifest: it was cut off, or made by an older secrets-dr (restore its labelled versions by hand)`);
    const target = await ops.describe(manifest.origin.name);
    const kind = !target || target.DeletedDate ? 'missing' : target.PrimaryRegion && target.PrimaryRegion !== region ? 'replica' : 'standalone';
    return { backupArn: b.ARN, manifest, target, kind };
  }

  /** Field by field, what differs between the secret and the backup (values compared here, never returned). */
  async function compare(ops: SecretOps, l: Loaded): Promise<RestorePlan['changes']> {
    const o = l.manifest.origin;
    const t = l.target;
    if (l.kind !== 'standalone' || !t?.ARN) return [{ field: 'secret', from: l.kind, to: 'recreated from the backup' }];
    const changes: RestorePlan['changes'] = [];
    const diff = (field: string, from: string | undefined, to: string | undefined) => {
      if ((from ?? '') !== (to ?? '')) changes.push({ field, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
    };
    diff('kmsKeyId', keyOf(t.KmsKeyId) ?? DEFAULT_KEY, keyOf(o.kmsKeyId) ?? DEFAULT_KEY);
    diff('description', t.Description, o.description);
    const tags = (t.Tags ?? []).map((x) => [x.Key ?? '', x.Value ?? ''] as const);
    const want = wantedTags(l.manifest);
    if (tagText(tags) !== tagText(want))
      changes.push({
        field: 'tags',
        from: tags
          .map(([k]) => k)
          .sort()
          .join(','),
        to: want
          .map(([k]) => k)
          .sort()
          .join(','),
      });
    const wantPolicy = wantedPolicy(l.manifest, t.ARN);
    const havePolicy = await ops.readPolicy(t.ARN);
    if (canonicalPolicy(havePolicy) !== canonicalPolicy(wantPolicy))
      changes.push({ field: 'resourcePolicy', from: havePolicy ? 'set' : 'none', to: wantPolicy ? "the original's" : 'none' });
    const rot = (enabled: boolean | undefined, lambda: string | undefined, rules: unknown) =>
      enabled ? `enabled ${lambda ?? ''} ${canonical(rules ?? {})}` : 'disabled';
    diff('rotation', rot(t.RotationEnabled, t.RotationLambdaARN, t.RotationRules), rot(o.rotation.enabled, o.rotation.lambdaArn, o.rotation.rules));
    // Values under each label: same value, another value, or missing.
    const have = labelledVersions(t);
    const cache = new Map<string, GetSecretValueResponse>();
    const read = async (arn: string, id: string) => {
      const k = `${arn}\u0000${id}`;
      if (!cache.has(k)) cache.set(k, await ops.readVersion(arn, id));
      return cache.get(k)!;
    };
    const wanted = new Set<string>();
    for (const v of o.versions) {
      for (const stage of v.stages) {
        wanted.add(stage);
        const holder = versionWith(have, stage);
        if (!holder) changes.push({ field: `label ${stage}`, from: 'missing', to: 'the backed-up value' });
        else if (!sameValue(await read(t.ARN, holder), await read(l.backupArn, v.backupVersionId)))
          changes.push({ field: `label ${stage}`, from: 'another value', to: 'the backed-up value' });
      }
      heartbeat();
    }
    for (const stages of Object.values(have))
      for (const s of stages) if (!wanted.has(s)) changes.push({ field: `label ${s}`, from: 'set', to: 'removed (not in the backup)' });
    return changes;
  }

  async function inspect(ops: SecretOps, backup: string): Promise<{ loaded: Loaded; plan: RestorePlan }> {
    const loaded = await load(ops, backup);
    const changes = await compare(ops, loaded);
    // A standalone secret that differs holds something the backup does not: it is saved before the restore.
    const plan: RestorePlan = {
      backup,
      region,
      secret: loaded.manifest.origin.name,
      target: loaded.kind,
      needsBackup: loaded.kind === 'standalone' && changes.length > 0,
      changes,
    };
    return { loaded, plan };
  }

  /** Our replica holds the name: the primary keeps its value; the replica is removed (AWS may take a minute or more). */
  async function removeReplica(ops: SecretOps, secret: string, primaryRegion: string, share: number, mode?: WriteQuotaShareMode): Promise<void> {
    if (!peer) throw new Error('restoreBackup needs the primary Region clients (worker composition bug)');
    try {
      await writeGovernor(primaryRegion, share, mode).write(() =>
        peer(primaryRegion).secretsManager.removeRegionsFromReplication({ SecretId: secret, RemoveReplicaRegions: [region] }),
      );
    } catch (err) {
      if (!/not replicated/i.test((err as Error).message)) throw toFailure(err, `RemoveRegionsFromReplication ${secret}`, primaryRegion);
    }
    for (let i = 0; i < 150; i++) {
      const d = await ops.describe(secret);
      if (!d || d.DeletedDate) return;
      heartbeat();
      await sleep(1_000); // the activity's sleep: a cancelled restore stops polling
    }
    throw toFailure(new Error(`the replica ${secret} is still there 150 s after RemoveRegionsFromReplication`), 'restore', region);
  }

  return {
    /** What `backups restore` would change (`--dry-run`): target state, fields, labels; never a value. */
    async inspectRestore(input: { backup: string }): Promise<RestorePlan> {
      return (await inspect(secretOps(clients), input.backup)).plan;
    },

    /** Puts the backup back (see the module comment). The workflow backs up a changed secret first (`inspectRestore.needsBackup`). */
    async restoreBackup(input: {
      backup: string;
      workflowId: string;
      writeQuotaShare: number;
      writeQuotaShareMode?: WriteQuotaShareMode;
    }): Promise<RestoreResult> {
      const ops = secretOps(clients, input.writeQuotaShare, input.writeQuotaShareMode);
      let { loaded, plan } = await inspect(ops, input.backup);
      const o = loaded.manifest.origin;
      const tags = wantedTags(loaded.manifest);
      const secret = o.name;
      const base = { backup: input.backup, region, secret };
      if (loaded.kind === 'standalone' && plan.changes.length === 0) {
        const t = loaded.target!;
        return { ...base, arn: t.ARN!, versionId: versionWith(labelledVersions(t), 'AWSCURRENT') ?? '', removedReplica: false, alreadyRestored: true };
      }
      const write = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
        try {
          return await fn();
        } catch (err) {
          if ((err as { type?: string }).type) throw err;
          throw toFailure(err, `${what} ${secret} (restore from ${input.backup})`, region);
        }
      };
      let removedReplica = false;
      if (loaded.kind === 'replica') {
        await removeReplica(ops, secret, loaded.target!.PrimaryRegion!, input.writeQuotaShare, input.writeQuotaShareMode);
        removedReplica = true;
      }
      let t = loaded.kind === 'standalone' ? loaded.target : await ops.describe(secret);
      if (t?.DeletedDate) throw notFound(`${secret} is scheduled for deletion in ${region}: RestoreSecret it (or wait for the deletion), then restore again`);
      // 1. Protection first: key, description, tags (at creation for a new secret), then the policy.
      if (!t) {
        await write('CreateSecret', () =>
          ops.gov.write(() =>
            ops.sm.createSecret({
              Name: secret,
              ...(o.kmsKeyId ? { KmsKeyId: o.kmsKeyId } : {}),
              ...(o.description !== undefined ? { Description: o.description } : {}),
              ...(tags.length ? { Tags: tags.map(([Key, Value]) => ({ Key, Value })) } : {}),
            }),
          ),
        ).catch((err: Error) => {
          if (!/ResourceExistsException/.test(err.message)) throw err; // a retried create that had succeeded
        });
        t = await ops.describe(secret);
        if (!t?.ARN) throw toFailure(new Error(`${secret} not found right after CreateSecret`), 'restore', region);
      } else {
        const arn = t.ARN!;
        if (keyOf(t.KmsKeyId) !== keyOf(o.kmsKeyId))
          await write('UpdateSecret (KmsKeyId)', () => ops.gov.write(() => ops.sm.updateSecret({ SecretId: arn, KmsKeyId: o.kmsKeyId ?? DEFAULT_KEY })));
        if ((t.Description ?? '') !== (o.description ?? ''))
          await write('UpdateSecret (Description)', () => ops.gov.write(() => ops.sm.updateSecret({ SecretId: arn, Description: o.description ?? '' })));
        const keep = new Set(tags.map(([k]) => k));
        const extra = (t.Tags ?? []).map((x) => x.Key ?? '').filter((k) => !keep.has(k));
        if (extra.length) await write('UntagResource', () => ops.tagGov.write(() => ops.sm.untagResource({ SecretId: arn, TagKeys: extra })));
        const now = new Map((t.Tags ?? []).map((x) => [x.Key ?? '', x.Value ?? '']));
        if (tags.some(([k, v]) => now.get(k) !== v))
          await write('TagResource', () => ops.tagGov.write(() => ops.sm.tagResource({ SecretId: arn, Tags: tags.map(([Key, Value]) => ({ Key, Value })) })));
      }
      const arn = t.ARN!;
      const policy = wantedPolicy(loaded.manifest, arn);
      const havePolicy = await ops.readPolicy(arn);
      if (canonicalPolicy(havePolicy) !== canonicalPolicy(policy)) {
        if (policy !== undefined)
          await write('PutResourcePolicy', () => ops.policyGov.write(() => ops.sm.putResourcePolicy({ SecretId: arn, ResourcePolicy: policy })));
        else await write('DeleteResourcePolicy', () => ops.policyGov.write(() => ops.sm.deleteResourcePolicy({ SecretId: arn })));
      }
      const attention: string[] = [];
      // 2. Rotation off first when the backup had none (a rotation in flight must not finish over the restore).
      if (t.RotationEnabled && !o.rotation.enabled)
        await write('CancelRotateSecret', () => ops.rotationGov.write(() => ops.sm.cancelRotateSecret({ SecretId: arn })));
      // 3. Values: a version is reused when the secret still holds it (same id: the original itself, or an earlier run's).
      const allIds = new Set(Object.keys(t.VersionIdsToStages ?? {}));
      const wanted: Record<string, string[]> = {};
      let pendingOn: string | undefined;
      const ordered = [...o.versions].sort((a, b) => Number(b.stages.includes('AWSCURRENT')) - Number(a.stages.includes('AWSCURRENT')));
      for (const v of ordered) {
        const token = requestToken(input.workflowId, 'restore', region, secret, v.originVersionId);
        const id = allIds.has(v.originVersionId) && loaded.kind === 'standalone' ? v.originVersionId : token;
        const stages = v.stages.filter((s) => s !== 'AWSPENDING');
        if (v.stages.includes('AWSPENDING')) pendingOn = id;
        if (stages.length) wanted[id] = stages;
        if (!allIds.has(id)) {
          const value = await ops.readVersion(loaded.backupArn, v.backupVersionId);
          await write('PutSecretValue', () =>
            ops.gov.write(() =>
              ops.sm.putSecretValue({
                SecretId: arn,
                ClientRequestToken: id,
                ...(value.SecretString !== undefined ? { SecretString: value.SecretString } : { SecretBinary: value.SecretBinary }),
                // A version with AWSPENDING only gets it after rotation is set (below); meanwhile a label of ours.
                VersionStages: stages.length ? stages : [RESTORING_STAGE],
              }),
            ),
          );
          heartbeat();
        }
      }
      // 4. Labels exactly the backup's (AWSPENDING aside): labels the backup does not hold are removed.
      await ops.ensureLabels(arn, wanted);
      // 5. Rotation settings (never rotating now), then AWSPENDING where the backup had it.
      t = await ops.describe(arn);
      // As written back: DescribeSecret's rules carry an AutomaticallyAfterDays derived from a
      // ScheduleExpression, and RotateSecret refuses both together.
      const rules = rulesToRehome(o.rotation.rules);
      const sameRotation =
        t?.RotationEnabled === true &&
        t.RotationLambdaARN === o.rotation.lambdaArn &&
        canonical(rulesToRehome(t.RotationRules) ?? {}) === canonical(rules ?? {});
      if (o.rotation.enabled && !sameRotation) {
        try {
          await ops.rotationGov.write(() =>
            ops.sm.rotateSecret({
              SecretId: arn,
              ...(o.rotation.lambdaArn ? { RotationLambdaARN: o.rotation.lambdaArn } : {}),
              ...(rules ? { RotationRules: rules } : {}),
              RotateImmediately: false,
            }),
          );
        } catch (err) {
          const e = describeAwsError(err);
          attention.push(
            `rotation not restored (${e.name}: ${e.message}); set it with RotateSecret (Lambda ${o.rotation.lambdaArn ?? '-'}, rules ${canonical(rules ?? {})})`,
          );
        }
      }
      if (pendingOn) await ops.ensureLabels(arn, { ...wanted, [pendingOn]: [...(wanted[pendingOn] ?? []), 'AWSPENDING'] });
      // 6. Describe, don't assume: compare field by field again.
      ({ loaded, plan } = await inspect(ops, input.backup));
      for (const c of plan.changes)
        if (!(c.field === 'rotation' && attention.length)) attention.push(`${c.field} still differs after the restore (${c.from ?? '-'} → ${c.to ?? '-'})`);
      const after = loaded.target;
      return {
        ...base,
        arn,
        versionId: versionWith(labelledVersions(after), 'AWSCURRENT') ?? '',
        removedReplica,
        alreadyRestored: false,
        ...(attention.length ? { attention } : {}),
      };
    },
  };
}
