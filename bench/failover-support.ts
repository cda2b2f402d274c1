/**
 * What the failover-shaped benchmarks share (apps-share, latency, tier0): seeding a replicated fleet in
 * the lab, a plan for it, one unplanned failover run to the end, and a synthetic application that writes
 * to its own secrets in the DR Region (the other tenant of the Region's 50 TPS write bucket).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { FailoverInput, FailoverReport } from '../domain/failover.js';
import { failoverWorkflowId, fenceWorkflowId, regionTaskQueue, workflowTaskQueue } from '../domain/ids.js';
import { pollerCount } from '../cli/temporal.js';
import { hmacKeySecretName } from '../domain/lineage.js';
import type { Plan } from '../domain/plan.js';
import { parsePlanText } from '../cli/plan-file.js';
import type { RunningLab } from '../lab/server.js';
import type { failoverWorkflow } from '../workflows/failover.workflow.js';
import { assertTemporalCost, log, measureTemporalCost, sleep, spawnWorkerProcess, stopWorkerProcess, type BenchStack, type TemporalCost } from './support.js';

export const PRIMARY = 'ap-northeast-1';
export const DR = 'ap-northeast-3';

/**
 * Where the benchmark's failovers run: by default a `secrets-dr worker` process of its own, as deployed;
 * `--in-process`: the workers inside the bench's process, which share one event loop with the lab, so the lab's
 * answers (it stands in for AWS, whose CPU is not ours) take the worker's CPU. Returns the stack to run on.
 */
export async function failoverWorker(stack: BenchStack): Promise<{ on: BenchStack; where: string; inProcess: boolean; pid?: number }> {
  if (process.argv.includes('--in-process')) return { on: stack, where: "the bench process's workers (beside the lab)", inProcess: true };
  const prefix = `bench-w-${randomBytes(3).toString('hex')}`;
  const worker = await spawnWorkerProcess({ temporalAddress: stack.temporal.address, labUrl: stack.lab.url, prefix, regions: [PRIMARY, DR] });
  stack.cleanups.push(() => stopWorkerProcess(worker)); // cleanups run last first: the worker stops before Temporal
  // Ready when each Region's activity queue has a poller: the worker holds its write leases (taken one after the
  // other, each with a quiet pause) and runs the Region's worker.
  const t0 = Date.now();
  for (const region of [PRIMARY, DR]) {
    for (;;) {
      if ((await pollerCount(stack.client, regionTaskQueue(region, prefix), 'activity')) > 0) break;
      if (worker.exitCode !== null) throw new Error(`the bench's worker process exited with ${worker.exitCode} before it served ${region}`);
      if (Date.now() - t0 > 60_000) throw new Error(`the bench's worker process does not serve ${region} after 60 s`);
      await sleep(100);
    }
  }
  log(`worker process ${worker.pid} serves ${PRIMARY} and ${DR} (${((Date.now() - t0) / 1000).toFixed(1)} s after its start line)`);
  return { on: { ...stack, prefix }, where: 'a worker process of its own', inProcess: false, ...(worker.pid ? { pid: worker.pid } : {}) };
}

/** `count` secrets `<prefix>s00000…` in the primary Region, replicated to DR (seeded without quotas). */
function seedReplicated(lab: RunningLab, prefix: string, count: number, from = 0): void {
  for (let i = 0; i < count; i += 1_000) {
    lab.secretsManager.seed(
      PRIMARY,
      Array.from({ length: Math.min(1_000, count - i) }, (_, j) => ({
        name: `${prefix}s${String(from + i + j).padStart(5, '0')}`,
        value: randomBytes(16).toString('hex'),
        replicaRegions: [DR],
      })),
    );
  }
}

/** The plan's HMAC key, replicated to DR (as setup leaves it). */
function seedHmacKey(lab: RunningLab, planName: string): void {
  lab.secretsManager.seed(PRIMARY, [{ name: hmacKeySecretName(planName), value: randomBytes(32).toString('base64'), replicaRegions: [DR] }]);
}

async function replicationSettled(lab: RunningLab): Promise<void> {
  while (lab.secretsManager.pendingReplications > 0) await sleep(200);
}

/** Both Regions answer every call after `ms` ± `jitterMs`. */
export function setBenchLatency(lab: RunningLab, ms: number, jitterMs: number): void {
  for (const r of [PRIMARY, DR]) lab.faults.setLatency(r, ms, jitterMs);
}

/**
 * A failover's fleet: each prefix's secrets (in this order, so names list as seeded) replicated to DR with the
 * plan's HMAC key, replication settled; then the given latency in both Regions.
 */
export async function seedFailoverFleet(
  lab: RunningLab,
  planName: string,
  fleets: Array<[prefix: string, count: number]>,
  ms: number,
  jitterMs: number,
): Promise<void> {
  for (const [prefix, count] of fleets) seedReplicated(lab, prefix, count);
  seedHmacKey(lab, planName);
  await replicationSettled(lab);
  setBenchLatency(lab, ms, jitterMs);
}

/** A plan over `prefix` with the given extra `failover:` lines (YAML, indented by two spaces). */
export function benchPlan(name: string, prefix: string, failoverYaml: string): Plan {
  const { plan, problems } = parsePlanText(
    `name: ${name}\nprimaryRegion: ${PRIMARY}\ndrRegions: [{ region: ${DR} }]\nsecrets:\n  include: [{ prefix: ${prefix} }]\nfailover:\n  requireApproval: false\n${failoverYaml}`,
  );
  if (!plan) throw new Error(`bench plan ${name}: ${JSON.stringify(problems)}`);
  return plan;
}

/** One unplanned failover (the primary Region refuses every call), run to its end; the fence workflow it leaves is ended. */
export async function runFailover(
  stack: BenchStack,
  plan: Plan,
): Promise<{
  report: FailoverReport;
  wallS: number;
  startedAtMs: number;
  stops: { firstS: number; lastS: number; count: number; perSecond: number[] };
  temporal: TemporalCost;
}> {
  const { lab, client, prefix } = stack;
  lab.faults.setOutage(PRIMARY, 'refuse');
  const input: FailoverInput = { plan, to: DR, mode: 'unplanned', skipApproval: true, dryRun: false, taskQueuePrefix: prefix };
  const startedAtMs = Date.now();
  // When the DR Region saw its first and last StopReplicationToReplica (the lab's counters, sampled): where the time goes.
  const calls = () => lab.counters.get(DR, 'StopReplicationToReplica').calls;
  const base = calls();
  const stops = { firstS: Number.NaN, lastS: Number.NaN, count: 0, perSecond: [] as number[] };
  const sampler = setInterval(() => {
    const c = calls() - base;
    const t = (Date.now() - startedAtMs) / 1_000;
    // Cumulative count at each whole second; differenced below into calls per second.
    stops.perSecond[Math.floor(t)] = c;
    if (c > 0 && Number.isNaN(stops.firstS)) stops.firstS = t;
    if (c > stops.count) Object.assign(stops, { lastS: t, count: c });
  }, 50);
  const report = await client.workflow
    .execute<typeof failoverWorkflow>('failoverWorkflow', {
      taskQueue: workflowTaskQueue(prefix),
      workflowId: failoverWorkflowId(plan.name),
      args: [input],
    })
    .finally(() => clearInterval(sampler));
  // A second the sampler skipped (a late timer) holds the count before it: no calls then.
  const cumulative = Array.from(stops.perSecond);
  for (let t = 0, before = 0; t < cumulative.length; t++) {
    const c = cumulative[t] ?? before;
    stops.perSecond[t] = c - before;
    before = c;
  }
  const wallS = (Date.now() - startedAtMs) / 1_000;
  await client.workflow
    .getHandle(fenceWorkflowId(plan.name, PRIMARY))
    .terminate('benchmark done')
    .catch(() => undefined);
  lab.faults.clear(PRIMARY);
  // Every failover a benchmark runs is held to Temporal's limits (issue 18, target 2): exit 1 when one is over.
  const temporal = await measureTemporalCost(client, failoverWorkflowId(plan.name), report.total);
  assertTemporalCost(`failover of ${plan.name}`, temporal);
  if (temporal.violations.length === 0)
    log(`failover of ${plan.name}: Temporal cost within the limits (${temporal.bytesPerSecret.toFixed(0)} history bytes per secret)`);
  return { report, wallS, startedAtMs, stops, temporal: { ...temporal, runs: temporal.runs.slice(0, 5) } };
}

/** Writes per second the application wants at `ms` after it started. */
export type AppRate = (ms: number) => number;

export interface AppStats {
  /** Writes started (one PutSecretValue each, with the SDK's default retries). */
  writes: number;
  ok: number;
  /** Writes that failed after the SDK's retries, and how many of those were throttled. */
  failed: number;
  failedThrottled: number;
  /** Calls the lab answered (attempts, retries included), and how many of them were ThrottlingException. */
  attempts: number;
  throttledAttempts: number;
  /** throttledAttempts ÷ attempts: the application's throttled share. */
  throttledShare: number;
  seconds: number;
  meanRate: number;
}

/**
 * A synthetic application in `region`: open loop (it does not wait for one write to start the next, as
 * independent requests do), PutSecretValue on its own `names` round robin at `rate(t)` writes/s, with the
 * SDK's default retry (standard mode, 3 attempts: it does retry ThrottlingException, as applications do).
 * Attempts are counted from each answer's `$metadata.attempts`: every attempt before the last was refused.
 */
export function startApplication(region: string, names: readonly string[], rate: AppRate): { stop(): Promise<AppStats> } {
  const sm = new SecretsManagerClient({ region });
  const t0 = Date.now();
  const stats = { writes: 0, ok: 0, failed: 0, failedThrottled: 0, attempts: 0, throttledAttempts: 0 };
  const inFlight = new Set<Promise<void>>();
  let due = 0;
  let last = t0;
  const write = async (name: string) => {
    try {
      const out = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: randomBytes(12).toString('hex'), ClientRequestToken: randomUUID() }));
      const attempts = out.$metadata.attempts ?? 1;
      stats.ok++;
      stats.attempts += attempts;
      stats.throttledAttempts += attempts - 1;
    } catch (err) {
      const e = err as { name?: string; $metadata?: { attempts?: number } };
      const attempts = e.$metadata?.attempts ?? 1;
      const throttled = e.name === 'ThrottlingException';
      stats.failed++;
      stats.attempts += attempts;
      stats.throttledAttempts += throttled ? attempts : attempts - 1;
      if (throttled) stats.failedThrottled++;
    }
  };
  const timer = setInterval(() => {
    const now = Date.now();
    due += ((now - last) / 1_000) * rate(now - t0);
    last = now;
    while (due >= 1) {
      due -= 1;
      const p = write(names[stats.writes % names.length]!).finally(() => inFlight.delete(p));
      inFlight.add(p);
      stats.writes++;
    }
  }, 10);
  return {
    async stop(): Promise<AppStats> {
      clearInterval(timer);
      const seconds = (Date.now() - t0) / 1_000;
      await Promise.all([...inFlight]);
      sm.destroy();
      return { ...stats, throttledShare: stats.attempts ? stats.throttledAttempts / stats.attempts : 0, seconds, meanRate: stats.writes / seconds };
    },
  };
}

/** The application's own secrets in `region` (standalone, not in any plan). */
export function seedApplicationSecrets(lab: RunningLab, region: string, prefix: string, count: number): string[] {
  const names = Array.from({ length: count }, (_, i) => `${prefix}a${String(i).padStart(4, '0')}`);
  lab.secretsManager.seed(
    region,
    names.map((name) => ({ name, value: randomBytes(12).toString('hex') })),
  );
  return names;
}
