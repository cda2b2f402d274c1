/**
 * A 100,000-secret fleet (issue 18, target 3): the lab's store seeded directly (no API calls, no quotas),
 * then `status`, one monitor cycle, `setup` and `failover` on the fleet, each timed against its bound,
 * with the worker (a separate `secrets-dr worker` process) and its peak memory (VmHWM).
 *
 *   status   the status workflow: ⌈N/100⌉ ListSecrets per Region at the 100/s list quota → bound N/100/100 s
 *   monitor  one cycle of the monitor workflow (probe + ListSecrets pages per Region): same bound
 *   setup    replicate N unreplicated secrets: N writes at writeQuotaShare × 50 → bound N/(share × 50) s
 *   failover promote N replicas (unplanned, primary down): N writes → bound N/(share × 50) s, target ≤ 1.1×
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/fleet-100k.bench.js [--n 100000] [--only status,monitor,setup,failover] [--latency 30]
 *
 * At 100,000 secrets and share 0.6, setup and failover take about 56 minutes each: run them once, on their own.
 * Writes bench/results/fleet-<N>.json (fleet-<N>-<phases>.json with --only).
 */
import { randomBytes } from 'node:crypto';
import { failoverWorkflowId, fenceWorkflowId, monitorWorkflowId, setupWorkflowId, statusWorkflowId, workflowTaskQueue } from '../domain/ids.js';
import { hmacKeySecretName } from '../domain/lineage.js';
import type { FailoverInput } from '../domain/failover.js';
import type { Plan } from '../domain/plan.js';
import { parsePlanText } from '../cli/plan-file.js';
import { writeResult } from './results.js';
import {
  arg,
  assertTemporalCost,
  describeTemporalCost,
  log,
  measureTemporalCost,
  peakRssMiB,
  sleep,
  spawnWorkerProcess,
  startBenchStack,
  stopWorkerProcess,
  type BenchStack,
  type TemporalCost,
} from './support.js';
import type { statusWorkflow } from '../workflows/status.workflow.js';
import type { monitorWorkflow } from '../workflows/monitor.workflow.js';
import type { replicateWorkflow } from '../workflows/replicate.workflow.js';
import type { failoverWorkflow } from '../workflows/failover.workflow.js';
import { monitorHealthQuery, monitorStopSignal } from '../workflows/monitor.messages.js';

const PRIMARY = 'ap-northeast-1';
const DR = 'ap-northeast-3';
const SHARE = 0.6;
const LIST_TPS = 100;
const PHASES = ['status', 'monitor', 'setup', 'failover'] as const;
type Phase = (typeof PHASES)[number];

interface PhaseResult {
  phase: Phase;
  ok: boolean;
  seconds: number;
  boundSeconds: number;
  ratio: number;
  detail: string;
  error?: string;
  /** What the phase cost Temporal (bench/support.ts): per secret, the largest history and event, limits broken. */
  temporal?: TemporalCost;
}

function only(): Phase[] {
  const i = process.argv.indexOf('--only');
  if (i < 0) return [...PHASES];
  const wanted = (process.argv[i + 1] ?? '').split(',').filter(Boolean);
  const bad = wanted.filter((w) => !(PHASES as readonly string[]).includes(w));
  if (bad.length) throw new Error(`--only: unknown phase(s) ${bad.join(', ')}; expected some of ${PHASES.join(',')}`);
  return wanted as Phase[];
}

function plan(name: string, prefix: string): Plan {
  const { plan: p, problems } = parsePlanText(
    `name: ${name}\nprimaryRegion: ${PRIMARY}\ndrRegions: [{ region: ${DR} }]\nsecrets:\n  include: [{ prefix: ${prefix} }]\nconflicts:\n  policy: fail\nfailover:\n  requireApproval: false\n  writeQuotaShare: ${SHARE}\nhealth:\n  interval: 10m\n`,
  );
  if (!p) throw new Error(JSON.stringify(problems));
  return p;
}

/** Seeds `count` secrets named `<prefix>sNNNNNN` in the primary (replicated to DR when asked), 2,000 per call. */
async function seed(stack: BenchStack, prefix: string, count: number, replicated: boolean): Promise<number> {
  const t0 = Date.now();
  for (let i = 0; i < count; i += 2_000) {
    stack.lab.secretsManager.seed(
      PRIMARY,
      Array.from({ length: Math.min(2_000, count - i) }, (_, j) => ({
        name: `${prefix}s${String(i + j).padStart(6, '0')}`,
        value: randomBytes(16).toString('hex'),
        ...(replicated ? { replicaRegions: [DR] } : {}),
      })),
    );
    if (i % 20_000 === 0) await sleep(0); // let the lab's replication timers run
  }
  while (stack.lab.secretsManager.pendingReplications > 0) await sleep(200);
  return (Date.now() - t0) / 1_000;
}

async function timed(phase: Phase, bound: number, fn: () => Promise<string>): Promise<PhaseResult> {
  const t0 = Date.now();
  try {
    const detail = await fn();
    const seconds = (Date.now() - t0) / 1_000;
    return { phase, ok: true, seconds, boundSeconds: bound, ratio: seconds / bound, detail };
  } catch (err) {
    const seconds = (Date.now() - t0) / 1_000;
    const e = err as Error & { cause?: { message?: string; cause?: { message?: string } } };
    const error = [e.message, e.cause?.message, e.cause?.cause?.message].filter(Boolean).join(' ← ');
    return { phase, ok: false, seconds, boundSeconds: bound, ratio: seconds / bound, detail: 'failed', error };
  }
}

async function main(): Promise<void> {
  const n = arg('n', 100_000);
  const latency = arg('latency', 30);
  const phases = only();
  const stack = await startBenchStack([PRIMARY, DR]);
  const { lab, client } = stack;
  const prefix = `bench-fleet-${randomBytes(3).toString('hex')}`;
  const results: PhaseResult[] = [];
  let worker: Awaited<ReturnType<typeof spawnWorkerProcess>> | undefined;
  let workerPeak = 0;
  const sampler = setInterval(() => (workerPeak = Math.max(workerPeak, peakRssMiB(worker?.pid) ?? 0)), 1_000);
  try {
    const needReplicated = phases.some((p) => p !== 'setup');
    log(`seeding ${needReplicated ? n : 0} replicated${phases.includes('setup') ? ` + ${n} unreplicated` : ''} secrets`);
    const seedSeconds = {
      replicated: needReplicated ? await seed(stack, 'bench/r/', n, true) : 0,
      unreplicated: phases.includes('setup') ? await seed(stack, 'bench/u/', n, false) : 0,
    };
    for (const name of ['bench-r', 'bench-u'])
      lab.secretsManager.seed(PRIMARY, [{ name: hmacKeySecretName(name), value: randomBytes(32).toString('base64'), replicaRegions: [DR] }]);
    while (lab.secretsManager.pendingReplications > 0) await sleep(200);
    log(
      `seeded in ${seedSeconds.replicated.toFixed(1)} s + ${seedSeconds.unreplicated.toFixed(1)} s; lab RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
    );
    for (const r of [PRIMARY, DR]) lab.faults.setLatency(r, latency, latency / 3);
    worker = await spawnWorkerProcess({ temporalAddress: stack.temporal.address, labUrl: lab.url, prefix, regions: [PRIMARY, DR] });
    const listBound = Math.ceil(n / 100) / LIST_TPS;
    const writeBound = n / (SHARE * 50);
    const replicated = plan('bench-r', 'bench/r/');

    if (phases.includes('status'))
      results.push(
        await timed('status', listBound, async () => {
          const r = await client.workflow.execute<typeof statusWorkflow>('statusWorkflow', {
            taskQueue: workflowTaskQueue(prefix),
            workflowId: statusWorkflowId('bench-r', randomBytes(4).toString('hex')),
            args: [{ plan: replicated, taskQueuePrefix: prefix }],
          });
          return `${r.rows.length} rows, list calls ${r.regions.map((x) => `${x.region} ${x.listCalls}`).join(', ')}`;
        }),
      );

    if (phases.includes('monitor'))
      results.push(
        await timed('monitor', listBound, async () => {
          const handle = await client.workflow.start<typeof monitorWorkflow>('monitorWorkflow', {
            taskQueue: workflowTaskQueue(prefix),
            workflowId: monitorWorkflowId('bench-r'),
            args: [{ plan: replicated, taskQueuePrefix: prefix }],
          });
          try {
            for (;;) {
              const d = await handle.describe();
              if (d.status.name !== 'RUNNING') throw new Error(`the monitor ended: ${d.status.name}`);
              const h = await handle.query(monitorHealthQuery).catch(() => undefined);
              if (h && h.cycles >= 1) return `${h.cycles} cycle, regions ${h.regions.map((x) => `${x.region} ${x.state}`).join(', ')}`;
              await sleep(250);
            }
          } finally {
            await handle.signal(monitorStopSignal, { by: 'bench' }).catch(() => undefined);
          }
        }),
      );

    if (phases.includes('setup'))
      results.push(
        await timed('setup', writeBound, async () => {
          const r = await client.workflow.execute<typeof replicateWorkflow>('replicateWorkflow', {
            taskQueue: workflowTaskQueue(prefix),
            workflowId: setupWorkflowId('bench-u'),
            args: [{ plan: plan('bench-u', 'bench/u/'), taskQueuePrefix: prefix }],
          });
          return `counts ${JSON.stringify(r.counts)}`;
        }),
      );

    if (phases.includes('failover')) {
      lab.faults.setOutage(PRIMARY, 'refuse');
      results.push(
        await timed('failover', writeBound, async () => {
          const input: FailoverInput = { plan: replicated, to: DR, mode: 'unplanned', skipApproval: true, dryRun: false, taskQueuePrefix: prefix };
          const r = await client.workflow.execute<typeof failoverWorkflow>('failoverWorkflow', {
            taskQueue: workflowTaskQueue(prefix),
            workflowId: failoverWorkflowId('bench-r'),
            args: [input],
          });
          return `${r.outcome}: ${JSON.stringify(r.counts)}`;
        }),
      );
      lab.faults.clear(PRIMARY);
      await client.workflow
        .getHandle(fenceWorkflowId('bench-r', PRIMARY))
        .terminate('benchmark done')
        .catch(() => undefined);
    }
    workerPeak = Math.max(workerPeak, peakRssMiB(worker.pid) ?? 0);
    const idPrefixes: Record<Phase, string> = {
      status: 'secrets-dr/bench-r/status/',
      monitor: monitorWorkflowId('bench-r'),
      setup: setupWorkflowId('bench-u'),
      failover: failoverWorkflowId('bench-r'),
    };
    // Every workflow of each phase held to Temporal's limits (issue 18, target 2): the run fails (exit 1) when one is over.
    for (const r of results) {
      try {
        const cost = await measureTemporalCost(client, idPrefixes[r.phase], n);
        r.temporal = { ...cost, runs: cost.runs.slice(0, 12) };
        assertTemporalCost(r.phase, cost);
      } catch (err) {
        log(`${r.phase}: Temporal cost not measured: ${(err as Error).message}`);
        process.exitCode = 1;
      }
    }

    const result = {
      benchmark: 'fleet',
      at: new Date().toISOString(),
      n,
      writeQuotaShare: SHARE,
      latency: `${latency} ms ± ${(latency / 3).toFixed(0)} ms in both Regions; AWS quotas on`,
      seedSeconds,
      phases: results,
      workerPeakRssMiB: workerPeak,
      benchProcessMaxRssMiB: process.resourceUsage().maxRSS / 1024,
      note: 'worker = one separate `secrets-dr worker` process (VmHWM); the bench process holds the lab and the Temporal client',
    };
    // One file per set of phases, so the long runs (setup, failover: about 56 min each at 100,000) can be recorded apart.
    const out = writeResult(phases.length === PHASES.length ? `fleet-${n}` : `fleet-${n}-${phases.join('-')}`, result);
    process.stdout.write(
      [
        `fleet of ${n} secrets (seeded in ${seedSeconds.replicated.toFixed(1)} s + ${seedSeconds.unreplicated.toFixed(1)} s):`,
        ...results.map(
          (r) =>
            `  ${r.phase.padEnd(8)} ${r.ok ? 'ok    ' : 'FAILED'} ${r.seconds.toFixed(1)} s vs bound ${r.boundSeconds.toFixed(1)} s → ${r.ratio.toFixed(3)}×  ${r.ok ? r.detail : r.error}` +
            (r.temporal ? `\n           ${describeTemporalCost(r.temporal)}` : ''),
        ),
        `  worker peak memory ${workerPeak.toFixed(0)} MiB (VmHWM); bench process (lab + client) max RSS ${result.benchProcessMaxRssMiB.toFixed(0)} MiB`,
        `written to ${out}`,
        '',
      ].join('\n'),
    );
    if (results.some((r) => !r.ok)) process.exitCode = 1;
  } finally {
    clearInterval(sampler);
    if (worker) await stopWorkerProcess(worker);
    await stack.close();
  }
}

await main();
process.exit(process.exitCode ?? 0);
