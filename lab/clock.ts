/**
 * The lab clock: wall time scaled by a speed factor, plus explicit jumps.
 * Rotation schedules and recovery windows run on it, so tests can make days pass in seconds.
 * Replication lag and fault latencies are real milliseconds (they model the network, not the calendar).
 */
import type { LabClock } from './types.js';

export class ScaledClock implements LabClock {
  private baseReal = Date.now();
  private baseLab = this.baseReal;
  private currentSpeed: number;

  constructor(speed = 1) {
    this.currentSpeed = ScaledClock.checkSpeed(speed);
  }

  get speed(): number {
    return this.currentSpeed;
  }

  now(): number {
    return this.baseLab + (Date.now() - this.baseReal) * this.currentSpeed;
  }

  /** Changes the speed from now on; lab time stays continuous. */
  setSpeed(speed: number): void {
    const labNow = this.now();
    this.baseReal = Date.now();
    this.baseLab = labNow;
    this.currentSpeed = ScaledClock.checkSpeed(speed);
  }

  /** Jumps lab time forward. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('advanceMs must be a non-negative number');
    this.baseLab += ms;
  }

  /** Back to real time at speed 1 (used by reset). */
  resetToWallTime(speed = 1): void {
    this.baseReal = Date.now();
    this.baseLab = this.baseReal;
    this.currentSpeed = ScaledClock.checkSpeed(speed);
  }

  private static checkSpeed(speed: number): number {
    if (!Number.isFinite(speed) || speed <= 0) throw new RangeError('speed must be a positive number');
    return speed;
  }
}
