/**
 * Setup benchmark: N secrets (default 2,000) replicated by the replicate workflow on the embedded
 * local stack (lab with realistic latency, 30 ms ± 10 ms in both Regions, and AWS's quotas +
 * Temporal dev server + in-process workers). The write quota bounds it: N ReplicateSecretToRegions
 * calls at writeQuotaShare × 50 TPS. Target: ≤ 1.3 × that, with no workflow history over 10,000
 * events. Baselines in the same run, on a smaller fleet (extrapolated, labelled so): a sequential
 * SDK loop of ReplicateSecretToRegions, and an unbounded Promise.all with the SDK's default retries
 * (neither inspects the target Region for conflicts nor waits for InSync).
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/setup.bench.js [--n 2000] [--baseline-n 300]
 *
 * Prints `setup N=…: Xs; quota bound N/(share×50)=Ys; ratio X/Y (target <= 1.3); largest history Z events (limit 10000)`
 * and writes bench/results/setup.json.
 */
import { randomBytes } from 'node:crypto';
import { ReplicateSecretToRegionsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { setupWorkflowId, workflowTaskQueue } from '../domain/ids.js';
import { PlanSchema } from '../domain/plan.js';
import { QUICK, writeResult } from './results.js';
import { assertTemporalCost, describeTemporalCost, measureBaselines, measureTemporalCost } from './support.js';
import { LabClient } from '../lab/client.js';
import { installRuntime } from '../worker/runtime.js';
import { arg, startBenchStack } from './support.js';
import type { replicateWorkflow } from '../workflows/replicate.workflow.js';

const PRIMARY = 'ap-northeast-1';
const DR = 'ap-northeast-3';
const TARGET_RATIO = 1.3;
const HISTORY_LIMIT = 10_000;

async function main(): Promise<void> {
  const n = arg('n', 2000);
  const baselineN = Math.min(n, arg('baseline-n', 300));
  installRuntime('WARN');
  const stack = await startBenchStack([PRIMARY, DR]);
  const { lab, prefix, cleanups } = stack;
  const c = { client: stack.client }; // the stack's client, under the name the measurement below uses
  try {
    const labClient = new LabClient(lab.url);
    const secrets = Array.from({ length: n }, (_, i) => ({ name: `bench/fleet/s${String(i).padStart(5, '0')}`, value: randomBytes(16).toString('hex') }));
    for (let i = 0; i < secrets.length; i += 500) await labClient.seed(PRIMARY, secrets.slice(i, i + 500));
    const baseline = (p: string) =>
      Array.from({ length: baselineN }, (_, i) => ({ name: `${p}s${String(i).padStart(5, '0')}`, value: randomBytes(16).toString('hex') }));
    await labClient.seed(PRIMARY, baseline('bench/seq/'));
    await labClient.seed(PRIMARY, baseline('bench/all/'));
    for (const r of [PRIMARY, DR]) lab.faults.setLatency(r, 30, 10);
    const plan = PlanSchema.parse({ name: 'bench', primaryRegion: PRIMARY, drRegions: [{ region: DR }], secrets: { include: [{ prefix: 'bench/fleet/' }] } });
    const share = plan.failover.writeQuotaShare;

    const started = Date.now();
    const report = await c.client.workflow.execute<typeof replicateWorkflow>('replicateWorkflow', {
      taskQueue: workflowTaskQueue(prefix),
      workflowId: setupWorkflowId(plan.name),
      args: [{ plan, taskQueuePrefix: prefix }],
    });
    const seconds = (Date.now() - started) / 1000;

    const id = setupWorkflowId(plan.name);
    // Every workflow of the setup (parent and batches), by describe: events, bytes, the largest event.
    const cost = await measureTemporalCost(c.client, id, n);
    const lengths: Record<string, number> = Object.fromEntries(cost.runs.map((r) => [r.workflowId, r.events]));
    const batches = cost.runs.filter((r) => r.workflowId !== id).map((r) => r.events);
    const largest = cost.largestHistory.events;
    const bound = n / (share * 50);
    const ratio = seconds / bound;
    console.log(
      `setup N=${n}: ${seconds.toFixed(1)}s; quota bound N/(share×50)=${bound.toFixed(1)}s; ratio ${ratio.toFixed(2)} (target <= ${TARGET_RATIO}); largest history ${largest} events (limit ${HISTORY_LIMIT})`,
    );
    console.log(`outcomes: ${JSON.stringify(report.counts)}; histories: parent ${lengths[id]} events, batches ${Math.min(...batches)}–${Math.max(...batches)}`);
    console.log(describeTemporalCost(cost));

    // Baselines (after a fresh second of the write bucket each).
    const sm = new SecretsManagerClient({ region: PRIMARY });
    cleanups.push(async () => sm.destroy());
    const replicate = (name: string) => sm.send(new ReplicateSecretToRegionsCommand({ SecretId: name, AddReplicaRegions: [{ Region: DR }] }));
    const { sequentialSdkLoop: seq, unboundedPromiseAll } = await measureBaselines(baselineN, n, replicate);
    const [seqS, seqForN, allS, allFailed] = [seq.seconds, seq.extrapolatedSecondsForN, unboundedPromiseAll.seconds, unboundedPromiseAll.failedAfterSdkRetries];
    const baselines = {
      sequentialSdkLoop: { ...seq, ratioVsBound: seqForN / bound, writeShareTaken: baselineN / seqS / 50 },
      unboundedPromiseAll,
    };
    console.log(
      `baseline sequential SDK loop: ${baselineN} in ${seqS.toFixed(1)} s (${(baselineN / seqS).toFixed(1)}/s, ${(baselines.sequentialSdkLoop.writeShareTaken * 100).toFixed(0)} % of the write quota) → ${seqForN.toFixed(0)} s for ${n}${baselineN < n ? ' (extrapolated)' : ''}`,
    );
    console.log(`baseline unbounded Promise.all: ${baselineN} in ${allS.toFixed(1)} s, ${allFailed} failed after the SDK's retries (ThrottlingException)`);
    writeResult('setup', {
      benchmark: 'setup',
      latency: '30 ms ± 10 ms in both Regions; AWS quotas on',
      n,
      seconds,
      writeQuotaShare: share,
      quotaBoundSeconds: bound,
      ratio,
      targetRatio: TARGET_RATIO,
      largestHistoryEvents: largest,
      historyLimit: HISTORY_LIMIT,
      historyEventsPerSecret: cost.eventsPerSecret,
      temporal: { ...cost, runs: cost.runs.slice(0, 10) },
      counts: report.counts,
      histories: lengths,
      baselines,
      at: new Date().toISOString(),
    });
    assertTemporalCost('setup', cost);
    if ((!QUICK && ratio > TARGET_RATIO) || largest > HISTORY_LIMIT || report.attention > 0) process.exitCode = 1;
  } finally {
    await stack.close();
  }
}

await main();
