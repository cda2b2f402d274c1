#!/usr/bin/env node
// One idempotent step before the demo, the tests and CI: installs what the project needs and
// caches it. Uses only Node built-ins, so it runs on a fresh clone before `npm ci`.
//   node scripts/bootstrap.mjs            npm dependencies + build
//   node scripts/bootstrap.mjs --tools    ... + the Temporal CLI and moto (tests)
//   node scripts/bootstrap.mjs --temporal ... + the Temporal CLI only (demo)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, ensureTools, ToolError } from './tools.mjs';

const args = new Set(process.argv.slice(2));
const started = Date.now();
const log = (line) => process.stderr.write(`[bootstrap] ${line}\n`);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function sh(cmd, argv) {
  const r = spawnSync(cmd, argv, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    log(`\`${cmd} ${argv.join(' ')}\` failed (exit ${r.status ?? r.signal}).`);
    process.exit(1);
  }
}

// 1. npm dependencies, installed again only when package-lock.json changed.
const lockHash = createHash('sha256')
  .update(readFileSync(join(ROOT, 'package-lock.json')))
  .digest('hex');
const lockStamp = join(ROOT, 'node_modules', '.secrets-dr-lock');
let installed = false;
if (!existsSync(lockStamp) || readFileSync(lockStamp, 'utf8') !== lockHash) {
  // `npm ci`: exactly the lockfile (complete for every platform), and it never rewrites it.
  log('installing npm dependencies (npm ci, from package-lock.json)');
  sh(npm, ['ci', '--no-audit', '--no-fund']);
  writeFileSync(lockStamp, lockHash);
  installed = true;
}

// 2. Build (tsc) when any source is newer than the last build.
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}
const sources = ['domain', 'workflows', 'activities', 'worker', 'cli', 'lab', 'deploy', 'bench'].filter((d) => existsSync(join(ROOT, d)));
const newestSource = Math.max(...sources.map((d) => newestMtime(join(ROOT, d))), statSync(join(ROOT, 'tsconfig.json')).mtimeMs);
const buildStamp = join(ROOT, 'dist', '.built');
if (installed || !existsSync(buildStamp) || statSync(buildStamp).mtimeMs < newestSource) {
  log('building (tsc -p tsconfig.build.json, then the workflow bundle)');
  sh(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
  sh(process.execPath, [join(ROOT, 'dist', 'worker', 'build-bundle.js')]);
  writeFileSync(buildStamp, new Date().toISOString());
}

// 3. External tools.
if (args.has('--tools') || args.has('--temporal')) {
  try {
    const tools = ensureTools({
      temporal: true,
      moto: args.has('--tools'),
      hadolint: args.has('--tools'),
      cfnLint: args.has('--tools'),
      checkov: args.has('--tools'),
      chromium: args.has('--tools'),
    });
    const what = Object.entries(tools)
      .filter(([k]) => k.endsWith('Source'))
      .map(([k, v]) => `${k.replace('Source', '')}: ${v}`)
      .join(', ');
    log(`tools ready (${what})`);
    if (tools.chromiumMissing) log(`the dashboard's browser tests will be skipped: ${tools.chromiumMissing}`);
  } catch (err) {
    if (err instanceof ToolError) {
      log(err.message);
      process.exit(1);
    }
    throw err;
  }
}
log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
