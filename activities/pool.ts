/**
 * A bounded pool for an activity's per-secret work.
 */
import { heartbeat } from '@temporalio/activity';

/**
 * Runs `fn` over `items` with at most `limit` in flight, heartbeating as it goes; results in the items'
 * order. Once a call has failed no further item is started (those in flight end on their own): the
 * activity has failed, and its retry must not meet this attempt's lanes still working down the list.
 */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
  /** `beat: false`: the caller heartbeats its own details (a resumable batch's progress), which `{ done }` would replace. */
  opts: { beat?: boolean } = {},
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  let failed = false;
  const run = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!);
      } catch (err) {
        failed = true;
        throw err;
      }
      if (++done % 20 === 0 && opts.beat !== false) heartbeat({ done });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, run));
  return out;
}
