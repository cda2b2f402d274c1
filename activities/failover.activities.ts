/**
 * Failover activities, each one bounded batch of one kind of effect in one Region:
 * - `inspectFleet`: the plan's secrets as one Region lists them (ListSecrets pages, compact);
 * - `promoteBatch` (DR Region): describe → StopReplicationToReplica (through the write governor)
 *   → read back (standalone, readable via lineage HMACs, writable via a tag: no new version) →
 *   one lineage record per batch. Heartbeat details carry the finished secrets, so a retry after
 *   a worker crash resumes inside the batch; describe-first makes a second Stop impossible.
 *   Every AWS call heartbeats when it settles (a secret costs ~5 calls of up to the AWS timeout
 *   each: one heartbeat per secret let slow attempts time out and run on beside their retry).
 *   Who promoted a secret is recorded on it (PROMOTED_BY_TAG = the failover id), never inferred
 *   from "already standalone when a retry looked";
 * - `fenceBatch` (old primary): deny-write statement merged into the resource policy, then the
 *   `secrets-dr:fenced` tag (the tag marks a complete fence);
 * - `rehomeRotationBatch` (DR Region): the Region's rotation Lambda, RotateImmediately=false.
 * Values are read only inside `promoteBatch` (to hash them) and never returned.
 */
import { ApplicationFailure, Context, activityInfo, heartbeat } from '@temporalio/activity';
import type { DescribeSecretResponse } from '@aws-sdk/client-secrets-manager';
import type { Plan, WriteQuotaShareMode } from '../domain/plan.js';
import { groupIndexOf, isCoveredByPlan, nameFilterOf } from '../domain/selection.js';
import { arnSuffix, FENCE_TAG } from '../domain/status.js';
import { hmacKeySecretName, type VersionLineage } from '../domain/lineage.js';
import { hasDenyStatement, hasStatement, policyWithDeny, policyWithout } from '../domain/failback.js';
import { runsInOrder, spansTwoClasses } from '../domain/two-way-listing.js';
import {
  FENCE_SID,
  FENCED_ACTIONS,
  PROMOTED_BY_TAG,
  lineageRecordName,
  rotationInFlightOf,
  type FleetEntry,
  type RecordedRotation,
  type LineageRecord,
  type SecretOutcome,
} from '../domain/failover.js';
import { ErrorType } from '../domain/errors.js';
import type { RegionSecretsManager } from './clients.js';
import { describeAwsError, errorReason, isBatchFailure, isNotFound, isTransient, toFailure } from './aws-errors.js';
import { throwIfCancelled } from './cancellation.js';
import { hmacOf, writeRecordSecret } from './lineage.activities.js';
import { writeGovernor } from './write-governor.js';
import { forEachListedSecret } from './list-secrets.js';
import { rotationRulesOf } from './inventory.activities.js';
import { rulesToRehome, type RotationRules } from '../domain/rotation-schedule.js';
import { pool } from './pool.js';

/** Tag on every secret a failover promoted: which failover (also the "writable" probe: no version is created). */
const FAILOVER_TAG = 'secrets-dr:failover';

const CONCURRENCY = 16;
/**
 * Secrets of one promotion batch in flight. Each costs about five calls in a row (describe, stop, describe,
 * read the value, tag), only one of them a governed write, so to keep the governor's rate busy a Region needs
 * rate × 5 × latency in flight: 30/s × 5 × 0.3 s = 45 at 300 ms (bench/latency.bench.ts). With two batches in
 * flight per chunk that is 100 per chunk; the governor, not this pool, still limits the writes.
 */
const PROMOTE_CONCURRENCY = 50;
const SECRET_STRING_LIMIT = 60_000;

/** Runs `fn` over `items` with at most `limit` in flight, none started after one failed; heartbeats are the caller's (its progress details). */
const lanes = <T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void[]> => pool(items, limit, fn, { beat: false });

const sameRules = (a: RotationRules | undefined, b: RotationRules | undefined) =>
  a?.ScheduleExpression === b?.ScheduleExpression && a?.AutomaticallyAfterDays === b?.AutomaticallyAfterDays && a?.Duration === b?.Duration;

/** Heartbeat details of the running activity (registered by the activities that resume from them). */
const progressOf = new WeakMap<Context, { details: () => unknown; last: number }>();
const BEAT_EVERY_MS = 1_000;

/** Heartbeats the current activity (if any) with its registered progress, at most once a second. */
function beatAfterCall(): void {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return; // not inside an activity (tests calling helpers directly)
  }
  const p = progressOf.get(ctx);
  if (p) {
    if (Date.now() - p.last < BEAT_EVERY_MS) return;
    p.last = Date.now();
  }
  ctx.heartbeat(p?.details());
}

/** The client with a heartbeat after every call: a slow Region keeps the activity alive call by call. */
function heartbeating<T extends object>(api: T): T {
  return new Proxy(api, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const r = (v as (...a: unknown[]) => unknown).apply(target, args);
        return r instanceof Promise ? r.finally(beatAfterCall) : r;
      };
    },
  });
}

const tagOf = (d: DescribeSecretResponse, key: string) => (d.Tags ?? []).find((t) => t.Key === key)?.Value;

/** The policy with our fence statement (replacing an older one): domain/failback.ts's deny-statement helper. */
export function fencePolicy(existing: string | undefined): string {
  return policyWithDeny(existing, FENCE_SID, FENCED_ACTIONS);
}

/** The policy without our fence statement; undefined when nothing else is left. */
export function withoutFence(existing: string): string | undefined {
  return policyWithout(existing, FENCE_SID);
}

export interface PromoteBatchInput {
  planName: string;
  from: string;
  to: string;
  failoverId: string;
  batch: string;
  names: string[];
  writeQuotaShare: number;
  /** `auto`: writeQuotaShare is the cap of an adaptive governor (plan `writeQuotaShare: auto`); absent = fixed. */
  writeQuotaShareMode?: WriteQuotaShareMode;
  /** The old primaries were fenced before promotion (planned mode): look for a replicated fence even without its tag. */
  fencedBeforePromotion?: boolean;
  /** Per secret that rotates: its schedule as preflight read it from the primary (recorded in the lineage). */
  rotation?: Record<string, RecordedRotation>;
}

interface FenceBatchInput {
  region: string;
  failoverId: string;
  to: string;
  names: string[];
  writeQuotaShare: number;
  writeQuotaShareMode?: WriteQuotaShareMode;
  /** Per name, the ARN suffix of the secret promoted in `to`: a same-named secret with another suffix is not fenced. */
  suffixes?: Record<string, string>;
}

export interface PromoteBatchResult {
  outcomes: SecretOutcome[];
  lineage: { record?: string; hmacs: boolean; detail?: string };
}

interface BatchProgress {
  outcomes: SecretOutcome[];
  lineage: LineageRecord['secrets'];
  hmacs: boolean;
}

/** The Secrets Manager operations of the failover activities (tests fake exactly these). */
export type FailoverClients = RegionSecretsManager<
  | 'listSecrets'
  | 'describeSecret'
  | 'getSecretValue'
  | 'stopReplicationToReplica'
  | 'getResourcePolicy'
  | 'putResourcePolicy'
  | 'deleteResourcePolicy'
  | 'tagResource'
  | 'untagResource'
  | 'rotateSecret'
  | 'createSecret'
>;

export function createFailoverActivities(clients: FailoverClients) {
  const { region } = clients;
  const sm = heartbeating(clients.secretsManager);

  const assertRegion = (wanted: string, what: string) => {
    // A bug, not weather: retrying lands on the same wrong queue (and a write there would go to the wrong Region).
    if (wanted !== region)
      throw ApplicationFailure.nonRetryable(`${what} for ${wanted} reached the worker of ${region} (task queue routing bug)`, ErrorType.RoutingBug);
  };

  async function describe(secretId: string): Promise<DescribeSecretResponse> {
    return sm.describeSecret({ SecretId: secretId });
  }

  /** Our fence, replicated from the old primary before promotion, must not lock the new primary. */
  async function dropReplicatedFence(
    d: DescribeSecretResponse,
    share: number,
    mode: WriteQuotaShareMode | undefined,
    fencedBeforePromotion = false,
  ): Promise<void> {
    // Policy and tags replicate asynchronously (and policy replication is disputed): after a planned
    // fence the deny statement may have arrived without the tag, so then the policy is checked anyway.
    const tagged = (d.Tags ?? []).some((t) => t.Key === FENCE_TAG);
    if (!tagged && !fencedBeforePromotion) return;
    const policyGov = writeGovernor(`${region}/policy`, share, mode);
    const tagGov = writeGovernor(`${region}/tagging`, share, mode);
    const p = await policyGov.write(() => sm.getResourcePolicy({ SecretId: d.ARN }));
    // By the parsed Sid, never a substring: a policy that names it only inside another statement stays as it is.
    if (p.ResourcePolicy && hasStatement(p.ResourcePolicy, FENCE_SID)) {
      const rest = withoutFence(p.ResourcePolicy);
      if (rest === undefined) await policyGov.write(() => sm.deleteResourcePolicy({ SecretId: d.ARN }));
      else await policyGov.write(() => sm.putResourcePolicy({ SecretId: d.ARN, ResourcePolicy: rest }));
    }
    if (tagged) await tagGov.write(() => sm.untagResource({ SecretId: d.ARN, TagKeys: [FENCE_TAG] }));
  }

  const keys = new Map<string, { key?: Buffer; problem?: string; at: number }>();
  /** The plan's HMAC key in this Region (replicated there by setup/preflight); undefined, with the reason, when it is not readable. */
  async function hmacKey(planName: string): Promise<{ key?: Buffer; problem?: string }> {
    const cached = keys.get(planName);
    if (cached && (cached.key || Date.now() - cached.at < 10_000)) return cached;
    let entry: { key?: Buffer; problem?: string; at: number };
    try {
      const out = await sm.getSecretValue({ SecretId: hmacKeySecretName(planName) });
      const key = Buffer.from(out.SecretString ?? '', 'base64');
      entry = key.length >= 32 ? { key, at: Date.now() } : { problem: 'the HMAC key secret does not hold a 32-byte key', at: Date.now() };
    } catch (err) {
      if (isTransient(err)) throw toFailure(err, 'reading the HMAC key', region);
      entry = { problem: `the HMAC key ${hmacKeySecretName(planName)} is not readable in ${region} (${describeAwsError(err).name})`, at: Date.now() };
    }
    keys.set(planName, entry);
    return entry;
  }

  /** Labelled versions of a (just promoted) secret, each value hashed here; readable = AWSCURRENT could be read. */
  async function lineageOf(
    planName: string,
    d: DescribeSecretResponse,
    state: { hmacs: boolean; keyProblem?: string },
  ): Promise<{ versions: VersionLineage[]; readable: boolean }> {
    const { key, problem } = await hmacKey(planName);
    if (!key) {
      state.hmacs = false;
      state.keyProblem = problem;
    }
    const versions: VersionLineage[] = [];
    let readable = false;
    for (const [versionId, stages] of Object.entries(d.VersionIdsToStages ?? {})) {
      if (!stages || stages.length === 0) continue;
      const v: VersionLineage = { versionId, stages: [...stages].sort() };
      const isCurrent = stages.includes('AWSCURRENT');
      if (key || isCurrent) {
        const value = await sm.getSecretValue({ SecretId: d.ARN, VersionId: versionId });
        const bytes = value.SecretString ?? value.SecretBinary;
        if (isCurrent && bytes !== undefined) readable = true;
        if (key && bytes !== undefined) v.hmac = hmacOf(key, bytes);
        if (value.CreatedDate) v.createdDate = new Date(value.CreatedDate).toISOString();
      }
      versions.push(v);
    }
    versions.sort((a, b) => a.versionId.localeCompare(b.versionId));
    return { versions, readable };
  }

  return {
    /** The plan's secrets in this Region, with plan group, ARN suffix, primary Region and AWSCURRENT version. */
    async inspectFleet(input: {
      plan: Plan;
      region: string;
      nextToken?: string;
      maxPages?: number;
      onlyReplicas?: boolean;
      /**
       * Only replicas of this Region (ListSecrets' `primary-region` filter, server side): verification after a
       * failover then reads the few secrets still replicas, not ⌈N/100⌉ pages of the whole Region.
       */
      replicasOf?: string;
      /**
       * Listed by name, ascending or descending (ListSecrets' SortBy/SortOrder): a failover lists a Region from
       * both ends at once (workflows/failover.run.ts). Echoed in the answer, so that the workflow can tell an
       * activity that sorted from one (an older worker) that did not.
       */
      order?: 'asc' | 'desc';
      /**
       * The names the other end listed last: this end stops after a page once the names it listed among them
       * span two collation classes (the ends met: domain/two-way-listing.ts).
       */
      stopAt?: string[];
      /** The last name this end's previous call listed: the order is checked across calls too. */
      after?: string;
    }): Promise<{ region: string; entries: FleetEntry[]; listCalls: number; nextToken?: string; order?: 'asc' | 'desc'; last?: string }> {
      assertRegion(input.region, 'inspectFleet');
      const entries: FleetEntry[] = [];
      const stopAt = new Set(input.stopAt ?? []);
      /** The names listed here that the other end listed last (only those can show that the ends met). */
      const listed: string[] = [];
      /** Every name listed, in order (the answer's order is checked on them). */
      const listedNames: string[] = input.after !== undefined ? [input.after] : [];
      // Server-side filters (AND'd): the plan's name prefixes, and for verification the old primary's replicas only.
      const names = nameFilterOf(input.plan);
      const filters = [
        ...(names ? [{ Key: 'name' as const, Values: names }] : []),
        ...(input.replicasOf ? [{ Key: 'primary-region' as const, Values: [input.replicasOf] }] : []),
      ];
      const paging = {
        request: {
          IncludePlannedDeletion: true,
          ...(filters.length > 0 ? { Filters: filters } : {}),
          ...(input.order ? { SortBy: 'name' as const, SortOrder: input.order } : {}),
        },
        heartbeat: true,
        from: input.nextToken,
        maxPages: input.maxPages,
        ...(input.stopAt?.length ? { done: () => spansTwoClasses(listed, stopAt) } : {}),
      };
      // Paged (maxPages) so that a fleet of 10,000 never travels as one payload.
      const { listCalls, nextToken } = await forEachListedSecret(sm, region, paging, (s) => {
        if (s.Name) listedNames.push(s.Name);
        if (!s.Name || !s.ARN) return;
        const identity = { name: s.Name, tags: s.Tags };
        if (!isCoveredByPlan(input.plan, identity)) return;
        const e: FleetEntry = { name: s.Name, group: groupIndexOf(input.plan, identity), suffix: arnSuffix(s.ARN) };
        if (s.PrimaryRegion && s.PrimaryRegion !== region) e.primaryRegion = s.PrimaryRegion;
        for (const [v, stages] of Object.entries(s.SecretVersionsToStages ?? {})) if (stages?.includes('AWSCURRENT')) e.current = v.slice(0, 12); // a fingerprint is enough for parity
        if (s.DeletedDate) e.deleted = true;
        if ((s.Tags ?? []).some((t) => t.Key === FENCE_TAG)) e.fenced = true;
        const by = (s.Tags ?? []).find((t) => t.Key === PROMOTED_BY_TAG)?.Value;
        if (by) e.promotedBy = by;
        if (s.RotationEnabled) {
          e.rotation = true;
          const rules = rotationRulesOf(s.RotationRules);
          if (rules) e.rotationRules = rules;
        }
        const inFlight = rotationInFlightOf(s.SecretVersionsToStages);
        if (inFlight) e.rotationInFlight = inFlight;
        if (input.onlyReplicas && e.primaryRegion === undefined) return;
        entries.push(e);
        if (stopAt.has(e.name)) listed.push(e.name);
      });
      // The order is echoed only when the names did come that way: an endpoint that ignored SortBy is not trusted.
      const sorted = input.order !== undefined && runsInOrder(listedNames, input.order);
      const last = listedNames.at(-1);
      return {
        region,
        entries,
        listCalls,
        ...(nextToken ? { nextToken } : {}),
        ...(sorted ? { order: input.order } : {}),
        ...(last !== undefined ? { last } : {}),
      };
    },

    /** Promotes a batch of replicas in this (the DR) Region. See the module comment for the steps. */
    async promoteBatch(input: PromoteBatchInput): Promise<PromoteBatchResult> {
      assertRegion(input.to, 'promoteBatch');
      const prior = (activityInfo().heartbeatDetails ?? undefined) as BatchProgress | undefined;
      const done = new Map<string, SecretOutcome>((prior?.outcomes ?? []).map((o) => [o.name, o]));
      const lineage = new Map((prior?.lineage ?? []).map((l) => [l.name, l]));
      const keyState: { hmacs: boolean; keyProblem?: string } = { hmacs: prior?.hmacs ?? true };
      const writes = writeGovernor(region, input.writeQuotaShare, input.writeQuotaShareMode);
      const tags = writeGovernor(`${region}/tagging`, input.writeQuotaShare, input.writeQuotaShareMode);
      const details = (): BatchProgress => ({ outcomes: [...done.values()], lineage: [...lineage.values()], hmacs: keyState.hmacs });
      progressOf.set(Context.current(), { details, last: 0 });
      const beat = () => heartbeat(details());

      const promoteOne = async (name: string): Promise<void> => {
        if (done.has(name)) return; // finished by an earlier attempt of this batch
        // Every name here was a replica at this run's preflight. Standalone now: promoted since, by this
        // failover (an attempt whose answer or tag was lost) unless another run's PROMOTED_BY_TAG says otherwise.
        let sent = false;
        let d: DescribeSecretResponse | undefined;
        // No retry loop here: throttling is the write governor's (it gives up with a delayed WriteThrottled), a call
        // that got no answer is the SDK's and then Temporal's (this batch resumes from its heartbeat).
        try {
          d = await describe(name); // describe first: a secret already standalone is never stopped again
          if (d.DeletedDate) {
            done.set(name, { name, status: 'failed', reason: `scheduled for deletion in ${region}` });
            return;
          }
          if (!d.PrimaryRegion || d.PrimaryRegion === region) {
            const by = tagOf(d, PROMOTED_BY_TAG);
            sent = by === undefined || by === input.failoverId;
          } else {
            const arn = d.ARN ?? name;
            await writes.write(() => sm.stopReplicationToReplica({ SecretId: arn }));
            sent = true;
            d = await describe(arn); // read back: standalone now?
          }
        } catch (err) {
          if (isNotFound(err)) {
            done.set(name, { name, status: 'failed', reason: `no such secret in ${region}` });
            return;
          }
          // The Region keeps failing or the quota is taken: Temporal retries the batch (finished secrets are in the heartbeat).
          if (isBatchFailure(err)) throw toFailure(err, `StopReplicationToReplica ${name}`, region);
          // An earlier call whose answer was lost (a timeout the SDK retried by itself) may have promoted it, so the
          // retry is refused as "not a replica": describe, don't assume.
          const now = d?.PrimaryRegion && d.PrimaryRegion !== region ? await describe(d.ARN ?? name).catch(() => undefined) : undefined;
          throwIfCancelled(); // an aborted describe is no answer: the secret is not failed, the retry decides it
          if (!now || now.DeletedDate || (now.PrimaryRegion && now.PrimaryRegion !== region)) {
            done.set(name, { name, status: 'failed', reason: errorReason(err) });
            return;
          }
          d = now;
          sent = true;
        }
        const standalone = !d.PrimaryRegion || d.PrimaryRegion === region;
        const by = sent ? input.failoverId : tagOf(d, PROMOTED_BY_TAG);
        const inFlight = rotationInFlightOf(d.VersionIdsToStages);
        const recordedRotation = input.rotation?.[name];
        const outcome: SecretOutcome = {
          name,
          status: sent ? 'promoted' : 'already-standalone',
          standalone,
          rotation: Boolean(d.RotationEnabled) || recordedRotation !== undefined,
          ...(recordedRotation ? { rotationRules: recordedRotation } : {}),
          ...(by ? { by } : {}),
          ...(d.ARN ? { arn: d.ARN, suffix: arnSuffix(d.ARN) } : {}),
          ...(inFlight ? { rotationInFlight: inFlight } : {}),
        };
        if (!standalone) {
          done.set(name, { ...outcome, status: 'failed', reason: `still a replica of ${d.PrimaryRegion} after StopReplicationToReplica` });
          return;
        }
        try {
          await dropReplicatedFence(d, input.writeQuotaShare, input.writeQuotaShareMode, input.fencedBeforePromotion);
          const l = await lineageOf(input.planName, d, keyState);
          outcome.readable = l.readable;
          if (!l.readable) outcome.reason = 'AWSCURRENT not readable after promotion';
          lineage.set(name, {
            name,
            arn: d.ARN ?? name,
            promotedAt: new Date().toISOString(),
            ...(recordedRotation ? { rotation: recordedRotation } : {}),
            versions: l.versions,
          });
        } catch (err) {
          // No answer, the quota taken, or this process's lease lapsed (WriteLeaseLost): the batch's failure, retried (on the holder).
          if (isBatchFailure(err)) throw toFailure(err, `reading back ${name}`, region);
          outcome.readable = false;
          outcome.reason = `not readable after promotion: ${errorReason(err)}`;
        }
        try {
          // The writable probe, and (once, never overwritten) the record of who promoted it.
          const record = sent && tagOf(d, PROMOTED_BY_TAG) === undefined ? [{ Key: PROMOTED_BY_TAG, Value: input.failoverId }] : [];
          await tags.write(() => sm.tagResource({ SecretId: d!.ARN, Tags: [{ Key: FAILOVER_TAG, Value: input.failoverId }, ...record] }));
          outcome.writable = true;
        } catch (err) {
          if (isBatchFailure(err)) throw toFailure(err, `TagResource ${name}`, region);
          outcome.writable = false;
          outcome.reason = `${outcome.reason ? `${outcome.reason}; ` : ''}not writable after promotion: ${errorReason(err)}`;
        }
        done.set(name, outcome);
      };

      await lanes(input.names, PROMOTE_CONCURRENCY, async (name) => {
        await promoteOne(name);
        beat();
      });

      // One lineage record per batch (HMACs, never values), found by failback under lineageRecordPrefix.
      const result: PromoteBatchResult = { outcomes: input.names.map((n) => done.get(n)!), lineage: { hmacs: keyState.hmacs } };
      if (!keyState.hmacs) result.lineage.detail = `lineage recorded without HMACs: ${keyState.keyProblem ?? 'the HMAC key is not readable in ' + region}`;
      if (lineage.size > 0) result.lineage.record = await writeLineageRecord(input, [...lineage.values()], keyState.hmacs);
      return result;
    },

    /** Fences a batch of secrets in this (the old primary) Region: deny-write policy statement, then the fenced tag. */
    async fenceBatch(input: FenceBatchInput): Promise<{ fenced: number; alreadyFenced: number; failed: Array<{ name: string; reason: string }> }> {
      assertRegion(input.region, 'fenceBatch');
      const policyGov = writeGovernor(`${region}/policy`, input.writeQuotaShare, input.writeQuotaShareMode);
      const tagGov = writeGovernor(`${region}/tagging`, input.writeQuotaShare, input.writeQuotaShareMode);
      const prior = (activityInfo().heartbeatDetails ?? undefined) as { finished?: string[] } | undefined;
      const finished = new Set(prior?.finished ?? []);
      progressOf.set(Context.current(), { details: () => ({ finished: [...finished] }), last: 0 });
      let fenced = 0;
      let alreadyFenced = 0;
      const failed: Array<{ name: string; reason: string }> = [];
      await lanes(input.names, CONCURRENCY, async (name) => {
        if (finished.has(name)) {
          alreadyFenced++;
          return;
        }
        try {
          const d = await describe(name);
          if (d.PrimaryRegion && d.PrimaryRegion !== region) {
            failed.push({ name, reason: `in ${region} it is a replica of ${d.PrimaryRegion}: nothing to fence` });
            return;
          }
          const expected = input.suffixes?.[name];
          if (expected !== undefined && d.ARN && arnSuffix(d.ARN) !== expected) {
            // Same name, another secret: fencing it would lock a secret nobody promoted.
            failed.push({ name, reason: `not the secret promoted in ${input.to} (ARN suffix ${arnSuffix(d.ARN)} here, ${expected} there): not fenced` });
            return;
          }
          // The tag says a fence was completed once; only the deny statement fences. A tagged secret whose policy lost
          // the statement since (replaced, edited, restored) is fenced again.
          const tagged = (d.Tags ?? []).some((t) => t.Key === FENCE_TAG);
          const p = await policyGov.write(() => sm.getResourcePolicy({ SecretId: d.ARN }));
          if (tagged && hasDenyStatement(p.ResourcePolicy, FENCE_SID, FENCED_ACTIONS)) {
            alreadyFenced++;
          } else {
            await policyGov.write(() => sm.putResourcePolicy({ SecretId: d.ARN, ResourcePolicy: fencePolicy(p.ResourcePolicy), BlockPublicPolicy: false }));
            if (!tagged)
              await tagGov.write(() => sm.tagResource({ SecretId: d.ARN, Tags: [{ Key: FENCE_TAG, Value: `failover ${input.failoverId} to ${input.to}` }] }));
            fenced++;
          }
          finished.add(name);
          heartbeat({ finished: [...finished] });
        } catch (err) {
          if (isBatchFailure(err)) throw toFailure(err, `fencing ${name}`, region);
          if (isNotFound(err)) failed.push({ name, reason: `no such secret in ${region}` });
          else failed.push({ name, reason: errorReason(err) });
        }
      });
      return { fenced, alreadyFenced, failed };
    },

    /**
     * Re-homes rotation to this Region's Lambda (RotateImmediately=false: no new version now), with
     * each secret's RotationRules passed explicitly (`rules`: as recorded from the primary), never
     * left to what the copy here carries.
     */
    async rehomeRotationBatch(input: {
      region: string;
      names: string[];
      lambdaArn: string;
      writeQuotaShare: number;
      writeQuotaShareMode?: WriteQuotaShareMode;
      rules?: Record<string, RotationRules>;
    }): Promise<{ rehomed: number; failed: Array<{ name: string; reason: string }> }> {
      assertRegion(input.region, 'rehomeRotationBatch');
      const gov = writeGovernor(`${region}/rotation`, input.writeQuotaShare, input.writeQuotaShareMode);
      let rehomed = 0;
      const failed: Array<{ name: string; reason: string }> = [];
      await lanes(input.names, CONCURRENCY, async (name) => {
        try {
          const d = await describe(name);
          const rules = rulesToRehome(input.rules?.[name]);
          if (
            d.RotationLambdaARN === input.lambdaArn &&
            d.RotationEnabled &&
            (rules === undefined || sameRules(rulesToRehome(rotationRulesOf(d.RotationRules)), rules))
          ) {
            rehomed++;
            return;
          }
          const inFlight = rotationInFlightOf(d.VersionIdsToStages);
          if (inFlight) {
            // Never re-home onto a rotation cut off: RotateSecret fails ("A previous rotation isn't complete").
            failed.push({ name, reason: `rotation in flight (AWSPENDING on ${inFlight.pending}, AWSCURRENT on ${inFlight.current ?? 'none'}): not re-homed` });
            return;
          }
          await gov.write(() =>
            sm.rotateSecret({ SecretId: d.ARN, RotationLambdaARN: input.lambdaArn, ...(rules ? { RotationRules: rules } : {}), RotateImmediately: false }),
          );
          rehomed++;
        } catch (err) {
          if (isBatchFailure(err)) throw toFailure(err, `RotateSecret ${name}`, region);
          failed.push({ name, reason: errorReason(err) });
        }
        heartbeat();
      });
      return { rehomed, failed };
    },
  };

  async function writeLineageRecord(input: PromoteBatchInput, secrets: LineageRecord['secrets'], hmacs: boolean): Promise<string> {
    // Split by size: a SecretString holds at most 64 KB.
    const chunks: LineageRecord['secrets'][] = [[]];
    let size = 0;
    for (const s of secrets) {
      const n = JSON.stringify(s).length;
      if (size + n > SECRET_STRING_LIMIT && chunks[chunks.length - 1]!.length > 0) {
        chunks.push([]);
        size = 0;
      }
      chunks[chunks.length - 1]!.push(s);
      size += n;
    }
    const first = lineageRecordName(input.planName, input.failoverId, input.batch);
    for (const [i, chunk] of chunks.entries()) {
      const batch = i === 0 ? input.batch : `${input.batch}.${i}`;
      const name = lineageRecordName(input.planName, input.failoverId, batch);
      const record: LineageRecord = {
        kind: 'secrets-dr/failover-lineage',
        plan: input.planName,
        failoverId: input.failoverId,
        from: input.from,
        to: input.to,
        batch,
        hmacs,
        secrets: chunk,
      };
      try {
        await describe(name);
        continue; // written by an earlier attempt of this batch
      } catch (err) {
        if (!isNotFound(err)) throw toFailure(err, `DescribeSecret ${name}`, region);
      }
      await writeRecordSecret(sm, region, {
        name,
        description: 'secrets-dr: lineage at failover (version ids, staging labels, HMACs; never values)',
        body: record,
        planName: input.planName,
        role: 'failover-lineage',
        tokenParts: [input.failoverId, batch],
        writeQuotaShare: input.writeQuotaShare,
        writeQuotaShareMode: input.writeQuotaShareMode,
        tags: [{ Key: FAILOVER_TAG, Value: input.failoverId }],
      });
    }
    return first;
  }
}

export type FailoverActivities = ReturnType<typeof createFailoverActivities>;
