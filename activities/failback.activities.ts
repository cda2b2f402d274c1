/**
 * Failback activities, each one bounded batch of one kind of effect, run in the Region named by
 * its task queue (`peer` reaches the other Region for the two steps that span both):
 * - `findFailoverLineage` (DR Region): every failover since the failback that last verified each
 *   secret, from what both left in AWS: the failovers' lineage records and failback's own records
 *   (`recordFailbackBatch`: the names it verified). AWS-side truth that outlives Temporal history
 *   retention (the failover workflows' results in Temporal visibility are a cross-check, not the record);
 * - `fenceTargetBatch` / `liftTargetFenceBatch` (the side replication overwrites): failback's own
 *   deny-writes statement, so nothing changes there between the last check and the overwrite;
 * - `inspectFailbackBatch` (original Region): both sides of each secret — version ids, labelled
 *   versions' HMACs (via lineageReader), fence, rotation, replication — and the AWSCURRENT recorded
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
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { DescribeSecretResponse } from '@aws-sdk/client-secrets-manager';
import { FENCE_SID, FENCED_ACTIONS, LineageRecord, lineageRecordPrefix } from '../domain/failover.js';
import {
  FAILBACK_FENCE_SID,
  FAILBACK_FENCE_TAG,
  FAILBACK_FENCED_ACTIONS,
  FailbackRecord,
  failbackRecordName,
  failbackRecordPrefix,
  hasDenyStatement,
  hasStatement,
  openFailovers,
  policyWithDeny,
  policyWithout,
  secretsInScope,
  type FailoverRun,
  type SecretFacts,
  type SideFacts,
} from '../domain/failback.js';
import { currentOf, type SecretLineage } from '../domain/lineage.js';
import { backupName } from '../domain/replication.js';
import { backupCovers } from '../domain/backup.js';
import { FENCE_TAG } from '../domain/status.js';
import type { RegionClients } from './clients.js';
import { describeAwsError, errorReason, isBatchFailure, isNotFound, toFailure } from './aws-errors.js';
import { createBackupActivities } from './backup.activities.js';
import { fencePolicy, withoutFence } from './failover.activities.js';
import { lineageReader, requestToken, writeRecordSecret } from './lineage.activities.js';
import type { PeerClients } from './replication.activities.js';
import { pool } from './pool.js';
import { writeGovernor } from './write-governor.js';

interface ItemFailure {
  name: string;
  ok: boolean;
  skipped?: boolean;
  reason?: string;
}

/** `pool` with a heartbeat after every secret: a killed worker is noticed within the heartbeat timeout. */
const each = <T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> =>
  pool(items, limit, async (item) => {
    const r = await fn(item);
    heartbeat();
    return r;
  });

const recordCache = new Map<string, { at: number; byName: Map<string, LineageRecord['secrets'][number] & { failoverId: string }> }>();

export function createFailbackActivities(clients: RegionClients, peer?: PeerClients) {
  const { region, secretsManager: sm } = clients;
  const other = (r: string) => {
    if (!peer) throw new Error("failback activities need the other Region's clients (worker composition bug)");
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

  /** One side of a secret: describe + labelled versions' HMACs (lineageReader: no second describe), from the point of view of `peerRegion`. */
  async function side(c: RegionClients, planName: string, name: string, peerRegion: string): Promise<SideFacts> {
    const d = await describeIn(c, name);
    if (!d?.ARN) return { exists: false, hmacs: [] };
    let l: SecretLineage | undefined;
    try {
      l = await lineageReader(c)(planName, d); // the describe above, not a second one
    } catch (err) {
      // Without the plan's HMAC key (no `secrets-dr setup`), versions are told apart by id only; a key read that got
      // no answer (unreachable, throttled, cancelled: a retryable failure) is retried instead, never taken for "no key".
      if (!/HMAC key/.test((err as Error).message) || (err instanceof ApplicationFailure && !err.nonRetryable)) throw err;
      const versions = Object.entries(d.VersionIdsToStages ?? {})
        .filter(([, st]) => st && st.length > 0)
        .map(([versionId, st]) => ({ versionId, stages: st! }));
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
      ...(d.KmsKeyId ? { kmsKeyId: d.KmsKeyId } : {}),
      ...(entry?.Status ? { replication: entry.Status as 'InProgress' | 'InSync' | 'Failed' } : {}),
    };
  }

  /** Lifts our fence statement from a secret of this Region so the orchestrator's own write is allowed; the fenced tag stays. */
  async function liftFenceStatement(arn: string, share: number): Promise<boolean> {
    const gov = writeGovernor(`${region}/policy`, share);
    const p = await gov.write(() => sm.getResourcePolicy({ SecretId: arn }));
    // By the parsed Sid, never a substring: a policy that names it only inside another statement is not ours to rewrite.
    if (!p.ResourcePolicy || !hasStatement(p.ResourcePolicy, FENCE_SID)) return false;
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
  async function throughFence<T>(
    d: DescribeSecretResponse,
    share: number,
    write: () => Promise<T>,
    opts: { restore?: boolean; open?: boolean } = {},
  ): Promise<T> {
    // `open`: this run lifted the statement moment ago (copy-back); a fence put back since shows as an explicit deny below.
    let lifted = !opts.open && isFenced(d) && (await liftFenceStatement(d.ARN!, share));
    let written = false;
    try {
      try {
        const out = await write();
        written = true;
        return out;
      } catch (err) {
        if (!deniedByFence(err) || !(await liftFenceStatement(d.ARN!, share))) throw err;
        lifted = true;
        const out = await write();
        written = true;
        return out;
      }
    } finally {
      // Copy-back: the original is not authoritative until re-replication; its fence goes back at once. A write that
      // failed puts it back too: the caller re-fences by the tag, which a lifted statement would leave in place.
      if (lifted && (opts.restore || !written)) await restoreFenceStatement(d.ARN!, share);
    }
  }

  async function restoreFenceStatement(arn: string, share: number): Promise<void> {
    const gov = writeGovernor(`${region}/policy`, share);
    const p = await gov.write(() => sm.getResourcePolicy({ SecretId: arn }));
    // By the statement, not its Sid: an edited statement (Allow, fewer actions) is no fence and is replaced.
    if (!hasDenyStatement(p.ResourcePolicy, FENCE_SID, FENCED_ACTIONS))
      await gov.write(() => sm.putResourcePolicy({ SecretId: arn, ResourcePolicy: fencePolicy(p.ResourcePolicy), BlockPublicPolicy: false }));
  }

  /** Failback's fence on a standalone secret of this Region (describe first: a fenced one is left alone). */
  async function fenceForOverwrite(d: DescribeSecretResponse, share: number): Promise<boolean> {
    const gov = writeGovernor(`${region}/policy`, share);
    const p = await gov.write(() => sm.getResourcePolicy({ SecretId: d.ARN }));
    // By the statement, not its Sid: one edited since (an Allow, fewer actions, a Condition) is no fence and is replaced.
    const had = hasDenyStatement(p.ResourcePolicy, FAILBACK_FENCE_SID, FAILBACK_FENCED_ACTIONS);
    if (!had)
      await gov.write(() =>
        sm.putResourcePolicy({
          SecretId: d.ARN,
          ResourcePolicy: policyWithDeny(p.ResourcePolicy, FAILBACK_FENCE_SID, FAILBACK_FENCED_ACTIONS),
          BlockPublicPolicy: false,
        }),
      );
    if (!(d.Tags ?? []).some((t) => t.Key === FAILBACK_FENCE_TAG)) {
      await writeGovernor(`${region}/tagging`, share).write(() =>
        sm.tagResource({ SecretId: d.ARN, Tags: [{ Key: FAILBACK_FENCE_TAG, Value: 'until re-replication overwrites it' }] }),
      );
    }
    return !had;
  }

  /** Reads one of the plan's JSON records (a failover's lineage or a failback's names). */
  async function readRecord(c: RegionClients, name: string): Promise<LineageRecord | FailbackRecord | undefined> {
    let v;
    try {
      v = await c.secretsManager.getSecretValue({ SecretId: name });
    } catch (err) {
      throw toFailure(err, `reading the record ${name}`, c.region);
    }
    let json: unknown;
    try {
      json = JSON.parse(v.SecretString ?? '{}');
    } catch {
      return undefined;
    }
    const l = LineageRecord.safeParse(json);
    if (l.success) return l.data;
    const f = FailbackRecord.safeParse(json);
    return f.success ? f.data : undefined;
  }

  /** Per secret in scope: its baseline lineage entry, from a set of records (lineage + failback). */
  async function scopeOf(c: RegionClients, records: readonly string[]) {
    const failovers = new Map<string, { failoverId: string; from: string; hmacs: boolean; secrets: LineageRecord['secrets'] }>();
    const failbacks: Array<{ failbackId: string; names: string[] }> = [];
    // Read at once (8 at a time; GetSecretValue's bucket is 10,000/s), taken in the records' order.
    const read = await each(records, 8, (name) => readRecord(c, name));
    for (const r of read) {
      if (!r) continue;
      if (r.kind === 'secrets-dr/failback-record') {
        failbacks.push({ failbackId: r.failbackId, names: r.names });
        continue;
      }
      const f = failovers.get(r.failoverId) ?? { failoverId: r.failoverId, from: r.from, hmacs: true, secrets: [] };
      f.secrets.push(...r.secrets);
      if (!r.hmacs) f.hmacs = false;
      failovers.set(r.failoverId, f);
    }
    return { failovers: [...failovers.values()], failbacks, scope: secretsInScope([...failovers.values()], failbacks) };
  }

  async function loadRecords(c: RegionClients, records: readonly string[]) {
    const key = `${c.region}\u0000${records.join('\u0000')}`;
    const cached = recordCache.get(key);
    if (cached && Date.now() - cached.at < 5 * 60_000) return cached.byName;
    const { scope } = await scopeOf(c, records);
    const byName = new Map([...scope].map(([name, s]) => [name, { ...s.entry, failoverId: s.failoverId }]));
    recordCache.set(key, { at: Date.now(), byName });
    return byName;
  }

  return {
    /**
     * The failovers of the plan whose promotions in this (the DR) Region are not failed back yet: per
     * secret, every failover since the failback that last verified it (`failoverId`: only that one).
     * `records`: the lineage and failback records that decide it (the children read them again).
     */
    async findFailoverLineage(input: {
      planName: string;
      failoverId?: string;
      /** A page of the names in scope (sorted): from `namesFrom`, at most `namesLimit` (default: all); `namesTotal` counts them all. */
      namesFrom?: number;
      namesLimit?: number;
    }): Promise<{
      region: string;
      failoverId?: string;
      from?: string;
      failovers: FailoverRun[];
      records: string[];
      names: string[];
      namesTotal?: number;
      hmacs: boolean;
    }> {
      const lineagePrefix = lineageRecordPrefix(input.planName);
      const failbackPrefix = failbackRecordPrefix(input.planName);
      const lineage = new Map<string, string[]>();
      const failbacks: string[] = [];
      for (const prefix of [lineagePrefix, failbackPrefix]) {
        let token: string | undefined;
        do {
          let page;
          try {
            page = await sm.listSecrets({ MaxResults: 100, NextToken: token, Filters: [{ Key: 'name', Values: [prefix] }] });
          } catch (err) {
            throw toFailure(err, 'ListSecrets (failover and failback records)', region);
          }
          for (const s of page.SecretList ?? []) {
            if (!s.Name?.startsWith(prefix) || s.DeletedDate) continue;
            if (prefix === failbackPrefix) failbacks.push(s.Name);
            else {
              const id = s.Name.slice(prefix.length).split('/')[0]!;
              if (input.failoverId === undefined || id === input.failoverId) lineage.set(id, [...(lineage.get(id) ?? []), s.Name]);
            }
          }
          token = page.NextToken;
          heartbeat();
        } while (token);
      }
      const all = [...[...lineage.values()].flat().sort(), ...failbacks.sort()];
      const { failovers, failbacks: done, scope } = await scopeOf(clients, all);
      const baselineCount = new Map<string, number>();
      for (const s of scope.values()) baselineCount.set(s.failoverId, (baselineCount.get(s.failoverId) ?? 0) + 1);
      // A failover counts while one of its promotions is not failed back (the baseline may be an earlier one's).
      const ids = new Set(openFailovers(failovers, done));
      const open = failovers.filter((f) => ids.has(f.failoverId)).sort((a, b) => (a.failoverId < b.failoverId ? -1 : 1));
      if (open.length === 0) return { region, failovers: [], records: [], names: [], hmacs: false };
      const records = [...open.flatMap((f) => lineage.get(f.failoverId) ?? []).sort(), ...failbacks.sort()];
      const latest = open.at(-1)!;
      return {
        region,
        failoverId: latest.failoverId,
        from: latest.from,
        failovers: open.map((f) => ({ failoverId: f.failoverId, region, from: f.from, secrets: baselineCount.get(f.failoverId) ?? 0, hmacs: f.hmacs })),
        records,
        // Paged: the names of a 10,000-secret fleet would be one payload near Temporal's limit.
        names: [...scope.keys()].sort().slice(input.namesFrom ?? 0, (input.namesFrom ?? 0) + (input.namesLimit ?? scope.size)),
        namesTotal: scope.size,
        hmacs: open.every((f) => f.hmacs),
      };
    },

    /**
     * Leaves failback's record in this (a DR) Region: the names it verified, so the next failback
     * counts only promotions after this one. Split by size (a SecretString holds 64 KB); describe
     * first and a token per part, so a retry writes nothing twice.
     */
    async recordFailbackBatch(input: {
      planName: string;
      failbackId: string;
      from: string;
      to: string;
      reverse: boolean;
      part: string;
      names: string[];
      writeQuotaShare: number;
    }): Promise<{ records: string[] }> {
      const parts: string[][] = [[]];
      let size = 0;
      for (const n of input.names) {
        if (size + n.length + 3 > 60_000 && parts.at(-1)!.length > 0) {
          parts.push([]);
          size = 0;
        }
        parts.at(-1)!.push(n);
        size += n.length + 3;
      }
      const written: string[] = [];
      for (const [i, names] of parts.entries()) {
        const part = i === 0 ? input.part : `${input.part}.${i}`;
        const name = failbackRecordName(input.planName, input.failbackId, part);
        written.push(name);
        if (await describeIn(clients, name)) continue; // written by an earlier attempt
        const record: FailbackRecord = {
          kind: 'secrets-dr/failback-record',
          plan: input.planName,
          failbackId: input.failbackId,
          from: input.from,
          to: input.to,
          reverse: input.reverse,
          part,
          names,
        };
        await writeRecordSecret(sm, region, {
          name,
          description: 'secrets-dr: secrets a failback verified (names only; never values)',
          body: record,
          planName: input.planName,
          role: 'failback-record',
          tokenParts: [input.failbackId, part],
          writeQuotaShare: input.writeQuotaShare,
        });
        heartbeat();
      }
      return { records: written };
    },

    /**
     * Fences the secrets of this Region that replication will overwrite (failback's own deny-writes
     * statement + tag): from here to the overwrite nothing changes them, so what reconciliation
     * reads next is final. A replica (nothing to fence: replicas refuse writes) is skipped.
     */
    async fenceTargetBatch(input: { names: string[]; writeQuotaShare: number }): Promise<ItemFailure[]> {
      return each(input.names, 16, async (name): Promise<ItemFailure> => {
        try {
          const d = await describeIn(clients, name);
          if (!d?.ARN) return { name, ok: false, reason: `no such secret in ${region}` };
          if (d.PrimaryRegion && d.PrimaryRegion !== region) return { name, ok: true, skipped: true };
          await fenceForOverwrite(d, input.writeQuotaShare);
          return { name, ok: true };
        } catch (err) {
          if (isBatchFailure(err)) throw toFailure(err, `fencing ${name} for re-replication`, region);
          if ((err as { type?: string }).type) throw err;
          return { name, ok: false, reason: `could not fence ${name} in ${region} before overwriting it: ${errorReason(err)}` };
        }
      });
    },

    /** Lifts failback's fence from secrets of this Region that will not be overwritten after all (they stay the writable copy). */
    async liftTargetFenceBatch(input: { names: string[]; writeQuotaShare: number }): Promise<ItemFailure[]> {
      const policyGov = writeGovernor(`${region}/policy`, input.writeQuotaShare);
      return each(input.names, 16, async (name): Promise<ItemFailure> => {
        try {
          const d = await describeIn(clients, name);
          if (!d?.ARN || (d.PrimaryRegion && d.PrimaryRegion !== region)) return { name, ok: true, skipped: true }; // overwritten after all
          const p = await policyGov.write(() => sm.getResourcePolicy({ SecretId: d.ARN }));
          if (p.ResourcePolicy && hasStatement(p.ResourcePolicy, FAILBACK_FENCE_SID)) {
            const rest = policyWithout(p.ResourcePolicy, FAILBACK_FENCE_SID);
            if (rest === undefined) await policyGov.write(() => sm.deleteResourcePolicy({ SecretId: d.ARN }));
            else await policyGov.write(() => sm.putResourcePolicy({ SecretId: d.ARN, ResourcePolicy: rest, BlockPublicPolicy: false }));
          }
          if ((d.Tags ?? []).some((t) => t.Key === FAILBACK_FENCE_TAG))
            await writeGovernor(`${region}/tagging`, input.writeQuotaShare).write(() => sm.untagResource({ SecretId: d.ARN, TagKeys: [FAILBACK_FENCE_TAG] }));
          return { name, ok: true };
        } catch (err) {
          if (isBatchFailure(err)) throw toFailure(err, `lifting failback's fence from ${name}`, region);
          return { name, ok: false, reason: `failback's fence not lifted: ${errorReason(err)}` };
        }
      });
    },

    /** Both sides of a batch of secrets (run in the original Region; `dr` through the peer clients) and what was recorded at promotion. */
    async inspectFailbackBatch(input: { planName: string; dr: string; records: string[]; names: string[] }): Promise<SecretFacts[]> {
      const drClients = other(input.dr);
      const recorded = await loadRecords(drClients, input.records);
      return each(input.names, 16, async (name): Promise<SecretFacts> => {
        const [original, dr] = await Promise.all([side(clients, input.planName, name, input.dr), side(drClients, input.planName, name, region)]);
        const r = recorded.get(name);
        const cur = r?.versions.find((v) => v.stages.includes('AWSCURRENT'));
        return {
          name,
          ...(cur
            ? {
                recorded: {
                  versionId: cur.versionId,
                  ...(cur.hmac ? { hmac: cur.hmac } : {}),
                  failoverId: r!.failoverId,
                  ...(r!.rotation ? { rotation: r!.rotation } : {}),
                },
              }
            : {}),
          original,
          dr,
        };
      });
    },

    /** Backs up each secret of this Region (the existing backup activity: AWSCURRENT + AWSPREVIOUS, reused when already taken). */
    async backupBatch(input: {
      planName: string;
      items: Array<{ name: string; reason: string }>;
      workflowId: string;
      writeQuotaShare: number;
    }): Promise<Array<ItemFailure & { backup?: string }>> {
      const backups = createBackupActivities(clients);
      return each(input.items, 8, async ({ name, reason }) => {
        try {
          const b = await backups.backupSecret({
            planName: input.planName,
            secret: name,
            backup: backupName(input.planName, name, new Date()),
            reason,
            workflowId: input.workflowId,
            writeQuotaShare: input.writeQuotaShare,
          });
          return { name, ok: true, backup: b.backup, ...(b.reused ? { skipped: true } : {}) };
        } catch (err) {
          if (isBatchFailure(err)) throw err;
          return { name, ok: false, reason: `backup failed: ${(err as Error).message ?? String(err)}` };
        }
      });
    },

    /**
     * Copies the DR Region's AWSCURRENT value into this (the original) Region as the new AWSCURRENT.
     * Describe first: a secret whose AWSCURRENT already is this step's version is done.
     */
    async copyBackBatch(input: {
      dr: string;
      names: string[];
      workflowId: string;
      writeQuotaShare: number;
      /** Re-replication follows at once (fused failback chunk): the fence statement is not put back only to be lifted again. */
      keepOpen?: boolean;
    }): Promise<Array<ItemFailure & { versionId?: string }>> {
      const drSm = other(input.dr).secretsManager;
      const gov = writeGovernor(region, input.writeQuotaShare);
      return each(input.names, 16, async (name) => {
        const token = requestToken(input.workflowId, 'copy-back', region, name);
        try {
          const d = await describeIn(clients, name);
          if (!d?.ARN) return { name, ok: false, reason: `no such secret in ${region}` };
          if (currentVersion(d) === token) return { name, ok: true, skipped: true, versionId: token };
          const value = await drSm.getSecretValue({ SecretId: name, VersionStage: 'AWSCURRENT' });
          await throughFence(
            d,
            input.writeQuotaShare,
            () =>
              gov.write(() =>
                sm.putSecretValue({
                  SecretId: d.ARN,
                  ClientRequestToken: token,
                  ...(value.SecretString !== undefined ? { SecretString: value.SecretString } : { SecretBinary: value.SecretBinary }),
                }),
              ),
            { restore: !input.keepOpen },
          );
          const after = await describeIn(clients, name);
          if (!after || currentVersion(after) !== token)
            return { name, ok: false, reason: `${name} does not hold the copied value as AWSCURRENT after PutSecretValue` };
          return { name, ok: true, versionId: token };
        } catch (err) {
          if (isBatchFailure(err)) throw toFailure(err, `copying ${name} back from ${input.dr}`, region);
          if ((err as { type?: string }).type) throw err; // already an ApplicationFailure
          return { name, ok: false, reason: `copy-back failed: ${errorReason(err)}` };
        }
      });
    },

    /**
     * Re-replication, run in the source Region (the original; the DR Region with --reverse):
     * ReplicateSecretToRegions with ForceOverwriteReplicaSecret into `target`, with the item's KMS
     * key. Describe first: an entry already requested is not requested again. Right before the
     * destructive call the secret it overwrites is fenced (failback's statement; normally since
     * reconciliation) and compared once more: a labelled value missing from the source and from
     * `backup` is backed up now (invariant 2), so nothing written there is lost.
     */
    async reReplicateBatch(input: {
      planName: string;
      target: string;
      /** `sourceOpen`: the copy-back of this run left the source's fence statement lifted. */
      items: Array<{ name: string; backup?: string; kmsKeyId?: string; sourceOpen?: boolean }>;
      workflowId: string;
      writeQuotaShare: number;
    }): Promise<Array<ItemFailure & { backup?: string }>> {
      const targetClients = other(input.target);
      const gov = writeGovernor(region, input.writeQuotaShare);
      return each(input.items, 16, async ({ name, backup, kmsKeyId, sourceOpen }): Promise<ItemFailure & { backup?: string }> => {
        try {
          const d = await describeIn(clients, name);
          if (!d?.ARN) return { name, ok: false, reason: `no such secret in ${region}` };
          if (d.PrimaryRegion && d.PrimaryRegion !== region) return { name, ok: false, reason: `in ${region} it is a replica of ${d.PrimaryRegion}` };
          const entry = d.ReplicationStatus?.find((r) => r.Region === input.target);
          if (entry && entry.Status !== 'Failed') return { name, ok: true, skipped: true };
          const t = await describeIn(targetClients, name);
          const ours = t?.PrimaryRegion === region;
          let taken: string | undefined;
          if (t?.ARN && !ours) {
            // The overwritten side stops changing first (a fence lost since reconciliation is put back: its
            // tag goes with the statement, so a secret still tagged keeps the statement reconciliation put).
            if (!(t.Tags ?? []).some((x) => x.Key === FAILBACK_FENCE_TAG))
              await createFailbackActivities(targetClients)
                .fenceTargetBatch({ names: [name], writeQuotaShare: input.writeQuotaShare })
                .then(([r]) => {
                  if (!r?.ok) throw new Error(r?.reason ?? 'fence failed');
                });
            // ...then invariant 2, checked at the destructive call itself: what would be lost must exist elsewhere.
            const [src, dst] = await Promise.all([side(clients, input.planName, name, input.target), side(targetClients, input.planName, name, region)]);
            const missing = dst.hmacs.filter((h) => !src.hmacs.includes(h));
            if (missing.length > 0) {
              const b = backup ? await describeIn(targetClients, backup) : undefined;
              const covers = b !== undefined && backupCovers(b.Tags, t.VersionIdsToStages);
              if (!covers) {
                // Written after reconciliation (before the fence): saved now, under a new backup.
                const made = await createBackupActivities(targetClients).backupSecret({
                  planName: input.planName,
                  secret: name,
                  backup: backupName(input.planName, name, new Date()),
                  reason: `failback: changed in ${input.target} after reconciliation; overwritten by re-replication from ${region}`,
                  workflowId: input.workflowId,
                  writeQuotaShare: input.writeQuotaShare,
                });
                taken = made.backup;
              }
            }
          }
          await throughFence(
            d,
            input.writeQuotaShare,
            () =>
              gov.write(() =>
                sm.replicateSecretToRegions({
                  SecretId: d.ARN,
                  AddReplicaRegions: [{ Region: input.target, ...(kmsKeyId ? { KmsKeyId: kmsKeyId } : {}) }],
                  ForceOverwriteReplicaSecret: t !== undefined && !ours,
                }),
              ),
            { open: sourceOpen === true },
          );
          // The source is the primary again: its fence has done its job (the unfencing step checks).
          if (isFenced(d))
            await writeGovernor(`${region}/tagging`, input.writeQuotaShare).write(() => sm.untagResource({ SecretId: d.ARN, TagKeys: [FENCE_TAG] }));
          return { name, ok: true, ...(taken ? { backup: taken } : {}) };
        } catch (err) {
          if (isBatchFailure(err)) throw toFailure(err, `re-replicating ${name} to ${input.target}`, region);
          if ((err as { type?: string }).type) throw err;
          return { name, ok: false, reason: `re-replication failed: ${errorReason(err)}` };
        }
      });
    },

    /** Removes the fence (statement and tag) from secrets of this Region. Describe first: unfenced ones are skipped. */
    async unfenceBatch(input: {
      names: string[];
      writeQuotaShare: number;
      /**
       * Only the secrets this call changed (unfenced here) or could not unfence come back, not those found
       * unfenced already (re-replication opens most): the parent's history carries no line per secret.
       */
      onlyChanged?: boolean;
    }): Promise<ItemFailure[]> {
      const tagGov = writeGovernor(`${region}/tagging`, input.writeQuotaShare);
      const out = await each(input.names, 16, async (name): Promise<ItemFailure> => {
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
          return { name, ok: false, reason: `unfence failed: ${errorReason(err)}` };
        }
      });
      return input.onlyChanged ? out.filter((u) => !u.ok || !u.skipped) : out;
    },
  };
}

export type FailbackActivities = ReturnType<typeof createFailbackActivities>;
