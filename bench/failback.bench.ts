/**
 * Failback benchmark: N replicated secrets are failed over (unplanned, primary Region in outage),
 * the pending fence lands when the primary answers again, a share of the secrets changes in the DR
 * Region during the "outage" (PutSecretValue there), then the failback runs on the lab with
 * realistic latency (30 ms ± 10 ms in both Regions) and AWS's quotas. Measures
 *   ratio = failback wall time ÷ (writes needed / (writeQuotaShare × 50 TPS))
 * where "writes needed" counts the calls in the original Region's shared 50 TPS write bucket
 * (one ReplicateSecretToRegions per secret + one PutSecretValue per copy-back). Everything else
 * failback does (describes, HMAC reads, backups, policy and tag calls, InSync polling) is overhead
 * the ratio makes visible. Failback's fences cost, per secret, a GetResourcePolicy and a
 * Put/DeleteResourcePolicy in each Region (the deny statement is merged into, and taken out of,
 * whatever policy the secret has): the policy group is its own 50/s bucket, at the same share, so
 * the run also prints its busiest bucket and the ratio against that floor. Baselines in the
 * same run, on a smaller fleet of secrets standalone in both Regions (extrapolated, labelled so):
 * what a runbook script does — per secret GetSecretValue in the DR Region, PutSecretValue in the
 * primary, ReplicateSecretToRegions with ForceOverwriteReplicaSecret (no backup, no reconcile) — as
 * a sequential loop and as an unbounded Promise.all with the SDK's default retries.
 *
 *   npm run build && node dist/bench/failback.bench.js [--n 2000] [--changed-count 100] [--baseline-n 200] [--in-process] [--profile]
 *
 * The failover and the failback run on a `secrets-dr worker` process of its own, as deployed
 * (bench/failover-support.ts `failoverWorker`); `--in-process`: on the bench process's workers, beside the
 * lab, which stands in for AWS and whose CPU is not ours (the old shape; its result file ends in
 * `-in-process`). The run prints, per 10-s slot, the calls per second of each 50/s bucket: where a bucket
 * waits (`timeline` in the result).
 *
 * `--changed-count`: secrets changed in the DR Region during the outage (issue 18: 100 up to 2,000
 * secrets, 400 at 10,000; default 100 at ≤ 2,000, else 4 % of N). Temporal's cost of the failback
 * (every workflow of it: events and bytes per secret, the largest history and event) is measured
 * with bench/support.ts and held to Temporal's limits (exit 1 when over).
 *
 * Writes bench/results/failback.json.
 */
import { randomBytes } from 'node:crypto';
import { GetSecretValueCommand, PutSecretValueCommand, ReplicateSecretToRegionsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { failbackWorkflowId, failoverWorkflowId, fenceWorkflowId, workflowTaskQueue } from '../domain/ids.js';
import { hmacKeySecretName } from '../domain/lineage.js';
import type { FailoverInput } from '../domain/failover.js';
import type { FailbackInput } from '../domain/failback.js';
import { parsePlanText } from '../cli/plan-file.js';
import { QUICK, writeResult } from './results.js';
import { quotaGroupOf } from '../lab/quotas.js';
import { arg, assertTemporalCost, describeTemporalCost, log, measureBaselines, measureTemporalCost, processCpuMs, sleep, startBenchStack } from './support.js';
import { failoverWorker } from './failover-support.js';
import type { failoverWorkflow } from '../workflows/failover.workflow.js';
import type { failbackWorkflow } from '../workflows/failback.workflow.js';

const PRIMARY = 'ap-northeast-1';
const DR = 'ap-northeast-3';
const SHARE = 0.6;

async function main(): Promise<void> {
  const n = arg('n', 500);
  const changedCount = Math.min(n, Math.round(arg('changed-count', n <= 2_000 ? Math.min(100, n) : Math.round(n * 0.04))));
  const baselineN = Math.min(n, arg('baseline-n', 200));
  const stack = await startBenchStack([PRIMARY, DR]);
  const { lab, client, cleanups } = stack;
  try {
    const worker = await failoverWorker(stack);
    const { prefix } = worker.on;
    log(`seeding ${n} replicated secrets and the plan's HMAC key`);
    const names = Array.from({ length: n }, (_, i) => `bench/fleet/s${String(i).padStart(5, '0')}`);
    for (let i = 0; i < n; i += 1_000) {
      lab.secretsManager.seed(
        PRIMARY,
        names.slice(i, i + 1_000).map((name) => ({ name, value: randomBytes(16).toString('hex'), replicaRegions: [DR] })),
      );
    }
    for (const region of [PRIMARY, DR]) {
      for (const p of ['bench/seq/', 'bench/all/'])
        lab.secretsManager.seed(
          region,
          Array.from({ length: baselineN }, (_, i) => ({ name: `${p}s${String(i).padStart(5, '0')}`, value: randomBytes(16).toString('hex') })),
        );
    }
    lab.secretsManager.seed(PRIMARY, [{ name: hmacKeySecretName('bench'), value: randomBytes(32).toString('base64'), replicaRegions: [DR] }]);
    while (lab.secretsManager.pendingReplications > 0) await sleep(200);
    for (const r of [PRIMARY, DR]) lab.faults.setLatency(r, 30, 10);
    const { plan } = parsePlanText(
      `name: bench\nprimaryRegion: ${PRIMARY}\ndrRegions: [{ region: ${DR} }]\nsecrets:\n  include: [{ prefix: bench/fleet/ }]\nfailover:\n  requireApproval: false\n  writeQuotaShare: ${SHARE}\n`,
    );

    // The outage and the failover (not measured).
    log(`failover of ${n} secrets (primary in outage)`);
    lab.faults.setOutage(PRIMARY, 'refuse');
    const fo: FailoverInput = { plan: plan!, to: DR, mode: 'unplanned', skipApproval: true, dryRun: false, taskQueuePrefix: prefix, fenceRetryInitialMs: 500 };
    const failover = await client.workflow.execute<typeof failoverWorkflow>('failoverWorkflow', {
      taskQueue: workflowTaskQueue(prefix),
      workflowId: failoverWorkflowId('bench'),
      args: [fo],
    });
    lab.faults.clear(PRIMARY);
    for (const r of [PRIMARY, DR]) lab.faults.setLatency(r, 30, 10);
    log(`failover ${failover.outcome}; waiting for the pending fence`);
    await client.workflow.getHandle(fenceWorkflowId('bench', PRIMARY)).result();

    // During the outage: a share of the secrets changed in the DR Region.
    const step = n / Math.max(1, changedCount);
    const changed = Array.from({ length: changedCount }, (_, k) => names[Math.floor(k * step)]!);
    log(`${changed.length} secrets change in ${DR} during the outage`);
    const sm = new SecretsManagerClient({ region: DR });
    cleanups.push(async () => sm.destroy());
    for (let i = 0; i < changed.length; i += 20) {
      await Promise.all(
        changed.slice(i, i + 20).map((name) => sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: randomBytes(16).toString('hex') }))),
      );
      await sleep(500); // stay well inside the DR Region's write bucket
    }
    await sleep(1_100); // a fresh second of the write bucket

    // The failback (measured).
    lab.counters.reset();
    const input: FailbackInput = { plan: plan!, skipApproval: true, taskQueuePrefix: prefix };
    log(`failback on ${worker.where}`);
    const cpu0 = process.cpuUsage();
    const workerCpu0 = processCpuMs(worker.pid);
    const t0 = Date.now();
    const report = await client.workflow.execute<typeof failbackWorkflow>('failbackWorkflow', {
      taskQueue: workflowTaskQueue(prefix),
      workflowId: failbackWorkflowId('bench'),
      args: [input],
    });
    const wallS = (Date.now() - t0) / 1_000;
    const cpu = process.cpuUsage(cpu0);
    const workerCpu1 = processCpuMs(worker.pid);
    // The worker's CPU: its own process's (out of process), else this process's, which also runs the lab.
    const workerCpuMs = workerCpu0 !== undefined && workerCpu1 !== undefined ? workerCpu1 - workerCpu0 : (cpu.user + cpu.system) / 1_000;
    const counters = lab.counters.snapshot();
    const timeline = bucketTimeline(lab.counters.rates(), t0, wallS);
    const bucket = counters[PRIMARY] ?? {};
    const writes = report.writes.expected;
    const ideal = writes / (SHARE * 50);
    const ratio = wallS / ideal;
    const cost = await measureTemporalCost(client, failbackWorkflowId('bench'), n);
    if (process.argv.includes('--profile')) {
      // Activity time by type in the slowest child (where the wall time goes), and in the first plan child.
      const slowest = cost.runs.find((r) => r.workflowId !== failbackWorkflowId('bench'));
      const plan0 = cost.runs.find((r) => r.workflowId.endsWith('/plan-0'));
      for (const slow of [slowest, plan0]) {
        if (!slow) continue;
        const h = await client.workflow.getHandle(slow.workflowId, slow.runId).fetchHistory();
        const sched = new Map<number, { type: string; at: number }>();
        const byType: Record<string, { n: number; ms: number; first: number; last: number }> = {};
        for (const e of h.events ?? []) {
          const at = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6);
          if (e.activityTaskScheduledEventAttributes)
            sched.set(Number(e.eventId), { type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at });
          const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
          if (done) {
            const s0 = sched.get(Number(done.scheduledEventId));
            if (!s0) continue;
            const t = (byType[s0.type] ??= { n: 0, ms: 0, first: s0.at, last: at });
            t.n++;
            t.ms += at - s0.at;
            t.first = Math.min(t.first, s0.at);
            t.last = Math.max(t.last, at);
          }
        }
        log(`profile of ${slow.workflowId}: ${JSON.stringify(byType)}`);
      }
      // The parent's steps: each activity and child, seconds from the start to its end.
      const h = await client.workflow.getHandle(failbackWorkflowId('bench')).fetchHistory();
      const sec = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) =>
        ((Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6) - t0) / 1000).toFixed(1);
      const names = new Map<number, string>();
      const steps: string[] = [];
      for (const e of h.events ?? []) {
        const a = e.activityTaskScheduledEventAttributes;
        const c = e.startChildWorkflowExecutionInitiatedEventAttributes;
        if (a) names.set(Number(e.eventId), a.activityType?.name ?? '?');
        if (c) names.set(Number(e.eventId), (c.workflowId ?? '?').split('/').at(-1)!);
        const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
        if (done) steps.push(`${names.get(Number(done.scheduledEventId))}→${sec(e)}`);
        const child = e.childWorkflowExecutionCompletedEventAttributes ?? e.childWorkflowExecutionFailedEventAttributes;
        if (child) steps.push(`${names.get(Number(child.initiatedEventId))}→${sec(e)}`);
        if (c) steps.push(`${names.get(Number(e.eventId))}@${sec(e)}`);
      }
      log(`parent steps (s from the start): ${steps.join(' ')}`);
    }
    assertTemporalCost('failback', cost);
    // Every quota group of 50/s is a floor at share × 50 (the write bucket is the issue's bound; failback's
    // fences also need a GetResourcePolicy + Put/DeleteResourcePolicy per secret in each Region).
    const buckets: Record<string, number> = {};
    for (const [r, ops] of Object.entries(counters))
      for (const [op, c] of Object.entries(ops)) {
        const g = quotaGroupOf(op);
        if (g && g.ratePerSecond === 50) buckets[`${r}/${g.group}`] = (buckets[`${r}/${g.group}`] ?? 0) + c.calls;
      }
    const [busiest, busiestCalls] = Object.entries(buckets).sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
    const busiestS = busiestCalls / (SHARE * 50);
    const callsByRegion = Object.fromEntries(
      Object.entries(counters).map(([r, ops]) => [r, Object.fromEntries(Object.entries(ops).map(([op, c]) => [op, c.calls]))]),
    );

    // Baselines: the runbook script's failback (copy every DR value back, force-overwrite the replica).
    const pm = new SecretsManagerClient({ region: PRIMARY });
    cleanups.push(async () => pm.destroy());
    const naive = async (name: string) => {
      const v = await sm.send(new GetSecretValueCommand({ SecretId: name }));
      await pm.send(new PutSecretValueCommand({ SecretId: name, SecretString: v.SecretString! }));
      await pm.send(new ReplicateSecretToRegionsCommand({ SecretId: name, AddReplicaRegions: [{ Region: DR }], ForceOverwriteReplicaSecret: true }));
    };
    log(`baselines on ${baselineN} secrets`);
    const { sequentialSdkLoop: seq, unboundedPromiseAll } = await measureBaselines(baselineN, n, naive);
    const [seqS, seqForN, allS, allFailed] = [seq.seconds, seq.extrapolatedSecondsForN, unboundedPromiseAll.seconds, unboundedPromiseAll.failedAfterSdkRetries];

    const result = {
      benchmark: 'failback',
      at: new Date().toISOString(),
      n,
      changedInDr: changed.length,
      writeQuotaShare: SHARE,
      latency: '30 ms ± 10 ms in both Regions; AWS quotas on; after an unplanned failover whose pending fence landed',
      worker: worker.where,
      failback: {
        outcome: report.outcome,
        counts: report.counts,
        wallSeconds: wallS,
        writesNeeded: writes,
        idealSeconds: ideal,
        ratio,
        busiestBucket: { bucket: busiest, calls: busiestCalls, seconds: busiestS, ratio: wallS / busiestS },
        callsPerBucket: buckets,
        /** Calls per second of each 50/s bucket, per 10-s slot from the start: where a bucket waits. */
        timeline,
        calls: {
          ReplicateSecretToRegions: bucket.ReplicateSecretToRegions?.calls ?? 0,
          PutSecretValue: bucket.PutSecretValue?.calls ?? 0,
          throttled: (bucket.ReplicateSecretToRegions?.throttled ?? 0) + (bucket.PutSecretValue?.throttled ?? 0),
          CreateSecretBackups: bucket.CreateSecret?.calls ?? 0,
          GetSecretValue: (bucket.GetSecretValue?.calls ?? 0) + (counters[DR]?.GetSecretValue?.calls ?? 0),
          DescribeSecret: (bucket.DescribeSecret?.calls ?? 0) + (counters[DR]?.DescribeSecret?.calls ?? 0),
        },
        callsByRegion,
        callsPerSecret: Object.fromEntries(Object.entries(callsByRegion).map(([r, ops]) => [r, Object.values(ops).reduce((a, b) => a + b, 0) / n])),
        workerCpuMsPerSecret: workerCpuMs / n,
        benchProcessCpuMsPerSecret: (cpu.user + cpu.system) / 1_000 / n,
        temporal: { ...cost, runs: cost.runs.slice(0, 20) },
      },
      baselines: {
        note: 'runbook script: GetSecretValue (DR) + PutSecretValue (primary) + ReplicateSecretToRegions(ForceOverwriteReplicaSecret) per secret; no backup, no reconcile: every secret written, DR-side history lost',
        sequentialSdkLoop: { ...seq, ratioVsOurs: seqForN / wallS },
        unboundedPromiseAll,
      },
    };
    const out = writeResult(`failback${n === 2_000 || QUICK ? '' : `-${n}`}${worker.inProcess ? '-in-process' : ''}`, result);
    process.stdout.write(
      [
        `failback of ${n} secrets (${changed.length} changed in ${DR}): ${wallS.toFixed(1)} s vs ideal ${ideal.toFixed(1)} s for ${writes} writes at ${SHARE} × 50 TPS → ratio ${ratio.toFixed(3)} — ${JSON.stringify(report.counts)}`,
        `calls per secret: ${Object.entries(result.failback.callsPerSecret)
          .map(([r, c]) => `${r} ${c.toFixed(2)}`)
          .join(
            ', ',
          )}; worker CPU ${result.failback.workerCpuMsPerSecret.toFixed(2)} ms/secret${worker.inProcess ? ' (incl. the in-process lab)' : ` (its own process); the bench process (lab, client) ${result.failback.benchProcessCpuMsPerSecret.toFixed(2)}`}`,
        `busiest quota bucket: ${busiest} ${busiestCalls} calls = ${busiestS.toFixed(1)} s at ${SHARE} × 50/s → ratio ${(wallS / busiestS).toFixed(3)} against it`,
        `calls per second per 10-s slot (${SHARE * 50}/s is the share):`,
        ...Object.entries(timeline).map(([b, slots]) => `  ${b.padEnd(26)} ${slots.map((r) => String(Math.round(r)).padStart(3)).join('')}`),
        describeTemporalCost(cost),
        `baseline sequential runbook loop: ${baselineN} in ${seqS.toFixed(1)} s → ${seqForN.toFixed(0)} s for ${n}${baselineN < n ? ' (extrapolated)' : ''} = ${(seqForN / wallS).toFixed(2)} × our failback (and it copies every secret, with no backup)`,
        `baseline unbounded Promise.all: ${baselineN} in ${allS.toFixed(1)} s, ${allFailed} failed after the SDK's retries`,
        `written to ${out}`,
        '',
      ].join('\n'),
    );
  } finally {
    await stack.close();
  }
}

/** Per Region/group of the 50/s buckets: calls per second in each 10-s slot of [t0, t0 + wall). */
function bucketTimeline(rates: Record<string, Record<string, { perSecond: Record<string, number> }>>, t0: number, wallS: number): Record<string, number[]> {
  const slots = Math.ceil(wallS / 10);
  // The last slot may be shorter than 10 s: its rate is over its own length.
  const lengthOf = (k: number) => Math.max(1, Math.min(10, Math.ceil(wallS - k * 10)));
  const out: Record<string, number[]> = {};
  for (const [region, groups] of Object.entries(rates))
    for (const [group, r] of Object.entries(groups)) {
      const row = new Array<number>(slots).fill(0);
      for (const [sec, c] of Object.entries(r.perSecond)) {
        // The calendar second that holds t0 counts in the first slot (its calls may be ours).
        const slot = Math.max(0, Math.floor((Number(sec) * 1000 - t0) / 10_000));
        if (Number(sec) * 1000 + 1000 > t0 && slot < slots) row[slot]! += c / lengthOf(slot);
      }
      if (row.some((x) => x > 0)) out[`${region}/${group}`] = row.map((x) => Math.round(x * 10) / 10);
    }
  return out;
}

await main();
process.exit(process.exitCode ?? 0);
