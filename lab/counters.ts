/**
 * Per-Region, per-operation call counters (`GET /_lab/counters`) and, per Region and quota group, the arrival
 * times of every call of the rate-limited groups (`GET /_lab/counters/rate`): the most calls that arrived in any
 * 1-second sliding window, and per calendar second. Never values, only counts.
 */
import { quotaGroupOf } from './quotas.js';

interface OperationCounts {
  calls: number;
  throttled: number;
  failed: number;
}

/** Groups whose arrival times are kept (the 50 TPS buckets the orchestrator shares with applications). */
const TIMED_GROUPS = new Set(['write', 'policy', 'rotation', 'tagging', 'create', 'delete', 'restore']);
/** Arrival times kept per Region and group at most (a 100,000-secret failover sends ~300,000 writes). */
const MAX_TIMES = 2_000_000;

interface GroupRate {
  calls: number;
  /** Most calls in any window [t, t + 1 s) over the arrival times, and where the first such window starts (epoch ms). */
  maxPerSecond: number;
  maxAt: number | null;
  /** Calls per calendar second (epoch seconds as keys). */
  perSecond: Record<string, number>;
}

/** Most of `times` (ascending, ms) inside any half-open window of `windowMs`. */
export function maxInWindow(times: readonly number[], windowMs = 1_000): { max: number; at: number | null } {
  let best = 0;
  let at: number | null = null;
  for (let lo = 0, hi = 0; hi < times.length; hi++) {
    while (times[hi]! - times[lo]! >= windowMs) lo++;
    if (hi - lo + 1 > best) {
      best = hi - lo + 1;
      at = times[lo]!;
    }
  }
  return { max: best, at };
}

export class CallCounters {
  private readonly byRegion = new Map<string, Map<string, OperationCounts>>();
  /** region → quota group → arrival times (epoch ms, ascending). */
  private readonly arrivals = new Map<string, Map<string, number[]>>();

  constructor(private readonly now: () => number = () => performance.timeOrigin + performance.now()) {}

  private entry(region: string, op: string): OperationCounts {
    let ops = this.byRegion.get(region);
    if (!ops) {
      ops = new Map();
      this.byRegion.set(region, ops);
    }
    let c = ops.get(op);
    if (!c) {
      c = { calls: 0, throttled: 0, failed: 0 };
      ops.set(op, c);
    }
    return c;
  }

  call(region: string, op: string): OperationCounts {
    const c = this.entry(region, op);
    c.calls++;
    const group = quotaGroupOf(op)?.group;
    if (group && TIMED_GROUPS.has(group)) {
      let groups = this.arrivals.get(region);
      if (!groups) this.arrivals.set(region, (groups = new Map()));
      let times = groups.get(group);
      if (!times) groups.set(group, (times = []));
      if (times.length < MAX_TIMES) times.push(this.now());
    }
    return c;
  }

  /** `{ [region]: { [group]: GroupRate } }` for the rate-limited groups (only the given Regions when named). */
  rates(regions?: readonly string[]): Record<string, Record<string, GroupRate>> {
    const out: Record<string, Record<string, GroupRate>> = {};
    for (const [region, groups] of this.arrivals) {
      if (regions && !regions.includes(region)) continue;
      out[region] = {};
      for (const [group, times] of groups) {
        const perSecond: Record<string, number> = {};
        for (const t of times) {
          const k = String(Math.floor(t / 1000));
          perSecond[k] = (perSecond[k] ?? 0) + 1;
        }
        const { max, at } = maxInWindow(times);
        out[region][group] = { calls: times.length, maxPerSecond: max, maxAt: at, perSecond };
      }
    }
    return out;
  }

  get(region: string, op: string): OperationCounts {
    return { ...(this.byRegion.get(region)?.get(op) ?? { calls: 0, throttled: 0, failed: 0 }) };
  }

  /** `{ [region]: { [operation]: {calls, throttled, failed} } }` */
  snapshot(): Record<string, Record<string, OperationCounts>> {
    const out: Record<string, Record<string, OperationCounts>> = {};
    for (const [region, ops] of this.byRegion) {
      out[region] = {};
      for (const [op, c] of ops) out[region][op] = { ...c };
    }
    return out;
  }

  /** Drops the counts of the given Regions (all when none given). */
  reset(regions?: readonly string[]): void {
    if (!regions) {
      this.byRegion.clear();
      this.arrivals.clear();
    } else
      for (const r of regions) {
        this.byRegion.delete(r);
        this.arrivals.delete(r);
      }
  }
}
