/**
 * Fault injection, per Region. Faults apply to every service the lab serves in that Region
 * (Secrets Manager and EventBridge) and to replication into and out of it.
 */
import type { IncidentError } from './incident-errors.js';
import type { ReplicationControl } from './secrets-manager/replication.js';
import { ROTATION_STEPS, type RotationControl, type RotationStep } from './secrets-manager/rotation-runner.js';

export type OutageMode = 'refuse' | 'error' | 'hang';
export const OUTAGE_MODES: readonly OutageMode[] = ['refuse', 'error', 'hang'];

interface FailNextFault {
  op: string;
  remaining: number;
  error: string;
  secretIdPrefix?: string;
}

interface RegionFaults {
  outage?: OutageMode;
  latency?: { ms: number; jitter: number };
  replicationLagMs?: number;
  replicationPaused?: boolean;
  /** group → TPS */
  throttle: Record<string, number>;
  failNext: FailNextFault[];
  /** Rotations in the Region stop before this step (`any`: before whichever step comes next). */
  rotationStall?: RotationStep | 'any';
}

/** HTTP status for an injected error type. */
export function statusForError(type: string): number {
  if (type === 'InternalServiceError' || type === 'InternalFailure' || type === 'InternalServerError') return 500;
  if (type === 'ServiceUnavailableException' || type === 'ServiceUnavailable') return 503;
  return 400;
}

/** Operation names a `fail-next` with this op consumes for replication syncs. */
const REPLICATION_OPS = new Set(['Replication', 'ReplicateSecretToRegions:sync']);

export class FaultRegistry implements ReplicationControl, RotationControl {
  private readonly regions = new Map<string, RegionFaults>();
  private readonly hangWaiters = new Set<{ region: string; release: (closed: boolean) => void }>();
  private closed = false;
  /** Bumped on every change, so the server can skip fault checks cheaply when nothing is active. */
  private activeCount = 0;

  private get(region: string): RegionFaults {
    let f = this.regions.get(region);
    if (!f) {
      f = { throttle: {}, failNext: [] };
      this.regions.set(region, f);
    }
    return f;
  }

  /** True when any fault is set in the Region (fast path for the server). */
  hasAny(region: string): boolean {
    return this.activeCount > 0 && this.regions.has(region);
  }

  private touch(): void {
    for (const [r, f] of this.regions) {
      const empty =
        !f.outage &&
        !f.latency &&
        f.replicationLagMs === undefined &&
        !f.replicationPaused &&
        Object.keys(f.throttle).length === 0 &&
        f.failNext.length === 0 &&
        f.rotationStall === undefined;
      if (empty) this.regions.delete(r);
    }
    this.activeCount = this.regions.size;
    this.releaseHangs();
  }

  setOutage(region: string, mode: OutageMode): void {
    this.get(region).outage = mode;
    this.touch();
  }

  outage(region: string): OutageMode | undefined {
    return this.regions.get(region)?.outage;
  }

  setLatency(region: string, ms: number, jitter = 0): void {
    this.get(region).latency = { ms, jitter };
    this.touch();
  }

  /** Delay (ms) to add to a request into the Region, or 0. */
  latencyFor(region: string): number {
    const l = this.regions.get(region)?.latency;
    if (!l) return 0;
    return Math.max(0, l.ms + (l.jitter > 0 ? (Math.random() * 2 - 1) * l.jitter : 0));
  }

  setReplicationLag(region: string, ms: number): void {
    this.get(region).replicationLagMs = ms;
    this.touch();
  }

  setReplicationPause(region: string, paused = true): void {
    this.get(region).replicationPaused = paused;
    this.touch();
  }

  setThrottle(region: string, group: string, tps: number): void {
    this.get(region).throttle[group] = tps;
    this.touch();
  }

  throttleFor(region: string, group: string): number | undefined {
    return this.regions.get(region)?.throttle[group];
  }

  addFailNext(region: string, fault: { op: string; count?: number; error?: string; secretIdPrefix?: string }): void {
    const f: FailNextFault = { op: fault.op, remaining: fault.count ?? 1, error: fault.error ?? 'InternalServiceError' };
    if (fault.secretIdPrefix !== undefined) f.secretIdPrefix = fault.secretIdPrefix;
    this.get(region).failNext.push(f);
    this.touch();
  }

  /** Consumes one matching fail-next fault; returns the error type to answer with. */
  takeFailNext(region: string, op: string, secretId?: string): string | undefined {
    const f = this.regions.get(region);
    if (!f || f.failNext.length === 0) return undefined;
    const i = f.failNext.findIndex(
      (x) => x.op === op && (x.secretIdPrefix === undefined || (secretId !== undefined && matchesPrefix(secretId, x.secretIdPrefix))),
    );
    if (i < 0) return undefined;
    const hit = f.failNext[i]!;
    hit.remaining--;
    if (hit.remaining <= 0) {
      f.failNext.splice(i, 1);
      this.touch();
    }
    return hit.error;
  }

  /** Holds every rotation in the Region before `step` (default: before its next step) until cleared. */
  setRotationStall(region: string, step?: RotationStep): void {
    if (step !== undefined && !ROTATION_STEPS.includes(step)) throw new RangeError(`step must be one of ${ROTATION_STEPS.join(', ')}`);
    this.get(region).rotationStall = step ?? 'any';
    this.touch();
  }

  rotationStalled(region: string, step: RotationStep): boolean {
    const stall = this.regions.get(region)?.rotationStall;
    return stall === 'any' || stall === step;
  }

  clear(region?: string): void {
    if (region === undefined) this.regions.clear();
    else this.regions.delete(region);
    this.clearPersistent(region);
    this.touch();
  }

  describe(): Record<string, RegionFaults & PersistentFaults> {
    const out: Record<string, RegionFaults & PersistentFaults> = {};
    for (const [r, f] of this.regions) out[r] = structuredClone(f);
    this.describePersistent(out);
    return out;
  }

  /**
   * Resolves when the Region is no longer in `hang` mode (true) or the lab closes (false = closed).
   * `onAbort` lets the caller drop the waiter when the client goes away.
   */
  waitWhileHanging(region: string): { promise: Promise<boolean>; cancel: () => void } {
    if (this.closed) return { promise: Promise.resolve(false), cancel: () => undefined };
    let waiter!: { region: string; release: (closed: boolean) => void };
    const promise = new Promise<boolean>((resolve) => {
      waiter = { region, release: (closed) => resolve(!closed) };
    });
    this.hangWaiters.add(waiter);
    return { promise, cancel: () => this.hangWaiters.delete(waiter) };
  }

  get hangingRequests(): number {
    return this.hangWaiters.size;
  }

  private releaseHangs(): void {
    for (const w of this.hangWaiters) {
      if (this.outage(w.region) !== 'hang') {
        this.hangWaiters.delete(w);
        w.release(false);
      }
    }
  }

  /** Lab closing: every held request is let go (the server then drops its socket). */
  close(): void {
    this.closed = true;
    for (const w of this.hangWaiters) w.release(true);
    this.hangWaiters.clear();
  }

  // ---- ReplicationControl
  lagMs(targetRegion: string): number | undefined {
    return this.regions.get(targetRegion)?.replicationLagMs;
  }

  paused(targetRegion: string): boolean {
    return this.regions.get(targetRegion)?.replicationPaused === true;
  }

  regionDown(region: string): boolean {
    return this.regions.get(region)?.outage !== undefined;
  }

  takeReplicationFault(targetRegion: string, secretName: string): string | undefined {
    for (const op of REPLICATION_OPS) {
      const e = this.takeFailNext(targetRegion, op, secretName);
      if (e) return e;
    }
    return undefined;
  }

  // ---- persistent faults, held apart from RegionFaults (until `clear`): replica-delete-delay, deny

  private readonly replicaDeleteDelays = new Map<string, number>();
  private readonly denials = new Map<string, DenyFault[]>();

  /** Every call in `region` (or only `op`'s: `PutSecretValue`, `events:PutEvents`, `ssm:GetParameter`) answers `error` until cleared. */
  setDeny(region: string, fault: DenyFault): void {
    const list = (this.denials.get(region) ?? []).filter((d) => d.op !== fault.op);
    list.push({ ...fault });
    this.denials.set(region, list);
  }

  /** True when some deny fault is set anywhere (the server's fast path). */
  get anyDenials(): boolean {
    return this.denials.size > 0;
  }

  /** The error a call answers under a deny fault: one for its operation first, else one for the whole Region. */
  deniedWith(region: string, op: string, prefixedOp?: string): IncidentError | undefined {
    const list = this.denials.get(region);
    if (!list) return undefined;
    const forOp = list.find((d) => d.op !== undefined && (d.op === op || d.op === prefixedOp));
    return (forOp ?? list.find((d) => d.op === undefined))?.error;
  }

  /** A replica removed from replication in `region` lingers `ms` lab milliseconds (0 = gone at once). */
  setReplicaDeleteDelay(region: string, ms: number): void {
    this.replicaDeleteDelays.set(region, ms);
  }

  replicaDeleteDelayMs(targetRegion: string): number | undefined {
    return this.replicaDeleteDelays.get(targetRegion);
  }

  private clearPersistent(region?: string): void {
    if (region === undefined) {
      this.replicaDeleteDelays.clear();
      this.denials.clear();
    } else {
      this.replicaDeleteDelays.delete(region);
      this.denials.delete(region);
    }
  }

  private describePersistent(out: Record<string, RegionFaults & PersistentFaults>): void {
    for (const [r, ms] of this.replicaDeleteDelays) (out[r] ??= { throttle: {}, failNext: [] }).replicaDeleteDelayMs = ms;
    for (const [r, list] of this.denials) (out[r] ??= { throttle: {}, failNext: [] }).deny = list.map((d) => ({ ...d }));
  }
}

/** `lab fault deny`: without `op`, every operation of every service in the Region. */
interface DenyFault {
  op?: string;
  error: IncidentError;
}

/** Faults described next to RegionFaults in /_lab/status (held in maps of their own). */
interface PersistentFaults {
  /** Lab ms a replica removed from replication in this Region lingers (lab/secrets-manager/replica-removal.ts). */
  replicaDeleteDelayMs?: number;
  deny?: DenyFault[];
}

function matchesPrefix(secretId: string, prefix: string): boolean {
  if (secretId.startsWith(prefix)) return true;
  const at = secretId.indexOf(':secret:');
  return at >= 0 && secretId.slice(at + 8).startsWith(prefix);
}
