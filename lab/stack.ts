/**
 * The local stack: the lab (all Regions, one port), a Temporal dev server and a secrets-dr worker,
 * started in the background by `secrets-dr lab up` (or in the foreground by `demo`). The stack's
 * processes, ports and logs live in a home directory (`$SECRETS_DR_HOME`, default ~/.secrets-dr),
 * so `lab env`, `lab status` and `lab down` find them again from any shell.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LabClient } from './client.js';
import { loadPolicyBindings } from './iam/policy-files.js';

export const LAB_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'secrets-dr-lab', AWS_SECRET_ACCESS_KEY: 'secrets-dr-lab' } as const;
const DEFAULT_LAB_PORT = 4577;
const DEFAULT_TEMPORAL_PORT = 7233;
const DEFAULT_LAB_REGIONS = ['ap-northeast-1', 'ap-northeast-3', 'us-east-1', 'us-west-2', 'eu-west-1'];
/** The rotation function of the canonical plan (README, `secrets-dr demo`): `lab up` creates it in every Region. */
const DEMO_ROTATION_FUNCTION = 'rotate-payments';

interface StackProcess {
  name: 'lab' | 'temporal' | 'worker' | 'receiver';
  pid: number;
  log: string;
}

export interface StackInfo {
  home: string;
  startedAt: string;
  labUrl: string;
  regions: string[];
  temporalAddress?: string;
  temporalUi?: string;
  processes: StackProcess[];
  /** The EventBridge receiver (4th process): its URL, API key (lab-generated) and plans directory. */
  receiverUrl?: string;
  receiverApiKey?: string;
  plansDir?: string;
}

export class StackError extends Error {}

export function stackHome(): string {
  return resolve(process.env.SECRETS_DR_HOME ?? join(homedir(), '.secrets-dr'));
}

/** The repository (or installed package) root: where package.json and dist/ are. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new StackError('cannot find the secrets-dr package root');
    dir = up;
  }
  return dir;
}

/** The Temporal CLI, provisioned like the tests do (scripts/tools.mjs: env, PATH, .tools venv, Go build). */
async function temporalCli(): Promise<string> {
  const tools = (await import(pathToFileURL(join(packageRoot(), 'scripts', 'tools.mjs')).href)) as {
    ensureTools(want: { temporal: boolean }, log?: (l: string) => void): { temporal?: string };
  };
  try {
    const { temporal } = tools.ensureTools({ temporal: true }, (l) => process.stderr.write(`[tools] ${l}\n`));
    if (!temporal) throw new StackError('no Temporal CLI available');
    return temporal;
  } catch (err) {
    throw new StackError((err as Error).message);
  }
}

/** Environment a client needs to use the stack (what `lab up` prints as export lines). */
export function stackEnv(info: StackInfo): Record<string, string> {
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: info.labUrl,
    AWS_ENDPOINT_URL_EVENTBRIDGE: info.labUrl,
    AWS_ENDPOINT_URL_SSM: info.labUrl,
    // STS AssumeRole for the recovery accounts (lab/sts/): keys of the role's account.
    AWS_ENDPOINT_URL_STS: info.labUrl,
    ...LAB_CREDENTIALS,
    AWS_REGION: info.regions[0] ?? 'ap-northeast-1',
    SECRETS_DR_LAB_URL: info.labUrl,
  };
  if (info.temporalAddress) env.TEMPORAL_ADDRESS = info.temporalAddress;
  if (info.receiverApiKey) env.SECRETS_DR_RECEIVER_API_KEY = info.receiverApiKey;
  if (info.receiverUrl) env.SECRETS_DR_RECEIVER_URL = info.receiverUrl;
  return env;
}

/** The environment of a `secrets-dr worker` process on a lab and a Temporal server (benchmarks and crash tests spawn one). */
export function labWorkerEnv(o: { temporalAddress: string; labUrl: string; prefix: string; regions: string[] }): Record<string, string> {
  return {
    ...LAB_CREDENTIALS,
    TEMPORAL_ADDRESS: o.temporalAddress,
    SECRETS_DR_TASK_QUEUE_PREFIX: o.prefix,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: o.labUrl,
    AWS_ENDPOINT_URL_EVENTBRIDGE: o.labUrl,
    AWS_ENDPOINT_URL_STS: o.labUrl,
    AWS_REGION: o.regions[0] ?? 'ap-northeast-1',
    SECRETS_DR_LOG_LEVEL: 'WARN',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

export function exportLines(env: Record<string, string>): string[] {
  return Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
}

function shellQuote(v: string): string {
  return /^[A-Za-z0-9_./:@,-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

const stackFile = (home: string) => join(home, 'stack.json');

export function readStack(home: string = stackHome()): StackInfo | undefined {
  try {
    return JSON.parse(readFileSync(stackFile(home), 'utf8')) as StackInfo;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function freePort(preferred?: number): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number | undefined>((res) => {
      const srv = createServer();
      srv.once('error', () => res(undefined));
      srv.listen(port, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => res(p));
      });
    });
  if (preferred !== undefined) {
    const p = await tryListen(preferred);
    if (p !== undefined) return p;
  }
  const p = await tryListen(0);
  if (p === undefined) throw new StackError('no free TCP port on 127.0.0.1');
  return p;
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, died?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    const death = died?.();
    if (death) throw new StackError(`${what} did not start: ${death}`);
    if (Date.now() > deadline) throw new StackError(`${what} not ready after ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

function tail(path: string, lines = 5): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}

interface Spawned {
  child: ChildProcess;
  log: string;
  exitInfo(): string | undefined;
}

function spawnLogged(name: string, cmd: string, args: string[], logDir: string, env: NodeJS.ProcessEnv, detached: boolean): Spawned {
  mkdirSync(logDir, { recursive: true });
  const log = join(logDir, `${name}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env, detached });
  closeSync(fd);
  let exit: string | undefined;
  child.once('exit', (code, signal) => {
    exit = `exited (${signal ?? `code ${code}`}); log ${log}: ${tail(log)}`;
  });
  child.once('error', (err) => {
    exit = `could not start ${cmd}: ${err.message}`;
  });
  if (detached) child.unref();
  return { child, log, exitInfo: () => exit };
}

export interface TemporalServer {
  address: string;
  ui: string;
  pid: number;
  log: string;
  stop(): Promise<void>;
}

/** `temporal server start-dev` on free ports, waiting until the cluster reports SERVING. */
export async function startTemporalDevServer(opts: { home: string; detached: boolean; port?: number; dbFile?: string }): Promise<TemporalServer> {
  const cli = await temporalCli();
  const port = await freePort(opts.port ?? DEFAULT_TEMPORAL_PORT);
  const uiPort = await freePort(port + 1000);
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort), '--log-level', 'warn'];
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  const p = spawnLogged('temporal', cli, args, join(opts.home, 'logs'), process.env, opts.detached);
  if (!opts.detached) {
    // A foreground server dies with us on every exit Node runs 'exit' handlers for (an end, process.exit, a crash, a
    // closed stdout pipe); a signal's default action runs none: the CLI's commands and the benchmarks catch SIGTERM/SIGINT and close.
    const kill = () => {
      try {
        p.child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    };
    process.once('exit', kill);
    p.child.once('exit', () => process.removeListener('exit', kill));
  }
  const address = `127.0.0.1:${port}`;
  await waitFor(
    `Temporal dev server (${address})`,
    async () =>
      (await portOpen(port)) && spawnSync(cli, ['operator', 'cluster', 'health', '--address', address], { encoding: 'utf8' }).stdout?.includes('SERVING'),
    60_000,
    p.exitInfo,
  );
  return {
    address,
    ui: `http://127.0.0.1:${uiPort}`,
    pid: p.child.pid!,
    log: p.log,
    stop: () => stopPid(p.child.pid!),
  };
}

async function stopPid(pid: number, graceMs = 5_000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

interface StackUpOptions {
  port?: number;
  regions?: string[];
  statePath?: string;
  /** `[ACCESS_KEY_ID=]FILE` policies the lab enforces (files read by the lab process; check them first with loadPolicyBindings). */
  iamPolicies?: string[];
  temporal?: boolean;
  worker?: boolean;
  home?: string;
}

/** `lab up`: starts lab, Temporal and a worker in the background and records them. */
export async function stackUp(opts: StackUpOptions, progress: (line: string) => void): Promise<StackInfo> {
  const home = opts.home ?? stackHome();
  const existing = readStack(home);
  if (existing && existing.processes.some((p) => isAlive(p.pid))) {
    throw new StackError(`a local stack is already running (home ${home}); \`secrets-dr lab down\` first, or \`secrets-dr lab env\` to use it`);
  }
  mkdirSync(home, { recursive: true });
  const root = packageRoot();
  const dist = join(root, 'dist');
  if (!existsSync(join(dist, 'lab', 'main.js'))) throw new StackError(`secrets-dr is not built (${dist} missing): run \`npm run build\``);
  const regions = opts.regions ?? DEFAULT_LAB_REGIONS;
  const processes: StackProcess[] = [];
  const started: number[] = [];
  try {
    const port = await freePort(opts.port ?? DEFAULT_LAB_PORT);
    if (opts.port !== undefined && port !== opts.port) throw new StackError(`port ${opts.port} is in use`);
    progress(`starting the lab on 127.0.0.1:${port} (${regions.join(', ')})`);
    const labArgs = [join(dist, 'lab', 'main.js'), '--port', String(port), '--regions', regions.join(',')];
    if (opts.statePath) labArgs.push('--state', resolve(opts.statePath));
    for (const b of loadPolicyBindings(opts.iamPolicies ?? [])) labArgs.push('--iam-policy', `${b.accessKeyId}=${b.source}`);
    const lab = spawnLogged('lab', process.execPath, labArgs, join(home, 'logs'), process.env, true);
    started.push(lab.child.pid!);
    const labUrl = `http://127.0.0.1:${port}`;
    await waitFor(
      'the lab',
      async () =>
        await fetch(`${labUrl}/_lab/health`)
          .then((r) => r.ok)
          .catch(() => false),
      20_000,
      lab.exitInfo,
    );
    processes.push({ name: 'lab', pid: lab.child.pid!, log: lab.log });
    // Rotation needs a function (as on AWS): the canonical plan's, so its rotation map works as written.
    const accountId = ((await new LabClient(labUrl).status()) as { accountId: string }).accountId;
    const made = await new LabClient(labUrl).ensureFunctions(regions.map((r) => `arn:aws:lambda:${r}:${accountId}:function:${DEMO_ROTATION_FUNCTION}`));
    if (made.length)
      progress(`rotation function ${DEMO_ROTATION_FUNCTION} in ${made.map((f) => f.region).join(', ')} (more: \`secrets-dr lab lambda create\`)`);
    const info: StackInfo = { home, startedAt: new Date().toISOString(), labUrl, regions, processes };

    if (opts.temporal !== false) {
      progress('starting the Temporal dev server');
      const t = await startTemporalDevServer({ home, detached: true, dbFile: join(home, 'temporal.db') });
      started.push(t.pid);
      processes.push({ name: 'temporal', pid: t.pid, log: t.log });
      info.temporalAddress = t.address;
      info.temporalUi = t.ui;
      if (opts.worker !== false) {
        progress('starting a secrets-dr worker');
        info.receiverApiKey = randomBytes(24).toString('base64url'); // the worker puts it into the lab's API-key connections
        const ready = join(home, 'worker.ready');
        rmSync(ready, { force: true });
        const env = { ...process.env, ...stackEnv(info), SECRETS_DR_READY_FILE: ready };
        const w = spawnLogged(
          'worker',
          process.execPath,
          [join(dist, 'cli', 'run.js'), 'worker', '--regions', regions.join(',')],
          join(home, 'logs'),
          env,
          true,
        );
        started.push(w.child.pid!);
        await waitFor('the worker', () => existsSync(ready), 60_000, w.exitInfo);
        processes.push({ name: 'worker', pid: w.child.pid!, log: w.log });
        // The receiver of EventBridge API destinations: `events install` points the lab's at it.
        progress('starting the secrets-dr receiver');
        const receiverPort = await freePort();
        info.plansDir = join(home, 'plans');
        const receiverReady = join(home, 'receiver.ready');
        rmSync(receiverReady, { force: true });
        const receiverArgs = [
          join(dist, 'cli', 'run.js'),
          'receiver',
          '--port',
          String(receiverPort),
          '--plans-dir',
          info.plansDir,
          '--ready-file',
          receiverReady,
        ];
        const rv = spawnLogged('receiver', process.execPath, receiverArgs, join(home, 'logs'), { ...process.env, ...stackEnv(info) }, true);
        started.push(rv.child.pid!);
        await waitFor('the receiver', () => existsSync(receiverReady), 30_000, rv.exitInfo);
        processes.push({ name: 'receiver', pid: rv.child.pid!, log: rv.log });
        info.receiverUrl = `http://127.0.0.1:${receiverPort}`;
      }
    }
    writeFileSync(stackFile(home), JSON.stringify(info, null, 2) + '\n');
    return info;
  } catch (err) {
    for (const pid of started.reverse()) await stopPid(pid);
    throw err;
  }
}

/** `lab down`: stops what `lab up` started (worker first, so nothing runs against a dying server). */
export async function stackDown(home: string = stackHome()): Promise<StackProcess[]> {
  const info = readStack(home);
  if (!info) return [];
  const order = ['receiver', 'worker', 'temporal', 'lab'];
  const procs = [...info.processes].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  for (const p of procs) await stopPid(p.pid);
  rmSync(stackFile(home), { force: true });
  return procs;
}
