/**
 * replicate (`secrets-dr setup`): put a plan's fleet under protection. Ensures the plan's HMAC key,
 * resolves the secret set in the primary Region, then runs batches of secrets as child workflows
 * (bounded concurrency; each batch drives one replicate machine per secret × DR Region), so no
 * history grows with the fleet. Result: the per-secret outcome table; event `Replication Completed`.
 */
import { executeChild, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { workflowTaskQueue, setupBatchWorkflowId } from '../domain/ids.js';
import { hmacKeySecretName } from '../domain/lineage.js';
import { countOutcomes, listedOutcomes, type SetupProgress, type SetupReport } from '../domain/replication.js';
import type { LineageActivities } from '../activities/lineage.activities.js';
import type { EventActivities } from '../activities/events.activities.js';
import type { ReplicationActivities } from '../activities/replication.activities.js';
import { regionActivities } from './activity-options.js';
import { replicateBatchWorkflow } from './replicate-batch.workflow.js';
import { approvalStateSignal, batchProgressSignal, setupProgressQuery } from './setup.messages.js';
import { BATCH_READ_OPTIONS, WRITE_OPTIONS } from './setup-support.js';
import { chunk, runBatches } from './kit/index.js';
import { ReplicateWorkflowInput } from '../domain/workflow-inputs.js';
import { writeShareOf } from '../domain/plan.js';

const PAGES_PER_ACTIVITY = 20;

export async function replicateWorkflow(raw: ReplicateWorkflowInput): Promise<SetupReport> {
  const { plan, taskQueuePrefix: prefix, batchSize = 100, parallelBatches = 4 } = ReplicateWorkflowInput.parse(raw);
  const started = Date.now();
  const { workflowId } = workflowInfo();
  const primary = regionActivities<ReplicationActivities & LineageActivities & EventActivities>(plan.primaryRegion, prefix, WRITE_OPTIONS);
  const primaryReads = regionActivities<ReplicationActivities>(plan.primaryRegion, prefix, BATCH_READ_OPTIONS);
  const drRegions = plan.drRegions.map((d) => d.region);

  const progress: SetupProgress = { phase: 'starting', total: 0, done: 0, counts: {}, awaitingApproval: [] };
  const batches = new Map<number, { done: number; counts: Record<string, number> }>();
  setHandler(setupProgressQuery, () => progress);
  setHandler(batchProgressSignal, (p) => {
    batches.set(p.batch, p);
    progress.done = [...batches.values()].reduce((n, b) => n + b.done, 0);
    progress.counts = {};
    for (const b of batches.values()) for (const [k, v] of Object.entries(b.counts)) progress.counts[k] = (progress.counts[k] ?? 0) + v;
  });
  setHandler(approvalStateSignal, (s) => {
    progress.awaitingApproval = progress.awaitingApproval.filter((a) => a.workflowId !== s.workflowId);
    if (s.pending) progress.awaitingApproval.push({ workflowId: s.workflowId, secret: s.secret, region: s.region });
  });

  // The HMAC key first (conflict resolution compares values by it), replicated and in sync everywhere.
  progress.phase = 'resolving';
  await primary.ensureHmacKey({ planName: plan.name, drRegions: plan.drRegions, ...writeShareOf(plan.failover) });
  const keyItems = drRegions.map((region) => ({ secret: hmacKeySecretName(plan.name), region }));
  // Bounded like every wait of setup: a paused Region must not hold up the rest (its secrets time out on their own).
  const keyDeadline = Date.now() + Math.min(plan.setup.inSyncTimeout, 60_000);
  for (let i = 0; Date.now() < keyDeadline; i++) {
    const s = await primaryReads.replicationStatusBatch({ items: keyItems });
    if (s.every((x) => x.status === 'InSync')) break;
    await sleep(Math.min(2_000, 200 * 2 ** i, Math.max(1, keyDeadline - Date.now())));
  }

  // Paged (PAGES_PER_ACTIVITY ListSecrets pages per activity): 100,000 names in one result would outgrow a payload.
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await primaryReads.listSetupSecrets({ secrets: plan.secrets, nextToken, maxPages: PAGES_PER_ACTIVITY });
    for (const name of page.names) names.push(name);
    nextToken = page.nextToken;
  } while (nextToken);
  names.sort();
  progress.total = names.length * drRegions.length;
  progress.phase = 'replicating';

  // The kit's batch loop: `parallelBatches` children at a time, results in batch order.
  const results = await runBatches({
    batches: chunk(names, batchSize),
    inFlight: parallelBatches,
    run: (group, i) =>
      executeChild(replicateBatchWorkflow, {
        workflowId: setupBatchWorkflowId(workflowId, i),
        taskQueue: workflowTaskQueue(prefix),
        args: [{ plan, names: group, batch: i, setupWorkflowId: workflowId, ...(prefix ? { taskQueuePrefix: prefix } : {}) }],
      }),
  });

  const outcomes = results.flat();
  const counts = countOutcomes(outcomes);
  progress.phase = 'done';
  progress.done = outcomes.length;
  progress.counts = counts;
  const durationMs = Date.now() - started;
  await primary
    .publishEvent({
      bus: plan.events.bus,
      event: { detailType: 'Replication Completed', detail: { plan: plan.name, workflowId, primaryRegion: plan.primaryRegion, drRegions, counts, durationMs } },
    })
    .catch(() => undefined); // events are hints: a missing bus never fails setup
  return {
    plan: plan.name,
    workflowId,
    primaryRegion: plan.primaryRegion,
    drRegions,
    ...listedOutcomes(outcomes),
    counts,
    attention: new Set(outcomes.filter((o) => o.state !== 'InSync').map((o) => o.secret)).size,
    durationMs,
  };
}
