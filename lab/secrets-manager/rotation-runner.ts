/**
 * Runs the lab's rotation functions: after RotateSecret answers (or a scheduled window opens), the
 * function's four steps run one after the other, each `stepDelayMs` (lab clock) after the previous,
 * as AWS's rotation templates do them and through the same Secrets Manager operations a real
 * function would call (DescribeSecret, GetSecretValue, PutSecretValue with VersionStages
 * AWSPENDING, UpdateSecretVersionStage). So they meet the same answers and faults:
 *
 * - a Region outage, or a `rotation-stall` fault before the next step, holds the rotation where it
 *   is: AWSPENDING stays on a version that is not AWSCURRENT (on the empty version RotateSecret
 *   created, when createSecret has not run). RotateSecret then fails ("A previous rotation isn't
 *   complete. That rotation will be reattempted."). When the fault is gone the lab reattempts that
 *   rotation from the step where it stopped, with the same ClientRequestToken, as AWS reattempts
 *   a failed rotation (its steps are idempotent, like the templates');
 * - an operation that fails (fail-next, deny, a resource-policy Deny) fails the step; the lab
 *   retries it a few times, then gives the rotation up (AWSPENDING stays, as on AWS);
 * - what the templates check before every step (rotation enabled, the token's version still
 *   AWSPENDING) ends the rotation quietly when it no longer holds: CancelRotateSecret, or someone
 *   who moved the labels by hand.
 * In-flight rotations are not saved in the state file: after a lab restart a rotation cut off
 * half-way stays cut off (AWSPENDING on a non-current version), as after a long outage.
 */
import { randomUUID } from 'node:crypto';
import type { LabFunction, RotationKind } from '../lambda/functions.js';
import { LabError, type LabClock } from '../types.js';
import { AWSCURRENT, AWSPENDING } from './model.js';
import { pendingValue } from './rotation.js';

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/** Fault hooks (lab/faults.ts implements them). */
export interface RotationControl {
  regionDown?(region: string): boolean;
  /** True while a rotation-stall fault holds rotations in the Region before `step`. */
  rotationStalled?(region: string, step: RotationStep): boolean;
  /** Consumes a fail-next fault for the operation; returns the error type to fail with. */
  takeFailNext?(region: string, op: string, secretId?: string): string | undefined;
}

/** A Secrets Manager call as the function makes it (the service's own handler). */
type ServiceCall = (region: string, operation: string, input: Record<string, unknown>) => unknown;

interface RotationRunnerDeps {
  clock: LabClock;
  call: ServiceCall;
  control: RotationControl;
  /** finishSecret done: the service records LastRotatedDate and the next window. */
  onSucceeded(region: string, secretArn: string, token: string): void;
  onGivenUp(region: string, secretArn: string, token: string, reason: string): void;
}

export interface RotationInFlight {
  region: string;
  secretArn: string;
  token: string;
  functionArn: string;
  /** The step that runs next. */
  nextStep: RotationStep;
  /** Why it is not moving, when it is not (a fault, a failed attempt). */
  waiting?: string;
}

interface Rotation {
  region: string;
  secretArn: string;
  token: string;
  functionArn: string;
  kind: RotationKind;
  stepDelayMs: number;
  next: number;
  dueAt: number;
  failures: number;
  waiting?: string;
}

/** Failed attempts of one step before the lab gives the rotation up. */
const MAX_STEP_FAILURES = 5;
/** Real milliseconds between attempts of a failed step. */
const RETRY_REAL_MS = 200;

class StepEnds extends Error {}

export class RotationRunner {
  private readonly rotations = new Map<string, Rotation>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: RotationRunnerDeps) {}

  start(region: string, secretArn: string, token: string, fn: LabFunction): void {
    this.rotations.set(key(region, secretArn), {
      region,
      secretArn,
      token,
      functionArn: fn.arn,
      kind: fn.kind,
      stepDelayMs: fn.stepDelayMs,
      next: 0,
      dueAt: this.deps.clock.now() + fn.stepDelayMs,
      failures: 0,
    });
    this.arm();
  }

  cancel(region: string, secretArn: string): void {
    this.rotations.delete(key(region, secretArn));
  }

  inFlight(region: string, secretArn: string): boolean {
    return this.rotations.has(key(region, secretArn));
  }

  list(): RotationInFlight[] {
    return [...this.rotations.values()].map((r) => ({
      region: r.region,
      secretArn: r.secretArn,
      token: r.token,
      functionArn: r.functionArn,
      nextStep: ROTATION_STEPS[r.next]!,
      ...(r.waiting ? { waiting: r.waiting } : {}),
    }));
  }

  reset(): void {
    this.rotations.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Runs every step that is due (called by its own timer and by the service's scheduler tick). */
  pump(): void {
    const now = this.deps.clock.now();
    for (const r of [...this.rotations.values()]) {
      if (r.dueAt > now) continue;
      this.advance(r);
    }
    this.arm();
  }

  private advance(r: Rotation): void {
    const step = ROTATION_STEPS[r.next]!;
    const { control } = this.deps;
    if (control.regionDown?.(r.region)) {
      r.waiting = `Region ${r.region} is in outage: ${step} cannot reach Secrets Manager`;
      return;
    }
    if (control.rotationStalled?.(r.region, step)) {
      r.waiting = `rotation-stall fault before ${step}`;
      return;
    }
    delete r.waiting;
    try {
      const done = this.runStep(r, step);
      r.failures = 0;
      if (done || r.next === ROTATION_STEPS.length - 1) {
        this.rotations.delete(key(r.region, r.secretArn));
        this.deps.onSucceeded(r.region, r.secretArn, r.token);
        return;
      }
      r.next++;
      r.dueAt = this.deps.clock.now() + r.stepDelayMs;
    } catch (e) {
      if (e instanceof StepEnds) {
        this.giveUp(r, `${step}: ${e.message}`);
        return;
      }
      if (!(e instanceof LabError)) throw e;
      r.failures++;
      if (r.failures >= MAX_STEP_FAILURES) {
        this.giveUp(r, `${step} failed ${r.failures} times, last with ${e.type}: ${e.message}`);
        return;
      }
      r.waiting = `${step} failed with ${e.type} (attempt ${r.failures} of ${MAX_STEP_FAILURES})`;
      r.dueAt = this.deps.clock.now() + RETRY_REAL_MS * this.deps.clock.speed;
    }
  }

  private giveUp(r: Rotation, reason: string): void {
    this.rotations.delete(key(r.region, r.secretArn));
    this.deps.onGivenUp(r.region, r.secretArn, r.token, reason);
  }

  /** One step, as AWS's rotation templates write it. Returns true when the rotation is already complete. */
  private runStep(r: Rotation, step: RotationStep): boolean {
    const call = (op: string, input: Record<string, unknown>): Record<string, unknown> => {
      const injected = this.deps.control.takeFailNext?.(r.region, op, r.secretArn);
      if (injected) throw new LabError(injected, `Injected fault: ${injected} (fail-next ${op} in ${r.region}, called by the rotation function).`);
      return this.deps.call(r.region, op, input) as Record<string, unknown>;
    };
    const id = r.secretArn;
    const meta = call('DescribeSecret', { SecretId: id });
    if (meta.RotationEnabled !== true) throw new StepEnds(`secret ${id} is not enabled for rotation`);
    const versions = (meta.VersionIdsToStages ?? {}) as Record<string, string[]>;
    const stages = versions[r.token];
    if (!stages) throw new StepEnds(`secret version ${r.token} has no stage for rotation`);
    if (stages.includes(AWSCURRENT)) return true; // already rotated
    if (!stages.includes(AWSPENDING)) throw new StepEnds(`secret version ${r.token} is not set as AWSPENDING`);
    switch (step) {
      case 'createSecret': {
        const current = call('GetSecretValue', { SecretId: id, VersionStage: AWSCURRENT });
        try {
          call('GetSecretValue', { SecretId: id, VersionId: r.token, VersionStage: AWSPENDING });
        } catch (e) {
          if (!(e instanceof LabError) || e.type !== 'ResourceNotFoundException') throw e;
          const value = pendingValue(r.kind, { string: current.SecretString as string | undefined, binary: current.SecretBinary as string | undefined });
          call('PutSecretValue', {
            SecretId: id,
            ClientRequestToken: r.token,
            VersionStages: [AWSPENDING],
            ...(value.binary !== undefined ? { SecretBinary: value.binary } : { SecretString: value.string }),
          });
        }
        return false;
      }
      case 'setSecret':
      case 'testSecret':
        // The "database" here is the lab itself: setting and testing the pending credentials
        // reads them, as the templates do.
        call('GetSecretValue', { SecretId: id, VersionId: r.token, VersionStage: AWSPENDING });
        return false;
      case 'finishSecret': {
        const current = Object.entries(versions).find(([, s]) => s.includes(AWSCURRENT))?.[0];
        call('UpdateSecretVersionStage', {
          SecretId: id,
          VersionStage: AWSCURRENT,
          MoveToVersionId: r.token,
          ...(current ? { RemoveFromVersionId: current } : {}),
        });
        call('UpdateSecretVersionStage', { SecretId: id, VersionStage: AWSPENDING, RemoveFromVersionId: r.token });
        return true;
      }
    }
  }

  /** One timer for the earliest step that is due and not held by a fault (held ones wait for the tick). */
  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let earliest = Infinity;
    for (const r of this.rotations.values()) if (!r.waiting && r.dueAt < earliest) earliest = r.dueAt;
    if (earliest === Infinity) return;
    const realMs = Math.max(0, (earliest - this.deps.clock.now()) / this.deps.clock.speed);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.ceil(realMs));
    this.timer.unref();
  }
}

function key(region: string, arn: string): string {
  return `${region}|${arn}`;
}

/** A ClientRequestToken for a rotation the lab starts itself (a scheduled window). */
export function newRotationToken(): string {
  return randomUUID();
}
