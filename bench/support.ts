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
import { labWorkerEnv, type TemporalServer } from '../lab/stack.js';
import { startEmbeddedStack } from '../cli/embedded-stack.js';
import proto from '@temporalio/proto';

/** `--name N` from the command line (a positive number), else the fallback. */
export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

export const log = (l: string) => process.stderr.write(`[bench] ${l}\n`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The runbook-script baselines of a benchmark: `call` on `baselineN` secrets `bench/seq/s00000…` one after the
 * other, then on `bench/all/s00000…` all at once (an unbounded Promise.all, the SDK's default retries), each after
 * a fresh second of the write bucket. Failed calls are counted, not thrown; the loop's time is extrapolated to `n`.
 */
export async function measureBaselines(baselineN: number, n: number, call: (name: string) => Promise<unknown>) {
  const name = (group: 'seq' | 'all', i: number) => `bench/${group}/s${String(i).padStart(5, '0')}`;
  await sleep(1_100);
  const s0 = Date.now();
  let failed = 0;
  for (let i = 0; i < baselineN; i++) await call(name('seq', i)).catch(() => failed++);
  const seconds = (Date.now() - s0) / 1_000;
  await sleep(1_100);
  const a0 = Date.now();
  const all = await Promise.allSettled(Array.from({ length: baselineN }, (_, i) => call(name('all', i))));
  const allFailed = all.filter((r) => r.status === 'rejected').length;
  return {
    sequentialSdkLoop: { measuredOn: baselineN, seconds, failed, extrapolatedSecondsForN: (seconds * n) / baselineN, extrapolated: baselineN < n },
    unboundedPromiseAll: { measuredOn: baselineN, seconds: (Date.now() - a0) / 1_000, failedAfterSdkRetries: allFailed, failedShare: allFailed / baselineN },
  };
}

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

/**
 * A benchmark stopped with SIGTERM or SIGINT closes its stack first: a signal's default action ends the process
 * without its 'exit' handlers, and left the Temporal dev server running (12 % of a core, under every later run).
 */
function stopOnSignals(close: () => Promise<void>): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => {
      log(`${signal}: stopping the benchmark's stack`);
      const exit = () => process.exit(signal === 'SIGTERM' ? 143 : 130);
      setTimeout(exit, 15_000).unref();
      close().then(exit, exit);
    });
}

/** The lab on the given Regions, a Temporal dev server and workers for those Regions, all in this process (as the demo starts them). */
export async function startBenchStack(regions: string[], labOptions: Omit<LabOptions, 'port'> = {}): Promise<BenchStack> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const home = mkdtempSync(join(tmpdir(), 'secrets-dr-bench-'));
  const removeHome = async () => rmSync(home, { recursive: true, force: true });
  try {
    const stack = await startEmbeddedStack({ home, regions, lab: labOptions, taskQueuePrefix: `bench-${randomBytes(3).toString('hex')}` });
    stack.cleanups.unshift(removeHome);
    stopOnSignals(stack.close);
    return { lab: stack.lab, temporal: stack.temporal, client: stack.client.client, prefix: stack.prefix, cleanups: stack.cleanups, close: stack.close };
  } catch (err) {
    await removeHome();
    throw err;
  }
}

const CLI_RUN = fileURLToPath(new URL('../cli/run.js', import.meta.url));

/** Worker processes being stopped by stopWorkerProcess: any other exit is reported with the process's last lines. */
const stoppedByUs = new WeakSet<ChildProcess>();

/** A `secrets-dr worker` process (built code) on the given lab and Temporal server; resolves once it polls. */
export async function spawnWorkerProcess(opts: { temporalAddress: string; labUrl: string; prefix: string; regions: string[] }): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI_RUN, 'worker', '--regions', opts.regions.join(',')], {
    // A short drain: stopWorkerProcess (and a benchmark stopped by a signal) must not wait out the default 60 s.
    env: { ...process.env, ...labWorkerEnv(opts), SECRETS_DR_SHUTDOWN_TIMEOUT_MS: '5000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('exit', (code, signal) => {
    if (!stoppedByUs.has(child)) log(`!! worker process ${child.pid} exited by itself (${signal ?? code}); its last lines:\n${out.slice(-3_000)}`);
  });
  for (let i = 0; !out.includes('secrets-dr worker:'); i++) {
    if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}: ${out}`);
    if (i >= 600) {
      child.kill('SIGKILL');
      throw new Error(`worker process printed no start line in 60 s: ${out.slice(-3_000)}`);
    }
    await sleep(100);
  }
  return child;
}

/** SIGTERM (the worker finishes its activities and releases its leases), SIGKILL after 15 s. */
export async function stopWorkerProcess(child: ChildProcess): Promise<void> {
  stoppedByUs.add(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await Promise.race([gone, sleep(15_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** CPU time a process has used so far (Linux /proc/<pid>/stat utime + stime, at 100 ticks per second), in ms; undefined elsewhere. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command's closing parenthesis: state is the 3rd field, utime the 14th, stime the 15th.
    const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(rest[11]) + Number(rest[12])) * 10;
  } catch {
    return undefined;
  }
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

/** Temporal's limits the benchmarks hold every procedure to (issue 18, target 2). */
export const TEMPORAL_LIMITS = { historyBytes: 2 * 1024 * 1024, historyEvents: 10_000, payloadBytes: 256 * 1024 } as const;

interface WorkflowCost {
  workflowId: string;
  runId: string;
  type: string;
  events: number;
  bytes: number;
  /** Wall time of the run (start → close, or → now while running). */
  seconds: number;
}

export interface TemporalCost {
  workflows: number;
  /** Sums over every run, and per secret. */
  events: number;
  bytes: number;
  eventsPerSecret: number;
  bytesPerSecret: number;
  largestHistory: WorkflowCost;
  /** The largest single event (its payloads and their envelope) of the `scanned` largest histories: an upper bound of the largest payload. */
  largestPayload: { workflowId: string; bytes: number; eventType: string; scanned: number };
  /** The largest history's bytes by event type, largest first: where its size comes from. */
  largestHistoryByEventType: { eventType: string; events: number; bytes: number }[];
  /** Every run, slowest first (phases of a procedure are its children). */
  runs: WorkflowCost[];
  /** Limits exceeded (empty: within every limit). */
  violations: string[];
}

/**
 * What a run cost Temporal, per workflow whose id starts with `idPrefix`: history length and size
 * from DescribeWorkflowExecution (never the whole history: a big one does not fit in one gRPC
 * message), and the largest event of the `scan` largest histories, read page by page with a small
 * page size (an event's encoded size bounds the payloads it carries from above). `n`: the secrets of the run.
 */
export async function measureTemporalCost(client: Client, idPrefix: string, n: number, scan = 3): Promise<TemporalCost> {
  const runs: WorkflowCost[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "${idPrefix}"` })) {
    if (!wf.workflowId.startsWith(idPrefix)) continue;
    const d = await client.workflow.getHandle(wf.workflowId, wf.runId).describe();
    const end = d.closeTime ?? new Date();
    runs.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      type: d.type,
      events: d.historyLength,
      bytes: d.historySize ?? 0,
      seconds: (end.getTime() - d.startTime.getTime()) / 1_000,
    });
  }
  const empty: WorkflowCost = { workflowId: '', runId: '', type: '', events: 0, bytes: 0, seconds: 0 };
  const bySize = [...runs].sort((a, b) => b.bytes - a.bytes);
  const largestHistory = bySize[0] ?? empty;
  const largestPayload = { workflowId: '', bytes: 0, eventType: '', scanned: Math.min(scan, bySize.length) };
  const byType = new Map<string, { eventType: string; events: number; bytes: number }>();
  for (const wf of bySize.slice(0, scan)) {
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await client.workflowService.getWorkflowExecutionHistory({
        namespace: client.options.namespace,
        execution: { workflowId: wf.workflowId, runId: wf.runId },
        maximumPageSize: 25,
        ...(nextPageToken ? { nextPageToken } : {}),
      });
      for (const e of page.history?.events ?? []) {
        const bytes = proto.temporal.api.history.v1.HistoryEvent.encode(e).finish().length;
        const eventType = proto.temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType);
        if (bytes > largestPayload.bytes) Object.assign(largestPayload, { workflowId: wf.workflowId, bytes, eventType });
        if (wf === largestHistory) {
          const t = byType.get(eventType) ?? { eventType, events: 0, bytes: 0 };
          byType.set(eventType, { eventType, events: t.events + 1, bytes: t.bytes + bytes });
        }
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
  }
  const events = runs.reduce((s, r) => s + r.events, 0);
  const bytes = runs.reduce((s, r) => s + r.bytes, 0);
  const violations: string[] = [];
  for (const r of runs) {
    if (r.bytes > TEMPORAL_LIMITS.historyBytes) violations.push(`${r.workflowId}: history ${r.bytes} bytes > ${TEMPORAL_LIMITS.historyBytes}`);
    if (r.events > TEMPORAL_LIMITS.historyEvents) violations.push(`${r.workflowId}: ${r.events} events > ${TEMPORAL_LIMITS.historyEvents}`);
  }
  if (largestPayload.bytes > TEMPORAL_LIMITS.payloadBytes)
    violations.push(`${largestPayload.workflowId}: an event of ${largestPayload.bytes} bytes (${largestPayload.eventType}) > ${TEMPORAL_LIMITS.payloadBytes}`);
  return {
    workflows: runs.length,
    events,
    bytes,
    eventsPerSecret: events / Math.max(1, n),
    bytesPerSecret: bytes / Math.max(1, n),
    largestHistory,
    largestPayload,
    largestHistoryByEventType: [...byType.values()].sort((a, b) => b.bytes - a.bytes),
    runs: runs.sort((a, b) => b.seconds - a.seconds),
    violations,
  };
}

/** One line for the console: per secret, the largest history and payload, against the limits. */
export function describeTemporalCost(c: TemporalCost): string {
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
  return [
    `Temporal cost: ${c.workflows} workflows, ${c.eventsPerSecret.toFixed(2)} events and ${c.bytesPerSecret.toFixed(0)} history bytes per secret;`,
    `largest history ${c.largestHistory.events} events / ${kb(c.largestHistory.bytes)} (${c.largestHistory.workflowId}; limits ${TEMPORAL_LIMITS.historyEvents} events / ${kb(TEMPORAL_LIMITS.historyBytes)});`,
    `largest event ${kb(c.largestPayload.bytes)} (${c.largestPayload.eventType}, limit ${kb(TEMPORAL_LIMITS.payloadBytes)} per payload);`,
    `largest history by event type: ${c.largestHistoryByEventType
      .slice(0, 4)
      .map((t) => `${t.eventType.replace(/^EVENT_TYPE_/, '').toLowerCase()} ${t.events} × = ${kb(t.bytes)}`)
      .join(', ')}`,
    c.violations.length ? `— OVER THE LIMITS: ${c.violations.slice(0, 5).join('; ')}` : '— within the limits',
  ].join(' ');
}

/** A benchmark fails (exit 1 after writing its result) when a procedure went over Temporal's limits. */
export function assertTemporalCost(name: string, c: TemporalCost): void {
  if (c.violations.length === 0) return;
  log(`${name}: Temporal cost over the limits: ${c.violations.join('; ')}`);
  process.exitCode = 1;
}
