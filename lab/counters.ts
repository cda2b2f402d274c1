/**
 * Per-account, per-Region, per-operation call counters (`GET /_lab/counters`) and, per account, Region and quota
 * group, the arrival times of every call of the rate-limited groups (`GET /_lab/counters/rate`): the most calls that
 * arrived in any 1-second sliding window, and per calendar second. Never values, only counts.
 *
 * The account is the caller's (its access key's, as the lab's multi-account serves it: lab/accounts/directory.ts).
 * Each account has its own quota buckets on AWS, so account DR's figures are read per account; the default shapes
 * (`snapshot()`, `rates()`) add every account up per Region, as they did before the lab had accounts.
 */
import { quotaGroupOf } from './quotas.js';

interface OperationCounts {
  calls: number;
  throttled: number;
  failed: number;
}

/** Groups whose arrival times are kept (the 50 TPS buckets the orchestrator shares with applications). */
const TIMED_GROUPS = new Set(['write', 'policy', 'rotation', 'tagging', 'create', 'delete', 'restore']);
/** Arrival times kept per account, Region and group at most (a 100,000-secret failover sends ~300,000 writes). */
const MAX_TIMES = 2_000_000;
/** The account of calls counted without one (the lab's default account). */
const DEFAULT_ACCOUNT = '123456789012';

interface GroupRate {
  calls: number;
  /** Most calls in any window [t, t + 1 s) over the arrival times, and where the first such window starts (epoch ms). */
  maxPerSecond: number;
  maxAt: number | null;
  /** Calls per calendar second (epoch seconds as keys). */
  perSecond: Record<string, number>;
}

type RegionCounts = Record<string, Record<string, OperationCounts>>;
type RegionRates = Record<string, Record<string, GroupRate>>;

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

function rateOf(times: readonly number[]): GroupRate {
  const perSecond: Record<string, number> = {};
  for (const t of times) {
    const k = String(Math.floor(t / 1000));
    perSecond[k] = (perSecond[k] ?? 0) + 1;
  }
  const { max, at } = maxInWindow(times);
  return { calls: times.length, maxPerSecond: max, maxAt: at, perSecond };
}

function addInto(sum: OperationCounts, c: OperationCounts): void {
  sum.calls += c.calls;
  sum.throttled += c.throttled;
  sum.failed += c.failed;
}

const getOr = <K, V>(m: Map<K, V>, k: K, make: () => V): V => m.get(k) ?? m.set(k, make()).get(k)!;

/** One account's counts and arrival times, per Region. */
interface AccountCounters {
  /** region → operation → counts. */
  ops: Map<string, Map<string, OperationCounts>>;
  /** region → quota group → arrival times (epoch ms, ascending). */
  arrivals: Map<string, Map<string, number[]>>;
}

export class CallCounters {
  /** account id → its counters: the one store; per-Region views add the accounts up. */
  private readonly byAccount = new Map<string, AccountCounters>();

  constructor(
    private readonly now: () => number = () => performance.timeOrigin + performance.now(),
    private readonly defaultAccountId: string = DEFAULT_ACCOUNT,
  ) {}

  private account(accountId: string): AccountCounters {
    return getOr(this.byAccount, accountId, () => ({ ops: new Map(), arrivals: new Map() }));
  }

  /** Counts one call of `op` in `region` by a caller of `accountId` (default: the lab's default account); the caller bumps throttled/failed on the answer. */
  call(region: string, op: string, accountId: string = this.defaultAccountId): OperationCounts {
    const a = this.account(accountId);
    const c = getOr(
      getOr(a.ops, region, () => new Map()),
      op,
      () => ({ calls: 0, throttled: 0, failed: 0 }),
    );
    c.calls++;
    const group = quotaGroupOf(op)?.group;
    if (group && TIMED_GROUPS.has(group)) {
      const times = getOr(
        getOr(a.arrivals, region, () => new Map()),
        group,
        () => [],
      );
      if (times.length < MAX_TIMES) times.push(this.now());
    }
    return c;
  }

  /** The accounts that made calls (sorted). */
  accounts(): string[] {
    return [...this.byAccount.keys()].sort();
  }

  /**
   * `{ [region]: { [group]: GroupRate } }` for the rate-limited groups (only the given Regions when named): every
   * account's calls, or one account's when `accountId` is given.
   */
  rates(regions?: readonly string[], accountId?: string): RegionRates {
    const merged = new Map<string, Map<string, number[][]>>();
    for (const [id, a] of this.byAccount) {
      if (accountId !== undefined && id !== accountId) continue;
      for (const [region, groups] of a.arrivals) {
        if (regions && !regions.includes(region)) continue;
        const into = getOr(merged, region, () => new Map());
        for (const [group, times] of groups) getOr(into, group, () => []).push(times);
      }
    }
    const out: RegionRates = {};
    for (const [region, groups] of merged) {
      out[region] = {};
      // One account's arrivals are already in order; several accounts' are merged and sorted.
      for (const [group, lists] of groups) out[region][group] = rateOf(lists.length === 1 ? lists[0]! : lists.flat().sort((x, y) => x - y));
    }
    return out;
  }

  /** `{ [accountId]: { [region]: { [group]: GroupRate } } }`. */
  ratesByAccount(regions?: readonly string[]): Record<string, RegionRates> {
    return Object.fromEntries(this.accounts().map((id) => [id, this.rates(regions, id)]));
  }

  /** One operation's counts in a Region: every account's, or one account's. */
  get(region: string, op: string, accountId?: string): OperationCounts {
    const sum = { calls: 0, throttled: 0, failed: 0 };
    for (const [id, a] of this.byAccount) {
      if (accountId !== undefined && id !== accountId) continue;
      const c = a.ops.get(region)?.get(op);
      if (c) addInto(sum, c);
    }
    return sum;
  }

  /** `{ [region]: { [operation]: {calls, throttled, failed} } }`: every account's calls added up, or one account's. */
  snapshot(accountId?: string): RegionCounts {
    const out: RegionCounts = {};
    for (const [id, a] of this.byAccount) {
      if (accountId !== undefined && id !== accountId) continue;
      for (const [region, ops] of a.ops) {
        const into = (out[region] ??= {});
        for (const [op, c] of ops) {
          addInto((into[op] ??= { calls: 0, throttled: 0, failed: 0 }), c);
        }
      }
    }
    return out;
  }

  /** `{ [accountId]: { [region]: { [operation]: {calls, throttled, failed} } } }`. */
  snapshotByAccount(): Record<string, RegionCounts> {
    return Object.fromEntries(this.accounts().map((id) => [id, this.snapshot(id)]));
  }

  /** Drops the counts of the given Regions (all when none given), of every account or only of the given ones. */
  reset(regions?: readonly string[], accounts?: readonly string[]): void {
    for (const [id, a] of this.byAccount) {
      if (accounts && !accounts.includes(id)) continue;
      if (!regions) this.byAccount.delete(id);
      else
        for (const r of regions) {
          a.ops.delete(r);
          a.arrivals.delete(r);
        }
    }
  }
}
