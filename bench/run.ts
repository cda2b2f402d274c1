/**
 * `npm run bench`: runs every benchmark (each prints its figure as a ratio against a bound or a
 * baseline measured in the same run, and writes JSON under bench/results/), one after the other so
 * they do not compete for the 2 cores. Arguments are passed through (e.g. `-- --n 10000`).
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
let failed = 0;
const started = Date.now();
for (const file of benches) {
  const args = [...(quick ? (QUICK[file] ?? []) : []), ...passed];
  process.stdout.write(`\n== ${file.replace(/\.js$/, '')} ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [join(here, file), ...args], { stdio: 'inherit', env: { ...process.env, SECRETS_DR_BENCH_QUICK: quick ? '1' : '' } });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`!! ${file} exited with ${r.status ?? r.signal}\n`);
  }
}
process.stdout.write(`\n${benches.length} benchmarks in ${((Date.now() - started) / 1_000).toFixed(0)} s${failed ? `, ${failed} failed` : ''}\n`);
process.exitCode = failed ? 1 : 0;
