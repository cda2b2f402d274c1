/**
 * Applications share the bucket (issue 18, target 4): during an unplanned failover of N secrets, a synthetic
 * application writes PutSecretValue on its own secrets in the DR Region, the same 50 TPS write bucket as our
 * StopReplicationToReplica calls. Four runs, one after the other on fresh fleets:
 *
 *   application load                                       × governor
 *   steady: 20 writes/s for the whole failover             × writeQuotaShare 0.6 (fixed) | auto (cap 0.9)
 *   bursts: 40 writes/s for 2 s every 10 s (8/s mean)      × writeQuotaShare 0.6 (fixed) | auto (cap 0.9)
 *
 * (Bursts: 40/s is what a fleet of services does when a deploy restarts them and each rewrites its
 * credentials; with our 30/s it asks 70/s of a 50/s bucket for 2 s.) For each run:
 *   - the application's throttled share: its refused attempts ÷ all its attempts (SDK default retries
 *     on), target ≤ 1 %, enforced at the default (fixed 0.6) when not --quick; auto is measured beside it;
 *   - our time against N / (50 − the application's measured mean rate) (all the bucket the application leaves),
 *     and against N / (writeQuotaShare × 50) (our own bound; for auto, its cap).
 * Latency 30 ms ± 10 ms in both Regions, AWS quotas on.
 *
 *   npm run build && node dist/bench/apps-share.bench.js [--n 2000]
 *
 * Writes bench/results/apps-share.json.
 */
import { REGION_WRITE_TPS } from '../domain/failover.js';
import { QUICK, writeResult } from './results.js';
import { arg, log, sleep, startBenchStack } from './support.js';
import {
  benchPlan,
  DR,
  PRIMARY,
  runFailover,
  seedApplicationSecrets,
  seedFailoverFleet,
  setBenchLatency,
  startApplication,
  type AppRate,
  type AppStats,
} from './failover-support.js';

const TARGET_THROTTLED_SHARE = 0.01;
const LOADS: Record<string, { rate: AppRate; mean: number; text: string }> = {
  steady: { rate: () => 20, mean: 20, text: '20 writes/s steady' },
  bursts: { rate: (ms) => (ms % 10_000 < 2_000 ? 40 : 0), mean: 8, text: '40 writes/s for 2 s every 10 s (8/s mean)' },
};
const MODES: Record<string, { yaml: string; share: number }> = {
  fixed: { yaml: '  writeQuotaShare: 0.6\n', share: 0.6 },
  auto: { yaml: '  writeQuotaShare: auto\n  writeQuotaShareMax: 0.9\n', share: 0.9 },
};

interface Run {
  load: string;
  mode: string;
  outcome: string;
  promoted: number;
  failed: number;
  wallSeconds: number;
  /** N / (50 − the application's mean rate): all the bucket the application leaves. */
  leftBoundSeconds: number;
  ratioToLeft: number;
  /** N / (writeQuotaShare × 50): our own bound (auto: its cap). */
  shareBoundSeconds: number;
  ratioToShare: number;
  ourThrottled: number;
  app: AppStats;
}

async function main(): Promise<void> {
  const n = arg('n', 2_000);
  const stack = await startBenchStack([PRIMARY, DR]);
  const { lab } = stack;
  const runs: Run[] = [];
  try {
    for (const load of Object.keys(LOADS)) {
      for (const mode of Object.keys(MODES)) {
        const name = `apps-${load}-${mode}`;
        const fleet = `bench/${name}/`;
        log(`${name}: seeding ${n} replicated secrets`);
        setBenchLatency(lab, 0, 0);
        const appNames = seedApplicationSecrets(lab, DR, `app/${name}/`, 200);
        await seedFailoverFleet(lab, name, [[fleet, n]], 30, 10);
        await sleep(1_100); // a full bucket, as after any quiet second
        const plan = benchPlan(name, fleet, MODES[mode]!.yaml);
        lab.counters.reset();
        const app = startApplication(DR, appNames, LOADS[load]!.rate);
        const { report, wallS } = await runFailover(stack, plan);
        const appStats = await app.stop();
        const ours = lab.counters.snapshot()[DR]?.StopReplicationToReplica;
        const left = n / (REGION_WRITE_TPS - appStats.meanRate); // the application's measured mean over the failover
        const own = n / (MODES[mode]!.share * REGION_WRITE_TPS);
        const run: Run = {
          load,
          mode,
          outcome: report.outcome,
          promoted: report.counts.promoted,
          failed: report.counts.failed,
          wallSeconds: wallS,
          leftBoundSeconds: left,
          ratioToLeft: wallS / left,
          shareBoundSeconds: own,
          ratioToShare: wallS / own,
          ourThrottled: ours?.throttled ?? 0,
          app: appStats,
        };
        runs.push(run);
        log(
          `${name}: ${report.outcome}, ${run.promoted} promoted in ${wallS.toFixed(1)} s; application ${appStats.writes} writes (${appStats.meanRate.toFixed(1)}/s), throttled ${(100 * appStats.throttledShare).toFixed(2)} % of its attempts, ${appStats.failed} failed after retries`,
        );
      }
    }
  } finally {
    await stack.close();
  }

  const fails = runs.filter((r) => r.mode === 'fixed' && r.app.throttledShare > TARGET_THROTTLED_SHARE);
  const incomplete = runs.filter((r) => r.promoted !== n);
  const lines = runs.map(
    (r) =>
      `${r.load.padEnd(6)} ${r.mode.padEnd(5)}: failover ${r.wallSeconds.toFixed(1)} s = ${r.ratioToLeft.toFixed(2)} × N/(50 − ${r.app.meanRate.toFixed(1)}) (${r.leftBoundSeconds.toFixed(1)} s), ${r.ratioToShare.toFixed(2)} × N/(share×50); application throttled ${(100 * r.app.throttledShare).toFixed(2)} % of ${r.app.attempts} attempts (target ≤ ${100 * TARGET_THROTTLED_SHARE} %), ${r.app.failed} writes failed after the SDK's retries; our StopReplicationToReplica refused ${r.ourThrottled}×`,
  );
  const out = writeResult('apps-share', {
    benchmark: 'apps-share',
    at: new Date().toISOString(),
    n,
    latency: '30 ms ± 10 ms in both Regions; AWS quotas on; primary Region in outage (unplanned)',
    loads: Object.fromEntries(Object.entries(LOADS).map(([k, v]) => [k, v.text])),
    modes: { fixed: 'writeQuotaShare: 0.6', auto: 'writeQuotaShare: auto, writeQuotaShareMax: 0.9' },
    target: { applicationThrottledShare: TARGET_THROTTLED_SHARE, enforcedFor: 'fixed (the default)' },
    runs,
  });
  process.stdout.write(
    [`applications sharing the DR Region's write bucket during a failover of ${n} secrets:`, ...lines.map((l) => `  ${l}`), `written to ${out}`, ''].join('\n'),
  );
  if (incomplete.length > 0) {
    process.stdout.write(`!! not every secret promoted in: ${incomplete.map((r) => `${r.load}/${r.mode}`).join(', ')}\n`);
    process.exitCode = 1;
  }
  if (fails.length > 0) {
    process.stdout.write(
      `!! application throttled share above ${100 * TARGET_THROTTLED_SHARE} % with the default share in: ${fails.map((r) => r.load).join(', ')}\n`,
    );
    if (!QUICK) process.exitCode = 1;
  }
}

await main();
process.exit(process.exitCode ?? 0);
