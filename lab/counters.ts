/** Per-Region, per-operation call counters (`GET /_lab/counters`). Never values, only counts. */

interface OperationCounts {
  calls: number;
  throttled: number;
  failed: number;
}

export class CallCounters {
  private readonly byRegion = new Map<string, Map<string, OperationCounts>>();

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
    return c;
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
    if (!regions) this.byRegion.clear();
    else for (const r of regions) this.byRegion.delete(r);
  }
}
