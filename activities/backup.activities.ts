/**
 * Backups (DESIGN.md invariant 2): before a same-named secret is overwritten, its AWSCURRENT and
 * AWSPREVIOUS values are copied to `secrets-dr-backup/<plan>/<secret>/<timestamp>` in the same Region,
 * as the backup's AWSPREVIOUS and AWSCURRENT. Values are read and written inside one activity and
 * never returned. Idempotent twice over: each write's ClientRequestToken (= its version id) derives
 * from workflow id + step, and a describe-first check reuses an existing backup of the same origin
 * ARN and AWSCURRENT version, so a retried or crashed step never creates a second backup.
 */
import { heartbeat } from '@temporalio/activity';
import type { DescribeSecretResponse, GetSecretValueResponse, Tag } from '@aws-sdk/client-secrets-manager';
import type { BackupInfo, RestoreResult } from '../domain/replication.js';
import { BackupTag, backupPrefix } from '../domain/replication.js';
import type { RegionClients } from './clients.js';
import type { PeerClients } from './replication.activities.js';
import { isNotFound, toFailure } from './aws-errors.js';
import { requestToken } from './lineage.activities.js';
import { writeGovernor } from './write-governor.js';

const tagOf = (tags: Tag[] | undefined, key: string) => tags?.find((t) => t.Key === key)?.Value;
const stageVersion = (d: DescribeSecretResponse, stage: string) => Object.entries(d.VersionIdsToStages ?? {}).find(([, s]) => s?.includes(stage))?.[0];
const valueOf = (v: GetSecretValueResponse) => (v.SecretString !== undefined ? { SecretString: v.SecretString } : { SecretBinary: v.SecretBinary });
const notFound = (what: string) => Object.assign(new Error(what), { name: 'ResourceNotFoundException' });

export function createBackupActivities({ region, secretsManager }: RegionClients, peer?: PeerClients) {
  const describe = async (id: string): Promise<DescribeSecretResponse | undefined> => {
    try {
      return await secretsManager.describeSecret({ SecretId: id });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw toFailure(err, `DescribeSecret ${id}`, region);
    }
  };
  const read = async (id: string, stage: string): Promise<GetSecretValueResponse | undefined> => {
    try {
      return await secretsManager.getSecretValue({ SecretId: id, VersionStage: stage });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw toFailure(err, `GetSecretValue ${id}`, region);
    }
  };
  const listBackups = async (prefix: string): Promise<BackupInfo[]> => {
    const out: BackupInfo[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await secretsManager.listSecrets({ MaxResults: 100, NextToken: token, Filters: [{ Key: 'name', Values: [prefix] }] });
      } catch (err) {
        throw toFailure(err, 'ListSecrets (backups)', region);
      }
      for (const s of page.SecretList ?? []) {
        if (!s.Name?.startsWith(prefix) || !s.ARN || s.DeletedDate) continue;
        const info: BackupInfo = { name: s.Name, arn: s.ARN, region };
        const set = (k: keyof BackupInfo, tag: string) => {
          const v = tagOf(s.Tags, tag);
          if (v !== undefined) (info as Record<string, unknown>)[k] = v;
        };
        set('originName', BackupTag.originName);
        set('originArn', BackupTag.originArn);
        set('reason', BackupTag.reason);
        set('workflowId', BackupTag.workflowId);
        if (s.CreatedDate) info.createdAt = new Date(s.CreatedDate).toISOString();
        info.hasPrevious = Object.values(s.SecretVersionsToStages ?? {}).some((st) => st?.includes('AWSPREVIOUS'));
        out.push(info);
      }
      token = page.NextToken;
      heartbeat();
    } while (token);
    return out;
  };

  return {
    /** Saves the conflicting secret `secret` of this Region (AWSCURRENT + AWSPREVIOUS) under `backup`. */
    async backupSecret(request: { planName: string; secret: string; backup: string; reason: string; workflowId: string; writeQuotaShare: number }): Promise<{ backup: string; arn: string; reused: boolean; hasPrevious: boolean }> {
      let input = request;
      const origin = await describe(input.secret);
      if (!origin?.ARN) throw toFailure(notFound(`${input.secret} no longer exists`), 'backup', region);
      const originCurrent = stageVersion(origin, 'AWSCURRENT') ?? '';
      // Describe first: a backup of this very origin and version (from this or an earlier run) is reused.
      const existing = await listBackups(backupPrefix(input.planName, input.secret));
      for (const candidate of existing.filter((b) => b.name === input.backup || b.originArn === origin.ARN)) {
        const d = await describe(candidate.name);
        if (!d?.ARN || tagOf(d.Tags, BackupTag.originVersion) !== originCurrent) continue;
        const by = tagOf(d.Tags, BackupTag.workflowId) ?? input.workflowId;
        if (stageVersion(d, 'AWSCURRENT') === requestToken(by, 'backup-current', region, input.secret)) {
          return { backup: candidate.name, arn: d.ARN, reused: true, hasPrevious: Boolean(stageVersion(d, 'AWSPREVIOUS')) };
        }
        // A backup this workflow began (AWSPREVIOUS written, then a crash before AWSCURRENT) is completed,
        // not left behind as an orphan under another name (a retry computes a new timestamped name).
        if (by === input.workflowId && stageVersion(d, 'AWSCURRENT') === requestToken(input.workflowId, 'backup-previous', region, input.secret)) {
          input = { ...input, backup: candidate.name };
          break;
        }
      }
      const current = await read(origin.ARN, 'AWSCURRENT');
      if (!current) throw toFailure(notFound(`${input.secret} has no AWSCURRENT value`), 'backup', region);
      const previous = stageVersion(origin, 'AWSPREVIOUS') ? await read(origin.ARN, 'AWSPREVIOUS') : undefined;
      const currentToken = requestToken(input.workflowId, 'backup-current', region, input.secret);
      const previousToken = requestToken(input.workflowId, 'backup-previous', region, input.secret);
      const gov = writeGovernor(region, input.writeQuotaShare);
      const tags: Tag[] = [
        { Key: BackupTag.role, Value: 'backup' },
        { Key: BackupTag.plan, Value: input.planName },
        { Key: BackupTag.originName, Value: input.secret },
        { Key: BackupTag.originArn, Value: origin.ARN },
        { Key: BackupTag.originVersion, Value: originCurrent },
        { Key: BackupTag.reason, Value: input.reason.slice(0, 256) },
        { Key: BackupTag.workflowId, Value: input.workflowId.slice(0, 256) },
      ];
      let b = await describe(input.backup);
      try {
        if (!b) {
          // The older value first, so the backup's labels mirror the origin's: AWSPREVIOUS, then AWSCURRENT.
          const first = previous ?? current;
          await gov.write(() =>
            secretsManager.createSecret({
              Name: input.backup,
              Description: `secrets-dr backup of ${input.secret} (${region}) before ${input.reason}`.slice(0, 2048),
              ClientRequestToken: previous ? previousToken : currentToken,
              ...valueOf(first),
              Tags: tags,
            }),
          );
          b = await describe(input.backup);
        }
        if (previous && b && stageVersion(b, 'AWSCURRENT') !== currentToken) {
          await gov.write(() => secretsManager.putSecretValue({ SecretId: input.backup, ClientRequestToken: currentToken, ...valueOf(current) }));
        }
      } catch (err) {
        throw toFailure(err, `writing backup ${input.backup}`, region);
      }
      // Describe, don't assume: the backup must now hold the origin's AWSCURRENT as its own.
      const done = await describe(input.backup);
      if (!done?.ARN || stageVersion(done, 'AWSCURRENT') !== currentToken) {
        throw toFailure(new Error(`backup ${input.backup} does not hold the expected AWSCURRENT after writing`), 'backup', region);
      }
      return { backup: input.backup, arn: done.ARN, reused: false, hasPrevious: previous !== undefined };
    },

    /** The plan's backups in this Region (`secrets-dr-backup/<plan>/`). */
    async listPlanBackups(input: { planName: string }): Promise<BackupInfo[]> {
      return listBackups(backupPrefix(input.planName));
    },

    /**
     * Puts a backup's AWSCURRENT back as the AWSCURRENT of the secret it was taken from, in this Region.
     * When the name is now held by our replica (the usual case after setup), the replica is removed from
     * replication first (the primary keeps its value) and the secret is recreated with both backed-up
     * versions. Idempotent: the restored version's id derives from the workflow id.
     */
    async restoreBackup(input: { backup: string; workflowId: string; writeQuotaShare: number }): Promise<RestoreResult> {
      const b = await describe(input.backup);
      if (!b?.ARN) throw toFailure(notFound(`backup ${input.backup} not found in ${region}`), 'restore', region);
      const secret = tagOf(b.Tags, BackupTag.originName);
      if (!secret) throw toFailure(Object.assign(new Error(`${input.backup} is not a secrets-dr backup (no ${BackupTag.originName} tag)`), { name: 'InvalidParameterException' }), 'restore', region);
      const currentToken = requestToken(input.workflowId, 'restore-current', region, secret);
      const previousToken = requestToken(input.workflowId, 'restore-previous', region, secret);
      const gov = writeGovernor(region, input.writeQuotaShare);
      let o = await describe(secret);
      if (o && stageVersion(o, 'AWSCURRENT') === currentToken && !o.PrimaryRegion) {
        return { backup: input.backup, region, secret, arn: o.ARN ?? '', versionId: currentToken, removedReplica: false, alreadyRestored: true };
      }
      let removedReplica = false;
      if (o?.PrimaryRegion && o.PrimaryRegion !== region) {
        if (!peer) throw new Error('restoreBackup needs the primary Region clients (worker composition bug)');
        try {
          await writeGovernor(o.PrimaryRegion, input.writeQuotaShare).write(() =>
            peer(o!.PrimaryRegion!).secretsManager.removeRegionsFromReplication({ SecretId: secret, RemoveReplicaRegions: [region] }),
          );
        } catch (err) {
          if (!/not replicated/i.test((err as Error).message)) throw toFailure(err, `RemoveRegionsFromReplication ${secret}`, o.PrimaryRegion);
        }
        removedReplica = true;
        // The replica disappears later, not at once (AWS: tens of seconds): wait up to 2 minutes.
        for (let i = 0; i < 600 && o; i++) {
          await new Promise((r) => setTimeout(r, 200));
          heartbeat();
          o = await describe(secret);
        }
        if (o) throw toFailure(new Error(`the replica ${secret} is still there after RemoveRegionsFromReplication`), 'restore', region);
      }
      const current = await read(b.ARN, 'AWSCURRENT');
      if (!current) throw toFailure(notFound(`backup ${input.backup} has no AWSCURRENT`), 'restore', region);
      try {
        if (!o) {
          const previous = stageVersion(b, 'AWSPREVIOUS') ? await read(b.ARN, 'AWSPREVIOUS') : undefined;
          await gov.write(() =>
            secretsManager.createSecret({
              Name: secret,
              ClientRequestToken: previous ? previousToken : currentToken,
              ...valueOf(previous ?? current),
              Description: `restored by secrets-dr from ${input.backup}`,
            }),
          );
          if (previous) await gov.write(() => secretsManager.putSecretValue({ SecretId: secret, ClientRequestToken: currentToken, ...valueOf(current) }));
        } else {
          await gov.write(() => secretsManager.putSecretValue({ SecretId: secret, ClientRequestToken: currentToken, ...valueOf(current) }));
        }
      } catch (err) {
        throw toFailure(err, `restoring ${secret} from ${input.backup}`, region);
      }
      const done = await describe(secret);
      if (!done?.ARN || stageVersion(done, 'AWSCURRENT') !== currentToken) throw toFailure(new Error(`${secret} does not hold the restored value`), 'restore', region);
      return { backup: input.backup, region, secret, arn: done.ARN, versionId: currentToken, removedReplica, alreadyRestored: false };
    },
  };
}

export type BackupActivities = ReturnType<typeof createBackupActivities>;
