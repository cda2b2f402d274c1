import { describe, expect, it } from 'vitest';
import { pool } from '../../activities/pool.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pool (an activity’s per-secret lanes)', () => {
  it('keeps the items’ order and never has more than `limit` in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await pool([5, 1, 4, 2, 3, 0], 3, async (x) => {
      most = Math.max(most, ++inFlight);
      await tick(x * 3);
      inFlight--;
      return x * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(most).toBe(3);
  });

  it('starts no further item once one has failed: a retry of the activity does not meet this attempt still working', async () => {
    const started: number[] = [];
    const items = Array.from({ length: 50 }, (_, i) => i);
    const run = pool(items, 4, async (i) => {
      started.push(i);
      await tick(5);
      if (i === 5) throw new Error('Region unreachable');
      return i;
    });
    await expect(run).rejects.toThrow('Region unreachable');
    const atFailure = started.length;
    await tick(100); // the lanes in flight at the failure end; none takes another item
    expect(started.length).toBe(atFailure);
    expect(started.length).toBeLessThanOrEqual(4 + 5); // items 0..5, plus at most the 3 other lanes' items in flight
    expect(started).not.toContain(20);
  });

  it('beat: false leaves the heartbeat to the caller (a resumable batch heartbeats its own progress)', async () => {
    // Outside an activity, Temporal's heartbeat() throws: 45 items pass the 20th and 40th without one.
    const items = Array.from({ length: 45 }, (_, i) => i);
    await expect(pool(items, 4, async (i) => i, { beat: false })).resolves.toHaveLength(45);
    await expect(pool(items, 4, async (i) => i)).rejects.toThrow();
  });
});
