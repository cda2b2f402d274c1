/**
 * Failback activities, each one bounded batch of one kind of effect, run in the Region named by
 * its task queue (`peer` reaches the other Region for the two steps that span both):
 * - `findFailoverLineage` (DR Region): the failover's lineage records (names only);
 * - `inspectFailbackBatch` (original Region): both sides of each secret — version ids, labelled
 *   versions' HMACs (via readLineage), fence, rotation, replication — and the AWSCURRENT recorded
 *   at promotion;
 * - `backupBatch`: the existing backup activity (AWSCURRENT + AWSPREVIOUS) per secret;
 * - `copyBackBatch` (original Region): the DR Region's AWSCURRENT value becomes the original's new
 *   AWSCURRENT, read and written inside this activity; the version id is the ClientRequestToken
 *   (workflow id + step), so a retry finds the work done;
 * - `reReplicateBatch` (source Region): ReplicateSecretToRegions with ForceOverwriteReplicaSecret,
 *   refused unless every labelled value of the secret it overwrites exists on the source or in a
 *   readable backup (checked here, right before the destructive call);
 * - `unfenceBatch` (original Region): removes the fence statement and the fenced tag.
 * The fence denies writes to everyone, the orchestrator included: the write steps lift the fence
 * statement of a secret right before writing it (policy operations stay allowed); its
 * `secrets-dr:fenced` tag goes once the secret is re-replicated from it (it is the primary again),
 * and unfencing removes whatever fence is left. Values never leave an activity.
 */
import { heartbeat } from '@temporalio/activity';
import type { DescribeSecretResponse } from '@aws-sdk/client-secrets-manager';
import { FENCE_SID, LineageRecord, lineageRecordPrefix } from '../domain/failover.js';
import type { SecretFacts, SideFacts } from '../domain/failback.js';
import { currentOf, type SecretLineage } from '../domain/lineage.js';
import { backupName } from '../domain/replication.js';
import { backupCovers } from '../domain/backup.js';
import { FENCE_TAG } from '../domain/status.js';
import type { RegionClients } from './clients.js';
import { describeAwsError, isNotFound, isThrottling, isUnreachable, toFailure } from './aws-errors.js';
import { createBackupActivities } from './backup.activities.js';
import { withoutFence } from './failover.activities.js';
import { createLineageActivities, requestToken } from './lineage.activities.js';
import { pool, type PeerClients } from './replication.activities.js';
import { writeGovernor } from './write-governor.js';

export interface ItemFailure {
  name: string;
  ok: boolean;
  skipped?: boolean;
  reason?: string;
}

const reasonOf = (err: unknown) => {
  const i = describeAwsError(err);
  return `${i.name}: ${i.message}`.slice(0, 300);
};
/** Region down, throttled through the governor's retries, 5xx: the batch's failure (retried by Temporal), not one secret's. */
const isBatchFailure = (err: unknown) => isUnreachable(err) || isThrottling(err) || ['InternalServiceError', 'InternalFailure', 'ServiceUnavailableException'].includes(describeAwsError(err).name);

/** `pool` with a heartbeat after every secret: a killed worker is noticed within the heartbeat timeout. */
const each = <T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> =>
  pool(items, limit, async (item) => {
    const r = await fn(item);
    heartbeat();
    return r;
  });

const recordCache = new Map<string, { at: number; byName: Map<string, LineageRecord['secrets'][number]> }>();

export function createFailbackActivities(clients: RegionClients, peer?: PeerClients) {
  const { region, secretsManager: sm } = clients;
  const other = (r: string) => {
    if (!peer) throw new Error('failback activities need the other Region\'s clients (worker composition bug)');
    return peer(r);
  };
  const describeIn = async (c: RegionClients, id: string): Promise<DescribeSecretResponse | undefined> => {
    try {
      return await c.secretsManager.describeSecret({ SecretId: id });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw toFailure(err, `DescribeSecret ${id}`, c.region);
    }
  };
  const currentVersion = (d: DescribeSecretResponse) => Object.entries(d.VersionIdsToStages ?? {}).find(([, s]) => s?.includes('AWSCURRENT'))?.[0];

  /** One side of a secret: describe + labelled versions' HMACs (readLineage), from the point of view of `peerRegion`. */
  async function side(c: RegionClients, planName: string, name: string, peerRegion: string): Promise<SideFacts> {
    const d = await describeIn(c, name);
    if (!d?.ARN) return { exists: false, hmacs: [] };
    let l: SecretLineage | undefined;
    try {
      l = await createLineageActivities(c).readLineage({ planName, secretId: d.ARN });
    } catch (err) {
      // Without the plan's HMAC key (no `secrets-dr setup`), versions are told apart by id only.
      if (!/HMAC key/.test((err as Error).message)) throw err;
      const versions = Object.entries(d.VersionIdsToStages ?? {}).filter(([, st]) => st && st.length > 0).map(([versionId, st]) => ({ versionId, stages: st! }));
      l = { region: c.region, name, arn: d.ARN, versions, readAt: new Date().toISOString() };
    }
    const cur = currentOf(l);
    const entry = d.ReplicationStatus?.find((r) => r.Region === peerRegion);
    return {
      exists: true,
      arn: d.ARN,
      ...(d.PrimaryRegion && d.PrimaryRegion !== c.region ? { primaryRegion: d.PrimaryRegion } : {}),
      ...(d.DeletedDate ? { deleted: true } : {}),
      ...(cur ? { current: cur.versionId } : {}),
      ...(cur?.hmac ? { currentHmac: cur.hmac } : {}),
      // A value's identity: its HMAC, else its version id (replication keeps ids; a copy gets a new one).
      hmacs: [...new Set((l?.versions ?? []).map((v) => v.hmac ?? `version:${v.versionId}`))].sort(),
      ...((d.Tags ?? []).some((t) => t.Key === FENCE_TAG) ? { fenced: true } : {}),
      ...(d.RotationEnabled ? { rotation: true } : {}),
      ...(entry?.Status ? { replication: entry.Status as 'InProgress' | 'InSync' | 'Failed' } : {}),
    };
  }

  /** Lifts our fence statement from a secret of this Region so the orchestrator's own write is allowed; the fenced tag stays. */
  async function liftFenceStatement(arn: string, share: number): Promise<boolean> {
    const gov = writeGovernor(`${region}/policy`, share);
    const p = await gov.write(() => sm.getResourcePolicy({ SecretId: arn }));
    if (!p.ResourcePolicy?.includes(FENCE_SID)) return false;
    const rest = withoutFence(p.ResourcePolicy);
    if (rest === undefined) await gov.write(() => sm.deleteResourcePolicy({ SecretId: arn }));
    else await gov.write(() => sm.putResourcePolicy({ SecretId: arn, ResourcePolicy: rest }));
    return true;
  }

  const isFenced = (d: DescribeSecretResponse) => (d.Tags ?? []).some((t) => t.Key === FENCE_TAG);
  const deniedByFence = (err: unknown) => describeAwsError(err).name === 'AccessDeniedException' && /explicit deny/i.test(describeAwsError(err).message);

  /**
   * One write of the orchestrator to a secret of this Region, through the fence: a fenced secret
   * (tag) has its deny statement lifted first; a fence caught half-applied (statement without the
   * tag) shows as an explicit deny, and is lifted then, once.
   */
  async function throughFence<T>(d: DescribeSecretResponse, share: number, write: () => Promise<T>): Promise<T> {
    if (isFenced(d)) await liftFenceStatement(d.ARN!, share);
    try {
      return await write();
    } catch (err) {
      if (!deniedByFence(err) || !(await liftFenceStatement(d.ARN!, share))) throw err;
      return write();
    }
  }

  async function loadRecords(c: RegionClients, records: readonly string[]) {
    const key = `${c.region}\u0000${records.join('\u0000')}`;
    const cached = recordCache.get(key);
    if (cached && Date.now() - cached.at < 5 * 60_000) return cached.byName;
    const byName = new Map<string, LineageRecord['secrets'][number]>();
    for (const name of records) {
      let v;
      try {
        v = await c.secretsManager.getSecretValue({ SecretId: name });
      } catch (err) {
        throw toFailure(err, `reading the lineage record ${name}`, c.region);
      }
      const parsed = LineageRecord.safeParse(JSON.parse(v.SecretString ?? '{}'));
      if (!parsed.success) continue;
      for (const s of parsed.data.secrets) byName.set(s.name, s);
      heartbeat();
    }
    recordCache.set(key, { at: Date.now(), byName });
    return byName;
  }

  return {
    /** The lineage records of a failover of the plan in this (the DR) Region: the given one, else the latest. */
    async findFailoverLineage(input: { planName: string; failoverId?: string }): Promise<{ region: string; failoverId?: string; from?: string; to?: string; records: string[]; names: string[]; hmacs: boolean }> {
      const prefix = lineageRecordPrefix(input.planName);
      const found = new Map<string, string[]>();
      let token: string | undefined;
      do {
        let page;
        try {
          page = await sm.listSecrets({ MaxResults: 100, NextToken: token, Filters: [{ Key: 'name', Values: [prefix] }] });
        } catch (err) {
          throw toFailure(err, 'ListSecrets (lineage records)', region);
        }
        for (const s of page.SecretList ?? []) {
          if (!s.Name?.startsWith(prefix) || s.DeletedDate) continue;
          const id = s.Name.slice(prefix.length).split('/')[0]!;
          found.set(id, [...(found.get(id) ?? []), s.Name]);
        }
        token = page.NextToken;
        heartbeat();
      } while (token);
      const failoverId = input.failoverId ?? [...found.keys()].sort().at(-1);
      const records = failoverId ? (found.get(failoverId) ?? []).sort() : [];
      if (!failoverId || records.length === 0) return { region, records: [], names: [], hmacs: false };
      let from: string | undefined;
      let to: string | undefined;
      let hmacs = true;
      const names: string[] = [];
      for (const name of records) {
        let v;
        try {
          v = await sm.getSecretValue({ SecretId: name });
        } catch (err) {
          throw toFailure(err, `reading the lineage record ${name}`, region);
        }
        const parsed = LineageRecord.safeParse(JSON.parse(v.SecretString ?? '{}'));
        if (!parsed.success) continue;
        ({ from, to } = parsed.data);
        if (!parsed.data.hmacs) hmacs = false;
        names.push(...parsed.data.secrets.map((s) => s.name));
      }
      return { region, failoverId, ...(from ? { from } : {}), ...(to ? { to } : {}), records, names: [...new Set(names)].sort(), hmacs };
    },

    /** Both sides of a batch of secrets (run in the original Region; `dr` through the peer clients) and what was recorded at promotion. */
    async inspectFailbackBatch(input: { planName: string; dr: string; records: string[]; names: string[] }): Promise<SecretFacts[]> {
      const drClients = other(input.dr);
      const recorded = await loadRecords(drClients, input.records);
      return each(input.names, 16, async (name): Promise<SecretFacts> => {
        const [original, dr] = await Promise.all([side(clients, input.planName, name, input.dr), side(drClients, input.planName, name, region)]);
        const r = recorded.get(name);
        const cur = r?.versions.find((v) => v.stages.includes('AWSCURRENT'));
        return { name, ...(cur ? { recorded: { versionId: cur.versionId, ...(cur.hmac ? { hmac: cur.hmac } : {}) } } : {}), original, dr };
      });
    },

    /** Backs up each secret of this Region (the existing backup activity: AWSCURRENT + AWSPREVIOUS, reused when already taken). */
    async backupBatch(input: { planName: string; items: Array<{ name: string; reason: string }>; workflowId: string; writeQuotaShare: number }): Promise<Array<ItemFailure & { backup?: string }>> {
      const backups = createBackupActivities(clients);
      return each(input.items, 8, async ({ name, reason }) => {
        try {
          const b = await backups.backupSecret({ planName: input.planName, secret: name, backup: backupName(input.planName, name, new Date()), reason, workflowId: input.workflowId, writeQuotaShare: input.writeQuotaShare });
          return { name, ok: true, backup: b.backup, ...(b.reused ? { skipped: true } : {}) };
        } catch (err) {
          const e = err as { type?: string; message?: string };
          if (e.type === 'RegionUnreachable' || isBatchFailure(err)) throw err;
          return { name, ok: false, reason: `backup failed: ${e.message ?? String(err)}` };
        }
      });
    },

    /**
     * Copies the DR Region's AWSCURRENT value into this (the original) Region as the new AWSCURRENT.
     * Describe first: a secret whose AWSCURRENT already is this step's version is done.
     */
    async copyBackBatch(input: { dr: string; names: string[]; workflowId: string; writeQuotaShare: number }): Promise<Array<ItemFailure & { versionId?: string }>> {
      const drSm = other(input.dr).secretsManager;
      const gov = writeGovernor(region, input.writeQuotaShare);
      return each(input.names, 16, async (name) => {
        const token = requestToken(input.workflowId, 'copy-back', region, name);
        try {
          const d = await describeIn(clients, name);
          if (!d?.ARN) return { name, ok: false, reason: `no such secret in ${region}` };
          if (currentVersion(d) === token) return { name, ok: true, skipped: true, versionId: token };
          const value = await drSm.getSecretValue({ SecretId: name, VersionStage: 'AWSCURRENT' });
          await throughFence(d, input.writeQuotaShare, () =>
            gov.write(() =>
              sm.putSecretValue({ SecretId: d.ARN, ClientRequestToken: token, ...(value.SecretString !== undefined ? { SecretString: value.SecretString } : { SecretBinary: value.SecretBinary }) }),
            ),
          );
          const after = await describeIn(clients, name);
          if (!after || currentVersion(after) !== token) return { name, ok: false, reason: `${name} does not hold the copied value as AWSCURRENT after PutSecretValue` };
          return { name, ok: true, versionId: token };
        } catch (err) {
          if (isBatchFailure(err)) throw toFailure(err, `copying ${name} back from ${input.dr}`, region);
          if ((err as { type?: string }).type) throw err; // already an ApplicationFailure
          return { name, ok: false, reason: `copy-back failed: ${reasonOf(err)}` };
        }
      });
    },

    /**
     * Re-replication, run in the source Region (the original; the DR Region with --reverse):
     * ReplicateSecretToRegions with ForceOverwriteReplicaSecret into `target`. Describe first: an
     * entry already requested is not requested again. Refused unless the secret it overwrites holds
     * no labelled value missing from the source, or `backup` (in the target Region) holds its AWSCURRENT.
     */
    async reReplicateBatch(input: { planName: string; target: string; kmsKeyId?: string; items: Array<{ name: string; backup?: string }>; writeQuotaShare: number }): Promise<ItemFailure[]> {
      const targetClients = other(input.target);
      const gov = writeGovernor(region, input.writeQuotaShare);
      return each(input.items, 16, async ({ name, backup }): Promise<ItemFailure> => {
        try {
          const d = await describeIn(clients, name);
          if (!d?.ARN) return { name, ok: false, reason: `no such secret in ${region}` };
          if (d.PrimaryRegion && d.PrimaryRegion !== region) return { name, ok: false, reason: `in ${region} it is a replica of ${d.PrimaryRegion}` };
          const entry = d.ReplicationStatus?.find((r) => r.Region === input.target);
          if (entry && entry.Status !== 'Failed') return { name, ok: true, skipped: true };
          const t = await describeIn(targetClients, name);
          const ours = t?.PrimaryRegion === region;
          if (t && !ours) {
            // Invariant 2, checked at the destructive call itself: what would be lost must exist elsewhere.
            const [src, dst] = await Promise.all([side(clients, input.planName, name, input.target), side(targetClients, input.planName, name, region)]);
            const missing = dst.hmacs.filter((h) => !src.hmacs.includes(h));
            if (missing.length > 0) {
              const b = backup ? await describeIn(targetClients, backup) : undefined;
              const covers = b !== undefined && backupCovers(b.Tags, t.VersionIdsToStages);
              if (!covers) {
                return { name, ok: false, reason: `refusing to overwrite ${name} in ${input.target}: it holds ${missing.length} value(s) that exist neither in ${region} nor in a backup (it changed after reconciliation?)` };
              }
            }
          }
          await throughFence(d, input.writeQuotaShare, () =>
            gov.write(() =>
              sm.replicateSecretToRegions({
                SecretId: d.ARN,
                AddReplicaRegions: [{ Region: input.target, ...(input.kmsKeyId ? { KmsKeyId: input.kmsKeyId } : {}) }],
                ForceOverwriteReplicaSecret: t !== undefined && !ours,
              }),
            ),
          );
          // The source is the primary again: its fence has done its job (the unfencing step checks).
          if (isFenced(d)) await writeGovernor(`${region}/tagging`, input.writeQuotaShare).write(() => sm.untagResource({ SecretId: d.ARN, TagKeys: [FENCE_TAG] }));
          return { name, ok: true };
        } catch (err) {
          if (isBatchFailure(err)) throw toFailure(err, `re-replicating ${name} to ${input.target}`, region);
          if ((err as { type?: string }).type) throw err;
          return { name, ok: false, reason: `re-replication failed: ${reasonOf(err)}` };
        }
      });
    },

    /** Removes the fence (statement and tag) from secrets of this Region. Describe first: unfenced ones are skipped. */
    async unfenceBatch(input: { names: string[]; writeQuotaShare: number }): Promise<ItemFailure[]> {
      const tagGov = writeGovernor(`${region}/tagging`, input.writeQuotaShare);
      return each(input.names, 16, async (name): Promise<ItemFailure> => {
        try {
          const d = await describeIn(clients, name);
          if (!d?.ARN) return { name, ok: false, reason: `no such secret in ${region}` };
          if (d.PrimaryRegion && d.PrimaryRegion !== region) return { name, ok: true, skipped: true }; // a replica: its policy and tags come from its primary
          // Describe first: the tag marks a fence (re-replication already opened most of them).
          if (!isFenced(d)) return { name, ok: true, skipped: true };
          await liftFenceStatement(d.ARN, input.writeQuotaShare);
          await tagGov.write(() => sm.untagResource({ SecretId: d.ARN, TagKeys: [FENCE_TAG] }));
          return { name, ok: true };
        } catch (err) {
          if (isBatchFailure(err)) throw toFailure(err, `unfencing ${name}`, region);
          return { name, ok: false, reason: `unfence failed: ${reasonOf(err)}` };
        }
      });
    },
  };
}

export type FailbackActivities = ReturnType<typeof createFailbackActivities>;
