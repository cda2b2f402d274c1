/**
 * What the Region drill (drill.workflow.ts) and the account drill (account-drill.workflow.ts) share: the
 * activity options of their steps and clean-up, the step bars of their timelines, and the driver of the
 * drill machine (machines/drill.machine.ts) over a run that has one method per action.
 */
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import type { DrillOutcome, DrillReport, DrillStep, RegionFigures, StepTiming } from '../domain/drill.js';
import type { Plan } from '../domain/plan.js';
import type { EventActivities } from '../activities/events.activities.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';
import { failureMessage, MachineDriver } from './kit/index.js';
import { drillMachine, type DrillContext, type DrillEvent } from './machines/drill.machine.js';

const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES];
/** Drill steps: a few quick attempts, then the drill fails and says why. */
export const DRILL_STEP_OPTIONS = {
  startToCloseTimeout: '5m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '500ms', maximumInterval: '5s', maximumAttempts: 3, nonRetryableErrorTypes },
} as const;
/** Clean-up: must happen; retried for longer (a Region or an account that hiccups is waited for). */
export const DRILL_CLEANUP_OPTIONS = {
  startToCloseTimeout: '5m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '15s', maximumAttempts: 10, nonRetryableErrorTypes },
} as const;

/** What a failed step's bar says. */
export const drillDetailOf = (err: unknown) => (isCancellation(err) ? 'cancelled' : failureMessage(err));

/** One bar of the timeline: `lane` is a Region (or `<region>@<accountId>` for an account drill's recovery side). */
export function stepTiming(step: DrillStep, lane: string, from: number, to: number, ok: boolean, detail?: string): StepTiming {
  return {
    step,
    region: lane,
    startedAt: new Date(from).toISOString(),
    endedAt: new Date(to).toISOString(),
    durationMs: to - from,
    ok,
    ...(detail ? { detail } : {}),
  };
}

/** A drill's effects, one method per machine action; `guarded` turns a throw into STEP_FAILED or CANCEL. */
export interface DrillSteps {
  guarded(step: DrillStep, fn: () => Promise<DrillEvent>): Promise<DrillEvent>;
  prepare(): Promise<DrillEvent>;
  cleanLeftovers(): Promise<DrillEvent>;
  createCanaries(): Promise<DrillEvent>;
  replicateCanaries(): Promise<DrillEvent>;
  measureRpo(): Promise<DrillEvent>;
  promoteCanaries(): Promise<DrillEvent>;
  verifyCanaries(): Promise<DrillEvent>;
  cleanUp(): Promise<DrillEvent>;
  publish(c: DrillContext): Promise<DrillEvent>;
  report(outcome: DrillOutcome, c: DrillContext): DrillReport;
}

/** The driver's wait: every drill step answers with an event, so there is always work queued until the end. */
const queuedAlready = async (ready: () => boolean) => {
  if (!ready()) throw new Error('drill: the machine waits for an event no step sends');
};

/** Runs the drill machine over `run` to its end: the report (a failure or a cancel is in it, never a thrown error). */
export async function driveDrill(run: DrillSteps, rtoTargetMs: number): Promise<DrillReport> {
  const driver = new MachineDriver(drillMachine, { rtoTargetMs }, queuedAlready);
  const outcome = await driver.run({
    prepare: () => run.guarded('prepare', () => run.prepare()),
    cleanLeftovers: () => run.guarded('cleanLeftovers', () => run.cleanLeftovers()),
    createCanaries: () => run.guarded('create', () => run.createCanaries()),
    replicateCanaries: () => run.guarded('replicate', () => run.replicateCanaries()),
    measureRpo: () => run.guarded('measureRpo', () => run.measureRpo()),
    promoteCanaries: () => run.guarded('promote', () => run.promoteCanaries()),
    verifyCanaries: () => run.guarded('verify', () => run.verifyCanaries()),
    cleanUp: () => run.cleanUp(),
    report: () => run.publish(driver.context),
  });
  return run.report(outcome, driver.context);
}

/** What a drill knows when it reports (the machine's context aside). */
interface DrillFacts {
  workflowId: string;
  input: { plan: Plan; trigger: string };
  primaryRegion: string;
  drRegions: string[];
  recoveryAccountId?: string;
  canaries: string[];
  started: number;
  regions: RegionFigures[];
  steps: StepTiming[];
  cleanup: { deleted: number; remaining: string[] };
  warnings: string[];
}

/** The report, with the outcome the machine decided; canaries left behind are the failure when nothing else failed. */
export function drillReport(f: DrillFacts, outcome: DrillOutcome, c: DrillContext): DrillReport {
  const { plan, trigger } = f.input;
  if (c.remaining > 0 && !c.failure) f.warnings.push('the clean-up left canaries behind');
  const failure = c.failure ?? (c.remaining > 0 ? { step: 'cleanUp' as const, reason: `canaries left behind: ${f.cleanup.remaining.join(', ')}` } : undefined);
  const ended = Date.now();
  return {
    workflowId: f.workflowId,
    plan: plan.name,
    trigger,
    primaryRegion: f.primaryRegion,
    drRegions: f.drRegions,
    ...(f.recoveryAccountId ? { recoveryAccountId: f.recoveryAccountId } : {}),
    canaries: f.canaries,
    startedAt: new Date(f.started).toISOString(),
    endedAt: new Date(ended).toISOString(),
    durationMs: ended - f.started,
    outcome,
    ...(c.rtoMs !== undefined ? { rtoMs: c.rtoMs, withinTarget: c.rtoMs <= plan.drills.rtoTarget } : {}),
    ...(c.rpoMs !== undefined ? { rpoMs: c.rpoMs } : {}),
    rtoTargetMs: plan.drills.rtoTarget,
    regions: f.regions,
    steps: f.steps,
    ...(failure ? { failure } : {}),
    cleanup: { leftoversRemoved: c.leftoversRemoved, deleted: f.cleanup.deleted, remaining: f.cleanup.remaining },
    warnings: f.warnings,
  };
}

/** Drill Completed, with the outcome the machine decided, published through `acts`; a bus that does not answer is a warning. Runs even when cancelled. */
export function publishDrillCompleted(
  acts: Pick<EventActivities, 'publishEvent'>,
  f: Pick<DrillFacts, 'workflowId' | 'input' | 'recoveryAccountId' | 'warnings'>,
  c: DrillContext,
): Promise<DrillEvent> {
  return CancellationScope.nonCancellable(async () => {
    const { plan } = f.input;
    const detail = {
      plan: plan.name,
      workflowId: f.workflowId,
      ...(f.recoveryAccountId ? { recoveryAccountId: f.recoveryAccountId } : {}),
      outcome: c.outcome!,
      ...(c.rtoMs !== undefined ? { rtoMs: c.rtoMs } : {}),
      ...(c.rpoMs !== undefined ? { rpoMs: c.rpoMs } : {}),
      rtoTargetMs: plan.drills.rtoTarget,
    };
    try {
      await acts.publishEvent({ bus: plan.events.bus, event: { detailType: 'Drill Completed', detail } });
    } catch (err) {
      f.warnings.push(`event "Drill Completed" not published: ${failureMessage(err)}`);
    }
    return { type: 'REPORTED' };
  });
}
