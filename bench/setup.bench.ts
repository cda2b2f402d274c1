/**
 * Setup benchmark: N secrets (default 1,000) replicated by the replicate workflow on the embedded
 * local stack (lab with AWS's quotas + Temporal dev server + in-process workers). The write quota
 * bounds it: N ReplicateSecretToRegions calls at writeQuotaShare × 50 TPS. Target: ≤ 1.3 × that,
 * with no workflow history over 10,000 events.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/setup.bench.js [--n 1000]
 *
 * Prints `setup N=…: Xs; quota bound N/(share×50)=Ys; ratio X/Y (target <= 1.3); largest history Z events (limit 10000)`
 * and writes bench/results/setup.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setupBatchWorkflowId, setupWorkflowId, workflowTaskQueue } from '../domain/ids.js';
import { PlanSchema } from '../domain/plan.js';
import type { SetupReport } from '../domain/replication.js';
import { LabClient } from '../lab/client.js';
import { startLab } from '../lab/server.js';
import { LAB_CREDENTIALS, stackEnv, startTemporalDevServer, type StackInfo } from '../lab/stack.js';
import { loadEnv, temporalOptions } from '../worker/config.js';
import { connectWorker, startWorkers } from '../worker/worker.js';
import { installRuntime } from '../worker/runtime.js';
import { connectClient } from '../cli/temporal.js';

const PRIMARY = 'ap-northeast-1';
const DR = 'ap-northeast-3';
const TARGET_RATIO = 1.3;
const HISTORY_LIMIT = 10_000;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const n = arg('n', 1000);
  const home = mkdtempSync(join(tmpdir(), 'secrets-dr-bench-'));
  const cleanups: Array<() => Promise<void>> = [];
  try {
    installRuntime('WARN');
    const lab = await startLab({ port: 0, regions: [PRIMARY, DR] });
    cleanups.push(() => lab.close());
    const temporal = await startTemporalDevServer({ home, detached: false });
    cleanups.push(() => temporal.stop());
    const info: StackInfo = { home, startedAt: new Date().toISOString(), labUrl: lab.url, regions: [PRIMARY, DR], temporalAddress: temporal.address, temporalUi: temporal.ui, processes: [] };
    Object.assign(process.env, stackEnv(info), LAB_CREDENTIALS);
    const env = loadEnv();
    const t = temporalOptions(env);
    const connection = await connectWorker(t);
    cleanups.push(() => connection.close());
    const prefix = `bench-${randomBytes(3).toString('hex')}`;
    const workers = await startWorkers({ connection, namespace: t.namespace, regions: [PRIMARY, DR], taskQueuePrefix: prefix, workerOptions: { debugMode: false } });
    cleanups.push(() => workers.shutdown());
    const c = await connectClient(env);
    cleanups.push(() => c.close());

    const labClient = new LabClient(lab.url);
    const secrets = Array.from({ length: n }, (_, i) => ({ name: `bench/fleet/s${String(i).padStart(5, '0')}`, value: randomBytes(16).toString('hex') }));
    for (let i = 0; i < secrets.length; i += 500) await labClient.seed(PRIMARY, secrets.slice(i, i + 500));
    const plan = PlanSchema.parse({ name: 'bench', primaryRegion: PRIMARY, drRegions: [{ region: DR }], secrets: { include: [{ prefix: 'bench/fleet/' }] } });
    const share = plan.failover.writeQuotaShare;

    const started = Date.now();
    const report = (await c.client.workflow.execute('replicateWorkflow', {
      taskQueue: workflowTaskQueue(prefix),
      workflowId: setupWorkflowId(plan.name),
      args: [{ plan, taskQueuePrefix: prefix }],
    })) as SetupReport;
    const seconds = (Date.now() - started) / 1000;

    const id = setupWorkflowId(plan.name);
    const ids = [id, ...Array.from({ length: Math.ceil(n / 100) }, (_, i) => setupBatchWorkflowId(id, i))];
    const lengths: Record<string, number> = {};
    for (const wid of ids) lengths[wid] = (await c.client.workflow.getHandle(wid).fetchHistory()).events?.length ?? 0;
    const largest = Math.max(...Object.values(lengths));
    const bound = n / (share * 50);
    const ratio = seconds / bound;
    console.log(
      `setup N=${n}: ${seconds.toFixed(1)}s; quota bound N/(share×50)=${bound.toFixed(1)}s; ratio ${ratio.toFixed(2)} (target <= ${TARGET_RATIO}); largest history ${largest} events (limit ${HISTORY_LIMIT})`,
    );
    console.log(`outcomes: ${JSON.stringify(report.counts)}; histories: parent ${lengths[id]} events, batches ${Math.min(...ids.slice(1).map((w) => lengths[w]!))}–${Math.max(...ids.slice(1).map((w) => lengths[w]!))}`);
    const out = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench/results/setup.json');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
      out,
      JSON.stringify({ n, seconds, writeQuotaShare: share, quotaBoundSeconds: bound, ratio, targetRatio: TARGET_RATIO, largestHistoryEvents: largest, historyLimit: HISTORY_LIMIT, counts: report.counts, histories: lengths, at: new Date().toISOString() }, null, 2) + '\n',
    );
    if (ratio > TARGET_RATIO || largest > HISTORY_LIMIT || report.attention > 0) process.exitCode = 1;
  } finally {
    for (const f of cleanups.reverse()) await f().catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
