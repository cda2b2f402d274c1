/**
 * Monitor-cycle benchmark (DESIGN.md performance target): the AWS work of one health cycle over a
 * plan of N replicated secrets, on the lab with realistic latency (30 ms ± 10 ms) and AWS's quotas.
 * The cycle's AWS work is the monitor's `surveyRegion` activity in each Region (a probe plus the
 * Region's inventory from ListSecrets pages, which carry SecretVersionsToStages for parity), run
 * here directly (in a mock activity context) through the worker's own Region clients. Measures
 *   ratio = ListSecrets calls per Region ÷ ⌈N/100⌉                     target ≤ 2
 * and, in the same run, a naive cycle that describes every secret in every Region (DescribeSecret
 * per secret, concurrency 16): its call count and wall time against ours. The full workflow cycle
 * (timers, state machine, events) is asserted by test/integration/monitor.test.ts at N = 1,000.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/monitor.bench.js [--n 2000]
 *
 * Writes bench/results/monitor.json.
 */
import { randomBytes } from 'node:crypto';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createMonitorActivities, type MonitorActivities } from '../activities/monitor.activities.js';
import { writeResult } from './results.js';
import { startLab } from '../lab/server.js';
import { LAB_CREDENTIALS } from '../lab/stack.js';
import { createRegionClients } from '../worker/aws-clients.js';
import { arg, log, sleep, TEMPORAL_LIMITS } from './support.js';

const PRIMARY = 'ap-northeast-1';
const DR = 'ap-northeast-3';
const TARGET = 2;
const NAIVE_CONCURRENCY = 16;

async function main(): Promise<void> {
  const n = arg('n', 2_000);
  const lab = await startLab({ port: 0, regions: [PRIMARY, DR] });
  try {
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: lab.url,
      AWS_ENDPOINT_URL_EVENTBRIDGE: lab.url,
      ...LAB_CREDENTIALS,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    log(`seeding ${n} replicated secrets`);
    const names = Array.from({ length: n }, (_, i) => `bench/fleet/s${String(i).padStart(5, '0')}`);
    for (let i = 0; i < n; i += 1_000) {
      lab.secretsManager.seed(
        PRIMARY,
        names.slice(i, i + 1_000).map((name) => ({ name, value: randomBytes(16).toString('hex'), replicaRegions: [DR] })),
      );
    }
    while (lab.secretsManager.pendingReplications > 0) await sleep(200);
    for (const r of [PRIMARY, DR]) lab.faults.setLatency(r, 30, 10);
    const pages = Math.ceil(n / 100);

    // 1. Our cycle: surveyRegion in each Region, in parallel (as the monitor workflow runs them).
    lab.counters.reset();
    const t0 = Date.now();
    // In an activity context (the inventory heartbeats its progress), as on the worker.
    const surveys: Array<Awaited<ReturnType<MonitorActivities['surveyRegion']>>> = await Promise.all(
      [PRIMARY, DR].map(
        (region) =>
          new MockActivityEnvironment().run(createMonitorActivities(createRegionClients(region, { requestTimeoutMs: 15_000 })).surveyRegion, {
            region,
          }) as ReturnType<MonitorActivities['surveyRegion']>,
      ),
    );
    const oursS = (Date.now() - t0) / 1_000;
    const c1 = lab.counters.snapshot();
    const perRegion = Object.fromEntries(
      [PRIMARY, DR].map((r) => [r, { listSecrets: c1[r]?.ListSecrets?.calls ?? 0, describeSecret: c1[r]?.DescribeSecret?.calls ?? 0 }]),
    );
    const ratio = Math.max(...Object.values(perRegion).map((x) => x.listSecrets)) / pages;
    const seen = surveys.map((s) => s.inventory?.entries.length ?? 0);
    // Temporal's cost of the cycle: each survey is one activity result (one payload; Temporal's limit 256 KB).
    const surveyBytes = Object.fromEntries(surveys.map((s) => [s.region, Buffer.byteLength(JSON.stringify(s))]));
    const payloadOver = Object.entries(surveyBytes).filter(([, b]) => b > TEMPORAL_LIMITS.payloadBytes);

    // 2. Baseline: DescribeSecret per secret per Region (concurrency 16 per Region).
    lab.counters.reset();
    const t1 = Date.now();
    let naiveFailed = 0;
    await Promise.all(
      [PRIMARY, DR].map(async (region) => {
        const sm = new SecretsManagerClient({ region });
        let next = 0;
        await Promise.all(
          Array.from({ length: NAIVE_CONCURRENCY }, async () => {
            while (next < names.length) {
              const name = names[next++]!;
              await sm.send(new DescribeSecretCommand({ SecretId: name })).catch(() => naiveFailed++);
            }
          }),
        );
        sm.destroy();
      }),
    );
    const naiveS = (Date.now() - t1) / 1_000;
    const c2 = lab.counters.snapshot();
    const naiveCalls = Object.fromEntries([PRIMARY, DR].map((r) => [r, c2[r]?.DescribeSecret?.calls ?? 0]));

    const result = {
      benchmark: 'monitor',
      at: new Date().toISOString(),
      n,
      latency: '30 ms ± 10 ms in both Regions; AWS quotas on',
      target: { ratio: TARGET },
      cycle: { seconds: oursS, callsPerRegion: perRegion, listPagesBound: pages, ratio, inventoryEntries: seen },
      temporal: {
        surveyResultBytes: surveyBytes,
        bytesPerSecret: Math.max(...Object.values(surveyBytes)) / n,
        payloadLimitBytes: TEMPORAL_LIMITS.payloadBytes,
        overLimit: payloadOver.map(([r]) => r),
      },
      baseline: {
        describePerSecret: {
          seconds: naiveS,
          callsPerRegion: naiveCalls,
          failed: naiveFailed,
          concurrency: NAIVE_CONCURRENCY,
          callsRatioVsOurs: naiveCalls[PRIMARY]! / Math.max(1, perRegion[PRIMARY]!.listSecrets),
          timeRatioVsOurs: naiveS / oursS,
        },
      },
    };
    const out = writeResult('monitor', result);
    process.stdout.write(
      [
        `monitor cycle over ${n} secrets: ${Object.entries(perRegion)
          .map(([r, x]) => `${r} ${x.listSecrets} ListSecrets + ${x.describeSecret} DescribeSecret`)
          .join(', ')} → ratio ${ratio.toFixed(2)} × ⌈N/100⌉ = ${pages} (target ≤ ${TARGET}); ${oursS.toFixed(2)} s`,
        `baseline DescribeSecret per secret: ${naiveCalls[PRIMARY]} calls per Region, ${naiveS.toFixed(1)} s → ${result.baseline.describePerSecret.callsRatioVsOurs.toFixed(0)} × the calls, ${result.baseline.describePerSecret.timeRatioVsOurs.toFixed(1)} × the time of our cycle`,
        `Temporal cost: surveyRegion result ${Object.entries(surveyBytes)
          .map(([r, b]) => `${r} ${(b / 1024).toFixed(1)} KB`)
          .join(
            ', ',
          )} (${result.temporal.bytesPerSecret.toFixed(0)} bytes per secret; limit ${TEMPORAL_LIMITS.payloadBytes / 1024} KB per payload)${payloadOver.length ? ' — OVER THE LIMIT: the inventory must be paged' : ''}`,
        `written to ${out}`,
        '',
      ].join('\n'),
    );
    if (ratio > TARGET || seen.some((s) => s < n) || payloadOver.length > 0) process.exitCode = 1;
  } finally {
    await lab.close();
  }
}

await main();
process.exit(process.exitCode ?? 0);
