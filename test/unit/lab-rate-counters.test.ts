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
});
