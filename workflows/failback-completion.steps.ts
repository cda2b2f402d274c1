/**
 * Failback's steps after reconciliation: re-replication, InSync, verification (and the record the
 * next failback starts from), rotation restored, fences lifted, and the completion event — which
 * announces the outcome the machine decided (context.outcome), never one of its own.
 */
import { patched } from '@temporalio/workflow';
import type { FailbackContext, FailbackEvent } from './machines/failback.machine.js';
import type { FailbackRun } from './failback.run.js';
import { runPhase } from './failback-phase.js';
import { moveRotation } from './rotation.steps.js';
import { chunk, runBatches, type ControlState } from './kit/batch-loop.js';
import { failureMessage } from './kit/failures.js';
import { countItems } from '../domain/failback.js';

const SIDE_BATCH = 250;
const SETTLE_CHANGED_PATCH = 'failback-settle-changed-only';
const UNFENCE_IN_FLIGHT_PATCH = 'failback-unfence-4-in-flight';

export async function reReplicate(run: FailbackRun, control: () => ControlState): Promise<FailbackEvent> {
  const before = run.count('failed');
  await runPhase(run, 'replicate', run.withStatus('reconciled'), { control });
  return { type: 'REREPLICATED', failed: run.count('failed') - before };
}

export async function awaitInSync(run: FailbackRun, control: () => ControlState): Promise<FailbackEvent> {
  const before = run.count('failed');
  await runPhase(run, 'await', run.withStatus('replicating'), { control });
  return { type: 'IN_SYNC', notInSync: run.count('failed') - before };
}

/**
 * Leaves this failback's record next to the failovers' lineage (names it verified, per DR Region):
 * the next failback counts only promotions after it. Without it the next one would take an older
 * baseline for those secrets, so a failure is reported.
 */
async function recordFailedBack(run: FailbackRun): Promise<void> {
  const byRegion = new Map<string, string[]>();
  for (const i of run.withStatus('verified'))
    byRegion
      .set(i.dr ?? run.to, byRegion.get(i.dr ?? run.to) ?? [])
      .get(i.dr ?? run.to)!
      .push(i.name);
  for (const [region, names] of byRegion) {
    for (const [k, part] of chunk(names, 1_000).entries()) {
      try {
        await run.side(region).recordFailbackBatch({
          planName: run.plan.name,
          failbackId: run.stamp,
          from: run.from,
          to: region,
          reverse: run.reverse,
          part: String(k),
          names: part,
          writeQuotaShare: run.share,
        });
      } catch (err) {
        run.warnings.push(
          `the record of ${part.length} failed-back secret(s) was not written in ${region} (${failureMessage(err)}): the next failback may reconcile them against an older failover`,
        );
      }
    }
  }
}

export async function verify(run: FailbackRun, control: () => ControlState): Promise<FailbackEvent> {
  const before = run.count('failed');
  await runPhase(run, 'verify', run.withStatus('in-sync'), { control });
  await recordFailedBack(run);
  return { type: 'VERIFIED', verified: run.count('verified'), mismatched: run.count('failed') - before };
}

export async function restoreRotation(run: FailbackRun): Promise<FailbackEvent> {
  const { from, warnings } = run;
  const names = run
    .withStatus('verified')
    .filter((i) => i.rotation)
    .map((i) => i.name);
  const lambdaArn = run.plan.rotation[from];
  const rotation = { restored: 0, failed: 0, detail: '', ...(lambdaArn ? { lambdaArn } : {}) };
  run.rotation = rotation;
  if (names.length === 0) rotation.detail = 'no failed-back secret has rotation enabled';
  else if (!lambdaArn) {
    rotation.detail = `no rotation Lambda for ${from} in the plan (rotation.${from}): ${names.length} secret(s) keep the rotation configuration they had in ${from}`;
    warnings.push(rotation.detail);
  } else {
    const r = await moveRotation(
      run.side(from),
      { region: from, names, lambdaArn, writeQuotaShare: run.share, verb: 'restored', recorded: run.withStatus('verified') },
      warnings,
    ); // as the failover recorded them from the primary
    Object.assign(rotation, { restored: r.moved, failed: r.failed });
    rotation.detail = `${rotation.restored} of ${names.length} secret(s) rotate with ${lambdaArn} again (RotateImmediately=false)`;
  }
  return { type: 'ROTATION_RESTORED' };
}

export async function unfence(run: FailbackRun, control: () => ControlState): Promise<FailbackEvent> {
  const { from, to, warnings } = run;
  let failed = 0;
  let unfenced = 0;
  const fenced = new Set(run.items.filter((i) => i.fenced).map((i) => i.name));
  const changed = new Set<string>();
  const unfenceBatch = async (batch: string[]) => {
    try {
      // Only what changed or failed comes back (histories recorded before list every secret).
      const answers = await run.writes(from).unfenceBatch({ names: batch, writeQuotaShare: run.share, onlyChanged: true });
      for (const u of answers) if (u.ok && !u.skipped) changed.add(u.name);
      const failures = answers.filter((u) => !u.ok);
      for (const u of failures) warnings.push(`not unfenced: ${u.name}: ${u.reason}`);
      failed += failures.length;
      const notUnfenced = new Set(failures.map((u) => u.name));
      unfenced += batch.filter((n) => fenced.has(n) && !notUnfenced.has(n)).length; // opened by re-replication or here
    } catch (err) {
      failed += batch.length;
      warnings.push(`unfencing failed for a batch: ${failureMessage(err)}`);
    }
  };
  const batches = chunk(
    run.withStatus('verified').map((i) => i.name),
    SIDE_BATCH,
  );
  // Four batches in flight (their describes are reads; the few lifts go through the policy governor). Not held by a
  // pause, as before: a secret left fenced here is writable nowhere (its DR copy is a replica again).
  if (patched(UNFENCE_IN_FLIGHT_PATCH)) await runBatches({ batches, inFlight: 4, run: unfenceBatch });
  else for (const batch of batches) await unfenceBatch(batch);
  run.unfenced = unfenced;
  // Unfencing and the rotation settings change the primaries: they propagate again. Describe, don't
  // assume: the failback ends when the replicas have caught up (InSync) once more. Only the primaries
  // changed since verification (unfenced here, rotation restored) need it: the others are InSync as
  // verified (histories recorded before the patch settle every verified secret).
  const verifiedBefore = run.count('verified');
  const verified = patched(SETTLE_CHANGED_PATCH)
    ? run.withStatus('verified').filter((i) => changed.has(i.name) || (i.rotation && run.rotation?.lambdaArn))
    : run.withStatus('verified');
  // By names: the children return only what did not come back InSync (the rest stays verified).
  const byRegion = new Map<string, string[]>();
  for (const i of verified)
    byRegion
      .set(i.dr ?? run.to, byRegion.get(i.dr ?? run.to) ?? [])
      .get(i.dr ?? run.to)!
      .push(i.name);
  for (const [dr, names] of byRegion) await runPhase(run, 'await', names, { control, tag: byRegion.size > 1 ? `settle-${dr}` : 'settle', byName: true, dr });
  failed += verifiedBefore - run.count('verified');
  const stillFenced = run.items.filter((i) => i.status !== 'verified' && i.fenced).length;
  if (stillFenced) warnings.push(`${stillFenced} secret(s) that did not fail back stay fenced in ${from} (their primary is still in ${to})`);
  return { type: 'UNFENCED', failed };
}

export async function announceCompleted(run: FailbackRun, c: FailbackContext): Promise<FailbackEvent> {
  const { plan, workflowId, from, to, reverse } = run;
  await run.publish(reverse ? to : from, {
    detailType: 'Failback Completed',
    detail: {
      plan: plan.name,
      workflowId,
      from: to,
      to: reverse ? to : from,
      outcome: c.outcome!,
      counts: countItems(run.items),
      durationMs: Date.now() - run.started.getTime(),
    },
  });
  return { type: 'ANNOUNCED' };
}
