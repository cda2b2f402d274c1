/**
 * What the benchmarks share: `--name N` arguments, a progress log on stderr, and the local stack
 * (lab + Temporal dev server + in-process workers + a client) with one clean-up list.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startLab, type LabOptions, type RunningLab } from '../lab/server.js';
import { LAB_CREDENTIALS, startTemporalDevServer, type TemporalServer } from '../lab/stack.js';
import { connectWorker, startWorkers } from '../worker/worker.js';

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

/** The lab on the given Regions, a Temporal dev server and workers for those Regions, all in this process. */
export async function startBenchStack(regions: string[], labOptions: LabOptions = {}): Promise<BenchStack> {
  const home = mkdtempSync(join(tmpdir(), 'secrets-dr-bench-'));
  const cleanups: Array<() => Promise<unknown>> = [async () => rmSync(home, { recursive: true, force: true })];
  const close = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const lab = await startLab({ port: 0, regions, ...labOptions });
    cleanups.push(() => lab.close());
    const temporal = await startTemporalDevServer({ home, detached: false });
    cleanups.push(() => temporal.stop());
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: lab.url,
      AWS_ENDPOINT_URL_EVENTBRIDGE: lab.url,
      ...LAB_CREDENTIALS,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    const prefix = `bench-${randomBytes(3).toString('hex')}`;
    const connection = await connectWorker({ address: temporal.address, namespace: 'default' });
    cleanups.push(() => connection.close());
    const workers = await startWorkers({ connection, namespace: 'default', regions, taskQueuePrefix: prefix, workerOptions: { debugMode: false } });
    cleanups.push(() => workers.shutdown());
    const clientConnection = await Connection.connect({ address: temporal.address });
    cleanups.push(() => clientConnection.close());
    const client = new Client({ connection: clientConnection, namespace: 'default' });
    return { lab, temporal, client, prefix, cleanups, close };
  } catch (err) {
    await close();
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
