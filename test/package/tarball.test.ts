/**
 * The package as a user installs it: `npm pack` of this tree, installed into an empty directory
 * with no dev tree around it. The installed `secrets-dr` must answer --version and --help, validate
 * a plan, start the local stack (`lab up`) and run a worker that loads the prebuilt workflow bundle.
 * Needs the build (npm test's bootstrap makes it) and the npm registry or npm's cache.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTools } from '../../scripts/tools.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let work: string;
let home: string;
let bin: string;
let files: string[];
let temporal: string;

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Asynchronous on purpose: a synchronous spawn blocks the test worker, and vitest's RPC then times out. */
function exec(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout: number }): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { ...opts, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err && typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : err ? null : 0;
      resolve({ status: code, stdout, stderr });
    });
  });
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return exec(process.execPath, [bin, ...args], {
    cwd: work,
    timeout: 90_000,
    env: { ...process.env, SECRETS_DR_HOME: home, TEMPORAL_CLI_PATH: temporal, ...env },
  });
}

async function stackEnv(): Promise<Record<string, string>> {
  const r = await run(['lab', 'env', '--json']);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, string>;
}

beforeAll(async () => {
  temporal = ensureTools({ temporal: true }, () => {}).temporal!;
  work = mkdtempSync(join(tmpdir(), 'secrets-dr-pkg-'));
  home = join(work, 'home');
  // Prepare: pack this tree (prepack runs the idempotent bootstrap), then install the tarball alone.
  const pack = await exec(npm, ['pack', '--json', '--pack-destination', work], { cwd: ROOT, timeout: 300_000 });
  expect(pack.status, pack.stderr).toBe(0);
  const packed = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  files = packed[0]!.files.map((f) => f.path);
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'pkg-test', private: true }));
  const install = await exec(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed[0]!.filename)], { cwd: work, timeout: 300_000 });
  expect(install.status, install.stderr).toBe(0);
  bin = join(work, 'node_modules', 'secrets-dr', 'bin', 'secrets-dr.mjs');
}, 600_000);

afterAll(async () => {
  if (!work) return;
  if (bin) await run(['lab', 'down']);
  rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('ships the built code and the prebuilt workflow bundle, and no tests, benchmarks or sources', () => {
    expect(files).toContain('dist/cli/run.js');
    expect(files).toContain('dist/workflow-bundle.js');
    expect(files).toContain('scripts/tools.mjs');
    expect(files.filter((f) => /^(test|bench|dist\/bench|dist\/test)\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.d.mts'))).toEqual([]);
  });

  it('left every tracked file as it was (bootstrap installs with `npm ci` and never rewrites the lockfile)', async () => {
    const diff = await exec('git', ['status', '--porcelain', '--untracked-files=no', '--', 'package-lock.json', 'package.json'], {
      cwd: ROOT,
      timeout: 30_000,
    });
    expect(diff.status).toBe(0);
    expect(diff.stdout).toBe('');
  });

  it('answers --version, -V and --help from the installed copy', async () => {
    expect((await run(['--version'])).stdout.trim()).toBe(`secrets-dr ${VERSION}`);
    const v = await run(['-V', '--json']);
    expect(JSON.parse(v.stdout)).toMatchObject({ name: 'secrets-dr', version: VERSION });
    const help = await run(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('failover');
  });

  it('validates a plan (exit 0) and names the field of a bad one (exit 2)', async () => {
    writeFileSync(
      join(work, 'good.yaml'),
      'name: payments\nprimaryRegion: ap-northeast-1\ndrRegions:\n  - region: ap-northeast-3\nsecrets:\n  include:\n    - prefix: prod/payments/\n',
    );
    writeFileSync(join(work, 'bad.yaml'), 'name: payments\nprimaryRegion: ap-northeast-1\ndrRegions: []\nsecrets:\n  include:\n    - prefix: prod/payments/\n');
    expect((await run(['plan', 'validate', '-f', 'good.yaml'])).status).toBe(0);
    const bad = await run(['plan', 'validate', '-f', 'bad.yaml']);
    expect(bad.status).toBe(2);
    expect(bad.stdout + bad.stderr).toContain('drRegions');
  });

  it('starts the local stack with `lab up`, and a `worker` of its own loads the prebuilt bundle, serves, and stops on SIGTERM', async () => {
    const up = await run(['lab', 'up', '--regions', 'ap-northeast-1,ap-northeast-3']);
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/export TEMPORAL_ADDRESS=/);
    const env = await stackEnv();

    // A second worker, from the installed package, on its own task queue prefix.
    const worker = spawn(process.execPath, [bin, 'worker', '--regions', 'ap-northeast-1,ap-northeast-3'], {
      cwd: work,
      env: { ...process.env, ...env, SECRETS_DR_HOME: home, SECRETS_DR_TASK_QUEUE_PREFIX: 'pkg-test', SECRETS_DR_LOG_LEVEL: 'WARN' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    worker.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!log.includes('secrets-dr worker:') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(log).toMatch(/workflows: prebuilt .*workflow-bundle\.js/);

    // Act: a command that needs a worker to run a workflow and its Region activities.
    const seed = await fetch(`${env.SECRETS_DR_LAB_URL}/_lab/seed`, {
      method: 'POST',
      body: JSON.stringify({ region: 'ap-northeast-1', secrets: [{ name: 'prod/payments/db', value: 'pkg-test-value' }] }),
    });
    expect(seed.status).toBe(200);
    const status = await exec(process.execPath, [bin, 'status', '-f', 'good.yaml', '--json'], {
      cwd: work,
      timeout: 60_000,
      env: { ...process.env, ...env, SECRETS_DR_HOME: home, SECRETS_DR_TASK_QUEUE_PREFIX: 'pkg-test' },
    });
    expect(status.status, status.stderr).toBe(3); // the secret has no replica yet: needs attention
    expect(status.stdout).toContain('prod/payments/db');
    expect(status.stdout).not.toContain('pkg-test-value');

    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(log).toContain('shutting down');

    const down = await run(['lab', 'down']);
    expect(down.status).toBe(0);
    expect(down.stdout + down.stderr).toMatch(/stopped .*worker/);
  }, 180_000);
});
