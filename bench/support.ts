/**
 * What the benchmarks share: `--name N` arguments, a progress log on stderr, and the local stack
 * (lab + Temporal dev server + in-process workers + a client) with one clean-up list.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { LabOptions, RunningLab } from '../lab/server.js';
import { LAB_CREDENTIALS, type TemporalServer } from '../lab/stack.js';
import { startEmbeddedStack } from '../cli/embedded-stack.js';

/** `--name N` from the command line (a positive number), else the fallback. */
export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

export const log = (l: string) => process.stderr.write(`[bench] ${l}\n`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface BenchStack {
  lab: RunningLab;
  temporal: TemporalServer;
  client: Client;
  /** Task queue prefix of the in-process workers. */
  prefix: string;
  /** Run in reverse order by close(); benchmarks add their own (SDK clients, ...). */
  cleanups: Array<() => Promise<unknown>>;
  close(): Promise<void>;
}

/** The lab on the given Regions, a Temporal dev server and workers for those Regions, all in this process (as the demo starts them). */
export async function startBenchStack(regions: string[], labOptions: Omit<LabOptions, 'port'> = {}): Promise<BenchStack> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const home = mkdtempSync(join(tmpdir(), 'secrets-dr-bench-'));
  const removeHome = async () => rmSync(home, { recursive: true, force: true });
  try {
    const stack = await startEmbeddedStack({ home, regions, lab: labOptions, taskQueuePrefix: `bench-${randomBytes(3).toString('hex')}` });
    stack.cleanups.unshift(removeHome);
    return { lab: stack.lab, temporal: stack.temporal, client: stack.client.client, prefix: stack.prefix, cleanups: stack.cleanups, close: stack.close };
  } catch (err) {
    await removeHome();
    throw err;
  }
}

const CLI_RUN = fileURLToPath(new URL('../cli/run.js', import.meta.url));

/** A `secrets-dr worker` process (built code) on the given lab and Temporal server; resolves once it polls. */
export async function spawnWorkerProcess(opts: { temporalAddress: string; labUrl: string; prefix: string; regions: string[] }): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI_RUN, 'worker', '--regions', opts.regions.join(',')], {
    env: {
      ...process.env,
      ...LAB_CREDENTIALS,
      TEMPORAL_ADDRESS: opts.temporalAddress,
      SECRETS_DR_TASK_QUEUE_PREFIX: opts.prefix,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: opts.labUrl,
      AWS_ENDPOINT_URL_EVENTBRIDGE: opts.labUrl,
      AWS_REGION: opts.regions[0],
      SECRETS_DR_LOG_LEVEL: 'WARN',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 600 && !out.includes('secrets-dr worker:'); i++) {
    if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}: ${out}`);
    await sleep(100);
  }
  return child;
}

/** SIGTERM (the worker finishes its activities and releases its leases), SIGKILL after 15 s. */
export async function stopWorkerProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await Promise.race([gone, sleep(15_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Peak resident memory of a process so far (Linux VmHWM), in MiB; undefined elsewhere. */
export function peakRssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
