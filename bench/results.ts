/**
 * Where a benchmark writes its JSON: bench/results/<name>.json, or bench/results/quick/ when run
 * by `bench/run.js --quick` (small N: proves the suite works; its figures are not the README's).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Set by `bench/run.js --quick`: targets stated at full N are reported, not enforced. */
export const QUICK = process.env.SECRETS_DR_BENCH_QUICK === '1';

export function writeResult(name: string, result: unknown): string {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results');
  const out = resolve(QUICK ? resolve(root, 'quick') : root, `${name}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  return out;
}
