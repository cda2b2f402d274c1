/**
 * Drill activities: canary secrets `secrets-dr-drill/<plan>/<n>`, never production secrets.
 * - `sweepDrillCanaries` (any Region): lists the plan's canary prefix; a primary first loses its
 *   replicas (RemoveRegionsFromReplication: AWS refuses to delete a primary that still has some),
 *   then waits (bounded) until every replica of it is gone from the DR Regions — on AWS a removed
 *   replica disappears tens of seconds after the call answered, and deleting its primary first may
 *   strand it — and only then is deleted with ForceDeleteWithoutRecovery. A primary whose replica
 *   is still there when the wait ends is kept and reported (`lingering`): the next drill's sweep
 *   waits for it again and removes it. Standalone copies are deleted; replicas are left to their
 *   primary's sweep, except a stranded one (its primary is gone: deleted before the replica
 *   disappeared), which is promoted and deleted here. Used for leftovers of a crashed drill and
 *   for the clean-up.
 * - `createDrillCanaries` (primary): a random value generated here, never returned.
 * - `writeCanaryAndMeasureLag` (primary, with the DR Regions' clients): one PutSecretValue per
 *   canary (the version quota: one canary write per secret per 10 minutes; canaries are fresh each
 *   drill) and the time until each replica shows that version, polled every 50 ms in this one
 *   activity, so the figure does not include Temporal's scheduling.
 * - `promoteDrillCanaries` (DR Region): StopReplicationToReplica, then the time until each canary
 *   is standalone and readable (RTO).
 */
import { randomBytes } from 'node:crypto';
import { heartbeat } from '@temporalio/activity';
import { pause as sleep } from './cancellation.js';
import type { DescribeSecretResponse } from '@aws-sdk/client-secrets-manager';
import {
  DRILL_ID_TAG,
  DRILL_ROLE,
  DRILL_ROLE_TAG,
  drillCanaryPrefix,
  type CanaryWriteResult,
  type PathRto,
  type PromoteResult,
  type ReadPathRtos,
  type SweepResult,
} from '../domain/drill.js';
import { accountDrillCanaryPrefix } from '../domain/account-drill.js';
import type { RegionClients } from './clients.js';
import { describeAwsError, isNotFound, toFailure } from './aws-errors.js';
import { forEachListedSecret } from './list-secrets.js';
import { requestToken } from './lineage.activities.js';
import { writeGovernor } from './write-governor.js';
import { readThroughPaths } from './read-paths.activities.js';
import type { WriteQuotaShareMode } from '../domain/plan.js';

const POLL_MS = 50;
/** How often the sweep looks again for a replica on its way out (AWS: tens of seconds). */
const REPLICA_GONE_POLL_MS = 500;
const DEFAULT_REPLICA_REMOVAL_TIMEOUT_MS = 120_000;
const arnInRegion = (arn: string, region: string) => arn.replace(/^(arn:[^:]+:secretsmanager:)[^:]+:/, `$1${region}:`);
const canaryValue = () => JSON.stringify({ canary: randomBytes(24).toString('base64url') });

export function createDrillActivities(clients: RegionClients, peers?: (region: string) => RegionClients) {
  const { region, secretsManager } = clients;
  const describe = async (sm: RegionClients['secretsManager'], secretId: string, where: string): Promise<DescribeSecretResponse | undefined> => {
    try {
      return await sm.describeSecret({ SecretId: secretId });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw toFailure(err, `DescribeSecret ${secretId}`, where);
    }
  };

  const listCanaries = async (planName: string) => {
    const out: Array<{ name: string; arn: string; primaryRegion?: string }> = [];
    const request = { Filters: [{ Key: 'name' as const, Values: [drillCanaryPrefix(planName)] }] };
    await forEachListedSecret(secretsManager, region, { request, what: 'ListSecrets (drill canaries)' }, (s) => {
      // The name filter is a prefix match; keep exactly this plan's canaries (an account drill's are its own: account-drill.activities.ts).
      if (!s.Name?.startsWith(drillCanaryPrefix(planName)) || s.Name.startsWith(accountDrillCanaryPrefix(planName)) || !s.ARN) return;
      out.push({ name: s.Name, arn: s.ARN, ...(s.PrimaryRegion ? { primaryRegion: s.PrimaryRegion } : {}) });
    });
    return out;
  };

  /** A replica of `arn` (this Region's primary) still present in `target`? Unknown (a failing read) counts as present. */
  const replicaPresent = async (name: string, arn: string, target: string): Promise<boolean> => {
    if (!peers) throw new Error("sweepDrillCanaries needs the DR Regions' clients (worker composition bug)");
    try {
      const d = await peers(target).secretsManager.describeSecret({ SecretId: name });
      return d.PrimaryRegion === region && d.ARN === arnInRegion(arn, target);
    } catch (err) {
      return !isNotFound(err);
    }
  };

  /** A replica whose primary no longer exists (its Region answers "not found", or holds another secret of that name). */
  const isStranded = async (name: string, arn: string, primaryRegion: string): Promise<boolean> => {
    if (!peers) return false;
    try {
      const p = await peers(primaryRegion).secretsManager.describeSecret({ SecretId: name });
      return p.ARN !== arnInRegion(arn, primaryRegion);
    } catch (err) {
      return isNotFound(err); // an unreachable primary Region proves nothing: leave the replica
    }
  };

  const removeStranded = async (name: string, arn: string, gov: ReturnType<typeof writeGovernor>) => {
    try {
      await gov.write(() => secretsManager.stopReplicationToReplica({ SecretId: arn }));
      await gov.write(() => secretsManager.deleteSecret({ SecretId: arn, ForceDeleteWithoutRecovery: true }));
    } catch (err) {
      if (!isNotFound(err)) throw toFailure(err, `removing the stranded replica ${name}`, region);
    }
  };

  /** Polls (bounded) until no replica of the primaries is left; returns the ones still there at the deadline. */
  const awaitReplicasGone = async (primaries: Array<{ name: string; arn: string; replicaRegions: string[] }>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    let waiting = primaries.flatMap((p) => p.replicaRegions.map((r) => ({ name: p.name, arn: p.arn, region: r })));
    for (;;) {
      const present = await Promise.all(waiting.map((w) => replicaPresent(w.name, w.arn, w.region)));
      waiting = waiting.filter((_, i) => present[i]);
      if (waiting.length === 0 || Date.now() >= deadline) return waiting;
      heartbeat({ replicasBeingRemoved: waiting.length });
      await sleep(REPLICA_GONE_POLL_MS);
    }
  };

  /**
   * The RTO an application sees, per read path: each canary gets a new version written here (a
   * writer in the DR Region), then each path is polled until it answers with that version. Times
   * run from the promote decision. A retry finds its version by the token and does not write again.
   */
  const measureReadPathRtos = async (m: {
    names: string[];
    decidedAt: number;
    drillId: string;
    writeQuotaShare: number;
    writeQuotaShareMode?: WriteQuotaShareMode;
    deadline: number;
  }): Promise<ReadPathRtos> => {
    const gov = writeGovernor(region, m.writeQuotaShare, m.writeQuotaShareMode);
    const written = new Map<string, string>();
    for (const name of m.names) {
      const token = requestToken(m.drillId, 'rto-write', name);
      try {
        const out = await gov.write(() => secretsManager.putSecretValue({ SecretId: name, SecretString: canaryValue(), ClientRequestToken: token }));
        written.set(name, out.VersionId ?? token);
      } catch (err) {
        if (describeAwsError(err).name !== 'ResourceExistsException') throw toFailure(err, `PutSecretValue ${name} (the writer in ${region})`, region);
        written.set(name, token); // written by an earlier attempt of this activity
      }
    }
    const paths = ['GetSecretValue', 'ParameterStore'] as const;
    const seenAt: Record<(typeof paths)[number], Map<string, number>> = { GetSecretValue: new Map(), ParameterStore: new Map() };
    const lastError: Partial<Record<(typeof paths)[number], string>> = {};
    // A path that answers with an error other than throttling (denied, not configured, unreachable) is
    // given up at once: the secret itself is readable and writable here, so waiting would not change it.
    const gaveUp = new Set<(typeof paths)[number]>();
    const settled = (p: (typeof paths)[number]) => gaveUp.has(p) || seenAt[p].size === m.names.length;
    const done = () => paths.every(settled);
    while (!done() && Date.now() < m.deadline) {
      for (const name of m.names) {
        if (paths.every((p) => seenAt[p].has(name) || gaveUp.has(p))) continue;
        const reads = await readThroughPaths(clients, name);
        const now = Date.now();
        for (const p of paths) {
          if (seenAt[p].has(name) || gaveUp.has(p)) continue;
          if (reads[p].ok && reads[p].versionId === written.get(name)) seenAt[p].set(name, now);
          else if (reads[p].error) {
            lastError[p] = reads[p].error;
            if (!/Throttl|Rate exceeded/i.test(reads[p].error!)) gaveUp.add(p);
          }
        }
      }
      if (!done()) await sleep(POLL_MS);
      heartbeat({ readPaths: paths.map((p) => seenAt[p].size) });
    }
    const rto = (p: (typeof paths)[number]): PathRto => {
      const current = seenAt[p].size === m.names.length;
      return current
        ? { rtoMs: Math.max(...seenAt[p].values()) - m.decidedAt, current }
        : { current, error: lastError[p] ?? `not at the written version within the timeout` };
    };
    return { GetSecretValue: rto('GetSecretValue'), ParameterStore: rto('ParameterStore') };
  };

  return {
    /**
     * Removes every canary of the plan that lives in this Region (see the module comment for the order).
     * `drRegions`: where replicas of this Region's canaries may live (also ones removed earlier, still on their way out).
     */
    async sweepDrillCanaries(input: {
      planName: string;
      writeQuotaShare: number;
      writeQuotaShareMode?: WriteQuotaShareMode;
      drRegions?: string[];
      replicaRemovalTimeoutMs?: number;
    }): Promise<SweepResult> {
      const gov = writeGovernor(region, input.writeQuotaShare, input.writeQuotaShareMode);
      const found = await listCanaries(input.planName);
      const deleted: string[] = [];
      let replicasRemoved = 0;
      const primaries: Array<{ name: string; arn: string; replicaRegions: string[] }> = [];
      for (const s of found) {
        heartbeat({ done: deleted.length });
        if (s.primaryRegion && s.primaryRegion !== region) {
          // A replica: removed with its primary (swept in its Region), unless that primary is gone.
          if (await isStranded(s.name, s.arn, s.primaryRegion)) {
            await removeStranded(s.name, s.arn, gov);
            deleted.push(s.name);
          }
          continue;
        }
        const d = await describe(secretsManager, s.arn, region);
        if (!d) continue;
        const replicas = (d.ReplicationStatus ?? []).map((r) => r.Region).filter((r): r is string => Boolean(r));
        if (replicas.length > 0) {
          try {
            await gov.write(() => secretsManager.removeRegionsFromReplication({ SecretId: s.arn, RemoveReplicaRegions: replicas }));
            replicasRemoved += replicas.length;
          } catch (err) {
            if (!isNotFound(err)) throw toFailure(err, `RemoveRegionsFromReplication ${s.name}`, region);
          }
        }
        const replicaRegions = [...new Set([...replicas, ...(input.drRegions ?? [])])].filter((r) => r !== region);
        primaries.push({ name: s.name, arn: d.ARN ?? s.arn, replicaRegions });
      }
      const lingering = await awaitReplicasGone(primaries, input.replicaRemovalTimeoutMs ?? DEFAULT_REPLICA_REMOVAL_TIMEOUT_MS);
      for (const p of primaries) {
        if (lingering.some((l) => l.name === p.name)) continue; // kept: deleting it now could strand its replica
        try {
          await gov.write(() => secretsManager.deleteSecret({ SecretId: p.arn, ForceDeleteWithoutRecovery: true }));
          deleted.push(p.name);
        } catch (err) {
          if (!isNotFound(err)) throw toFailure(err, `DeleteSecret ${p.name}`, region);
        }
      }
      // Describe, don't assume: what is still here (replicas whose primary Region has not been swept yet count too).
      const remaining = (await listCanaries(input.planName)).map((s) => s.name);
      return { region, found: found.map((s) => s.name), deleted, replicasRemoved, remaining, lingering: lingering.map((l) => `${l.region}:${l.name}`) };
    },

    /** Creates the canaries in this (the primary) Region. Idempotent per drill: the token is derived from the drill id. */
    async createDrillCanaries(input: {
      planName: string;
      drillId: string;
      names: string[];
      writeQuotaShare: number;
      writeQuotaShareMode?: WriteQuotaShareMode;
    }): Promise<{ created: string[]; existing: string[] }> {
      const gov = writeGovernor(region, input.writeQuotaShare, input.writeQuotaShareMode);
      const created: string[] = [];
      const existing: string[] = [];
      for (const name of input.names) {
        const d = await describe(secretsManager, name, region);
        if (d && !d.DeletedDate) {
          const ours = d.Tags?.some((t) => t.Key === DRILL_ID_TAG && t.Value === input.drillId);
          if (!ours)
            throw toFailure(
              Object.assign(new Error(`${name} exists and is not a canary of this drill (leftovers were not removed)`), { name: 'ResourceExistsException' }),
              'CreateSecret',
              region,
            );
          existing.push(name);
          continue;
        }
        try {
          await gov.write(() =>
            secretsManager.createSecret({
              Name: name,
              Description: 'secrets-dr drill canary (deleted when the drill ends)',
              SecretString: canaryValue(),
              ClientRequestToken: requestToken(input.drillId, 'create', name),
              Tags: [
                { Key: 'secrets-dr:plan', Value: input.planName },
                { Key: DRILL_ROLE_TAG, Value: DRILL_ROLE },
                { Key: DRILL_ID_TAG, Value: input.drillId },
              ],
            }),
          );
          created.push(name);
        } catch (err) {
          throw toFailure(err, `CreateSecret ${name}`, region);
        }
        heartbeat({ created: created.length });
      }
      return { created, existing };
    },

    /**
     * One canary version per canary (PutSecretValue with a token derived from the drill id), then
     * the time from the write being acknowledged until every DR Region's replica shows it as AWSCURRENT.
     * A canary that already holds its drill version (a retry) is not written again (version quota).
     */
    async writeCanaryAndMeasureLag(input: {
      drillId: string;
      names: string[];
      drRegions: string[];
      writeQuotaShare: number;
      writeQuotaShareMode?: WriteQuotaShareMode;
      timeoutMs?: number;
    }): Promise<CanaryWriteResult> {
      if (!peers) throw new Error("writeCanaryAndMeasureLag needs the DR Regions' clients (worker composition bug)");
      const gov = writeGovernor(region, input.writeQuotaShare, input.writeQuotaShareMode);
      const versions: CanaryWriteResult['versions'] = [];
      for (const name of input.names) {
        const token = requestToken(input.drillId, 'canary', name);
        const d = await describe(secretsManager, name, region);
        if (!d) throw toFailure(Object.assign(new Error(`canary ${name} not found`), { name: 'ResourceNotFoundException' }), 'PutSecretValue', region);
        const stages = d.VersionIdsToStages ?? {};
        if (stages[token]) {
          versions.push({ name, versionId: token, alreadyWritten: true });
          continue;
        }
        // A canary is written once per drill: a second version (AWSPREVIOUS) means someone wrote it already.
        if (Object.values(stages).some((s) => s?.includes('AWSPREVIOUS'))) {
          throw toFailure(
            Object.assign(new Error(`canary ${name} already has a second version: refusing another write (version quota: one canary write per 10 minutes)`), {
              name: 'InvalidRequestException',
            }),
            'PutSecretValue',
            region,
          );
        }
        try {
          const out = await gov.write(() => secretsManager.putSecretValue({ SecretId: name, SecretString: canaryValue(), ClientRequestToken: token }));
          versions.push({ name, versionId: out.VersionId ?? token, alreadyWritten: false });
        } catch (err) {
          throw toFailure(err, `PutSecretValue ${name}`, region);
        }
      }
      const writtenAt = Date.now();
      const deadline = writtenAt + (input.timeoutMs ?? 120_000);
      const lag = await Promise.all(
        input.drRegions.map(async (target) => {
          const sm = peers(target).secretsManager;
          const waiting = new Set(versions.map((v) => v.name));
          let lastSeen = writtenAt;
          while (waiting.size > 0 && Date.now() < deadline) {
            for (const v of versions) {
              if (!waiting.has(v.name)) continue;
              const r = await describe(sm, v.name, target).catch(() => undefined); // a slow or failing read: poll again
              if (r?.VersionIdsToStages?.[v.versionId]?.includes('AWSCURRENT')) {
                waiting.delete(v.name);
                lastSeen = Date.now();
              }
            }
            if (waiting.size > 0) await sleep(POLL_MS);
            heartbeat({ region: target, waiting: waiting.size });
          }
          return { region: target, ms: (waiting.size > 0 ? Date.now() : lastSeen) - writtenAt, timedOut: waiting.size > 0 };
        }),
      );
      return { lag, versions, writtenAt: new Date(writtenAt).toISOString() };
    },

    /**
     * Promotes the canaries in this (a DR) Region and measures the time from the first
     * StopReplicationToReplica until every canary is standalone and readable. Describe first: a
     * canary already standalone (a retry) is not stopped again.
     */
    async promoteDrillCanaries(input: {
      names: string[];
      writeQuotaShare: number;
      writeQuotaShareMode?: WriteQuotaShareMode;
      timeoutMs?: number;
      decidedAt?: string;
      drillId?: string;
    }): Promise<PromoteResult> {
      const gov = writeGovernor(region, input.writeQuotaShare, input.writeQuotaShareMode);
      const started = Date.now();
      let alreadyStandalone = 0;
      await Promise.all(
        input.names.map(async (name) => {
          const d = await describe(secretsManager, name, region);
          if (!d)
            throw toFailure(
              Object.assign(new Error(`canary ${name} has no copy in ${region}`), { name: 'ResourceNotFoundException' }),
              'StopReplicationToReplica',
              region,
            );
          if (!d.PrimaryRegion || d.PrimaryRegion === region) {
            alreadyStandalone++;
            return;
          }
          try {
            await gov.write(() => secretsManager.stopReplicationToReplica({ SecretId: name }));
          } catch (err) {
            throw toFailure(err, `StopReplicationToReplica ${name}`, region);
          }
        }),
      );
      const stoppedAt = Date.now();
      const deadline = started + (input.timeoutMs ?? 120_000);
      const waiting = new Set(input.names);
      while (waiting.size > 0) {
        for (const name of [...waiting]) {
          const d = await describe(secretsManager, name, region).catch(() => undefined);
          if (!d || (d.PrimaryRegion && d.PrimaryRegion !== region)) continue;
          try {
            const v = await secretsManager.getSecretValue({ SecretId: name });
            if (v.SecretString !== undefined || v.SecretBinary !== undefined) waiting.delete(name);
          } catch (err) {
            if (describeAwsError(err).status === undefined) throw toFailure(err, `GetSecretValue ${name}`, region);
          }
        }
        if (waiting.size === 0) break;
        if (Date.now() > deadline)
          throw toFailure(
            Object.assign(new Error(`${[...waiting].join(', ')} not standalone and readable after ${input.timeoutMs ?? 120_000} ms`), { name: 'TimeoutError' }),
            'promotion',
            region,
          );
        await sleep(POLL_MS);
        heartbeat({ waiting: waiting.size });
      }
      const readableAt = Date.now();
      const result: PromoteResult = {
        region,
        rtoMs: readableAt - started,
        stoppedAt: new Date(stoppedAt).toISOString(),
        readableAt: new Date(readableAt).toISOString(),
        alreadyStandalone,
      };
      if (input.decidedAt !== undefined && input.drillId !== undefined) {
        result.readPaths = await measureReadPathRtos({
          names: input.names,
          decidedAt: Date.parse(input.decidedAt),
          drillId: input.drillId,
          writeQuotaShare: input.writeQuotaShare,
          deadline,
        });
      }
      return result;
    },
  };
}

export type DrillActivities = ReturnType<typeof createDrillActivities>;
