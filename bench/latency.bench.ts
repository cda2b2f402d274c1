/**
 * Latency sweep (issue 18, target 5): the same unplanned failover of N secrets with 30, 100 and 300 ms
 * (± a third of it, uniform jitter) on every call in both Regions, AWS quotas on. At each latency:
 *   ratio = failover wall time ÷ N / (writeQuotaShare × 50 TPS)       target ≤ 1.15 (enforced unless --quick)
 * and the sequential runbook loop (one StopReplicationToReplica after the other, the SDK's default retries)
 * measured on --baseline-n secrets at the same latency and extrapolated to N (labelled so): where a
 * script keeps up (it needs latency ≤ 1 / (share × 50) to match us) and where it falls behind.
 *
 *   npm run build && node dist/bench/latency.bench.js [--n 2000] [--baseline-n 100] [--latencies 30,100,300] [--in-process]
 *
 * The failovers run on a `secrets-dr worker` process of its own, as deployed (`--in-process`: on the bench
 * process's workers, beside the lab: bench/failover-support.ts `failoverWorker`).
 *
 * Writes bench/results/latency.json.
 */
import { SecretsManagerClient, StopReplicationToReplicaCommand } from '@aws-sdk/client-secrets-manager';
import { REGION_WRITE_TPS } from '../domain/failover.js';
import { QUICK, writeResult } from './results.js';
import { arg, log, sleep, startBenchStack } from './support.js';
import { benchPlan, DR, failoverWorker, PRIMARY, runFailover, seedFailoverFleet, setBenchLatency } from './failover-support.js';

const SHARE = 0.6;
const TARGET = 1.15;

function latencies(): number[] {
  const i = process.argv.indexOf('--latencies');
  const list = i >= 0 ? (process.argv[i + 1] ?? '').split(',').map(Number) : [30, 100, 300];
  if (list.some((l) => !Number.isFinite(l) || l < 0)) throw new Error(`--latencies: expected milliseconds such as 30,100,300, got "${process.argv[i + 1]}"`);
  return list;
}

interface Point {
  latencyMs: number;
  jitterMs: number;
  failover: { outcome: string; promoted: number; failed: number; wallSeconds: number; toLastPromotionSeconds: number; boundSeconds: number; ratio: number };
  sequentialLoop: {
    measuredOn: number;
    seconds: number;
    failed: number;
    ratePerSecond: number;
    extrapolatedSecondsForN: number;
    extrapolated: boolean;
    ratio: number;
  };
}

/** min / median / max of the calls per second, leaving out the seconds before the first and after the last call. */
function steadyRates(perSecond: number[]): string {
  const first = perSecond.findIndex((k) => k > 0);
  const last = perSecond.findLastIndex((k) => k > 0);
  const steady = perSecond.map((k, t) => ({ t, k })).slice(first + 1, last);
  if (steady.length === 0) return 'too short to tell';
  const sorted = steady.map((s) => s.k).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const low = steady.filter((s) => s.k < median / 2).map((s) => `${s.t} s: ${s.k}`);
  return `min ${sorted[0]}, median ${median}, max ${sorted.at(-1)} over ${sorted.length} s${low.length ? `; below half the median at ${low.join(', ')}` : ''}`;
}

async function main(): Promise<void> {
  const n = arg('n', 2_000);
  const baselineN = Math.min(n, arg('baseline-n', 100));
  const bound = n / (SHARE * REGION_WRITE_TPS);
  const stack = await startBenchStack([PRIMARY, DR]);
  const { lab, cleanups } = stack;
  const sm = new SecretsManagerClient({ region: DR });
  cleanups.push(async () => sm.destroy());
  const points: Point[] = [];
  let where = '';
  let inProcess = false;
  try {
    const worker = await failoverWorker(stack);
    ({ where, inProcess } = worker);
    for (const latency of latencies()) {
      const jitter = Math.round(latency / 3);
      const name = `lat${latency}`;
      log(`${latency} ms ± ${jitter}: seeding ${n} + ${baselineN} replicated secrets`);
      const fleets: Array<[string, number]> = [
        [`bench/${name}/`, n],
        [`bench/${name}-seq/`, baselineN],
      ];
      await seedFailoverFleet(lab, name, fleets, latency, jitter);
      await sleep(1_100);
      const { report, wallS, stops } = await runFailover(worker.on, benchPlan(name, `bench/${name}/`, `  writeQuotaShare: ${SHARE}\n`));
      setBenchLatency(lab, latency, jitter); // runFailover cleared the primary's faults
      log(
        `${latency} ms: failover ${wallS.toFixed(1)} s (StopReplicationToReplica from ${stops.firstS.toFixed(1)} s to ${stops.lastS.toFixed(1)} s, last promotion at ${((report.rtoMs ?? 0) / 1_000).toFixed(1)} s) → ratio ${(wallS / bound).toFixed(3)}; StopReplicationToReplica per second between the first and last full second: ${steadyRates(stops.perSecond)}`,
      );

      await sleep(1_100); // a fresh second of the write bucket
      const s0 = Date.now();
      let seqFailed = 0;
      for (let i = 0; i < baselineN; i++) {
        await sm.send(new StopReplicationToReplicaCommand({ SecretId: `bench/${name}-seq/s${String(i).padStart(5, '0')}` })).catch(() => seqFailed++);
      }
      const seqS = (Date.now() - s0) / 1_000;
      const extrapolated = (seqS * n) / baselineN;
      points.push({
        latencyMs: latency,
        jitterMs: jitter,
        failover: {
          outcome: report.outcome,
          promoted: report.counts.promoted,
          failed: report.counts.failed,
          wallSeconds: wallS,
          toLastPromotionSeconds: (report.rtoMs ?? 0) / 1_000,
          boundSeconds: bound,
          ratio: wallS / bound,
        },
        sequentialLoop: {
          measuredOn: baselineN,
          seconds: seqS,
          failed: seqFailed,
          ratePerSecond: baselineN / seqS,
          extrapolatedSecondsForN: extrapolated,
          extrapolated: baselineN < n,
          ratio: extrapolated / bound,
        },
      });
    }
  } finally {
    await stack.close();
  }

  const out = writeResult(inProcess ? 'latency-in-process' : 'latency', {
    benchmark: 'latency',
    at: new Date().toISOString(),
    n,
    writeQuotaShare: SHARE,
    conditions: 'latency ± jitter on every call in both Regions; AWS quotas on; primary Region in outage (unplanned)',
    worker: where,
    target: { ratio: TARGET },
    points,
  });
  const lines = points.map(
    (p) =>
      `${String(p.latencyMs).padStart(3)} ms ± ${p.jitterMs}: failover ${p.failover.wallSeconds.toFixed(1)} s → ratio ${p.failover.ratio.toFixed(3)} (target ≤ ${TARGET}), ${p.failover.promoted} promoted; sequential loop ${p.sequentialLoop.ratePerSecond.toFixed(1)}/s → ${p.sequentialLoop.extrapolatedSecondsForN.toFixed(0)} s for ${n}${p.sequentialLoop.extrapolated ? ` (extrapolated from ${p.sequentialLoop.measuredOn})` : ''} = ratio ${p.sequentialLoop.ratio.toFixed(2)}`,
  );
  process.stdout.write(
    [
      `latency sweep, failover of ${n} secrets on ${where} (bound N/(${SHARE}×50) = ${bound.toFixed(1)} s):`,
      ...lines.map((l) => `  ${l}`),
      `written to ${out}`,
      '',
    ].join('\n'),
  );
  const misses = points.filter((p) => p.failover.ratio > TARGET);
  if (points.some((p) => p.failover.promoted !== n)) process.exitCode = 1;
  if (misses.length > 0) {
    process.stdout.write(`!! above ${TARGET}× the bound at ${misses.map((p) => `${p.latencyMs} ms`).join(', ')}\n`);
    if (!QUICK) process.exitCode = 1;
  }
}

await main();
process.exit(process.exitCode ?? 0);
