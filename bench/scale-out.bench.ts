/**
 * Scale-out benchmark (issue 18, target 7): the same unplanned failover of N secrets served by one worker
 * process, then by three (real, separate `secrets-dr worker` processes on one task queue prefix, no
 * per-process setting), on the lab with 30 ms ± 10 ms latency and AWS's quotas. Prints each time against
 * the bound N / (writeQuotaShare × 50), the ratio three ÷ one, and the most writes the lab counted in any
 * 1-second window in the DR Region (must stay ≤ writeQuotaShare × 50 with three workers as with one).
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/scale-out.bench.js [--n 1000]
 *
 * Writes bench/results/scale-out.json.
 */
import { randomBytes } from 'node:crypto';
import { failoverWorkflowId, fenceWorkflowId, workflowTaskQueue } from '../domain/ids.js';
import { hmacKeySecretName } from '../domain/lineage.js';
import type { FailoverInput } from '../domain/failover.js';
import { parsePlanText } from '../cli/plan-file.js';
import { QUICK, writeResult } from './results.js';
import {
  arg,
  assertTemporalCost,
  log,
  measureTemporalCost,
  sleep,
  spawnWorkerProcess,
  startBenchStack,
  stopWorkerProcess,
  type BenchStack,
} from './support.js';
import type { failoverWorkflow } from '../workflows/failover.workflow.js';

const PRIMARY = 'ap-northeast-1';
const DR = 'ap-northeast-3';
const SHARE = 0.6;
const LIMIT = SHARE * 50;

async function run(stack: BenchStack, n: number, workers: number) {
  const { lab, client } = stack;
  const tag = `w${workers}`;
  const prefix = `bench-scale-${tag}-${randomBytes(3).toString('hex')}`;
  const planName = `bench-${tag}`;
  const procs = await Promise.all(
    Array.from({ length: workers }, () =>
      spawnWorkerProcess({ temporalAddress: stack.temporal.address, labUrl: stack.lab.url, prefix, regions: [PRIMARY, DR] }),
    ),
  );
  try {
    const { plan } = parsePlanText(
      `name: ${planName}\nprimaryRegion: ${PRIMARY}\ndrRegions: [{ region: ${DR} }]\nsecrets:\n  include: [{ prefix: bench/${tag}/ }]\nfailover:\n  requireApproval: false\n  writeQuotaShare: ${SHARE}\n`,
    );
    lab.faults.setOutage(PRIMARY, 'refuse');
    await sleep(1_100); // a fresh second of the write bucket
    lab.counters.reset();
    const input: FailoverInput = { plan: plan!, to: DR, mode: 'unplanned', skipApproval: true, dryRun: false, taskQueuePrefix: prefix };
    const t0 = Date.now();
    const report = await client.workflow.execute<typeof failoverWorkflow>('failoverWorkflow', {
      taskQueue: workflowTaskQueue(prefix),
      workflowId: failoverWorkflowId(planName),
      args: [input],
    });
    const wallS = (Date.now() - t0) / 1_000;
    const rates = lab.counters.rates([DR])[DR] ?? {};
    lab.faults.clear(PRIMARY);
    for (const r of [PRIMARY, DR]) lab.faults.setLatency(r, 30, 10);
    await client.workflow
      .getHandle(fenceWorkflowId(planName, PRIMARY))
      .terminate('benchmark done')
      .catch(() => undefined);
    const temporal = await measureTemporalCost(client, failoverWorkflowId(planName), n);
    assertTemporalCost(`failover with ${workers} worker(s)`, temporal);
    const ideal = n / LIMIT;
    const maxPerSecond = Object.fromEntries(Object.entries(rates).map(([g, r]) => [g, r.maxPerSecond]));
    log(
      `${workers} worker(s): ${report.outcome}, ${report.counts.promoted} promoted in ${wallS.toFixed(1)} s (bound ${ideal.toFixed(1)} s, ratio ${(wallS / ideal).toFixed(3)}); most per 1-s window in ${DR}: ${JSON.stringify(maxPerSecond)}`,
    );
    return {
      workers,
      outcome: report.outcome,
      counts: report.counts,
      wallSeconds: wallS,
      boundSeconds: ideal,
      ratioToBound: wallS / ideal,
      maxPerSecond,
      temporal: { ...temporal, runs: temporal.runs.slice(0, 5) },
    };
  } finally {
    await Promise.all(procs.map(stopWorkerProcess));
  }
}

async function main(): Promise<void> {
  const n = arg('n', 1_000);
  const stack = await startBenchStack([PRIMARY, DR]);
  const { lab } = stack;
  try {
    log(`seeding 2 × ${n} replicated secrets`);
    for (const tag of ['w1', 'w3']) {
      for (let i = 0; i < n; i += 1_000)
        lab.secretsManager.seed(
          PRIMARY,
          Array.from({ length: Math.min(1_000, n - i) }, (_, j) => ({
            name: `bench/${tag}/s${String(i + j).padStart(6, '0')}`,
            value: randomBytes(16).toString('hex'),
            replicaRegions: [DR],
          })),
        );
      lab.secretsManager.seed(PRIMARY, [{ name: hmacKeySecretName(`bench-${tag}`), value: randomBytes(32).toString('base64'), replicaRegions: [DR] }]);
    }
    while (lab.secretsManager.pendingReplications > 0) await sleep(200);
    for (const r of [PRIMARY, DR]) lab.faults.setLatency(r, 30, 10);

    const one = await run(stack, n, 1);
    const three = await run(stack, n, 3);
    const ratio = three.wallSeconds / one.wallSeconds;
    const over = [one, three].flatMap((r) =>
      Object.entries(r.maxPerSecond)
        .filter(([, m]) => m > LIMIT)
        .map(([g, m]) => `${r.workers} workers: ${g} ${m}`),
    );
    const result = {
      benchmark: 'scale-out',
      at: new Date().toISOString(),
      n,
      writeQuotaShare: SHARE,
      limitPerSecond: LIMIT,
      latency: '30 ms ± 10 ms in both Regions; AWS quotas on; primary Region in outage (unplanned); workers are separate processes',
      one,
      three,
      ratioThreeToOne: ratio,
      overTheShare: over,
    };
    const out = writeResult('scale-out', result);
    process.stdout.write(
      [
        `scale-out, failover of ${n} secrets: 1 worker ${one.wallSeconds.toFixed(1)} s (${one.ratioToBound.toFixed(3)} × bound), 3 workers ${three.wallSeconds.toFixed(1)} s (${three.ratioToBound.toFixed(3)} × bound) → 3 ÷ 1 = ${ratio.toFixed(3)}`,
        `most writes in any 1-s window in ${DR} (limit ${LIMIT}): 1 worker ${JSON.stringify(one.maxPerSecond)}, 3 workers ${JSON.stringify(three.maxPerSecond)}${over.length ? ` — OVER: ${over.join(', ')}` : ''}`,
        `written to ${out}`,
        '',
      ].join('\n'),
    );
    if (over.length > 0 && !QUICK) process.exitCode = 1;
  } finally {
    await stack.close();
  }
}

await main();
process.exit(process.exitCode ?? 0);
