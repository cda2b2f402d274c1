/**
 * Failover benchmark (DESIGN.md performance target): N replicated secrets fail over (unplanned,
 * primary Region in outage) on the lab with realistic latency (30 ms ± 10 ms in both Regions) and
 * AWS's quotas, Temporal dev server + in-process workers. Measures
 *   ratio = failover wall time ÷ (N / (writeQuotaShare × 50 TPS))      target ≤ 1.15 at N = 10,000
 * and, in the same run, two naive baselines on a smaller fleet (extrapolated to N, labelled so):
 * a sequential SDK loop of StopReplicationToReplica, and an unbounded Promise.all with the SDK's
 * default retries. Also the largest workflow history (events) of the failover.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/failover.bench.js [--n 10000] [--baseline-n 300]
 *
 * Writes bench/results/failover.json.
 */
import { randomBytes } from 'node:crypto';
import { SecretsManagerClient, StopReplicationToReplicaCommand } from '@aws-sdk/client-secrets-manager';
import { failoverWorkflowId, fenceWorkflowId, workflowTaskQueue } from '../domain/ids.js';
import { hmacKeySecretName } from '../domain/lineage.js';
import type { FailoverInput } from '../domain/failover.js';
import { parsePlanText } from '../cli/plan-file.js';
import { QUICK, writeResult } from './results.js';
import { arg, assertTemporalCost, describeTemporalCost, log, measureTemporalCost, sleep, startBenchStack } from './support.js';
import type { failoverWorkflow } from '../workflows/failover.workflow.js';

const PRIMARY = 'ap-northeast-1';
const DR = 'ap-northeast-3';
const SHARE = 0.6;
const TARGET = 1.15;

async function main(): Promise<void> {
  const n = arg('n', 2_000);
  const baselineN = Math.min(n, arg('baseline-n', 300));
  const stack = await startBenchStack([PRIMARY, DR]);
  const { lab, client, prefix, cleanups } = stack;
  try {
    // Fleets (seeded without quotas), and the plan's HMAC key already replicated (as setup leaves it).
    log(`seeding ${n} + 2 × ${baselineN} replicated secrets`);
    const seed = (p: string, count: number) => {
      for (let i = 0; i < count; i += 1_000) {
        lab.secretsManager.seed(
          PRIMARY,
          Array.from({ length: Math.min(1_000, count - i) }, (_, j) => ({
            name: `${p}s${String(i + j).padStart(5, '0')}`,
            value: randomBytes(16).toString('hex'),
            replicaRegions: [DR],
          })),
        );
      }
    };
    seed('bench/fleet/', n);
    seed('bench/seq/', baselineN);
    seed('bench/all/', baselineN);
    lab.secretsManager.seed(PRIMARY, [{ name: hmacKeySecretName('bench'), value: randomBytes(32).toString('base64'), replicaRegions: [DR] }]);
    while (lab.secretsManager.pendingReplications > 0) await sleep(200);
    for (const r of [PRIMARY, DR]) lab.faults.setLatency(r, 30, 10);

    // 1. The failover (unplanned: the primary Region is down).
    const { plan } = parsePlanText(
      `name: bench\nprimaryRegion: ${PRIMARY}\ndrRegions: [{ region: ${DR} }]\nsecrets:\n  include: [{ prefix: bench/fleet/ }]\nfailover:\n  requireApproval: false\n  writeQuotaShare: ${SHARE}\n`,
    );
    lab.faults.setOutage(PRIMARY, 'refuse');
    lab.counters.reset();
    const input: FailoverInput = { plan: plan!, to: DR, mode: 'unplanned', skipApproval: true, dryRun: false, taskQueuePrefix: prefix };
    const ideal = n / (SHARE * 50);
    log(`failover of ${n} secrets (ideal ${ideal.toFixed(1)} s at ${SHARE} × 50 TPS)`);
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    const report = await client.workflow.execute<typeof failoverWorkflow>('failoverWorkflow', {
      taskQueue: workflowTaskQueue(prefix),
      workflowId: failoverWorkflowId('bench'),
      args: [input],
    });
    const wallS = (Date.now() - t0) / 1_000;
    const cpu = process.cpuUsage(cpu0);
    const counters = lab.counters.snapshot()[DR] ?? {};
    await client.workflow
      .getHandle(fenceWorkflowId('bench', PRIMARY))
      .terminate('benchmark done')
      .catch(() => undefined);
    const cost = await measureTemporalCost(client, failoverWorkflowId('bench'), n);
    assertTemporalCost('failover', cost);
    const { largestHistory, workflows } = cost;
    const ratio = wallS / ideal;
    log(
      `failover: ${report.outcome}, ${report.counts.promoted} promoted, ${report.counts.failed} failed in ${wallS.toFixed(1)} s → ratio ${ratio.toFixed(3)} (target ≤ ${TARGET})`,
    );
    lab.faults.clear(PRIMARY);
    for (const r of [PRIMARY, DR]) lab.faults.setLatency(r, 30, 10);

    // 2. Baseline: sequential SDK loop (default retries), on baselineN, extrapolated to N.
    const sm = new SecretsManagerClient({ region: DR });
    cleanups.push(async () => sm.destroy());
    await sleep(1_100); // a fresh second of the write bucket
    const s0 = Date.now();
    let seqFailed = 0;
    for (let i = 0; i < baselineN; i++) {
      await sm.send(new StopReplicationToReplicaCommand({ SecretId: `bench/seq/s${String(i).padStart(5, '0')}` })).catch(() => seqFailed++);
    }
    const seqS = (Date.now() - s0) / 1_000;

    // 3. Baseline: unbounded Promise.all (default SDK retries), on baselineN.
    await sleep(1_100);
    const a0 = Date.now();
    const all = await Promise.allSettled(
      Array.from({ length: baselineN }, (_, i) => sm.send(new StopReplicationToReplicaCommand({ SecretId: `bench/all/s${String(i).padStart(5, '0')}` }))),
    );
    const allS = (Date.now() - a0) / 1_000;
    const allFailed = all.filter((r) => r.status === 'rejected').length;

    const result = {
      benchmark: 'failover',
      at: new Date().toISOString(),
      n,
      writeQuotaShare: SHARE,
      latency: '30 ms ± 10 ms in both Regions; AWS quotas on; primary Region in outage (unplanned)',
      target: { ratio: TARGET, at: 10_000 },
      failover: {
        outcome: report.outcome,
        counts: report.counts,
        wallSeconds: wallS,
        idealSeconds: ideal,
        ratio,
        rtoMs: report.rtoMs,
        stopCalls: counters.StopReplicationToReplica?.calls ?? 0,
        throttled: counters.StopReplicationToReplica?.throttled ?? 0,
        workerCpuMsPerSecret: (cpu.user + cpu.system) / 1_000 / n,
        largestHistory,
        historyLimit: 10_000,
        historyEventsPerSecret: cost.eventsPerSecret,
        temporal: { ...cost, runs: cost.runs.slice(0, 10) },
        workflows,
        lineage: report.lineage,
      },
      baselines: {
        sequentialSdkLoop: {
          measuredOn: baselineN,
          seconds: seqS,
          failed: seqFailed,
          ratePerSecond: baselineN / seqS,
          extrapolatedSecondsForN: (seqS * n) / baselineN,
          extrapolated: baselineN < n,
          ratioVsIdeal: (seqS * n) / baselineN / ideal,
        },
        unboundedPromiseAll: {
          measuredOn: baselineN,
          seconds: allS,
          failedAfterSdkRetries: allFailed,
          failedShare: allFailed / baselineN,
          throttledByLab: (lab.counters.snapshot()[DR]?.StopReplicationToReplica?.throttled ?? 0) - (counters.StopReplicationToReplica?.throttled ?? 0),
        },
      },
    };
    const out = writeResult('failover', result);
    process.stdout.write(
      [
        `failover of ${n} secrets: ${wallS.toFixed(1)} s vs ideal ${ideal.toFixed(1)} s → ratio ${ratio.toFixed(3)} (target ≤ ${TARGET} at 10,000) — ${report.counts.promoted} promoted, ${report.counts.failed} failed, ${result.failover.stopCalls} StopReplicationToReplica calls`,
        `${describeTemporalCost(cost)}; worker CPU ${result.failover.workerCpuMsPerSecret.toFixed(2)} ms/secret (incl. the in-process lab)`,
        `baseline sequential SDK loop: ${baselineN} in ${seqS.toFixed(1)} s (${(baselineN / seqS).toFixed(1)}/s) → ${result.baselines.sequentialSdkLoop.extrapolatedSecondsForN.toFixed(0)} s for ${n}${baselineN < n ? ' (extrapolated)' : ''}`,
        `baseline unbounded Promise.all: ${baselineN} in ${allS.toFixed(1)} s, ${allFailed} failed after the SDK's retries (ThrottlingException)`,
        `written to ${out}`,
        '',
      ].join('\n'),
    );
    // Exit non-zero for `npm run bench`: a fleet not fully promoted always, the ratio unless --quick (small N).
    if (report.counts.promoted !== n || (!QUICK && ratio > TARGET)) process.exitCode = 1;
  } finally {
    await stack.close();
  }
}

await main();
process.exit(process.exitCode ?? 0);
