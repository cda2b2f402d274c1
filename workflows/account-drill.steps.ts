/**
 * The account drill's effects (account-drill.workflow.ts), one named method per action of the drill machine
 * (machines/drill.machine.ts: the same decisions as a Region drill). Two lanes: the primary account (`<region>`)
 * and the recovery account (`<region>@<accountId>`). Every activity runs on the primary Region's task queue,
 * where both accounts' copies live; values stay in the activities (account-drill.activities.ts).
 */
import { CancellationScope, isCancellation, sleep } from '@temporalio/workflow';
import type { DrillOutcome, DrillReport, DrillStep, StepTiming } from '../domain/drill.js';
import { AccountDrillInput, accountDrillCanaryName, accountLane } from '../domain/account-drill.js';
import type { AccountDrillActivities } from '../activities/account-drill.activities.js';
import type { AccountActivities } from '../activities/account.activities.js';
import type { EventActivities } from '../activities/events.activities.js';
import { regionActivities } from './activity-options.js';
import { failureMessage } from './kit/index.js';
import type { DrillContext, DrillEvent } from './machines/drill.machine.js';
import {
  DRILL_CLEANUP_OPTIONS,
  DRILL_STEP_OPTIONS,
  drillDetailOf as detailOf,
  drillReport,
  publishDrillCompleted,
  stepTiming,
  type DrillSteps,
} from './drill-kit.js';

type Acts = AccountDrillActivities & Pick<AccountActivities, 'probeAccount'> & EventActivities;
type Input = ReturnType<typeof AccountDrillInput.parse>;
/** Steps that act in both accounts are drawn on the primary account's lane; the others on the recovery account's. */
const PRIMARY_LANE_STEPS: ReadonlySet<DrillStep> = new Set(['prepare', 'create']);

export class AccountDrillRun implements DrillSteps {
  readonly region: string;
  /** The recovery account's lane in the report. */
  readonly lane: string;
  readonly names: string[];
  readonly steps: StepTiming[] = [];
  readonly warnings: string[] = [];
  readonly started = Date.now();
  readonly #figures: { rpoMs?: number; rtoMs?: number; promoteMs?: number; verified?: boolean } = {};
  readonly #cleanup = { deleted: 0, remaining: [] as string[] };
  readonly #acts: Acts;
  readonly #cleanupActs: Acts;

  constructor(
    readonly input: Input,
    readonly workflowId: string,
  ) {
    const { plan, accountId } = input;
    this.region = plan.primaryRegion;
    this.lane = accountLane(this.region, accountId);
    this.names = Array.from({ length: plan.drills.canaries }, (_, n) => accountDrillCanaryName(plan.name, accountId, n));
    this.#acts = regionActivities<Acts>(this.region, input.taskQueuePrefix, DRILL_STEP_OPTIONS);
    this.#cleanupActs = regionActivities<Acts>(this.region, input.taskQueuePrefix, DRILL_CLEANUP_OPTIONS);
  }

  get #sides() {
    return { region: this.region, plan: this.input.plan, accountId: this.input.accountId };
  }

  #record(step: DrillStep, lane: string, from: number, to: number, ok: boolean, detail?: string): void {
    this.steps.push(stepTiming(step, lane, from, to, ok, detail));
  }

  /** A working step with its bar: a throw becomes STEP_FAILED (or CANCEL once the workflow is cancelled). */
  async guarded(step: DrillStep, fn: () => Promise<DrillEvent>): Promise<DrillEvent> {
    const lane = PRIMARY_LANE_STEPS.has(step) ? this.region : this.lane;
    const t0 = Date.now();
    try {
      const event = await fn();
      if (!this.steps.some((s) => s.step === step)) this.#record(step, lane, t0, Date.now(), event.type !== 'STEP_FAILED');
      return event;
    } catch (err) {
      if (!this.steps.some((s) => s.step === step && !s.ok)) this.#record(step, lane, t0, Date.now(), false, detailOf(err));
      if (isCancellation(err) || CancellationScope.current().consideredCancelled) return { type: 'CANCEL', step, reason: 'the drill workflow was cancelled' };
      return { type: 'STEP_FAILED', step, region: lane, reason: failureMessage(err) };
    }
  }

  /** Both accounts must answer: a drill measures recovery, it does not diagnose an account (account status does). */
  async prepare(): Promise<DrillEvent> {
    const [primary, recovery] = await Promise.all([
      this.#acts.probeAccount({ region: this.region, plan: this.input.plan }),
      this.#acts.probeAccount({ ...this.#sides }),
    ]);
    const problems = [
      ...(primary.reach !== 'answers' ? [`the primary account is ${primary.reach} (${primary.error ?? 'no answer'})`] : []),
      ...(recovery.reach !== 'answers' ? [`account ${this.input.accountId} is ${recovery.reach} (${recovery.error ?? 'no answer'})`] : []),
    ];
    if (problems.length) return { type: 'STEP_FAILED', step: 'prepare', region: this.lane, reason: `${problems.join('; ')}: the drill needs both accounts` };
    return { type: 'PREPARED' };
  }

  async cleanLeftovers(): Promise<DrillEvent> {
    const res = await this.#acts.sweepAccountDrillCanaries({ ...this.#sides, removalTimeoutMs: this.input.replicaRemovalTimeoutMs });
    if (res.remaining.length)
      return {
        type: 'STEP_FAILED',
        step: 'cleanLeftovers',
        region: this.lane,
        reason: `leftovers of an earlier drill could not be removed: ${res.remaining.join(', ')}`,
      };
    return { type: 'LEFTOVERS_CLEANED', removed: res.deleted.length };
  }

  async createCanaries(): Promise<DrillEvent> {
    await this.#acts.createAccountDrillCanaries({ ...this.#sides, drillId: this.workflowId, names: this.names });
    return { type: 'CREATED' };
  }

  /** AssociateCrossAccountReplica, then InSync (bounded), polled every 250 ms. */
  async replicateCanaries(): Promise<DrillEvent> {
    const t0 = Date.now();
    for (let associate = true; ; associate = false) {
      const status = await this.#acts.associateAccountDrillCanaries({ ...this.#sides, names: this.names, associate });
      const bad = status.filter((s) => s.status === 'Failed' || s.status === 'missing' || s.status === 'Detached');
      if (bad.length)
        throw new Error(`cross-account replication failed: ${bad.map((s) => `${s.name}: ${s.status}${s.message ? ` (${s.message})` : ''}`).join('; ')}`);
      if (status.every((s) => s.status === 'InSync')) return { type: 'REPLICATED' };
      if (Date.now() - t0 > this.input.inSyncTimeoutMs)
        throw new Error(`replicas in account ${this.input.accountId} not InSync after ${this.input.inSyncTimeoutMs} ms`);
      await sleep(250);
    }
  }

  async measureRpo(): Promise<DrillEvent> {
    const res = await this.#acts.writeAccountCanaryAndMeasureLag({ ...this.#sides, drillId: this.workflowId, names: this.names });
    const writtenAt = Date.parse(res.writtenAt);
    this.#record(
      'measureRpo',
      this.lane,
      writtenAt,
      writtenAt + res.lagMs,
      !res.timedOut,
      res.timedOut ? 'the canary version did not arrive in time' : undefined,
    );
    if (res.alreadyWritten) this.warnings.push('the canary write was retried: its lag was measured from the retry');
    if (res.timedOut)
      return {
        type: 'STEP_FAILED',
        step: 'measureRpo',
        region: this.lane,
        reason: `the canary version did not reach account ${this.input.accountId} within the timeout`,
      };
    this.#figures.rpoMs = res.lagMs;
    return { type: 'RPO_MEASURED', rpoMs: res.lagMs };
  }

  async promoteCanaries(): Promise<DrillEvent> {
    const p = await this.#acts.promoteAccountDrillCanaries({ ...this.#sides, drillId: this.workflowId, names: this.names });
    this.#record('promote', this.lane, Date.parse(p.startedAt), Date.parse(p.readableAt), true);
    Object.assign(this.#figures, { rtoMs: p.rtoMs, promoteMs: p.promoteMs });
    if (p.stillLinked.length)
      this.warnings.push(
        `the primary account still lists a live link to ${p.stillLinked.join(', ')} after DisassociateCrossAccountReplica (expected Detached)`,
      );
    return { type: 'PROMOTED', rtoMs: p.rtoMs };
  }

  async verifyCanaries(): Promise<DrillEvent> {
    const { problems } = await this.#acts.verifyAccountDrillCanaries({ ...this.#sides, names: this.names });
    this.#figures.verified = problems.length === 0;
    return { type: 'VERIFIED', problems };
  }

  /** Both accounts swept; runs even when cancelled. */
  cleanUp(): Promise<DrillEvent> {
    return CancellationScope.nonCancellable(async () => {
      const t0 = Date.now();
      try {
        const res = await this.#cleanupActs.sweepAccountDrillCanaries({ ...this.#sides, removalTimeoutMs: this.input.replicaRemovalTimeoutMs });
        this.#cleanup.deleted = res.deleted.length;
        this.#cleanup.remaining = res.remaining;
        this.#record('cleanUp', this.lane, t0, Date.now(), res.remaining.length === 0);
      } catch (err) {
        this.#record('cleanUp', this.lane, t0, Date.now(), false, detailOf(err));
        this.warnings.push(`clean-up: ${failureMessage(err)}`);
        this.#cleanup.remaining = [`(the canaries of account ${this.input.accountId} could not be listed)`];
      }
      return { type: 'CLEANED_UP', remaining: this.#cleanup.remaining.length };
    });
  }

  /** Drill Completed (with the account), published in the primary Region. */
  publish(c: DrillContext): Promise<DrillEvent> {
    return publishDrillCompleted(this.#acts, { ...this, recoveryAccountId: this.input.accountId }, c);
  }

  /** The report, in the Region drill's shape (Markdown, SVG and `drill list` read it): lanes are the two accounts. */
  report(outcome: DrillOutcome, c: DrillContext): DrillReport {
    return drillReport(
      {
        ...this,
        primaryRegion: this.region,
        drRegions: [this.lane],
        recoveryAccountId: this.input.accountId,
        canaries: this.names,
        regions: [{ region: this.lane, ...this.#figures }],
        cleanup: this.#cleanup,
      },
      outcome,
      c,
    );
  }
}
