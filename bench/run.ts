/**
 * `npm run bench`: runs every benchmark (each prints its figure as a ratio against a bound or a
 * baseline measured in the same run, and writes JSON under bench/results/), one after the other so
 * they do not compete for the 2 cores. Arguments are passed through (e.g. `-- --n 10000`).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const benches = ['lab-throughput.js', ...readdirSync(here).filter((f) => f.endsWith('.bench.js')).sort()];
let failed = 0;
for (const file of benches) {
  process.stdout.write(`\n== ${file.replace(/\.js$/, '')}\n`);
  const r = spawnSync(process.execPath, [join(here, file), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`!! ${file} exited with ${r.status ?? r.signal}\n`);
  }
}
process.exitCode = failed ? 1 : 0;
