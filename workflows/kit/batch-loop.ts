/**
 * The one pausable, cancellable batch loop (failover chunks and batches, failback chunks, setup
 * batches): `inFlight` lanes take the next batch in order; before starting a batch a lane waits
 * while paused, and once cancel is requested every batch not started yet is skipped (`skip` says
 * what it yields). What a started batch does stays done. Results come back in batch order.
 * This is the only place pause and cancel are enforced.
 */
import { condition } from '@temporalio/workflow';

/** What the loop reads between batches (a machine's context has both fields). */
export interface ControlState {
  readonly paused: boolean;
  readonly cancelRequested: boolean;
}

const NO_CONTROL: ControlState = { paused: false, cancelRequested: false };

interface BatchLoop<T, R> {
  batches: readonly T[];
  /** Batches running at once (≥ 1). */
  inFlight: number;
  /** Read before each batch; absent: never paused, never cancelled. */
  control?: () => ControlState;
  run: (batch: T, index: number) => Promise<R>;
  /** What a batch skipped by cancel yields; absent: cancel does not apply to this loop. */
  skip?: (batch: T, index: number) => R;
}

/** How the loop waits (Temporal's `condition` in a workflow; a test may pass its own). */
export type Wait = (ready: () => boolean) => Promise<unknown>;

export async function runBatches<T, R>(loop: BatchLoop<T, R>, wait: Wait = condition): Promise<R[]> {
  const control = loop.control ?? (() => NO_CONTROL);
  const out: R[] = new Array<R>(loop.batches.length);
  let next = 0;
  const lane = async () => {
    while (next < loop.batches.length) {
      const k = next++;
      const batch = loop.batches[k]!;
      if (loop.skip) {
        await wait(() => !control().paused || control().cancelRequested);
        if (control().cancelRequested) {
          out[k] = loop.skip(batch, k);
          continue;
        }
      } else await wait(() => !control().paused);
      out[k] = await loop.run(batch, k);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(loop.inFlight, loop.batches.length)) }, lane));
  return out;
}

/** Splits `items` into slices of `size` (the last one shorter). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Slices of `size` for two batches in flight, the first one half as long when there are more than two: the two
 * running batches then end half a batch apart, never together. Batches that start together run at the same
 * (governed) pace and reach their tails together, and a batch's tail (its last secrets' read-back, lineage and tag,
 * then the next batch's start and first reads) sends no write: with every running batch there at once, the Region's
 * writes stopped for up to 2 s at 300 ms of latency, about every 400 secrets.
 */
export function staggeredChunk<T>(items: readonly T[], size: number): T[][] {
  if (items.length <= 2 * size) return chunk(items, size);
  const half = Math.ceil(size / 2);
  return [items.slice(0, half), ...chunk(items.slice(half), size)];
}
