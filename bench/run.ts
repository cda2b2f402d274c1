/**
 * `npm run bench`: runs every benchmark (each prints its figure as a ratio against a bound or a
 * baseline measured in the same run, and writes JSON under bench/results/), one after the other so
 * they do not compete for the 2 cores. Arguments are passed through (e.g. `-- --n 2000`): every
 * `*.bench.js` reads `--n`. Each benchmark exits non-zero when a target stated at that N fails (the
 * lab's ≥ 2,000 req/s, the failover's 1.15 × bound, the applications' ≤ 1 % throttled, tier0's
 * 100/(share×50)+5 s, ...), and so does this runner, naming them.
 *
 * `--quick`: small N for each benchmark (a few minutes in all), to prove the suite works; the
 * figures go to bench/results/quick/ (labelled with their N) and are not the README's; targets
 * stated at full N are printed there, not enforced.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const QUICK: Record<string, string[]> = {
  'lab-throughput.js': ['--seconds', '2'],
  'failover.bench.js': ['--n', '300', '--baseline-n', '100'],
  'failback.bench.js': ['--n', '100', '--baseline-n', '50'],
  'setup.bench.js': ['--n', '200', '--baseline-n', '100'],
  'monitor.bench.js': ['--n', '500'],
  'scale-out.bench.js': ['--n', '300'],
  'apps-share.bench.js': ['--n', '300'],
  'latency.bench.js': ['--n', '300', '--baseline-n', '20'],
  'tier0.bench.js': ['--n', '500'],
  // Without an --n the fleet bench runs its 100,000 (about two hours): quick must never fall back to a default N.
  'fleet-100k.bench.js': ['--n', '500'],
};

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const passed = process.argv.slice(2).filter((a) => a !== '--quick');
const benches = [
  'lab-throughput.js',
  ...readdirSync(here)
    .filter((f) => f.endsWith('.bench.js'))
    .sort(),
];
const failed: string[] = [];
const started = Date.now();
const unsized = quick ? benches.filter((f) => !QUICK[f]) : [];
if (unsized.length) throw new Error(`--quick: no small N for ${unsized.join(', ')} (add it to QUICK in bench/run.ts)`);
for (const file of benches) {
  const args = [...(quick ? (QUICK[file] ?? []) : []), ...passed];
  process.stdout.write(`\n== ${file.replace(/\.js$/, '')} ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [join(here, file), ...args], { stdio: 'inherit', env: { ...process.env, SECRETS_DR_BENCH_QUICK: quick ? '1' : '' } });
  if (r.status !== 0) {
    failed.push(file.replace(/\.js$/, ''));
    process.stdout.write(`!! ${file} exited with ${r.status ?? r.signal}\n`);
  }
}
process.stdout.write(
  `\n${benches.length} benchmarks in ${((Date.now() - started) / 1_000).toFixed(0)} s${failed.length ? `, ${failed.length} failed: ${failed.join(', ')}` : ', every target met'}${quick ? ' (quick: targets printed, not enforced)' : ''}\n`,
);
process.exitCode = failed.length ? 1 : 0;
