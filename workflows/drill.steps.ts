/**
 * The drill's effects, one named method per machine action (machines/drill.machine.ts), and what
 * they measured: the step bars of the timeline, the per-Region figures, warnings, the saga of
 * compensations. Each step answers with the event that moves the machine on; a step that throws
 * is turned into STEP_FAILED (or CANCEL) by `guarded`, with its bar in the timeline.
 */
import { CancellationScope, isCancellation, sleep } from '@temporalio/workflow';
import {
  applicationRto,
  drillCanaryName,
  readPathWarnings,
  type DrillInput,
  type DrillOutcome,
  type DrillReport,
  type DrillStep,
  type RegionFigures,
  type StepTiming,
  type SweepResult,
} from '../domain/drill.js';
import { currentOf } from '../domain/lineage.js';
import type { DrillActivities } from '../activities/drill.activities.js';
import type { LineageActivities } from '../activities/lineage.activities.js';
import type { ReplicationActivities } from '../activities/replication.activities.js';
import type { EventActivities } from '../activities/events.activities.js';
import { regionActivities } from './activity-options.js';
import { failureMessage } from './kit/index.js';
import type { DrillContext, DrillEvent } from './machines/drill.machine.js';
import { writeShareOf } from '../domain/plan.js';
import { DRILL_CLEANUP_OPTIONS, DRILL_STEP_OPTIONS, drillDetailOf, drillReport, publishDrillCompleted, stepTiming, type DrillSteps } from './drill-kit.js';

type Acts = DrillActivities & LineageActivities & ReplicationActivities & EventActivities;
type Input = ReturnType<typeof DrillInput.parse>;
const STEP = DRILL_STEP_OPTIONS;
const CLEANUP = DRILL_CLEANUP_OPTIONS;

/** A failure that knows the Region it happened in (for the timeline and the report). */
const inRegion = (err: unknown, region: string) => Object.assign(err as object, { drillRegion: region });
const detailOf = drillDetailOf;

export class DrillRun implements DrillSteps {
  readonly primary: string;
  readonly drs: string[];
  readonly names: string[];
  readonly steps: StepTiming[] = [];
  readonly warnings: string[] = [];
  readonly started = Date.now();
  readonly #figures: Map<string, RegionFigures>;
  readonly #primaryHmacs = new Map<string, string>();
  /** Saga: Regions whose canaries must be swept, pushed before the step that creates them. */
  readonly #compensations: string[] = [];
  readonly #cleanup = { deleted: 0, remaining: [] as string[] };

  constructor(
    readonly input: Input,
    readonly workflowId: string,
  ) {
    const { plan } = input;
    this.primary = plan.primaryRegion;
    this.drs = plan.drRegions.map((d) => d.region);
    this.names = Array.from({ length: plan.drills.canaries }, (_, n) => drillCanaryName(plan.name, n));
    this.#figures = new Map(this.drs.map((r) => [r, { region: r }]));
    if (plan.drills.useProductionSecrets)
      this.warnings.push('drills.useProductionSecrets is set, but this version drills on canary secrets only: production secrets were not touched');
  }

  /** The plan's share and mode, as every writing activity takes them. */
  get #share() {
    return writeShareOf(this.input.plan.failover);
  }
  #acts = (r: string) => regionActivities<Acts>(r, this.input.taskQueuePrefix, STEP);
  #cleanupActs = (r: string) => regionActivities<Acts>(r, this.input.taskQueuePrefix, CLEANUP);

  #record(s: DrillStep, region: string, from: number, to: number, ok: boolean, detail?: string): void {
    this.steps.push(stepTiming(s, region, from, to, ok, detail));
  }

  /** Runs one step in one Region, recording its bar (ok or not). */
  async #timed<T>(s: DrillStep, region: string, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      const out = await fn();
      this.#record(s, region, t0, Date.now(), true);
      return out;
    } catch (err) {
      this.#record(s, region, t0, Date.now(), false, detailOf(err));
      throw inRegion(err, region);
    }
  }

  async #sweep(region: string, acts: (r: string) => Acts): Promise<SweepResult> {
    const { plan, replicaRemovalTimeoutMs } = this.input;
    const res = await acts(region).sweepDrillCanaries({ planName: plan.name, ...this.#share, drRegions: this.drs, replicaRemovalTimeoutMs });
    for (const l of res.lingering ?? []) {
      const w = `replica ${l} was still being removed after ${replicaRemovalTimeoutMs} ms: its primary canary in ${region} was kept (deleting it first could strand the replica); the next drill removes both`;
      if (!this.warnings.includes(w)) this.warnings.push(w);
    }
    return res;
  }

  /** A working step: a throw becomes STEP_FAILED (or CANCEL once the workflow is cancelled), with a bar for the failed step. */
  async guarded(step: DrillStep, fn: () => Promise<DrillEvent>): Promise<DrillEvent> {
    const t0 = Date.now();
    try {
      return await fn();
    } catch (err) {
      const region = (err as { drillRegion?: string }).drillRegion;
      if (!this.steps.some((s) => s.step === step && !s.ok)) this.#record(step, region ?? this.primary, t0, Date.now(), false, detailOf(err));
      if (isCancellation(err) || CancellationScope.current().consideredCancelled) return { type: 'CANCEL', step, reason: 'the drill workflow was cancelled' };
      return { type: 'STEP_FAILED', step, ...(region ? { region } : {}), reason: failureMessage(err) };
    }
  }

  async prepare(): Promise<DrillEvent> {
    // Verification compares HMACs of the values, with the plan's key in every Region.
    const { plan } = this.input;
    await this.#timed('prepare', this.primary, () =>
      this.#acts(this.primary).ensureHmacKey({ planName: plan.name, drRegions: plan.drRegions, ...this.#share }),
    );
    return { type: 'PREPARED' };
  }

  async cleanLeftovers(): Promise<DrillEvent> {
    let removed = 0;
    const left: string[] = [];
    const all = [this.primary, ...this.drs];
    // Primary first: removing a replica from its primary's replication deletes it.
    for (const r of all) {
      const res = await this.#timed('cleanLeftovers', r, () => this.#sweep(r, this.#acts));
      removed += res.deleted.length + res.replicasRemoved;
      left.push(...res.remaining.map((n) => `${r}:${n}`));
    }
    // Checked after every Region: the primary's sweep also removes the replicas listed in the DR Regions.
    const still = (await Promise.all(all.map(async (r) => ((await this.#sweep(r, this.#acts)).remaining.length > 0 ? r : undefined)))).filter(
      (r) => r !== undefined,
    );
    if (still.length > 0)
      return {
        type: 'STEP_FAILED',
        step: 'cleanLeftovers',
        region: still[0]!,
        reason: `leftovers of an earlier drill could not be removed: ${left.join(', ')}`,
      };
    return { type: 'LEFTOVERS_CLEANED', removed };
  }

  async createCanaries(): Promise<DrillEvent> {
    this.#compensations.push(this.primary);
    await this.#timed('create', this.primary, () =>
      this.#acts(this.primary).createDrillCanaries({
        planName: this.input.plan.name,
        drillId: this.workflowId,
        names: this.names,
        ...this.#share,
      }),
    );
    return { type: 'CREATED' };
  }

  async replicateCanaries(): Promise<DrillEvent> {
    this.#compensations.push(...this.drs);
    const t0 = Date.now();
    const items = this.names.flatMap((secret) =>
      this.input.plan.drRegions.map((d) => ({ secret, region: d.region, ...(d.kmsKeyId ? { kmsKeyId: d.kmsKeyId } : {}) })),
    );
    const requested = await this.#acts(this.primary).replicateBatch({ items, ...this.#share });
    const refused = requested.filter((i) => !i.ok);
    if (refused.length > 0)
      throw new Error(`ReplicateSecretToRegions refused: ${refused.map((i) => `${i.name} → ${i.region}: ${i.message ?? i.reason}`).join('; ')}`);
    // Wait for InSync (bounded). Each Region's bar ends when its last canary is InSync.
    const pending = new Set(this.drs);
    for (;;) {
      const status = await this.#acts(this.primary).replicationStatusBatch({ items: items.filter((i) => pending.has(i.region)) });
      const failed = status.filter((s) => s.status === 'Failed' || s.status === 'deleted' || s.status === 'missing');
      if (failed.length > 0)
        throw new Error(`replication failed: ${failed.map((s) => `${s.name} → ${s.region}: ${s.status}${s.message ? ` (${s.message})` : ''}`).join('; ')}`);
      for (const r of [...pending]) {
        if (status.filter((s) => s.region === r).every((s) => s.status === 'InSync')) {
          pending.delete(r);
          this.#record('replicate', r, t0, Date.now(), true);
        }
      }
      if (pending.size === 0) return { type: 'REPLICATED' };
      if (Date.now() - t0 > this.input.inSyncTimeoutMs)
        throw new Error(`replicas not InSync after ${this.input.inSyncTimeoutMs} ms in ${[...pending].join(', ')}`);
      await sleep(250);
    }
  }

  async measureRpo(): Promise<DrillEvent> {
    const res = await this.#acts(this.primary).writeCanaryAndMeasureLag({
      drillId: this.workflowId,
      names: this.names,
      drRegions: this.drs,
      ...this.#share,
    });
    const writtenAt = Date.parse(res.writtenAt);
    for (const l of res.lag) {
      this.#figures.get(l.region)!.rpoMs = l.ms;
      this.#record('measureRpo', l.region, writtenAt, writtenAt + l.ms, !l.timedOut, l.timedOut ? 'the canary version did not arrive in time' : undefined);
    }
    if (res.versions.some((v) => v.alreadyWritten)) this.warnings.push('the canary write was retried: its lag was measured from the retry');
    const late = res.lag.filter((l) => l.timedOut);
    if (late.length > 0)
      return {
        type: 'STEP_FAILED',
        step: 'measureRpo',
        region: late[0]!.region,
        reason: `the canary version did not reach ${late.map((l) => l.region).join(', ')} within the timeout`,
      };
    // The primary's canary HMACs, for verification after promotion (values stay in the activities).
    for (const name of this.names) {
      const hmac = currentOf(await this.#acts(this.primary).readLineage({ planName: this.input.plan.name, secretId: name }))?.hmac;
      if (hmac) this.#primaryHmacs.set(name, hmac);
    }
    return { type: 'RPO_MEASURED', rpoMs: Math.max(...res.lag.map((l) => l.ms)) };
  }

  async promoteCanaries(): Promise<DrillEvent> {
    // StopReplicationToReplica must be called in the Region to promote: the DR Region's queue.
    const t0 = Date.now();
    const results = await Promise.all(
      this.drs.map(async (r) => {
        try {
          // t0 is the promote decision: the RTO an application sees is measured from it, through each read path.
          const p = await this.#acts(r).promoteDrillCanaries({
            names: this.names,
            ...this.#share,
            decidedAt: new Date(t0).toISOString(),
            drillId: this.workflowId,
          });
          this.#record('promote', r, Date.parse(p.readableAt) - p.rtoMs, Date.parse(p.readableAt), true);
          Object.assign(this.#figures.get(r)!, { rtoMs: applicationRto(p), promoteMs: p.rtoMs, ...(p.readPaths ? { readPaths: p.readPaths } : {}) });
          this.warnings.push(...readPathWarnings(r, p));
          return { ...p, rtoMs: applicationRto(p) };
        } catch (err) {
          this.#record('promote', r, t0, Date.now(), false, detailOf(err));
          throw inRegion(err, r);
        }
      }),
    );
    return { type: 'PROMOTED', rtoMs: Math.max(...results.map((p) => p.rtoMs)) };
  }

  async verifyCanaries(): Promise<DrillEvent> {
    const problems: string[] = [];
    for (const r of this.drs) {
      await this.#timed('verify', r, async () => {
        let ok = true;
        for (const name of this.names) {
          const l = await this.#acts(r).readLineage({ planName: this.input.plan.name, secretId: name });
          const hmac = currentOf(l)?.hmac;
          // The replicated canary value, intact: AWSCURRENT, or AWSPREVIOUS once the RTO measurement wrote a version here.
          const kept = l?.versions.some(
            (v) => v.hmac !== undefined && v.hmac === this.#primaryHmacs.get(name) && (v.stages.includes('AWSCURRENT') || v.stages.includes('AWSPREVIOUS')),
          );
          const problem = !l
            ? 'missing'
            : l.primaryRegion
              ? `still a replica of ${l.primaryRegion}`
              : !hmac
                ? 'not readable'
                : !kept
                  ? "value differs from the primary's canary (HMAC)"
                  : undefined;
          if (problem) {
            ok = false;
            problems.push(`${name} in ${r}: ${problem}`);
          }
        }
        this.#figures.get(r)!.verified = ok;
      });
    }
    return { type: 'VERIFIED', problems };
  }

  /** Compensations in reverse, then every Region once more (primary first); runs even when cancelled. */
  cleanUp(): Promise<DrillEvent> {
    return CancellationScope.nonCancellable(async () => {
      const remaining = new Map<string, string[]>();
      for (const r of [...this.#compensations.reverse(), this.primary, ...this.drs]) {
        try {
          const res = await this.#timed('cleanUp', r, () => this.#sweep(r, this.#cleanupActs));
          this.#cleanup.deleted += res.deleted.length;
          remaining.set(r, res.remaining);
        } catch (err) {
          this.warnings.push(`clean-up in ${r}: ${failureMessage(err)}`);
          remaining.set(r, [`(${r} could not be listed)`]);
        }
      }
      this.#cleanup.remaining = [...remaining].flatMap(([r, left]) => left.map((n) => `${r}:${n}`));
      return { type: 'CLEANED_UP', remaining: this.#cleanup.remaining.length };
    });
  }

  /** Drill Completed, with the outcome the machine decided, published in the primary Region. */
  publish(c: DrillContext): Promise<DrillEvent> {
    return publishDrillCompleted(this.#acts(this.primary), this, c);
  }

  report(outcome: DrillOutcome, c: DrillContext): DrillReport {
    return drillReport(
      {
        ...this,
        primaryRegion: this.primary,
        drRegions: this.drs,
        canaries: this.names,
        regions: [...this.#figures.values()],
        cleanup: this.#cleanup,
      },
      outcome,
      c,
    );
  }
}
