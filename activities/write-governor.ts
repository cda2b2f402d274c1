/**
 * The write governor (DESIGN.md invariant 5): every Secrets Manager write of this worker process in
 * one Region passes through one token bucket, at `writeQuotaShare` × 50 TPS, so the orchestrator
 * leaves the rest of the Region's shared write quota to the applications.
 *
 * It is THE throttling retry layer (one layer per kind of failure):
 * - the AWS SDK clients never retry throttling (worker/sdk-retry.ts); they retry only calls that got
 *   no answer (network error, timeout, 5xx);
 * - on ThrottlingException (someone else is using the quota) the governor halves its rate (at most once
 *   a second, so one burst of parallel refusals counts once), climbs back linearly over RECOVERY_MS, and
 *   sends the call again after a jittered exponential backoff: at most THROTTLED_TRIES sends per write;
 * - a write still throttled after that fails with `ErrorType.WriteThrottled`, retryable but with
 *   `nextRetryDelay` = RECOVERY_MS: Temporal's activity retry does not repeat the governor's quick
 *   backoff, it comes back once the rate has had time to recover (the batch activities resume from
 *   their heartbeat). Activities never retry throttling by themselves.
 * One governor per Region per process: run one worker process per Region (the default), or set
 * SECRETS_DR_WRITERS_PER_REGION (worker/config.ts) so that each of N processes takes 1/N of the share.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../domain/errors.js';
import { REGION_WRITE_TPS } from '../domain/failover.js';
import type { WriteQuotaShareMode } from '../domain/plan.js';
import { describeAwsError, isThrottling } from './aws-errors.js';

/** Sends of one write at most while it is throttled (the first one included). */
export const THROTTLED_TRIES = 8;
/** After a throttle, the time the rate takes to climb back from half to the full share. */
export const RECOVERY_MS = 10_000;
/**
 * `writeQuotaShare: auto` (additive increase): after a throttle the rate climbs back by this share of the cap
 * per second, not in RECOVERY_MS: at a 45/s cap, +0.45/s each second, so the probe above what the applications
 * leave is gentle and the next throttle (which they may share) comes many seconds later, not at once.
 */
export const AUTO_INCREASE_PER_S = 0.01;
/**
 * `writeQuotaShare: auto` (multiplicative decrease): a throttle (at most one a second) takes the rate to this
 * share of itself. 0.7 rather than fixed mode's 0.5: with the slow climb, halving would leave the bucket idle
 * for long. Chosen on a model of the bucket (50/s, burst 50) with an application at 20/s: 0.5/2 % cost the
 * application 1.4 % of its calls, 0.7/1 % 0.2 %, both at the rate left to us.
 */
export const AUTO_DECREASE = 0.7;
/** Backoff before the n-th resend (n ≥ 1): 100 ms × 2^(n-1), at most 5 s, jittered to 50–100 %. */
export const backoffMs = (n: number, random = Math.random()) => Math.min(5_000, 100 * 2 ** (n - 1)) * (0.5 + random / 2);

interface GovernorOptions {
  /** Sends of one write at most while throttled (default THROTTLED_TRIES). */
  tries?: number;
  /** Jitter source in [0, 1) (tests). */
  random?: () => number;
  /** `writeQuotaShare: auto`: the rate is a cap; after a throttle it climbs back slowly (AUTO_INCREASE_PER_S). */
  adaptive?: boolean;
}

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
  /** Rate right after the last decrease, and when that was. */
  private floorRate: number;
  private decreasedAt = 0;
  private queue: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly tries: number;
  private readonly random: () => number;
  private adaptive: boolean;
  /** Counters for reports, benchmarks and tests: `sends` counts every call sent, `throttled` every refusal. */
  readonly stats = { writes: 0, sends: 0, throttled: 0, waitedMs: 0 };

  constructor(
    private ratePerSecond: number,
    /** `region` or `region/bucket`: names the governor in errors and metrics. */
    readonly key = 'writes',
    options: GovernorOptions = {},
  ) {
    this.tokens = Math.min(1, ratePerSecond);
    this.floorRate = ratePerSecond;
    this.tries = Math.max(1, options.tries ?? THROTTLED_TRIES);
    this.random = options.random ?? Math.random;
    this.adaptive = options.adaptive ?? false;
  }

  /**
   * The current rate: the share (the cap in adaptive mode), or after a throttle climbing back linearly from the
   * decreased rate: to the share within RECOVERY_MS (fixed), by AUTO_INCREASE_PER_S of the cap a second (adaptive).
   */
  get rate(): number {
    if (this.floorRate >= this.ratePerSecond) return this.ratePerSecond;
    const elapsed = Date.now() - this.decreasedAt;
    const climbed = this.adaptive
      ? this.floorRate + (elapsed / 1_000) * AUTO_INCREASE_PER_S * this.ratePerSecond
      : this.floorRate + (elapsed / RECOVERY_MS) * (this.ratePerSecond / 2);
    return Math.min(this.ratePerSecond, climbed);
  }

  /** Whether the rate adapts (`writeQuotaShare: auto`): the rate is then its cap. */
  get isAdaptive(): boolean {
    return this.adaptive;
  }

  /** A new share (or cap); a backoff in progress is kept, below the new rate. `adaptive` switches the climb. */
  setRate(ratePerSecond: number, options: { adaptive?: boolean } = {}): void {
    this.ratePerSecond = ratePerSecond;
    this.floorRate = Math.min(this.floorRate, ratePerSecond);
    if (options.adaptive !== undefined) this.adaptive = options.adaptive;
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

  /** Another writer is using the quota: halve the rate (adaptive: × AUTO_DECREASE), once per second at most, and empty the bucket. */
  onThrottle(): void {
    this.stats.throttled++;
    observer?.throttled(this.key);
    const now = Date.now();
    if (now - this.decreasedAt >= 1_000) {
      this.floorRate = Math.max(1, this.rate * (this.adaptive ? AUTO_DECREASE : 0.5));
      this.decreasedAt = now;
    }
    this.tokens = Math.min(this.tokens, 0);
  }

  /** Sends one write through the bucket; throttling is absorbed here (see the module comment), nowhere else. */
  async write<T>(send: () => Promise<T>): Promise<T> {
    for (let tried = 1; ; tried++) {
      await this.acquire();
      this.stats.sends++;
      try {
        const out = await send();
        this.stats.writes++;
        return out;
      } catch (err) {
        if (!isThrottling(err)) throw err;
        this.onThrottle();
        if (tried >= this.tries) throw throttledFailure(err, this.key, tried);
        await new Promise((r) => setTimeout(r, backoffMs(tried, this.random())));
      }
    }
  }
}

/** A write the governor gave up on: typed, retryable only after RECOVERY_MS (the AWS error's name kept for classifiers). */
function throttledFailure(err: unknown, name: string, tries: number): ApplicationFailure {
  const info = describeAwsError(err);
  return ApplicationFailure.create({
    type: ErrorType.WriteThrottled,
    message: `${name}: still throttled after ${tries} tries (${info.name}: ${info.message}); the write quota is used by someone else`,
    details: [{ region: name.split('/')[0], awsError: info.name }],
    nextRetryDelay: RECOVERY_MS,
  });
}

const governors = new Map<string, WriteGovernor>();
let writersPerRegion = 1;

/** Worker processes sharing each Region's write share (worker/config.ts SECRETS_DR_WRITERS_PER_REGION). */
export function setWritersPerRegion(writers: number): void {
  writersPerRegion = Math.max(1, Math.floor(writers));
}

/**
 * The process-wide governor of a Region (or `<region>/<quota group>`), at `share` of its 50 TPS write quota.
 * `mode: 'auto'` (the plan's `writeQuotaShare: auto`, `share` then being its cap): start at the cap, halve on
 * throttling, climb back slowly (AIMD), never above the cap. The governor stays the one throttling layer.
 */
export function writeGovernor(region: string, share: number, mode: WriteQuotaShareMode = 'fixed'): WriteGovernor {
  const rate = Math.max(1, (share * REGION_WRITE_TPS) / writersPerRegion);
  const adaptive = mode === 'auto';
  let g = governors.get(region);
  if (!g) {
    g = new WriteGovernor(rate, region, { adaptive });
    governors.set(region, g);
  } else {
    g.setRate(rate, { adaptive });
  }
  return g;
}
