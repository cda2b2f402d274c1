/**
 * The write governor, alone (fake timers, fake sends): its token bucket keeps to the share, it is the one
 * layer that retries throttling (adaptive rate, bounded tries), and it gives up with a typed, delayed failure.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain/errors.js';
import { REGION_WRITE_TPS } from '../../domain/failover.js';
import {
  AUTO_DECREASE,
  AUTO_INCREASE_PER_S,
  backoffMs,
  RECOVERY_MS,
  RECENT_ANSWERS,
  addWriteGate,
  THROTTLED_TRIES,
  TRUSTED_ANSWERS,
  WINDOW_MS,
  WriteGovernor,
  writeGovernor,
} from '../../activities/write-governor.js';

const throttling = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
const denied = () => Object.assign(new Error('not allowed'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });

/** A fake write that refuses its first `throttled` sends, and records when each send happened. */
function fakeWrite(throttled: number) {
  const sentAt: number[] = [];
  return {
    sentAt,
    send: async () => {
      sentAt.push(Date.now());
      if (sentAt.length <= throttled) throw throttling();
      return 'ok';
    },
  };
}

/**
 * A governor at 2/s whose writes take `ms` each, and the time each was sent: `run(count, ms)` sends and awaits them;
 * `windowGap()` fills the log with two 2-s writes and returns how long after the first the third one went (a window
 * after the first counts as arrived: its answer less the fastest recent round trip).
 */
function twoPerSecond() {
  const g = new WriteGovernor(2);
  const sentAt: number[] = [];
  const slow = (ms: number) => () => {
    sentAt.push(Date.now());
    return new Promise<void>((r) => setTimeout(r, ms));
  };
  const settle = async <T>(writes: Promise<T>[]) => {
    await vi.runAllTimersAsync();
    return Promise.all(writes);
  };
  return {
    g,
    run: (count: number, ms: number) => settle(Array.from({ length: count }, () => g.write(slow(ms)))),
    windowGap: async () => {
      sentAt.length = 0;
      await settle([g.write(slow(2_000)), g.write(slow(2_000)), g.write(slow(10))]);
      return sentAt[2]! - sentAt[0]!;
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('token bucket and share', () => {
  it('sends at most its rate: 31 writes at 10/s take 3 s, the first at once', async () => {
    const g = new WriteGovernor(10);
    const sentAt: number[] = [];
    const all = Promise.all(Array.from({ length: 31 }, () => g.write(async () => sentAt.push(Date.now()))));
    await vi.runAllTimersAsync();
    await all;
    expect(sentAt[0]).toBe(1_000_000);
    expect(sentAt[30]! - sentAt[0]!).toBeGreaterThanOrEqual(2_990);
    expect(sentAt[30]! - sentAt[0]!).toBeLessThanOrEqual(3_100);
    // Never more than the rate (+ the one-second burst of 1 token at start) in any one second.
    for (const t of sentAt) expect(sentAt.filter((u) => u >= t && u < t + 1_000).length).toBeLessThanOrEqual(11);
    expect(g.stats).toMatchObject({ writes: 31, sends: 31, throttled: 0 });
  });

  it('a Region governor runs at writeQuotaShare × 50 TPS, never below 1/s, one per Region per process', () => {
    expect(writeGovernor('gov-test-1', 0.6).rate).toBe(0.6 * REGION_WRITE_TPS);
    expect(writeGovernor('gov-test-1', 0.2).rate).toBe(10); // the same governor, its rate updated
    expect(writeGovernor('gov-test-2', 0.01).rate).toBe(1);
    expect(writeGovernor('gov-test-1', 0.6)).toBe(writeGovernor('gov-test-1', 0.6));
  });

  it('never more than the rate in any window, even after a pause that refilled the bucket', async () => {
    const g = new WriteGovernor(10);
    const sentAt: number[] = [];
    const burst = (n: number) => Promise.all(Array.from({ length: n }, () => g.write(async () => sentAt.push(Date.now()))));
    const first = burst(15);
    await vi.runAllTimersAsync();
    await first;
    await vi.advanceTimersByTimeAsync(900); // the bucket refills to a full second's worth
    const second = burst(25);
    await vi.runAllTimersAsync();
    await second;
    expect(sentAt).toHaveLength(40);
    for (const t of sentAt) expect(sentAt.filter((u) => u >= t && u < t + WINDOW_MS).length).toBeLessThanOrEqual(10);
  });

  it('a write in flight holds its slot; answered, it counts as arrived at its answer (cold) or answer − fastest round trip (warm)', async () => {
    const g = new WriteGovernor(2);
    const sentAt: number[] = [];
    const slow = (ms: number) => () => {
      sentAt.push(Date.now() - 1_000_000);
      return new Promise<void>((r) => setTimeout(r, ms));
    };
    // Cold (fewer than TRUSTED_ANSWERS answers): the first two take 5 s to answer; the third waits for the
    // first's answer and a window after it (5,000 + WINDOW_MS), the fourth for the second's (5,500 + WINDOW_MS).
    const cold = [g.write(slow(5_000)), g.write(slow(5_000)), g.write(slow(10)), g.write(slow(10))];
    await vi.advanceTimersByTimeAsync(3_000);
    expect(sentAt).toEqual([0, 500]);
    await vi.runAllTimersAsync();
    await Promise.all(cold);
    expect(sentAt).toEqual([0, 500, 5_000 + WINDOW_MS, 5_500 + WINDOW_MS]);
    // Warm: after TRUSTED_ANSWERS answers with a fastest round trip of 10 ms, a write answered after 2 s counts
    // as arrived 10 ms before its answer.
    const warm = Array.from({ length: TRUSTED_ANSWERS }, () => g.write(slow(10)));
    await vi.runAllTimersAsync();
    await Promise.all(warm);
    sentAt.length = 0;
    const t0 = Date.now() - 1_000_000;
    const last = [g.write(slow(2_000)), g.write(slow(2_000)), g.write(slow(10))];
    await vi.runAllTimersAsync();
    await Promise.all(last);
    expect(sentAt.map((t) => t - t0)).toEqual([sentAt[0]! - t0, sentAt[0]! - t0 + 500, sentAt[0]! - t0 + 2_000 + WINDOW_MS - 10]);
  });

  it('the fastest round trip is the recent one: once round trips have risen (an incident), a slot is held for the new network time, not the old', async () => {
    const { run, windowGap } = twoPerSecond();
    // A quiet hour: 10 ms round trips. Then the incident: RECENT_ANSWERS round trips of 300 ms.
    await run(TRUSTED_ANSWERS, 10);
    await run(RECENT_ANSWERS, 300);
    // The first write counts as arrived at its answer less 300 ms (a lifetime minimum would say 10 ms, and send the
    // third 290 ms later than the network explains).
    expect(await windowGap()).toBe(2_000 + WINDOW_MS - 300);
  });

  it('a write the gate refused at the send (WriteLeaseLost before the wire) is no round trip: the fastest one stays what the network showed', async () => {
    const { g, run, windowGap } = twoPerSecond();
    await run(TRUSTED_ANSWERS, 100);
    const refused = g
      .write(async () => {
        throw ApplicationFailure.create({ type: ErrorType.WriteLeaseLost, message: 'lease closed (checked at the SDK attempt)' });
      })
      .catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect(await refused).toMatchObject({ type: ErrorType.WriteLeaseLost });
    // Counted as a 0-ms round trip, the refusal would have held the slot until the answer itself (+ 100 ms).
    expect(await windowGap()).toBe(2_000 + WINDOW_MS - 100);
  });

  it("a write goes out only while the Region's gate is open (the write lease): refused with WriteLeaseLost, nothing sent", async () => {
    let reason: string | undefined = 'this worker process does not hold the write lease of gate-test';
    const remove = addWriteGate('gate-test', () => reason);
    try {
      const g = new WriteGovernor(10, 'gate-test/tagging');
      let sent = 0;
      const refused = g.write(async () => sent++).catch((e: unknown) => e);
      await vi.runAllTimersAsync();
      expect(await refused).toMatchObject({ type: 'WriteLeaseLost', message: expect.stringMatching(/gate-test\/tagging: not sent: .*write lease/) });
      reason = undefined;
      const ok = g.write(async () => ++sent);
      await vi.runAllTimersAsync();
      expect([await ok, sent, g.stats.sends]).toEqual([1, 1, 1]);
    } finally {
      remove();
    }
  });

  it('a process holding several leases of a Region (one per task queue prefix) may write while any of them is held', async () => {
    const held = { a: false, b: true };
    const removeA = addWriteGate('gates-test', () => (held.a ? undefined : 'lease a not held'));
    const removeB = addWriteGate('gates-test', () => (held.b ? undefined : 'lease b not held'));
    try {
      const g = new WriteGovernor(10, 'gates-test');
      const sent = g.write(async () => 'sent');
      await vi.runAllTimersAsync();
      expect(await sent).toBe('sent');
      held.b = false;
      const refused = g.write(async () => 'sent').catch((e: unknown) => e);
      await vi.runAllTimersAsync();
      expect(await refused).toMatchObject({ type: 'WriteLeaseLost', message: expect.stringMatching(/lease a not held/) });
    } finally {
      removeA();
      removeB();
    }
  });
});

describe('throttling: the one retry layer', () => {
  it('a write throttled twice is sent three times, after jittered exponential backoffs, and succeeds', async () => {
    const g = new WriteGovernor(30, 'r1', { random: () => 0.5 });
    const w = fakeWrite(2);
    const out = g.write(w.send);
    await vi.runAllTimersAsync();
    await expect(out).resolves.toBe('ok');
    expect(w.sentAt).toHaveLength(3);
    // Backoff 1 and 2 at 75 % (random 0.5), plus the bucket's wait after a throttle emptied it.
    expect(w.sentAt[1]! - w.sentAt[0]!).toBeGreaterThanOrEqual(backoffMs(1, 0.5));
    expect(w.sentAt[2]! - w.sentAt[1]!).toBeGreaterThanOrEqual(backoffMs(2, 0.5));
    expect(g.stats).toMatchObject({ writes: 1, sends: 3, throttled: 2 });
  });

  it(`a write throttled every time is sent exactly ${THROTTLED_TRIES} times, then fails with a retryable WriteThrottled delayed by ${RECOVERY_MS} ms`, async () => {
    const g = new WriteGovernor(30, 'ap-northeast-3/tagging');
    const w = fakeWrite(Number.POSITIVE_INFINITY);
    const out = g.write(w.send).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    const err = await out;
    expect(w.sentAt).toHaveLength(THROTTLED_TRIES);
    expect(err).toBeInstanceOf(ApplicationFailure);
    const f = err as ApplicationFailure;
    expect(f.type).toBe(ErrorType.WriteThrottled);
    expect(f.nonRetryable).toBe(false);
    expect(f.nextRetryDelay).toBe(RECOVERY_MS);
    expect(f.message).toMatch(/ap-northeast-3\/tagging: still throttled after 8 tries \(ThrottlingException: Rate exceeded\)/);
    expect(f.details).toEqual([{ region: 'ap-northeast-3', awsError: 'ThrottlingException' }]);
  });

  it('any other error is not retried: one send, the error as is', async () => {
    const g = new WriteGovernor(30);
    let sends = 0;
    const out = g.write(async () => {
      sends++;
      throw denied();
    });
    await expect(out).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(sends).toBe(1);
  });

  it('adapts: a throttle halves the rate (once per second however many refusals), which climbs back to the share within RECOVERY_MS', async () => {
    const g = new WriteGovernor(30);
    g.onThrottle();
    g.onThrottle(); // the same burst: counted, not halved again
    expect(g.rate).toBe(15);
    expect(g.stats.throttled).toBe(2);
    vi.advanceTimersByTime(RECOVERY_MS / 2);
    expect(g.rate).toBeCloseTo(22.5);
    g.onThrottle(); // a second later: halved again, from where it had climbed
    expect(g.rate).toBeCloseTo(11.25);
    vi.advanceTimersByTime(2 * RECOVERY_MS);
    expect(g.rate).toBe(30);
  });

  it('backoff grows 100 ms × 2^(n-1) up to 5 s, jittered to 50–100 %', () => {
    expect([1, 2, 3, 7, 8].map((n) => backoffMs(n, 1))).toEqual([100, 200, 400, 5_000, 5_000]);
    expect(backoffMs(3, 0)).toBe(200);
  });
});

describe('writeQuotaShare: auto (adaptive, capped by the plan)', () => {
  it('starts at the cap, decreases by AUTO_DECREASE on a throttle (once a second), climbs back by AUTO_INCREASE_PER_S of the cap a second, never above it', () => {
    const g = new WriteGovernor(45, 'r-auto', { adaptive: true });
    expect(g.rate).toBe(45);
    g.onThrottle();
    g.onThrottle(); // the same burst of refusals: one decrease
    expect(g.rate).toBeCloseTo(45 * AUTO_DECREASE);
    vi.advanceTimersByTime(5_000);
    expect(g.rate).toBeCloseTo(45 * AUTO_DECREASE + 5 * AUTO_INCREASE_PER_S * 45);
    vi.advanceTimersByTime(200_000);
    expect(g.rate).toBe(45);
  });

  it('climbs back more slowly than a fixed share, so the applications are probed gently', () => {
    const fixed = new WriteGovernor(45);
    const auto = new WriteGovernor(45, 'r', { adaptive: true });
    fixed.onThrottle();
    auto.onThrottle();
    vi.advanceTimersByTime(RECOVERY_MS);
    expect(fixed.rate).toBe(45); // fixed: back at the share within RECOVERY_MS
    expect(auto.rate).toBeLessThan(40); // auto: still probing its way up
  });

  it('against a bucket that has 30 writes/s left (50 TPS, an application at 20/s), settles near 30/s instead of its 45/s cap', async () => {
    // The Region's bucket: 50 tokens/s, burst 50; the application takes 20/s of it.
    let tokens = 50;
    let last = Date.now();
    const take = () => {
      const now = Date.now();
      tokens = Math.min(50, tokens + ((now - last) / 1_000) * 30); // 50/s minus the application's 20/s
      last = now;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    };
    const g = new WriteGovernor(45, 'r-bucket', { adaptive: true, random: () => 0.5 });
    const sentAt: number[] = [];
    const send = async () => {
      if (!take()) throw throttling();
      sentAt.push(Date.now());
    };
    const all = Promise.all(Array.from({ length: 1_800 }, () => g.write(send)));
    await vi.runAllTimersAsync();
    await all;
    const seconds = (sentAt.at(-1)! - sentAt[0]!) / 1_000;
    // 1,800 writes at 30/s take 60 s (+ the bucket's 50 in reserve): within 15 % of it, and never faster than the bucket allows.
    expect(seconds).toBeGreaterThan((1_800 - 50) / 30 - 1);
    expect(seconds).toBeLessThan(1.15 * (1_800 / 30));
    // Refused sends stay a small fraction of all sends (each costs the applications a share of the bucket too).
    expect(g.stats.throttled / g.stats.sends).toBeLessThan(0.05);
  });

  it('a Region governor in auto mode: writeGovernor(region, cap, "auto") runs at the cap and adapts; fixed switches it back', () => {
    const g = writeGovernor('gov-auto-1', 0.9, 'auto');
    expect(g.rate).toBe(0.9 * REGION_WRITE_TPS);
    expect(g.isAdaptive).toBe(true);
    // A caller without the plan's mode keeps the governor's mode (it never resets an auto plan's governor to fixed).
    expect(writeGovernor('gov-auto-1', 0.9).isAdaptive).toBe(true);
    expect(writeGovernor('gov-auto-1', 0.6, 'fixed').isAdaptive).toBe(false);
    expect(writeGovernor('gov-auto-1', 0.6).rate).toBe(30);
  });
});
