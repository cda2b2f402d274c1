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
 * Never more than ⌊rate⌋ writes arrive at AWS in any one second (a sliding log beside the bucket; a
 * bucket that refilled during a pause could otherwise send a second's worth on top of the next
 * second's). AWS counts arrivals, which we cannot see, and the time from taking a token to the request
 * on the wire varies by tens of ms on a busy host: so a write holds its slot in the log while in flight,
 * and from its answer on counts as having arrived at `answer − fastest recent round trip` (the latest it
 * can have arrived, if the fastest round trip was all network; before TRUSTED_ANSWERS answers, at its
 * answer); the slot frees a window after that. "Recent" is the last RECENT_ANSWERS answers, more than any
 * slot still in the log: a lifetime minimum would keep the 20 ms of a quiet hour when an incident has
 * raised every round trip to 300 ms, and hold each write's slot ~280 ms longer than the network explains
 * (15 % of the rate at 300 ± 100 ms, measured).
 *
 * One governor per Region per process, and one process writing per Region at a time: the Region's
 * activity worker runs only in the process that holds the Region's write lease (worker/region-lease.ts),
 * and `addWriteGate` lets a write through only while that lease is valid. So any number of worker
 * processes share a Region's `writeQuotaShare` without a per-process setting.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ApplicationFailure } from '@temporalio/common';
import type { DeserializeHandler, DeserializeHandlerArguments, MetadataBearer, Pluggable } from '@smithy/types';
import { ErrorType } from '../domain/errors.js';
import { REGION_WRITE_TPS } from '../domain/failover.js';
import type { WriteQuotaShareMode } from '../domain/plan.js';
import { describeAwsError, isThrottling } from './aws-errors.js';
import { activitySignal, cancelledFailure } from './cancellation.js';

/** Sends of one write at most while it is throttled (the first one included). */
export const THROTTLED_TRIES = 8;
/** After a throttle, the time the rate takes to climb back from half to the full share. */
export const RECOVERY_MS = 10_000;
/**
 * The sliding window of the write log: AWS's one second, plus 25 ms for the receiving side's own stamping
 * (a request waits for the server's event loop before it is counted: the lab on a busy 2-core host counted
 * 31 in one second at 1,000 ms). Costs 2.5 % of the rate.
 */
export const WINDOW_MS = 1_025;
/** Answers before the fastest round trip seen is trusted (see WriteGovernor.arrivedBy). */
export const TRUSTED_ANSWERS = 20;
/**
 * The fastest round trip is taken over this many latest answers: more than the log can hold (⌊rate⌋ ≤ 50 in a
 * window, plus those in flight), so every slot still in the log was answered within them.
 */
export const RECENT_ANSWERS = 128;
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

/** One write's place in the log: sent at, answered at (Infinity while in flight). */
interface Slot {
  sentAt: number;
  answeredAt: number;
}

export class WriteGovernor {
  private tokens: number;
  private last = Date.now();
  /** Rate right after the last decrease, and when that was. */
  private floorRate: number;
  private decreasedAt = 0;
  private queue: Array<(slot: Slot) => void> = [];
  /** Writes of the last WINDOW_MS and those in flight (`at` = Infinity until answered). */
  private slots: Slot[] = [];
  /** Fastest of the last RECENT_ANSWERS round trips (ms), those round trips (a ring), and how many answers in all. */
  private fastestMs = Infinity;
  private readonly recentMs: number[] = [];
  private answers = 0;
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

  /**
   * The latest a write can have arrived: its answer less the fastest recent round trip (then all network), judged
   * now; before TRUSTED_ANSWERS answers (cold connections are slow to open, the fastest is not known yet) its
   * answer itself.
   */
  private arrivedBy(s: Slot): number {
    return Math.max(s.sentAt, s.answeredAt - (this.answers >= TRUSTED_ANSWERS ? this.fastestMs : 0));
  }

  /** ms until the log has room for one more write (0: now; Infinity: every slot is in flight). */
  private windowWait(now: number): number {
    if (this.slots.length > 0) this.slots = this.slots.filter((s) => now - this.arrivedBy(s) < WINDOW_MS);
    if (this.slots.length < Math.max(1, Math.floor(this.rate))) return 0;
    return Math.min(...this.slots.map((s) => this.arrivedBy(s))) + WINDOW_MS - now;
  }

  /** The write of `slot` was answered at `now` (`roundTrip` false: refused before the wire, its time says nothing of the network). */
  private answered(slot: Slot, now: number, roundTrip = true): void {
    if (roundTrip) {
      this.recentMs[this.answers % RECENT_ANSWERS] = now - slot.sentAt;
      this.fastestMs = Math.min(...this.recentMs);
      this.answers++;
    }
    slot.answeredAt = now;
    if (this.queue.length === 0) return;
    clearTimeout(this.timer);
    this.pump();
  }

  private pump = (): void => {
    this.timer = undefined;
    this.refill();
    let windowMs = 0;
    while (this.queue.length > 0 && this.tokens >= 1 && (windowMs = this.windowWait(Date.now())) === 0) {
      this.tokens -= 1;
      const slot: Slot = { sentAt: Date.now(), answeredAt: Infinity };
      this.slots.push(slot);
      this.queue.shift()!(slot);
    }
    // All slots in flight: answered() pumps again.
    if (this.queue.length > 0 && windowMs !== Infinity) {
      const waitMs = Math.max(1, windowMs, Math.ceil(((1 - this.tokens) / this.rate) * 1000));
      this.timer = setTimeout(this.pump, waitMs);
    }
  };

  /** Resolves when this caller may send one write, with the write's slot in the log. */
  acquire(): Promise<Slot> {
    const started = Date.now();
    return new Promise((resolve) => {
      this.queue.push((slot) => {
        this.stats.waitedMs += Date.now() - started;
        observer?.waited(this.key, Date.now() - started);
        resolve(slot);
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
    const region = this.key.split(/[/@]/)[0]!; // `region`, `region/group` or `region@account`
    for (let tried = 1; ; tried++) {
      const slot = await this.acquire();
      const closed = gateClosed(region);
      if (closed) {
        slot.answeredAt = slot.sentAt; // never sent
        throw leaseLost(this.key, closed);
      }
      if (activitySignal()?.aborted) {
        slot.answeredAt = slot.sentAt; // never sent: the activity was cancelled while this write waited for its slot
        throw cancelledFailure(`${this.key}: the activity was cancelled before this write was sent`);
      }
      this.stats.sends++;
      slot.sentAt = Date.now();
      try {
        // The SDK's own attempts happen inside send(): writeGateAtSend asks the gate again before each one.
        const out = await sending.run({ region, key: this.key }, send);
        this.answered(slot, Date.now());
        this.stats.writes++;
        return out;
      } catch (err) {
        // The gate refused an SDK attempt (writeGateAtSend): no throttle (its class says "throttled" for the activities),
        // and no round trip (nothing reached the wire, or an earlier attempt's answer is not this one's).
        // An aborted write (the activity's cancellation) has no answer either: its time is not a round trip.
        const leaseLost = err instanceof ApplicationFailure && err.type === ErrorType.WriteLeaseLost;
        this.answered(slot, Date.now(), !leaseLost && describeAwsError(err).name !== 'AbortError');
        if (leaseLost) throw err;
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

/** A write refused because this process does not hold the Region's write lease (any more): retryable, on the holder. */
function leaseLost(name: string, reason: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorType.WriteLeaseLost,
    message: `${name}: not sent: ${reason}; the activity is retried on the worker that holds the Region's write lease`,
    details: [{ region: name.split('/')[0] }],
  });
}

/**
 * Per Region, the gates of this process's write leases (worker/region-lease.ts installs one per lease): each
 * answers undefined while its lease is held, else why not. A process serving several task queue prefixes (tests
 * do) holds a lease per prefix: it may write while it holds any of them, since its governor is one per Region.
 */
const gates = new Map<string, Set<() => string | undefined>>();

/** Lets writes to `region` through only while one of its gates is open (no gate: always). Returns the gate's removal. */
export function addWriteGate(region: string, gate: () => string | undefined): () => void {
  const set = gates.get(region) ?? gates.set(region, new Set()).get(region)!;
  set.add(gate);
  return () => {
    set.delete(gate);
    if (set.size === 0) gates.delete(region);
  };
}

/** How many running worker sets (worker/worker.ts) require a gate for every Region written to. */
let gatesRequired = 0;

/**
 * From now until the returned function is called, a write into a Region with no gate in this process is refused:
 * a write there (a cross-Region call through another Region's clients) would bypass the governor of the process that
 * holds that Region's lease. Quotas count in the Region called (AWS-FACTS), which is the governor's key.
 */
export function requireWriteGates(): () => void {
  gatesRequired++;
  let done = false;
  return () => {
    if (!done) gatesRequired--;
    done = true;
  };
}

/** Why this process may not write to `region` now, or undefined. */
function gateClosed(region: string): string | undefined {
  const set = gates.get(region);
  if (!set) {
    return gatesRequired > 0
      ? `this worker process serves no write lease of ${region} (a write there would bypass the governor of the process that holds it); give this worker ${region} among its Regions`
      : undefined;
  }
  let reason: string | undefined;
  for (const gate of set) {
    const r = gate();
    if (r === undefined) return undefined;
    reason ??= r;
  }
  return reason;
}

/** The write being sent now (set by WriteGovernor.write around its send): which Region's gate the SDK's attempts ask. */
const sending = new AsyncLocalStorage<{ region: string; key: string }>();

/**
 * SDK middleware for every AWS client of a worker (worker/aws-clients.ts): right before each attempt of a governed
 * write goes on the wire (innermost, after the SDK's retry and signing), the Region's gate is asked again. So an SDK
 * retry, or a process paused between the governor's check and the send (SIGSTOP, a long GC pause), sends nothing
 * once its write lease has closed: the attempt fails with WriteLeaseLost instead. Reads (no governed write) pass.
 */
export const writeGateAtSend: Pluggable<object, MetadataBearer> = {
  applyToStack(stack) {
    stack.add(
      (next: DeserializeHandler<object, MetadataBearer>) => async (args: DeserializeHandlerArguments<object>) => {
        const w = sending.getStore();
        const closed = w && gateClosed(w.region);
        if (w && closed) throw leaseLost(w.key, `${closed} (checked at the SDK's attempt)`);
        return next(args);
      },
      { step: 'deserialize', priority: 'low', name: 'secretsDrWriteGate' },
    );
  },
};

const governors = new Map<string, WriteGovernor>();

/**
 * The process-wide governor of a Region (or `<region>/<quota group>`), at `share` of its 50 TPS write quota.
 * `mode: 'auto'` (the plan's `writeQuotaShare: auto`, `share` then being its cap): start at the cap, back off on
 * throttling, climb back slowly (AIMD), never above the cap. The governor stays the one throttling layer. No mode (a
 * caller that does not carry the plan's): the governor keeps the mode it has (fixed when new), never resets an auto one.
 */
export function writeGovernor(region: string, share: number, mode?: WriteQuotaShareMode): WriteGovernor {
  const rate = Math.max(1, share * REGION_WRITE_TPS);
  const adaptive = mode === undefined ? undefined : mode === 'auto';
  let g = governors.get(region);
  if (!g) {
    g = new WriteGovernor(rate, region, { adaptive: adaptive ?? false });
    governors.set(region, g);
  } else {
    g.setRate(rate, adaptive === undefined ? {} : { adaptive });
  }
  return g;
}
