/** The lab's per-second arrival counts (`GET /_lab/counters/rate`): what the scale-out test and benchmark judge the write share by. */
import { describe, expect, it } from 'vitest';
import { CallCounters, maxInWindow } from '../../lab/counters.js';

describe('lab rate counters', () => {
  it('the busiest 1-second window is sliding, not per calendar second', () => {
    // 20 calls in the last 100 ms of one second and 20 in the first 100 ms of the next: 20 per calendar second, 40 in one window.
    const times = [...Array.from({ length: 20 }, (_, i) => 1_900 + i * 5), ...Array.from({ length: 20 }, (_, i) => 2_000 + i * 5)];
    expect(maxInWindow(times)).toEqual({ max: 40, at: 1_900 });
    expect(maxInWindow([0, 1_000, 2_000])).toEqual({ max: 1, at: 0 }); // the window is half-open
    expect(maxInWindow([])).toEqual({ max: 0, at: null });
  });

  it('counts arrivals per Region and quota group (writes, tagging; not reads), and reset drops them', () => {
    let now = 10_000;
    const c = new CallCounters(() => now);
    for (let i = 0; i < 30; i++) {
      c.call('r1', 'StopReplicationToReplica');
      c.call('r1', 'TagResource');
      c.call('r1', 'DescribeSecret');
      now += 20;
    }
    c.call('r2', 'PutSecretValue');
    const rates = c.rates();
    expect(Object.keys(rates.r1!).sort()).toEqual(['tagging', 'write']);
    expect(rates.r1!.write).toMatchObject({ calls: 30, maxPerSecond: 30, perSecond: { '10': 30 } });
    expect(c.rates(['r2'])).toEqual({ r2: { write: { calls: 1, maxPerSecond: 1, maxAt: 10_600, perSecond: { '10': 1 } } } });
    c.reset(['r1']);
    expect(Object.keys(c.rates())).toEqual(['r2']);
  });

  it("per account: each account's arrivals on their own; the per-Region view merges them in time order", () => {
    let now = 0;
    const c = new CallCounters(() => now, '123456789012');
    // Two accounts writing alternately, 10 ms apart: 30 writes in one second across both, 15 each.
    for (let i = 0; i < 30; i++) {
      c.call('r1', 'PutSecretValue', i % 2 ? '111111111111' : '222222222222');
      now += 10;
    }
    c.call('r1', 'PutSecretValue'); // the default account
    expect(c.rates(undefined, '111111111111').r1!.write).toMatchObject({ calls: 15, maxPerSecond: 15 });
    expect(c.rates().r1!.write).toMatchObject({ calls: 31, maxPerSecond: 31, maxAt: 0 });
    expect(c.accounts()).toEqual(['111111111111', '123456789012', '222222222222']);
    expect(c.get('r1', 'PutSecretValue')).toEqual({ calls: 31, throttled: 0, failed: 0 });
    expect(c.snapshotByAccount()['123456789012']).toEqual({ r1: { PutSecretValue: { calls: 1, throttled: 0, failed: 0 } } });
    c.reset(undefined, ['111111111111']);
    expect(c.get('r1', 'PutSecretValue').calls).toBe(16);
  });
});
