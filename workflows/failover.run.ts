/**
 * What one failover run knows (never a value): the input, the fleet, the outcomes, warnings and
 * the figures of its report. The steps (failover*.steps.ts) read and fill it; the machine decides
 * from the events they return. Also: the per-Region activity proxies and the two reads every step
 * shares (a Region's fleet, publishing an event).
 */
import { condition, patched, type ChildWorkflowHandle } from '@temporalio/workflow';
import {
  FULL_OUTCOMES_LIMIT,
  PROGRESS_SETTLED_LIMIT,
  settledOf,
  type SettledSecret,
  FailoverInput,
  addCounts,
  annotateOutcome,
  countOutcomes,
  emptyCounts,
  lineageRecordPrefix,
  needsAttention,
  runsOf,
  type FailoverProgress,
  type FailoverReport,
  type FleetEntry,
  type FleetItem,
  type OutcomeCounts,
  type RotationReport,
  type SecretOutcome,
} from '../domain/failover.js';
import type { FailoverActivities } from '../activities/failover.activities.js';
import type { FailbackActivities } from '../activities/failback.activities.js';
import type { EventActivities } from '../activities/events.activities.js';
import type { LineageActivities } from '../activities/lineage.activities.js';
import { regionActivities } from './activity-options.js';
import { FENCE_OPTIONS, INSPECT_OPTIONS, SIDE_OPTIONS } from './failover-options.js';
import type { failoverChunkWorkflow } from './failover-chunk.workflow.js';
import type { FailoverContext, FailoverMachineInput, FailoverMachineOutput } from './machines/failover.machine.js';
import { PlanRun } from './plan-run.js';
import { TwoWayListing, type ListingEnd } from '../domain/two-way-listing.js';

/** Listing a Region from both ends (FailoverRun.listFleet); histories recorded before it list in one pass. */
const TWO_WAY_INVENTORY_PATCH = 'failover-two-way-inventory';
/** Pages per listing activity after each end's first. */
const TWO_WAY_PAGES = 5;

export class FailoverRun extends PlanRun<ReturnType<typeof FailoverInput.parse>> {
  readonly to: string;
  /** This failover's id: the run's stamp. */
  readonly failoverId = this.stamp;

  fleet: FleetItem[] = [];
  readonly outcomes: SecretOutcome[] = [];
  readonly lineage = { records: 0, hmacs: true, detail: undefined as string | undefined };
  /** Per running batch (chunk/batch key), its counts: `watch` moves while a chunk child runs. */
  readonly live = new Map<string, OutcomeCounts>();
  /** Per batch, its secrets' outcomes as the chunk children reported them (cleared with `live`). */
  readonly liveSettled = new Map<string, SettledSecret[]>();
  liveBase = emptyCounts();
  rotation: RotationReport | undefined;
  expectedMs = 0;
  promotionStartMs: number | undefined;
  promotionEndMs: number | undefined;
  fenceHandedTo: string | undefined;
  /** Old primaries fenced now (by this run's fence step, or found fenced at preflight). */
  readonly fencedNow = new Set<string>();
  /** Chunk children running now (control signals are relayed to them). */
  readonly children = new Set<ChildWorkflowHandle<typeof failoverChunkWorkflow>>();

  constructor(raw: FailoverInput) {
    super(FailoverInput.parse(raw));
    this.to = this.input.to;
  }

  get mode() {
    return this.input.mode;
  }

  machineInput(): FailoverMachineInput {
    return {
      mode: this.mode,
      dryRun: this.input.dryRun,
      requireApproval: this.plan.failover.requireApproval && !this.input.skipApproval,
      fence: this.plan.failover.fence,
    };
  }

  inspect(region: string) {
    return regionActivities<FailoverActivities>(region, this.input.taskQueuePrefix, INSPECT_OPTIONS);
  }
  side(region: string) {
    return regionActivities<FailoverActivities & EventActivities & LineageActivities>(region, this.input.taskQueuePrefix, SIDE_OPTIONS);
  }
  fence(region: string) {
    return regionActivities<FailoverActivities & FailbackActivities>(region, this.input.taskQueuePrefix, FENCE_OPTIONS);
  }

  toPromote(): FleetItem[] {
    return this.fleet.filter((i) => i.action === 'promote');
  }

  /**
   * One Region's plan secrets, listed from both ends at once (by name ascending and descending, until they
   * meet: domain/two-way-listing.ts). The first answer of each end is one page, so that the ends learn
   * each other's last names early; then TWO_WAY_PAGES pages per activity (payloads stay small at any N).
   * Each end is given the other's last names and stops once it lists them. Histories recorded before
   * the patch list in one pass, 20 pages per activity. `onAnswer` is told of every listing call's answer.
   */
  async listFleet(region: string, onlyReplicas = false, replicasOf?: string, onAnswer?: () => void): Promise<FleetEntry[]> {
    if (!patched(TWO_WAY_INVENTORY_PATCH)) return this.listFleetOneWay(region, onlyReplicas, replicasOf, onAnswer);
    const listing = new TwoWayListing<FleetEntry>();
    let running = 2;
    let failure: unknown;
    const end = async (order: ListingEnd): Promise<void> => {
      let nextToken: string | undefined;
      let after: string | undefined;
      let maxPages = 1;
      try {
        do {
          const page = await this.inspect(region).inspectFleet({
            plan: this.plan,
            region,
            nextToken,
            maxPages,
            onlyReplicas,
            ...(replicasOf ? { replicasOf } : {}),
            order,
            stopAt: listing.tail(order === 'asc' ? 'desc' : 'asc'),
            ...(after !== undefined ? { after } : {}),
          });
          nextToken = page.nextToken;
          after = page.last ?? after;
          onAnswer?.();
          listing.add(order, page.entries, nextToken !== undefined, page.order === order);
          maxPages = TWO_WAY_PAGES;
        } while (nextToken && listing.wantsMore);
      } catch (err) {
        // After the listing completed, an end's call still in flight no longer matters.
        if (!listing.complete) {
          failure ??= err;
          listing.abandon();
        }
      } finally {
        running--;
      }
    };
    void end('asc');
    void end('desc');
    // Not waiting for the other end's call in flight once the ends met: its pages are not needed.
    await condition(() => listing.complete || running === 0);
    if (listing.complete) return listing.entries();
    if (failure !== undefined) throw failure;
    // Both ends reached their last page without proving the listing complete (an end read its pages in two
    // orders, during a rolling upgrade): list again, in one pass.
    return this.listFleetOneWay(region, onlyReplicas, replicasOf, onAnswer);
  }

  private async listFleetOneWay(region: string, onlyReplicas: boolean, replicasOf: string | undefined, onAnswer?: () => void): Promise<FleetEntry[]> {
    const out: FleetEntry[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.inspect(region).inspectFleet({
        plan: this.plan,
        region,
        nextToken,
        maxPages: 20,
        onlyReplicas,
        ...(replicasOf ? { replicasOf } : {}),
      });
      out.push(...page.entries);
      nextToken = page.nextToken;
      onAnswer?.();
    } while (nextToken);
    return out;
  }

  /** Trigger → last promotion, minus the time spent waiting for approval. */
  rtoMs(): number {
    return (this.promotionEndMs ?? Date.now()) - this.started.getTime() - this.gate.waitedMs;
  }

  fenceReport(c: FailoverContext) {
    return { ...c.fenceReport, ...(this.fenceHandedTo ? { handedTo: this.fenceHandedTo } : {}) };
  }

  progress(c: FailoverContext, step: string): FailoverProgress {
    const counts = [...this.live.values()].reduce(addCounts, this.liveBase);
    const processed = counts.promoted + counts.alreadyStandalone + counts.failed + counts.skipped;
    const elapsed = this.promotionStartMs === undefined ? 0 : (this.promotionEndMs ?? Date.now()) - this.promotionStartMs;
    const rate = elapsed > 0 ? (counts.promoted + counts.failed) / (elapsed / 1_000) : 0;
    const remaining = this.fleet.length - processed;
    return {
      workflowId: this.workflowId,
      plan: this.plan.name,
      from: this.from,
      to: this.to,
      mode: this.mode,
      step,
      paused: c.paused,
      cancelRequested: c.cancelRequested,
      total: this.fleet.length,
      processed,
      counts,
      ratePerSecond: Math.round(rate * 10) / 10,
      ...(rate > 0 && remaining > 0 ? { etaMs: Math.round((remaining / rate) * 1_000) } : {}),
      expectedMs: this.expectedMs,
      startedAt: this.started.toISOString(),
      fence: this.fenceReport(c),
      settled: [...new Map([...this.outcomes.map(settledOf), ...[...this.liveSettled.values()].flat()].map((o) => [o.name, o])).values()].slice(
        -PROGRESS_SETTLED_LIMIT,
      ),
    };
  }

  /** The report: the outcome is the machine's (never decided again here). */
  report({ outcome, detail }: FailoverMachineOutput, c: FailoverContext): FailoverReport {
    const { outcomes, from, to, mode, plan } = this;
    const attention = outcomes.filter(needsAttention).slice(0, FULL_OUTCOMES_LIMIT);
    const listed = outcomes.length <= FULL_OUTCOMES_LIMIT ? outcomes : attention;
    const remainsCtx = {
      from,
      to,
      mode,
      fencedAtPrimary: this.fencedNow,
      fenceRequested: plan.failover.fence,
      ...(this.fenceHandedTo ? { fenceHandedTo: this.fenceHandedTo } : {}),
      ...(plan.rotation[to] ? { lambdaArn: plan.rotation[to] } : {}),
    };
    for (const o of listed) annotateOutcome(o, remainsCtx);
    const { records, hmacs, detail: lineageDetail } = this.lineage;
    return {
      workflowId: this.workflowId,
      failoverId: this.failoverId,
      plan: plan.name,
      from,
      to,
      mode,
      ...(this.input.reason ? { reason: this.input.reason } : {}),
      outcome,
      ...(detail ? { detail } : {}),
      cancelled: c.cancelRequested,
      total: this.fleet.length,
      counts: outcomes.length ? countOutcomes(outcomes) : c.counts,
      attention,
      ...(outcomes.length ? { runs: runsOf(outcomes) } : {}),
      ...(outcomes.length && outcomes.length <= FULL_OUTCOMES_LIMIT ? { outcomes } : {}),
      ...(outcome === 'dry-run' ? { preview: this.fleet.slice(0, FULL_OUTCOMES_LIMIT) } : {}),
      problems: c.problems,
      warnings: this.warnings,
      fence: this.fenceReport(c),
      ...(this.rotation ? { rotation: this.rotation } : {}),
      ...(this.promotionStartMs !== undefined && outcome !== 'rejected'
        ? { lineage: { prefix: `${lineageRecordPrefix(plan.name)}${this.failoverId}/`, records, hmacs, ...(lineageDetail ? { detail: lineageDetail } : {}) } }
        : {}),
      expectedMs: this.expectedMs,
      durationMs: Date.now() - this.started.getTime(),
      ...(this.promotionEndMs !== undefined ? { rtoMs: this.rtoMs() } : {}),
      startedAt: this.started.toISOString(),
      finishedAt: new Date().toISOString(),
    };
  }
}
