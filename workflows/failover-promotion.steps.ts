/**
 * Failover's promotion and what follows it: promotion in chunk children (group by group, tier0
 * first, two chunks at a time, through the one batch loop that honours pause and cancel), lifting
 * the fence of what was not promoted (planned), and verification by re-reading the DR Region.
 */
import { startChild } from '@temporalio/workflow';
import { countOutcomes, needsAttention, recordedRotations, type SecretOutcome } from '../domain/failover.js';
import { failoverWorkflowId, workflowTaskQueue } from '../domain/ids.js';
import type { FailoverEvent } from './machines/failover.machine.js';
import type { FailoverRun } from './failover.run.js';
import { CANCELLED_BEFORE_PROMOTION, CHUNK_SIZE, failoverChunkWorkflow } from './failover-chunk.workflow.js';
import { chunk, runBatches, type ControlState } from './kit/batch-loop.js';
import { tellNewChild } from './kit/control.js';
import { failureMessage } from './kit/failures.js';

const CHUNKS_IN_FLIGHT = 2;

/** What is already settled at preflight: standalone from an earlier run, or skipped (not ours, rotation in flight). */
function settledAtPreflight(run: FailoverRun): SecretOutcome[] {
  const out: SecretOutcome[] = [];
  for (const i of run.fleet) {
    const about = {
      ...(i.rotationInFlight ? { rotationInFlight: i.rotationInFlight } : {}),
      ...(i.suffix ? { suffix: i.suffix } : {}),
      ...(i.notOurs ? { notOurs: true } : {}),
    };
    if (i.action === 'already-standalone')
      out.push({
        name: i.name,
        status: 'already-standalone',
        standalone: true,
        rotation: Boolean(i.rotation),
        ...(i.rotationRules ? { rotationRules: i.rotationRules } : {}),
        ...(i.by ? { by: i.by } : {}),
        ...about,
      });
    if (i.action === 'skip') out.push({ name: i.name, status: 'skipped', reason: i.reason, ...about });
  }
  return out;
}

/** One chunk child: ≤ CHUNK_SIZE secrets in batches; told at once when the failover is paused or cancelled. */
async function promoteChunk(run: FailoverRun, names: string[], k: number, control: () => ControlState): Promise<SecretOutcome[]> {
  const { plan, workflowId, failoverId, from, to, input } = run;
  const rotation = recordedRotations(run.fleet, names);
  const child = await startChild(failoverChunkWorkflow, {
    // From the plan, not workflowInfo(): replaying a recorded history under another id starts the same children.
    workflowId: `${failoverWorkflowId(plan.name)}/${failoverId}/chunk-${k}`,
    taskQueue: workflowTaskQueue(input.taskQueuePrefix),
    args: [
      {
        parentId: workflowId,
        chunk: k,
        planName: plan.name,
        from,
        to,
        failoverId,
        names,
        ...run.writeShare,
        taskQueuePrefix: input.taskQueuePrefix,
        batchSize: input.batchSize,
        fencedBeforePromotion: run.mode === 'planned',
        ...(rotation ? { rotation } : {}),
      },
    ],
  });
  run.children.add(child);
  await tellNewChild(child, control());
  const r = await child.result();
  run.children.delete(child);
  run.lineage.records += r.lineageRecords.length;
  if (!r.hmacs) Object.assign(run.lineage, { hmacs: false, detail: r.lineageDetail });
  return r.outcomes;
}

export async function promote(run: FailoverRun, control: () => ControlState): Promise<FailoverEvent> {
  run.outcomes.push(...settledAtPreflight(run));
  run.liveBase = countOutcomes(run.outcomes);
  let k = 0;
  // Group order: a group's chunks run only after the previous group finished.
  for (const g of [...new Set(run.toPromote().map((i) => i.group))].sort((a, b) => a - b)) {
    const chunks = chunk(
      run
        .toPromote()
        .filter((i) => i.group === g)
        .map((i) => i.name),
      CHUNK_SIZE,
    );
    const first = k;
    k += chunks.length;
    const results = await runBatches({
      batches: chunks,
      inFlight: CHUNKS_IN_FLIGHT,
      control,
      run: (names, i) => promoteChunk(run, names, first + i, control),
      skip: (names) => names.map((name): SecretOutcome => ({ name, status: 'skipped', reason: CANCELLED_BEFORE_PROMOTION })),
    });
    run.outcomes.push(...results.flat());
  }
  run.promotionEndMs = Date.now();
  run.live.clear();
  run.liveSettled.clear();
  run.liveBase = countOutcomes(run.outcomes);
  return { type: 'PROMOTION_DONE', counts: run.liveBase };
}

/** Planned mode fenced every secret before promoting it; one that was not promoted must not stay fenced. */
export async function liftFencesNotPromoted(run: FailoverRun): Promise<FailoverEvent> {
  const { from, warnings } = run;
  const names = run.outcomes.filter((o) => (o.status === 'failed' || o.status === 'skipped') && run.fencedNow.has(o.name)).map((o) => o.name);
  if (names.length === 0) return { type: 'FENCES_LIFTED' };
  try {
    const failed = await run.fence(from).unfenceBatch({ names, ...run.writeShare });
    warnings.push(`fence lifted in ${from} on ${names.length - failed.length} secret(s) that were not promoted: they stay writable there`);
    warnings.push(
      ...failed.slice(0, 20).map((f) => `STILL FENCED and not promoted: ${f.name}: ${f.reason} (run \`secrets-dr failback\` or lift the fence by hand)`),
    );
  } catch (err) {
    warnings.push(`STILL FENCED and not promoted in ${from}: ${names.slice(0, 20).join(', ')} (${failureMessage(err)})`);
  }
  return { type: 'FENCES_LIFTED' };
}

/**
 * Re-read the DR Region: which promoted secrets are still replicas of the old primary? ListSecrets filtered
 * by `primary-region` on the AWS side, so the answer is a page or two (the stragglers), not the whole Region's.
 */
export async function verify(run: FailoverRun): Promise<FailoverEvent> {
  const standalone = (o: SecretOutcome) => o.status === 'promoted' || o.status === 'already-standalone';
  try {
    const still = new Set((await run.listFleet(run.to, true, run.from)).map((e) => e.name));
    for (const o of run.outcomes)
      if (standalone(o) && still.has(o.name)) Object.assign(o, { standalone: false, reason: `still a replica in ${run.to} at verification` });
  } catch (err) {
    run.warnings.push(`verification could not re-read ${run.to}: ${failureMessage(err)} (per-secret read-back at promotion stands)`);
  }
  return { type: 'VERIFY_DONE', unverified: run.outcomes.filter((o) => standalone(o) && needsAttention(o)).length };
}
