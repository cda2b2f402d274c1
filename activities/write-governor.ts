/**
 * The write governor (DESIGN.md invariant 5): every Secrets Manager write of this worker process in
 * one Region passes through one token bucket, at `writeQuotaShare` × 50 TPS, so the orchestrator
 * leaves the rest of the Region's shared write quota to the applications. On ThrottlingException
 * (someone else is using the quota) it halves its rate for a while and retries the call with
 * jittered backoff, then climbs back.
 * One governor per Region per process: run one worker process per Region (the default), or set
 * SECRETS_DR_WRITERS_PER_REGION so that each of N processes takes 1/N of the share.
 */
import { isThrottling } from './aws-errors.js';

export const REGION_WRITE_TPS = 50;

/** Who hears of each wait and throttle (the worker's metrics); the key is the governor's (`region` or `region/bucket`). */
export interface GovernorObserver {
  waited(key: string, ms: number): void;
  throttled(key: string): void;
}
let observer: GovernorObserver | undefined;
export function observeGovernors(o: GovernorObserver | undefined): void {
  observer = o;
}

export class WriteGovernor {
  private tokens: number;
  private last = Date.now();
  private penaltyUntil = 0;
  private queue: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  /** Counters for reports and benchmarks. */
  readonly stats = { writes: 0, throttled: 0, waitedMs: 0 };

  constructor(
    private ratePerSecond: number,
    readonly key = '',
  ) {
    this.tokens = Math.min(1, ratePerSecond);
  }

  get rate(): number {
    return Date.now() < this.penaltyUntil ? Math.max(1, this.ratePerSecond / 2) : this.ratePerSecond;
  }

  setRate(ratePerSecond: number): void {
    this.ratePerSecond = ratePerSecond;
  }

  private refill(): void {
    const now = Date.now();
    // Burst of at most one second's worth, so a quiet period cannot turn into a spike.
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  private pump = (): void => {
    this.timer = undefined;
    this.refill();
    while (this.queue.length > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      this.queue.shift()!();
    }
    if (this.queue.length > 0) {
      const waitMs = Math.max(1, Math.ceil(((1 - this.tokens) / this.rate) * 1000));
      this.timer = setTimeout(this.pump, waitMs);
    }
  };

  /** Resolves when this caller may send one write. */
  acquire(): Promise<void> {
    const started = Date.now();
    return new Promise((resolve) => {
      this.queue.push(() => {
        this.stats.waitedMs += Date.now() - started;
        observer?.waited(this.key, Date.now() - started);
        resolve();
      });
      if (!this.timer) this.pump();
    });
  }

  /** Another writer is using the quota: slow down for 10 s. */
  onThrottle(): void {
    this.stats.throttled++;
    observer?.throttled(this.key);
    this.penaltyUntil = Date.now() + 10_000;
    this.tokens = Math.min(this.tokens, 0);
  }

  /** Sends one write through the bucket; throttling is absorbed with backoff (up to `maxThrottleRetries`). */
  async write<T>(send: () => Promise<T>, maxThrottleRetries = 8): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await this.acquire();
      try {
        const out = await send();
        this.stats.writes++;
        return out;
      } catch (err) {
        if (!isThrottling(err) || attempt >= maxThrottleRetries) throw err;
        this.onThrottle();
        const backoff = Math.min(5_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
        await new Promise((r) => setTimeout(r, backoff));
      }
    }
  }
}

const governors = new Map<string, WriteGovernor>();

/** The process-wide governor of a Region, at `share` of the Region's 50 TPS write quota. */
export function writeGovernor(region: string, share: number): WriteGovernor {
  const writers = Math.max(1, Number(process.env.SECRETS_DR_WRITERS_PER_REGION ?? 1) || 1);
  const rate = Math.max(1, (share * REGION_WRITE_TPS) / writers);
  let g = governors.get(region);
  if (!g) {
    g = new WriteGovernor(rate, region);
    governors.set(region, g);
  } else {
    g.setRate(rate);
  }
  return g;
}
