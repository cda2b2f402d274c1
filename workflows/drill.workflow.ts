/**
 * drill: a rehearsal of failover on canary secrets, with RTO and RPO measured. The machine
 * (machines/drill.machine.ts) decides; this file runs the effect it names and turns each result
 * into its next event.
 *
 * Decisions:
 * - Canaries only (`secrets-dr-drill/<plan>/<n>` in the primary Region); production secrets are
 *   never touched, whatever the plan says (`drills.useProductionSecrets` only earns a warning).
 * - Saga: before each step that creates something, the compensation that removes it is pushed
 *   (sweep of that Region's canaries). The clean-up runs them in reverse, then sweeps every plan
 *   Region once more (describe, don't assume) — inside `CancellationScope.nonCancellable`, so a
 *   cancelled drill still leaves nothing behind. A failure or a cancel ends in a report, not in a
 *   failed workflow: the report says which step failed, where and why.
 * - RPO and RTO are measured inside one activity each (polling every 50 ms), not across
 *   Temporal's scheduling; step bars for those two steps use the activities' own timestamps.
 */
import { CancellationScope, isCancellation, sleep, workflowInfo } from '@temporalio/workflow';
import { initialTransition, transition } from 'xstate';
import { DrillInput, applicationRto, drillCanaryName, drillOutcome, readPathWarnings, type DrillReport, type DrillStep, type RegionFigures, type StepTiming, type SweepResult } from '../domain/drill.js';
import { currentOf } from '../domain/lineage.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';
import type { DrillActivities } from '../activities/drill.activities.js';
import type { LineageActivities } from '../activities/lineage.activities.js';
import type { ReplicationActivities } from '../activities/replication.activities.js';
import type { EventActivities } from '../activities/events.activities.js';
import { regionActivities } from './activity-options.js';
import { drillMachine, type DrillEffect, type DrillEvent } from './machines/drill.machine.js';

type Acts = DrillActivities & LineageActivities & ReplicationActivities & EventActivities;
const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES];
/** Drill steps: a few quick attempts, then the drill fails and says why. */
const STEP = { startToCloseTimeout: '5m', heartbeatTimeout: '30s', retry: { initialInterval: '500ms', maximumInterval: '5s', maximumAttempts: 3, nonRetryableErrorTypes } } as const;
/** Clean-up: must happen; retried for longer (a Region that hiccups is waited for). */
const CLEANUP = { startToCloseTimeout: '5m', heartbeatTimeout: '30s', retry: { initialInterval: '1s', maximumInterval: '15s', maximumAttempts: 10, nonRetryableErrorTypes } } as const;
const message = (err: unknown) => (err as { cause?: { message?: string }; message?: string }).cause?.message ?? (err as Error).message ?? String(err);

export async function drillWorkflow(raw: DrillInput): Promise<DrillReport> {
  const input = DrillInput.parse(raw);
  const { plan } = input;
  const primary = plan.primaryRegion;
  const drs = plan.drRegions.map((d) => d.region);
  const share = plan.failover.writeQuotaShare;
  const { workflowId } = workflowInfo();
  const started = Date.now();
  const step = (r: string) => regionActivities<Acts>(r, input.taskQueuePrefix, STEP);
  const cleanup = (r: string) => regionActivities<Acts>(r, input.taskQueuePrefix, CLEANUP);
  const names = Array.from({ length: plan.drills.canaries }, (_, n) => drillCanaryName(plan.name, n));

  const steps: StepTiming[] = [];
  const warnings: string[] = [];
  const figures = new Map<string, RegionFigures>(drs.map((r) => [r, { region: r }]));
  const primaryHmacs = new Map<string, string>();
  /** Saga: Regions whose canaries must be swept, pushed before the step that creates them. */
  const compensations: string[] = [];
  const cleanupTotals = { leftoversRemoved: 0, deleted: 0, remaining: [] as string[] };
  if (plan.drills.useProductionSecrets) warnings.push('drills.useProductionSecrets is set, but this version drills on canary secrets only: production secrets were not touched');

  const record = (s: DrillStep, region: string, from: number, to: number, ok: boolean, detail?: string) =>
    steps.push({ step: s, region, startedAt: new Date(from).toISOString(), endedAt: new Date(to).toISOString(), durationMs: to - from, ok, ...(detail ? { detail } : {}) });
  /** Runs one step in one Region, recording its bar (ok or not). */
  const timed = async <T>(s: DrillStep, region: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      const out = await fn();
      record(s, region, t0, Date.now(), true);
      return out;
    } catch (err) {
      record(s, region, t0, Date.now(), false, isCancellation(err) ? 'cancelled' : message(err));
      throw Object.assign(err as object, { drillRegion: region });
    }
  };
  const sweep = async (region: string, acts: (r: string) => Acts): Promise<SweepResult> => {
    const res = await acts(region).sweepDrillCanaries({ planName: plan.name, writeQuotaShare: share, drRegions: drs, replicaRemovalTimeoutMs: input.replicaRemovalTimeoutMs });
    for (const l of res.lingering ?? []) {
      const w = `replica ${l} was still being removed after ${input.replicaRemovalTimeoutMs} ms: its primary canary in ${region} was kept (deleting it first could strand the replica); the next drill removes both`;
      if (!warnings.includes(w)) warnings.push(w);
    }
    return res;
  };

  let [snapshot, actions] = initialTransition(drillMachine, { rtoTargetMs: plan.drills.rtoTarget });
  const queue: string[] = actions.map((a) => a.type);
  const send = (event: DrillEvent) => {
    [snapshot, actions] = transition(drillMachine, snapshot, event);
    queue.push(...actions.map((a) => a.type));
  };

  const effects: Record<DrillEffect, () => Promise<DrillEvent>> = {
    async prepare() {
      // Verification compares HMACs of the values, with the plan's key in every Region.
      await timed('prepare', primary, () => step(primary).ensureHmacKey({ planName: plan.name, drRegions: plan.drRegions, writeQuotaShare: share }));
      return { type: 'PREPARED' };
    },
    async cleanLeftovers() {
      let removed = 0;
      const left: string[] = [];
      // Primary first: removing a replica from its primary's replication deletes it.
      for (const r of [primary, ...drs]) {
        const res = await timed('cleanLeftovers', r, () => sweep(r, step));
        removed += res.deleted.length + res.replicasRemoved;
        left.push(...res.remaining.map((n) => `${r}:${n}`));
      }
      // Checked after every Region: the primary's sweep also removes the replicas listed in the DR Regions.
      const still = await Promise.all([primary, ...drs].map(async (r) => ((await sweep(r, step)).remaining.length > 0 ? r : undefined)));
      const where = still.filter((r) => r !== undefined);
      if (where.length > 0) return { type: 'STEP_FAILED', step: 'cleanLeftovers', region: where[0]!, reason: `leftovers of an earlier drill could not be removed: ${left.join(', ')}` };
      return { type: 'LEFTOVERS_CLEANED', removed };
    },
    async createCanaries() {
      compensations.push(primary);
      await timed('create', primary, () => step(primary).createDrillCanaries({ planName: plan.name, drillId: workflowId, names, writeQuotaShare: share }));
      return { type: 'CREATED' };
    },
    async replicateCanaries() {
      compensations.push(...drs);
      const t0 = Date.now();
      const items = names.flatMap((secret) => plan.drRegions.map((d) => ({ secret, region: d.region, ...(d.kmsKeyId ? { kmsKeyId: d.kmsKeyId } : {}) })));
      const requested = await step(primary).replicateBatch({ items, writeQuotaShare: share });
      const refused = requested.filter((i) => !i.ok);
      if (refused.length > 0) throw new Error(`ReplicateSecretToRegions refused: ${refused.map((i) => `${i.name} → ${i.region}: ${i.message ?? i.reason}`).join('; ')}`);
      // Wait for InSync (bounded). Each Region's bar ends when its last canary is InSync.
      const pending = new Set(drs);
      while (pending.size > 0) {
        const status = await step(primary).replicationStatusBatch({ items: items.filter((i) => pending.has(i.region)) });
        const failed = status.filter((s) => s.status === 'Failed' || s.status === 'deleted' || s.status === 'missing');
        if (failed.length > 0) throw new Error(`replication failed: ${failed.map((s) => `${s.name} → ${s.region}: ${s.status}${s.message ? ` (${s.message})` : ''}`).join('; ')}`);
        for (const r of [...pending]) {
          if (status.filter((s) => s.region === r).every((s) => s.status === 'InSync')) {
            pending.delete(r);
            record('replicate', r, t0, Date.now(), true);
          }
        }
        if (pending.size === 0) break;
        if (Date.now() - t0 > input.inSyncTimeoutMs) throw new Error(`replicas not InSync after ${input.inSyncTimeoutMs} ms in ${[...pending].join(', ')}`);
        await sleep(250);
      }
      return { type: 'REPLICATED' };
    },
    async measureRpo() {
      const res = await step(primary).writeCanaryAndMeasureLag({ drillId: workflowId, names, drRegions: drs, writeQuotaShare: share });
      const writtenAt = Date.parse(res.writtenAt);
      for (const l of res.lag) {
        figures.get(l.region)!.rpoMs = l.ms;
        record('measureRpo', l.region, writtenAt, writtenAt + l.ms, !l.timedOut, l.timedOut ? 'the canary version did not arrive in time' : undefined);
      }
      if (res.versions.some((v) => v.alreadyWritten)) warnings.push('the canary write was retried: its lag was measured from the retry');
      const late = res.lag.filter((l) => l.timedOut);
      if (late.length > 0) return { type: 'STEP_FAILED', step: 'measureRpo', region: late[0]!.region, reason: `the canary version did not reach ${late.map((l) => l.region).join(', ')} within the timeout` };
      // The primary's canary HMACs, for verification after promotion (values stay in the activities).
      for (const name of names) {
        const hmac = currentOf(await step(primary).readLineage({ planName: plan.name, secretId: name }))?.hmac;
        if (hmac) primaryHmacs.set(name, hmac);
      }
      return { type: 'RPO_MEASURED', rpoMs: Math.max(...res.lag.map((l) => l.ms)) };
    },
    async promoteCanaries() {
      // StopReplicationToReplica must be called in the Region to promote: the DR Region's queue.
      const t0 = Date.now();
      const results = await Promise.all(
        drs.map(async (r) => {
          try {
            // t0 is the promote decision: the RTO an application sees is measured from it, through each read path.
            const p = await step(r).promoteDrillCanaries({ names, writeQuotaShare: share, decidedAt: new Date(t0).toISOString(), drillId: workflowId });
            record('promote', r, Date.parse(p.readableAt) - p.rtoMs, Date.parse(p.readableAt), true);
            Object.assign(figures.get(r)!, { rtoMs: applicationRto(p), promoteMs: p.rtoMs, ...(p.readPaths ? { readPaths: p.readPaths } : {}) });
            warnings.push(...readPathWarnings(r, p));
            return { ...p, rtoMs: applicationRto(p) };
          } catch (err) {
            record('promote', r, t0, Date.now(), false, isCancellation(err) ? 'cancelled' : message(err));
            throw Object.assign(err as object, { drillRegion: r });
          }
        }),
      );
      return { type: 'PROMOTED', rtoMs: Math.max(...results.map((p) => p.rtoMs)) };
    },
    async verifyCanaries() {
      const problems: string[] = [];
      for (const r of drs) {
        await timed('verify', r, async () => {
          let ok = true;
          for (const name of names) {
            const l = await step(r).readLineage({ planName: plan.name, secretId: name });
            const hmac = currentOf(l)?.hmac;
            // The replicated canary value, intact: AWSCURRENT, or AWSPREVIOUS once the RTO measurement wrote a version here.
            const kept = l?.versions.some((v) => v.hmac !== undefined && v.hmac === primaryHmacs.get(name) && (v.stages.includes('AWSCURRENT') || v.stages.includes('AWSPREVIOUS')));
            const problem = !l ? 'missing' : l.primaryRegion ? `still a replica of ${l.primaryRegion}` : !hmac ? 'not readable' : !kept ? 'value differs from the primary\'s canary (HMAC)' : undefined;
            if (problem) {
              ok = false;
              problems.push(`${name} in ${r}: ${problem}`);
            }
          }
          figures.get(r)!.verified = ok;
        });
      }
      return { type: 'VERIFIED', problems };
    },
    async cleanUp() {
      // Compensations in reverse, then every Region once more (primary first); runs even when cancelled.
      return CancellationScope.nonCancellable(async () => {
        const remaining = new Map<string, string[]>();
        for (const r of [...compensations.reverse(), primary, ...drs]) {
          try {
            const res = await timed('cleanUp', r, () => sweep(r, cleanup));
            cleanupTotals.deleted += res.deleted.length;
            remaining.set(r, res.remaining);
          } catch (err) {
            warnings.push(`clean-up in ${r}: ${message(err)}`);
            remaining.set(r, [`(${r} could not be listed)`]);
          }
        }
        cleanupTotals.remaining = [...remaining].flatMap(([r, left]) => left.map((n) => `${r}:${n}`));
        return { type: 'CLEANED_UP', remaining: cleanupTotals.remaining.length };
      });
    },
    async report() {
      return CancellationScope.nonCancellable(async () => {
        const c = snapshot.context;
        const detail = { plan: plan.name, workflowId, outcome: outcomeOf(), ...(c.rtoMs !== undefined ? { rtoMs: c.rtoMs } : {}), ...(c.rpoMs !== undefined ? { rpoMs: c.rpoMs } : {}), rtoTargetMs: plan.drills.rtoTarget };
        try {
          await step(primary).publishEvent({ bus: plan.events.bus, event: { detailType: 'Drill Completed', detail } });
        } catch (err) {
          warnings.push(`event "Drill Completed" not published: ${message(err)}`);
        }
        return { type: 'REPORTED' };
      });
    },
  };

  const outcomeOf = () => {
    const c = snapshot.context;
    return drillOutcome({ cancelled: c.cancelled, failed: c.failure !== undefined, remaining: c.remaining, ...(c.rtoMs !== undefined ? { rtoMs: c.rtoMs } : {}), rtoTargetMs: c.rtoTargetMs });
  };

  while (queue.length > 0) {
    const effect = queue.shift() as DrillEffect;
    const run = effects[effect];
    if (!run) continue; // xstate's own actions (assign) are applied by transition already
    let event: DrillEvent;
    const t0 = Date.now();
    try {
      event = await run();
    } catch (err) {
      const region = (err as { drillRegion?: string }).drillRegion;
      // Every failed step gets its bar in the timeline, even when it failed before any Region answered.
      if (!steps.some((s) => s.step === stepOf(effect) && !s.ok)) record(stepOf(effect), region ?? primary, t0, Date.now(), false, isCancellation(err) ? 'cancelled' : message(err));
      event = isCancellation(err) || CancellationScope.current().consideredCancelled
        ? { type: 'CANCEL', step: stepOf(effect), reason: 'the drill workflow was cancelled' }
        : { type: 'STEP_FAILED', step: stepOf(effect), ...(region ? { region } : {}), reason: message(err) };
    }
    send(event);
  }

  const c = snapshot.context;
  if (c.remaining > 0 && !c.failure) warnings.push('the clean-up left canaries behind');
  const failure = c.failure ?? (c.remaining > 0 ? { step: 'cleanUp' as const, reason: `canaries left behind: ${cleanupTotals.remaining.join(', ')}` } : undefined);
  const ended = Date.now();
  return {
    workflowId, plan: plan.name, trigger: input.trigger, primaryRegion: primary, drRegions: drs, canaries: names,
    startedAt: new Date(started).toISOString(), endedAt: new Date(ended).toISOString(), durationMs: ended - started,
    outcome: outcomeOf(),
    ...(c.rtoMs !== undefined ? { rtoMs: c.rtoMs, withinTarget: c.rtoMs <= plan.drills.rtoTarget } : {}),
    ...(c.rpoMs !== undefined ? { rpoMs: c.rpoMs } : {}),
    rtoTargetMs: plan.drills.rtoTarget,
    regions: [...figures.values()],
    steps,
    ...(failure ? { failure } : {}),
    cleanup: { leftoversRemoved: c.leftoversRemoved, deleted: cleanupTotals.deleted, remaining: cleanupTotals.remaining },
    warnings,
  };
}

const STEP_OF_EFFECT: Partial<Record<DrillEffect, DrillStep>> = {
  prepare: 'prepare',
  cleanLeftovers: 'cleanLeftovers',
  createCanaries: 'create',
  replicateCanaries: 'replicate',
  measureRpo: 'measureRpo',
  promoteCanaries: 'promote',
  verifyCanaries: 'verify',
  cleanUp: 'cleanUp',
};
const stepOf = (e: DrillEffect): DrillStep => STEP_OF_EFFECT[e] ?? 'cleanUp';
