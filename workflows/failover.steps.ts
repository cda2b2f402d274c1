/**
 * Failover's steps up to promotion, each the effect of one machine action: preflight, the approval
 * gate, the start announcement, rotations in flight, the fence and the planned-mode catch-up.
 * Each returns the event that moves the machine on (never decides the outcome).
 */
import { condition, patched, sleep } from '@temporalio/workflow';
import { DEFAULT_ROTATION_WAIT_MS, expectedPromotionMs, planFleet, type FleetEntry } from '../domain/failover.js';
import { formatDuration } from '../domain/duration.js';
import type { FailoverEvent } from './machines/failover.machine.js';
import type { FailoverRun } from './failover.run.js';
import { failureMessage } from './kit/failures.js';
import { chunk } from './kit/batch-loop.js';

const FENCE_BATCH = 250;
/** Unplanned: how long preflight waits, after the DR Region's inventory, for a primary that has answered nothing. */
const PRIMARY_GRACE_MS = 5_000;
/** Histories recorded before the grace waited for the primary's listing to end. */
const PRIMARY_GRACE_PATCH = 'failover-primary-grace';

/** name → ARN suffix in the target Region, for the fence's "same secret" check; `names` narrows it. */
export function suffixesOf(items: ReadonlyArray<{ name: string; suffix?: string }>, names?: readonly string[]): Record<string, string> {
  const wanted = names ? new Set(names) : undefined;
  return Object.fromEntries(items.filter((i) => i.suffix && (!wanted || wanted.has(i.name))).map((i) => [i.name, i.suffix!]));
}

export async function runPreflight(run: FailoverRun): Promise<FailoverEvent> {
  const { plan, from, to, mode, problems, warnings } = run;
  if (!plan.drRegions.some((d) => d.region === to))
    problems.push(`${to} is not a DR Region of plan ${plan.name} (${plan.drRegions.map((d) => d.region).join(', ')})`);
  let primaryAnswered = false;
  let primaryDone = false;
  let primaryAbandoned = false;
  const listingDr = run.listFleet(to).catch((err) => (problems.push(`the DR Region ${to} does not answer: ${failureMessage(err)}`), undefined));
  const listingPrimary = run
    .listFleet(from, false, undefined, () => (primaryAnswered = true))
    .catch((err) => {
      if (!primaryAbandoned) warnings.push(`the primary Region ${from} does not answer: ${failureMessage(err)}`);
      return undefined;
    })
    .finally(() => (primaryDone = true));
  const dr = await listingDr;
  let primary: FleetEntry[] | undefined;
  // Unplanned: a primary that hangs (no answer, no error) must not hold the promotion for its timeouts
  // (3 SDK sends × SECRETS_DR_AWS_TIMEOUT_MS, twice). One that answered a page is waited for.
  const graced = mode === 'unplanned' && patched(PRIMARY_GRACE_PATCH);
  // (A DR Region that did not answer rejects the failover anyway: no grace, and no "planned from" warning.)
  if (graced && dr !== undefined && !primaryDone && !primaryAnswered && !(await condition(() => primaryDone || primaryAnswered, PRIMARY_GRACE_MS))) {
    primaryAbandoned = true; // its late failure is not reported as a second, later warning
    warnings.push(
      `the primary Region ${from} answered no ListSecrets page within ${formatDuration(PRIMARY_GRACE_MS)} after ${to}'s inventory: planned from ${to} alone (replication lag, rotations in flight and fences on ${from} not checked; the fence is left pending)`,
    );
  } else primary = await listingPrimary;
  if (mode === 'planned' && !primary) problems.push(`a planned failover fences the old primary first, but ${from} does not answer: use --mode unplanned`);
  run.fleet = planFleet(plan, to, primary, dr ?? []);
  if (dr && run.fleet.length === 0) problems.push(`no secret of plan ${plan.name} found in ${to} (nothing to fail over)`);
  const lagging = run.fleet.filter((i) => i.lagging).map((i) => i.name);
  if (lagging.length)
    warnings.push(
      `${lagging.length} replica(s) were behind their primary at preflight (replication lag): ${lagging.slice(0, 10).join(', ')}${lagging.length > 10 ? ', ...' : ''}`,
    );
  run.expectedMs = expectedPromotionMs(run.toPromote().length, run.share);
  if (primary && !run.input.dryRun && problems.length === 0) {
    // Lineage HMACs need the plan's key in the DR Region; without it lineage is recorded without HMACs.
    await run
      .side(from)
      .ensureHmacKey({ planName: plan.name, drRegions: plan.drRegions, ...run.writeShare })
      .catch((err) => warnings.push(`HMAC key not ensured: ${failureMessage(err)}`));
  }
  for (const i of run.fleet) if (i.fencedAtPrimary) run.fencedNow.add(i.name);
  const rotationsInFlight = run.toPromote().filter((i) => i.rotationInFlight).length;
  return { type: 'PREFLIGHT_DONE', problems: [...problems], primaryReachable: primary !== undefined, toPromote: run.toPromote().length, rotationsInFlight };
}

/** The plan's approval gate; `stillWanted` turns false when the machine left the gate (cancelled). */
export async function requestApproval(run: FailoverRun, stillWanted: () => boolean): Promise<FailoverEvent | undefined> {
  const { from, to } = run;
  return run.requestApproval('failover', `${from} → ${to} (${run.toPromote().length} secrets)`, to, stillWanted);
}

export async function announceStarted(run: FailoverRun): Promise<undefined> {
  const { plan, workflowId, from, to, mode, input } = run;
  run.promotionStartMs = Date.now();
  await run.publish(to, {
    detailType: 'Failover Started',
    detail: { plan: plan.name, workflowId, from, to, mode, secrets: run.toPromote().length, ...(input.reason ? { reason: input.reason } : {}) },
  });
  return undefined;
}

/** Planned mode: a secret whose rotation is in flight on the primary is not promoted (invariant 11). */
function refuseRotationsInFlight(run: FailoverRun, primary: ReadonlyArray<Pick<FleetEntry, 'name' | 'rotationInFlight'>>, why: string): number {
  const inFlight = new Map(primary.filter((e) => e.rotationInFlight).map((e) => [e.name, e.rotationInFlight!]));
  let refused = 0;
  for (const i of run.toPromote()) {
    const r = inFlight.get(i.name);
    if (!r) continue;
    Object.assign(i, {
      action: 'skip',
      rotationInFlight: r,
      reason: `rotation in flight on ${run.from} (${why}): AWSPENDING on version ${r.pending}, AWSCURRENT on ${r.current ?? '(none)'} — not promoted, not left fenced (still a replica in ${run.to})`,
    });
    refused++;
  }
  return refused;
}

/** The fence denies UpdateSecretVersionStage: a rotation cut short by it would never finish. Wait first (bounded). */
export async function settleRotations(run: FailoverRun): Promise<FailoverEvent> {
  const { from } = run;
  const waitMs = run.input.rotationWaitMs ?? DEFAULT_ROTATION_WAIT_MS;
  // name → the rotation in flight as last seen on the primary.
  const waiting = new Map(
    run
      .toPromote()
      .filter((i) => i.rotationInFlight)
      .map((i) => [i.name, i.rotationInFlight!]),
  );
  const total = waiting.size;
  const t0 = Date.now();
  let why = `it did not finish within ${formatDuration(waitMs)}`;
  while (waiting.size > 0) {
    const left = t0 + waitMs - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(left, Date.now() - t0 < 30_000 ? 2_000 : 10_000));
    try {
      for (const e of await run.listFleet(from)) {
        if (!waiting.has(e.name)) continue;
        if (e.rotationInFlight) waiting.set(e.name, e.rotationInFlight);
        else waiting.delete(e.name);
      }
    } catch (err) {
      why = `${from} stopped answering while the failover waited for it: ${failureMessage(err)}`;
      break;
    }
  }
  const refused = refuseRotationsInFlight(
    run,
    [...waiting].map(([name, rotationInFlight]) => ({ name, rotationInFlight })),
    why,
  );
  for (const i of run.toPromote()) delete i.rotationInFlight; // finished: the replica catches up before promotion
  run.warnings.push(
    `waited ${formatDuration(Date.now() - t0)} (at most ${formatDuration(waitMs)}) for ${total} rotation(s) in flight on ${from}: ${total - refused} finished, ${refused} did not (not fenced, not promoted)`,
  );
  return { type: 'ROTATIONS_SETTLED', refused };
}

/** Planned mode: fence on the old primary what this run promotes and what an earlier run promoted whose old primary is not fenced yet. */
export async function applyFence(run: FailoverRun): Promise<FailoverEvent> {
  const { from, to, failoverId } = run;
  const names = run.fleet.filter((i) => i.action === 'promote' || (i.action === 'already-standalone' && !i.fencedAtPrimary)).map((i) => i.name);
  let fenced = 0;
  const failed: string[] = [];
  try {
    for (const slice of chunk(names, FENCE_BATCH)) {
      const r = await run.fence(from).fenceBatch({ region: from, failoverId, to, names: slice, ...run.writeShare, suffixes: suffixesOf(run.fleet, slice) });
      fenced += r.fenced + r.alreadyFenced;
      failed.push(...r.failed.map((f) => `${f.name}: ${f.reason}`));
      const bad = new Set(r.failed.map((f) => f.name));
      for (const n of slice) if (!bad.has(n)) run.fencedNow.add(n);
    }
  } catch (err) {
    return {
      type: 'FENCE_DONE',
      fence: {
        state: 'partial',
        fenced,
        failed: names.length - fenced,
        detail: `${from} stopped answering while fencing (${failureMessage(err)}): the rest is pending`,
      },
    };
  }
  if (failed.length) run.warnings.push(...failed.slice(0, 20).map((f) => `not fenced: ${f}`));
  return { type: 'FENCE_DONE', fence: { state: failed.length ? 'partial' : 'applied', fenced, failed: failed.length } };
}

/**
 * Planned mode: the old primary is fenced, so it stops changing. Before promoting, wait (bounded)
 * until every replica holds its primary's AWSCURRENT, so the last writes are not left behind.
 * Parity comes from ListSecrets pages on both sides (version ids), never values.
 */
export async function awaitReplicasCaughtUp(run: FailoverRun): Promise<FailoverEvent> {
  const { from, to } = run;
  const deadline = Date.now() + Math.min(run.plan.setup.inSyncTimeout, 5 * 60_000);
  for (;;) {
    let primary: FleetEntry[];
    let dr: FleetEntry[];
    try {
      [primary, dr] = await Promise.all([run.listFleet(from), run.listFleet(to, true)]);
    } catch (err) {
      run.warnings.push(`could not check that the replicas caught up before promotion: ${failureMessage(err)}`);
      return { type: 'CAUGHT_UP' };
    }
    refuseRotationsInFlight(run, primary, `a rotation started on ${from} after preflight`);
    const current = new Map(primary.map((e) => [e.name, e.current]));
    const names = new Set(run.toPromote().map((i) => i.name));
    const lagging = dr.filter((e) => names.has(e.name) && e.current !== current.get(e.name)).map((e) => e.name);
    if (lagging.length === 0) return { type: 'CAUGHT_UP' };
    if (Date.now() > deadline) {
      run.warnings.push(
        `${lagging.length} replica(s) had not caught up with the fenced primary; their last writes may be missing in ${to}: ${lagging.slice(0, 20).join(', ')}`,
      );
      return { type: 'CAUGHT_UP' };
    }
    await sleep(1_000);
  }
}
