/**
 * What the Region drill (drill.workflow.ts) and the account drill (account-drill.workflow.ts) share: the
 * activity options of their steps and clean-up, the step bars of their timelines, and the driver of the
 * drill machine (machines/drill.machine.ts) over a run that has one method per action.
 */
import { isCancellation } from '@temporalio/workflow';
import type { DrillOutcome, DrillReport, DrillStep, StepTiming } from '../domain/drill.js';
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
