/**
 * Chaos helpers: seeds (CHAOS_SEEDS="1,2,3,4,5" for the full set; `npm test` runs the reduced
 * default), a seeded PRNG, and a worker spawned from the built CLI (`dist/`) that a test can
 * SIGKILL and replace.
 */

/** The seeds of this run: `CHAOS_SEEDS` (comma-separated integers), else `fallback`. */
export function chaosSeeds(fallback: number[]): number[] {
  const raw = process.env.CHAOS_SEEDS?.trim();
  if (!raw) return fallback;
  const seeds = raw.split(',').map((s) => Number(s.trim()));
  if (seeds.some((s) => !Number.isInteger(s))) throw new Error(`CHAOS_SEEDS must be comma-separated integers, got "${raw}"`);
  return seeds;
}

/** mulberry32: a small deterministic PRNG; `next()` in [0, 1). */
export function prng(seed: number): { next(): number; int(lo: number, hi: number): number } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) };
}

export { CLI_BIN, CLI_RUN, requireBuilt, spawnWorker, type SpawnedWorker } from './worker-process.js';
