/**
 * failover: promote the DR Region's replicas to standalone secrets. The machine
 * (machines/failover.machine.ts) decides; this file turns signals, the approval update, timers and
 * activity results into its events and executes the named effects it returns. Promotion runs in
 * child workflows (failover-chunk.workflow.ts) of ≤ 1,000 secrets, group by group (tier0 first),
 * on the DR Region's task queue; the pending fence goes to fence.workflow.ts.
 *
 * Decisions:
 * - Fence: planned mode fences every secret to promote on the old primary (deny-write statement
 *   `SecretsDrFenceDenyWrites` merged into its resource policy, then the `secrets-dr:fenced` tag)
 *   before the first StopReplicationToReplica. Unplanned (or a fence cut short by the primary
 *   going down) hands the fence to `fenceWorkflowId(plan, from)`, an abandoned child that retries
 *   with backoff until the Region answers, so the failover's RTO never waits for a dead Region.
 * - Lineage: each promotion batch writes one JSON secret in the target Region,
 *   `secrets-dr/<plan>/lineage/<failoverId>/<chunk>-<batch>` (version ids, staging labels, HMACs —
 *   never values), tagged secrets-dr:role=failover-lineage; failback lists that prefix. Every
 *   promoted secret also carries the tag `secrets-dr:failover=<failoverId>`.
 * - Re-runs converge (DESIGN invariant 10): a secret counts as ours when a failover run recorded
 *   promoting it (PROMOTED_BY_TAG) or, with the primary readable, by its ARN suffix; every run
 *   hands all of ours to the fence (a pending fence of an earlier run gets them by signal), and
 *   the report is the union of all runs: per secret, by which run and what remains.
 * - Rotation in flight (invariant 11): planned mode waits, bounded, for it to finish on the
 *   primary and refuses what does not; unplanned promotes and reports the exact next steps, and
 *   never re-homes rotation onto it.
 * - History: the parent holds O(N/100) events (one progress signal per batch), each chunk child
 *   O(1,000/100); no continue-as-new is needed up to ~100,000 secrets.
 */
import {
  ParentClosePolicy,
  condition,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { initialTransition, transition } from 'xstate';
import type { PendingApproval, ApprovalDecision } from '../domain/approval.js';
import {
  DEFAULT_ROTATION_WAIT_MS,
  FULL_OUTCOMES_LIMIT,
  FailoverInput,
  addCounts,
  annotateOutcome,
  runsOf,
  countOutcomes,
  emptyCounts,
  expectedPromotionMs,
  lineageRecordPrefix,
  needsAttention,
  planFleet,
  type FailoverProgress,
  type FailoverReport,
  type FleetEntry,
  type FleetItem,
  type OutcomeCounts,
  type RotationReport,
  type SecretOutcome,
} from '../domain/failover.js';
import type { OutgoingEvent } from '../domain/events.js';
import { formatDuration } from '../domain/duration.js';
import { fenceWorkflowId, RUN_STAMP_MS_PATCH, runStamp, workflowTaskQueue } from '../domain/ids.js';
import type { FailoverActivities } from '../activities/failover.activities.js';
import type { FailbackActivities } from '../activities/failback.activities.js';
import type { EventActivities } from '../activities/events.activities.js';
import type { LineageActivities } from '../activities/lineage.activities.js';
import { regionActivities } from './activity-options.js';
import { FENCE_OPTIONS, INSPECT_OPTIONS, SIDE_OPTIONS } from './failover-options.js';
import { CHUNK_SIZE, failoverChunkWorkflow } from './failover-chunk.workflow.js';
import { fenceWorkflow } from './fence.workflow.js';
import { failoverMachine, type FailoverEffect, type FailoverEvent } from './machines/failover.machine.js';
import { failoverBatchProgressSignal, failoverProgressQuery, fenceAddSignal, type FenceRequest } from './failover.messages.js';
import { approvalUpdate as failoverApprovalUpdate, cancelSignal, pauseSignal, pendingApprovalQuery as failoverPendingApprovalQuery, resumeSignal } from './kit/control.messages.js';

const FENCE_BATCH = 250;

/** name → ARN suffix in the target Region, for the fence's "same secret" check. */
const suffixesOf = (items: ReadonlyArray<{ name: string; suffix?: string }>) => new Map(items.filter((i) => i.suffix).map((i) => [i.name, i.suffix!]));
const pick = (m: Map<string, string>, names: readonly string[]) => Object.fromEntries(names.filter((n) => m.has(n)).map((n) => [n, m.get(n)!]));
const CHUNKS_IN_FLIGHT = 2;
const message = (err: unknown) => (err as { cause?: { message?: string }; message?: string }).cause?.message ?? (err as Error).message ?? String(err);

export async function failoverWorkflow(raw: FailoverInput): Promise<FailoverReport> {
  const input = FailoverInput.parse(raw);
  const { plan, to, mode } = input;
  const from = plan.primaryRegion;
  const share = plan.failover.writeQuotaShare;
  const prefix = input.taskQueuePrefix;
  const { workflowId } = workflowInfo();
  const started = new Date();
  const failoverId = runStamp(started, patched(RUN_STAMP_MS_PATCH)); // replay: older runs keep whole seconds
  const inspect = (region: string) => regionActivities<FailoverActivities>(region, prefix, INSPECT_OPTIONS);
  const side = (region: string) => regionActivities<FailoverActivities & EventActivities & LineageActivities>(region, prefix, SIDE_OPTIONS);

  // ---- what the workflow knows (never a value)
  let fleet: FleetItem[] = [];
  const outcomes: SecretOutcome[] = [];
  /**
   * Planned mode fenced every secret before promoting it. One whose promotion failed (or was
   * cancelled) must not stay fenced: its only writable copy is the old primary. Lift those fences.
   */
  /**
   * Planned mode: the old primary is fenced, so it stops changing. Before promoting, wait (bounded)
   * until every replica holds its primary's AWSCURRENT, so the last writes are not left behind.
   * Parity comes from ListSecrets pages on both sides (version ids), never values.
   */
  async function awaitReplicasCaughtUp(): Promise<void> {
    const deadline = Date.now() + Math.min(plan.setup.inSyncTimeout, 5 * 60_000);
    for (;;) {
      let primary: FleetEntry[];
      let dr: FleetEntry[];
      try {
        [primary, dr] = await Promise.all([listFleet(from), listFleet(to, true)]);
      } catch (err) {
        warnings.push(`could not check that the replicas caught up before promotion: ${message(err)}`);
        return;
      }
      refuseRotationsInFlight(primary, `a rotation started on ${from} after preflight`);
      const current = new Map(primary.map((e) => [e.name, e.current]));
      const names = new Set(toPromote().map((i) => i.name));
      const lagging = dr.filter((e) => names.has(e.name) && e.current !== current.get(e.name)).map((e) => e.name);
      if (lagging.length === 0) return;
      if (Date.now() > deadline) {
        warnings.push(`${lagging.length} replica(s) had not caught up with the fenced primary; their last writes may be missing in ${to}: ${lagging.slice(0, 20).join(', ')}`);
        return;
      }
      await sleep(1_000);
    }
  }

  /** Planned mode: a secret whose rotation is in flight on the primary is not promoted (invariant 11). */
  function refuseRotationsInFlight(primary: ReadonlyArray<Pick<FleetEntry, 'name' | 'rotationInFlight'>>, why: string): number {
    const inFlight = new Map(primary.filter((e) => e.rotationInFlight).map((e) => [e.name, e.rotationInFlight!]));
    let refused = 0;
    for (const i of toPromote()) {
      const r = inFlight.get(i.name);
      if (!r) continue;
      Object.assign(i, {
        action: 'skip',
        rotationInFlight: r,
        reason: `rotation in flight on ${from} (${why}): AWSPENDING on version ${r.pending}, AWSCURRENT on ${r.current ?? '(none)'} — not promoted, not left fenced (still a replica in ${to})`,
      });
      refused++;
    }
    return refused;
  }

  async function unfenceNotPromoted(): Promise<void> {
    const fenced = fencedNow;
    const names = outcomes.filter((o) => (o.status === 'failed' || o.status === 'skipped') && fenced.has(o.name)).map((o) => o.name);
    if (names.length === 0) return;
    try {
      const failed = await regionActivities<FailbackActivities>(from, prefix, FENCE_OPTIONS).unfenceBatch({ names, writeQuotaShare: share });
      warnings.push(`fence lifted in ${from} on ${names.length - failed.length} secret(s) that were not promoted: they stay writable there`);
      warnings.push(...failed.slice(0, 20).map((f) => `STILL FENCED and not promoted: ${f.name}: ${f.reason} (run \`secrets-dr failback\` or lift the fence by hand)`));
    } catch (err) {
      warnings.push(`STILL FENCED and not promoted in ${from}: ${names.slice(0, 20).join(', ')} (${message(err)})`);
    }
  }
  const problems: string[] = [];
  const warnings: string[] = [];
  const lineage = { records: 0, hmacs: true, detail: undefined as string | undefined };
  const live = new Map<string, OutcomeCounts>();
  let liveBase = emptyCounts();
  let rotation: RotationReport | undefined;
  let expectedMs = 0;
  let promotionStartMs: number | undefined;
  let promotionEndMs: number | undefined;
  let approvalWaitMs = 0;
  let fenceHandedTo: string | undefined;
  /** Old primaries fenced now (by this run's fence step, or found fenced at preflight). */
  const fencedNow = new Set<string>();
  let decision: ApprovalDecision | undefined;
  let pendingApproval: PendingApproval | null = null;
  const children = new Set<ChildWorkflowHandle<typeof failoverChunkWorkflow>>();

  // ---- the machine
  let [snapshot, actions] = initialTransition(failoverMachine, {
    mode,
    dryRun: input.dryRun,
    requireApproval: plan.failover.requireApproval && !input.skipApproval,
    fence: plan.failover.fence,
  });
  const queue: string[] = actions.map((a) => a.type);
  const send = (event: FailoverEvent) => {
    [snapshot, actions] = transition(failoverMachine, snapshot, event);
    queue.push(...actions.map((a) => a.type));
  };
  const ctx = () => snapshot.context;
  const forward = (signal: typeof pauseSignal) => {
    for (const c of children) void c.signal(signal).catch(() => undefined);
  };

  setHandler(pauseSignal, () => (send({ type: 'PAUSE' }), forward(pauseSignal)));
  setHandler(resumeSignal, () => (send({ type: 'RESUME' }), forward(resumeSignal)));
  setHandler(cancelSignal, (req) => (send({ type: 'CANCEL', reason: req?.reason }), forward(cancelSignal)));
  setHandler(failoverBatchProgressSignal, ({ key, counts }) => void live.set(key, counts));
  setHandler(failoverPendingApprovalQuery, () => pendingApproval);
  setHandler(
    failoverApprovalUpdate,
    (d) => {
      decision = d;
      return { accepted: true as const, decision: d.decision };
    },
    {
      validator: (d) => {
        if (snapshot.value !== 'awaitingApproval' || decision !== undefined) throw new Error(`${workflowId} is not waiting for approval (step: ${String(snapshot.value)})`);
        if (d.decision === 'reject' && !d.reason) throw new Error('a rejection needs a reason');
      },
    },
  );
  setHandler(failoverProgressQuery, (): FailoverProgress => {
    const counts = [...live.values()].reduce(addCounts, liveBase);
    const processed = counts.promoted + counts.alreadyStandalone + counts.failed + counts.skipped;
    const elapsed = promotionStartMs === undefined ? 0 : (promotionEndMs ?? Date.now()) - promotionStartMs;
    const rate = elapsed > 0 ? (counts.promoted + counts.failed) / (elapsed / 1_000) : 0;
    const remaining = fleet.length - processed;
    return {
      workflowId, plan: plan.name, from, to, mode, step: String(snapshot.value), paused: ctx().paused, cancelRequested: ctx().cancelRequested,
      total: fleet.length, processed, counts, ratePerSecond: Math.round(rate * 10) / 10,
      ...(rate > 0 && remaining > 0 ? { etaMs: Math.round((remaining / rate) * 1_000) } : {}),
      expectedMs, startedAt: started.toISOString(), fence: { ...ctx().fenceReport, ...(fenceHandedTo ? { handedTo: fenceHandedTo } : {}) },
    };
  });

  const publish = async (event: OutgoingEvent) => {
    try {
      await side(to).publishEvent({ bus: plan.events.bus, event });
    } catch (err) {
      warnings.push(`event "${event.detailType}" not published in ${to}: ${message(err)}`);
    }
  };

  /** One Region's plan secrets, 20 ListSecrets pages per activity (payloads stay small at N = 10,000). */
  const listFleet = async (region: string, onlyReplicas = false): Promise<FleetEntry[]> => {
    const out: FleetEntry[] = [];
    let nextToken: string | undefined;
    do {
      const page = await inspect(region).inspectFleet({ plan, region, nextToken, maxPages: 20, onlyReplicas });
      out.push(...page.entries);
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  };

  const toPromote = () => fleet.filter((i) => i.action === 'promote');

  const effects: Record<FailoverEffect, () => Promise<FailoverEvent | undefined>> = {
    async runPreflight() {
      if (!plan.drRegions.some((d) => d.region === to)) problems.push(`${to} is not a DR Region of plan ${plan.name} (${plan.drRegions.map((d) => d.region).join(', ')})`);
      const [dr, primary] = await Promise.all([
        listFleet(to).catch((err) => (problems.push(`the DR Region ${to} does not answer: ${message(err)}`), undefined)),
        listFleet(from).catch((err) => (warnings.push(`the primary Region ${from} does not answer: ${message(err)}`), undefined)),
      ]);
      if (mode === 'planned' && !primary) problems.push(`a planned failover fences the old primary first, but ${from} does not answer: use --mode unplanned`);
      fleet = planFleet(plan, to, primary, dr ?? []);
      if (dr && fleet.length === 0) problems.push(`no secret of plan ${plan.name} found in ${to} (nothing to fail over)`);
      const lagging = fleet.filter((i) => i.lagging).map((i) => i.name);
      if (lagging.length) warnings.push(`${lagging.length} replica(s) were behind their primary at preflight (replication lag): ${lagging.slice(0, 10).join(', ')}${lagging.length > 10 ? ', ...' : ''}`);
      expectedMs = expectedPromotionMs(toPromote().length, share);
      if (primary && !input.dryRun && problems.length === 0) {
        // Lineage HMACs need the plan's key in the DR Region; without it lineage is recorded without HMACs.
        await side(from).ensureHmacKey({ planName: plan.name, drRegions: plan.drRegions, writeQuotaShare: share }).catch((err) => warnings.push(`HMAC key not ensured: ${message(err)}`));
      }
      for (const i of fleet) if (i.fencedAtPrimary) fencedNow.add(i.name);
      const rotationsInFlight = toPromote().filter((i) => i.rotationInFlight).length;
      return { type: 'PREFLIGHT_DONE', problems: [...problems], primaryReachable: primary !== undefined, toPromote: toPromote().length, rotationsInFlight };
    },

    async requestApproval() {
      const timeoutMs = plan.failover.approvalTimeout;
      pendingApproval = { step: 'failover', subject: `${from} → ${to} (${toPromote().length} secrets)`, requestedAt: new Date().toISOString(), timeoutMs };
      await publish({ detailType: 'Approval Requested', detail: { plan: plan.name, workflowId, step: 'failover', timeoutMs, subject: pendingApproval.subject } });
      const t0 = Date.now();
      const answered = await condition(() => decision !== undefined || snapshot.value !== 'awaitingApproval', timeoutMs);
      approvalWaitMs = Date.now() - t0;
      pendingApproval = null;
      if (snapshot.value !== 'awaitingApproval') return undefined; // cancelled meanwhile
      if (!answered) return { type: 'APPROVAL_TIMEOUT' };
      return decision!.decision === 'approve' ? { type: 'APPROVED', by: decision!.by } : { type: 'REJECTED', reason: decision!.reason };
    },

    async announceStarted() {
      promotionStartMs = Date.now();
      await publish({ detailType: 'Failover Started', detail: { plan: plan.name, workflowId, from, to, mode, secrets: toPromote().length, ...(input.reason ? { reason: input.reason } : {}) } });
      return undefined;
    },

    async settleRotations() {
      // The fence denies UpdateSecretVersionStage: a rotation cut short by it would never finish. Wait first.
      const waitMs = input.rotationWaitMs ?? DEFAULT_ROTATION_WAIT_MS;
      // name → the rotation in flight as last seen on the primary.
      const waiting = new Map(toPromote().filter((i) => i.rotationInFlight).map((i) => [i.name, i.rotationInFlight!]));
      const total = waiting.size;
      const t0 = Date.now();
      let why = `it did not finish within ${formatDuration(waitMs)}`;
      while (waiting.size > 0) {
        const left = t0 + waitMs - Date.now();
        if (left <= 0) break;
        await sleep(Math.min(left, Date.now() - t0 < 30_000 ? 2_000 : 10_000));
        try {
          for (const e of await listFleet(from)) {
            if (!waiting.has(e.name)) continue;
            if (e.rotationInFlight) waiting.set(e.name, e.rotationInFlight);
            else waiting.delete(e.name);
          }
        } catch (err) {
          why = `${from} stopped answering while the failover waited for it: ${message(err)}`;
          break;
        }
      }
      const refused = refuseRotationsInFlight([...waiting].map(([name, rotationInFlight]) => ({ name, rotationInFlight })), why);
      for (const i of toPromote()) delete i.rotationInFlight; // finished: the replica catches up before promotion
      warnings.push(`waited ${formatDuration(Date.now() - t0)} (at most ${formatDuration(waitMs)}) for ${total} rotation(s) in flight on ${from}: ${total - refused} finished, ${refused} did not (not fenced, not promoted)`);
      return { type: 'ROTATIONS_SETTLED', refused };
    },

    async applyFence() {
      // What this run promotes, and what an earlier run promoted whose old primary is not fenced yet.
      const names = fleet.filter((i) => i.action === 'promote' || (i.action === 'already-standalone' && !i.fencedAtPrimary)).map((i) => i.name);
      const suffixes = suffixesOf(fleet);
      let fenced = 0;
      const failed: string[] = [];
      try {
        for (let i = 0; i < names.length; i += FENCE_BATCH) {
          const slice = names.slice(i, i + FENCE_BATCH);
          const r = await regionActivities<FailoverActivities>(from, prefix, FENCE_OPTIONS).fenceBatch({ region: from, failoverId, to, names: slice, writeQuotaShare: share, suffixes: pick(suffixes, slice) });
          fenced += r.fenced + r.alreadyFenced;
          failed.push(...r.failed.map((f) => `${f.name}: ${f.reason}`));
          const bad = new Set(r.failed.map((f) => f.name));
          for (const n of slice) if (!bad.has(n)) fencedNow.add(n);
        }
      } catch (err) {
        return { type: 'FENCE_DONE', fence: { state: 'partial', fenced, failed: names.length - fenced, detail: `${from} stopped answering while fencing (${message(err)}): the rest is pending` } };
      }
      if (failed.length) warnings.push(...failed.slice(0, 20).map((f) => `not fenced: ${f}`));
      return { type: 'FENCE_DONE', fence: { state: failed.length ? 'partial' : 'applied', fenced, failed: failed.length } };
    },

    async promote() {
      if (mode === 'planned') await awaitReplicasCaughtUp();
      for (const i of fleet) {
        const about = { ...(i.rotationInFlight ? { rotationInFlight: i.rotationInFlight } : {}), ...(i.suffix ? { suffix: i.suffix } : {}), ...(i.notOurs ? { notOurs: true } : {}) };
        if (i.action === 'already-standalone') outcomes.push({ name: i.name, status: 'already-standalone', standalone: true, rotation: Boolean(i.rotation), ...(i.by ? { by: i.by } : {}), ...about });
        if (i.action === 'skip') outcomes.push({ name: i.name, status: 'skipped', reason: i.reason, ...about });
      }
      liveBase = countOutcomes(outcomes);
      const chunks: string[][] = [];
      const groups = [...new Set(toPromote().map((i) => i.group))].sort((a, b) => a - b);
      for (const g of groups) {
        const names = toPromote().filter((i) => i.group === g).map((i) => i.name);
        const start = chunks.length;
        for (let i = 0; i < names.length; i += CHUNK_SIZE) chunks.push(names.slice(i, i + CHUNK_SIZE));
        // Group order: a group's chunks run (two at a time) only after the previous group finished.
        let next = start;
        const lane = async () => {
          while (next < chunks.length) {
            const k = next++;
            await condition(() => !ctx().paused || ctx().cancelRequested);
            if (ctx().cancelRequested) {
              outcomes.push(...chunks[k]!.map((name) => ({ name, status: 'skipped' as const, reason: 'failover cancelled before this secret was promoted' })));
              continue;
            }
            const child = await startChild(failoverChunkWorkflow, {
              workflowId: `${workflowId}/${failoverId}/chunk-${k}`,
              taskQueue: workflowTaskQueue(prefix),
              args: [{ parentId: workflowId, chunk: k, planName: plan.name, from, to, failoverId, names: chunks[k]!, writeQuotaShare: share, taskQueuePrefix: prefix, batchSize: input.batchSize, fencedBeforePromotion: mode === 'planned' }],
            });
            children.add(child);
            if (ctx().paused) void child.signal(pauseSignal);
            if (ctx().cancelRequested) void child.signal(cancelSignal);
            const r = await child.result();
            children.delete(child);
            outcomes.push(...r.outcomes);
            lineage.records += r.lineageRecords.length;
            if (!r.hmacs) Object.assign(lineage, { hmacs: false, detail: r.lineageDetail });
          }
        };
        await Promise.all(Array.from({ length: CHUNKS_IN_FLIGHT }, lane));
      }
      promotionEndMs = Date.now();
      live.clear();
      liveBase = countOutcomes(outcomes);
      if (mode === 'planned') await unfenceNotPromoted();
      return { type: 'PROMOTION_DONE', counts: liveBase };
    },

    async verify() {
      // Re-read the DR Region (ListSecrets pages, not N describes): which promoted secrets are still replicas?
      try {
        const still = new Set((await listFleet(to, true)).map((e) => e.name));
        for (const o of outcomes) {
          if ((o.status === 'promoted' || o.status === 'already-standalone') && still.has(o.name)) {
            Object.assign(o, { standalone: false, reason: `still a replica in ${to} at verification` });
          }
        }
      } catch (err) {
        warnings.push(`verification could not re-read ${to}: ${message(err)} (per-secret read-back at promotion stands)`);
      }
      const unverified = outcomes.filter((o) => (o.status === 'promoted' || o.status === 'already-standalone') && needsAttention(o)).length;
      return { type: 'VERIFY_DONE', unverified };
    },

    async rehomeRotation() {
      // already-standalone too: a promotion whose response was lost (or a re-run) must still move rotation;
      // rehomeRotationBatch describes first and skips secrets that already use the Region's Lambda.
      const standalone = outcomes.filter((o) => o.status === 'promoted' || o.status === 'already-standalone');
      // Never re-home onto a rotation in flight (RotateSecret fails there): its next steps are on the report.
      const heldBack = standalone.filter((o) => o.rotationInFlight).length;
      const names = standalone.filter((o) => o.rotation && !o.rotationInFlight).map((o) => o.name);
      const lambdaArn = plan.rotation[to];
      rotation = { withRotation: names.length + standalone.filter((o) => o.rotation && o.rotationInFlight).length, rehomed: 0, failed: 0, heldBack, detail: '', ...(lambdaArn ? { lambdaArn } : {}) };
      if (names.length === 0) rotation.detail = heldBack ? '' : 'no promoted secret had rotation enabled';
      else if (!lambdaArn) {
        rotation.detail = `no rotation Lambda for ${to} in the plan (rotation.${to}): ${names.length} secret(s) will not rotate until one is configured`;
        warnings.push(rotation.detail);
      } else {
        for (let i = 0; i < names.length; i += FENCE_BATCH) {
          try {
            const r = await side(to).rehomeRotationBatch({ region: to, names: names.slice(i, i + FENCE_BATCH), lambdaArn, writeQuotaShare: share });
            rotation.rehomed += r.rehomed;
            rotation.failed += r.failed.length;
            warnings.push(...r.failed.slice(0, 20).map((f) => `rotation not re-homed for ${f.name}: ${f.reason}`));
          } catch (err) {
            rotation.failed += Math.min(FENCE_BATCH, names.length - i);
            warnings.push(`rotation re-homing failed for a batch: ${message(err)}`);
          }
        }
        rotation.detail = `${rotation.rehomed} of ${names.length} secret(s) rotate with ${lambdaArn} (RotateImmediately=false)`;
      }
      if (heldBack) rotation.detail = `${rotation.detail ? `${rotation.detail}; ` : ''}${heldBack} secret(s) with a rotation in flight held back (finish or roll it back first: see their next steps)`;
      return { type: 'REHOME_DONE' };
    },

    async handOffFence() {
      const id = fenceWorkflowId(plan.name, from);
      // Every secret of ours that is standalone now, whichever run promoted it: fencing a secret whose
      // promotion failed would leave it writable nowhere (and failback only lifts the fences of what it fails back).
      const names = outcomes.filter((o) => (o.status === 'promoted' || o.status === 'already-standalone') && !fencedNow.has(o.name)).map((o) => o.name);
      const request: FenceRequest = { failoverId, to, names, suffixes: pick(suffixesOf(outcomes), names) };
      for (let tries = 1; ; tries++) {
        try {
          await startChild(fenceWorkflow, {
            workflowId: id,
            taskQueue: workflowTaskQueue(prefix),
            parentClosePolicy: ParentClosePolicy.ABANDON,
            args: [{ plan, region: from, to, failoverId, taskQueuePrefix: prefix, retryInitialMs: input.fenceRetryInitialMs, names, suffixes: request.suffixes }],
          });
          break;
        } catch (err) {
          if ((err as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw err;
        }
        // The fence of an earlier run is still pending: it does not cover this run's secrets until it is told.
        try {
          await getExternalWorkflowHandle(id).signal(fenceAddSignal, request);
          break;
        } catch (err) {
          if (tries >= 3) throw err; // it completed between the start and the signal: start a new one (bounded)
        }
      }
      fenceHandedTo = id;
      return undefined;
    },

    async announceCompleted() {
      const c = ctx();
      const end = promotionEndMs ?? Date.now();
      await publish({
        detailType: 'Failover Completed',
        detail: {
          plan: plan.name, workflowId, from, to, mode,
          outcome: c.counts.failed + c.counts.skipped + c.unverified > 0 || c.cancelRequested ? 'partial' : 'done',
          counts: { ...c.counts, unverified: c.unverified },
          durationMs: Date.now() - started.getTime(),
          rtoMs: end - started.getTime() - approvalWaitMs,
        },
      });
      return { type: 'ANNOUNCED' };
    },
  };

  while (snapshot.status !== 'done' || queue.length > 0) {
    await condition(() => queue.length > 0 || snapshot.status === 'done');
    const effect = queue.shift();
    if (!effect) continue;
    const run = effects[effect as FailoverEffect];
    if (!run) continue; // xstate's own actions (assign) are applied by transition already
    const event = await run();
    if (event) send(event);
  }

  const final = String(snapshot.value);
  const c = ctx();
  const counts = outcomes.length ? countOutcomes(outcomes) : c.counts;
  const attention = outcomes.filter(needsAttention).slice(0, FULL_OUTCOMES_LIMIT);
  const listed = outcomes.length <= FULL_OUTCOMES_LIMIT ? outcomes : attention;
  const remainsCtx = { from, to, mode, fencedAtPrimary: fencedNow, fenceRequested: plan.failover.fence, ...(fenceHandedTo ? { fenceHandedTo } : {}), ...(plan.rotation[to] ? { lambdaArn: plan.rotation[to] } : {}) };
  for (const o of listed) annotateOutcome(o, remainsCtx);
  const report: FailoverReport = {
    workflowId, failoverId, plan: plan.name, from, to, mode,
    ...(input.reason ? { reason: input.reason } : {}),
    outcome: final === 'dryRun' ? 'dry-run' : (final as FailoverReport['outcome']),
    ...(c.detail ? { detail: c.detail } : {}),
    cancelled: c.cancelRequested,
    total: fleet.length,
    counts,
    attention,
    ...(outcomes.length ? { runs: runsOf(outcomes) } : {}),
    ...(outcomes.length && outcomes.length <= FULL_OUTCOMES_LIMIT ? { outcomes } : {}),
    ...(final === 'dryRun' ? { preview: fleet.slice(0, FULL_OUTCOMES_LIMIT) } : {}),
    problems: c.problems,
    warnings,
    fence: { ...c.fenceReport, ...(fenceHandedTo ? { handedTo: fenceHandedTo } : {}) },
    ...(rotation ? { rotation } : {}),
    ...(promotionStartMs !== undefined && final !== 'rejected' ? { lineage: { prefix: `${lineageRecordPrefix(plan.name)}${failoverId}/`, records: lineage.records, hmacs: lineage.hmacs, ...(lineage.detail ? { detail: lineage.detail } : {}) } } : {}),
    expectedMs,
    durationMs: Date.now() - started.getTime(),
    ...(promotionEndMs !== undefined ? { rtoMs: promotionEndMs - started.getTime() - approvalWaitMs } : {}),
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
  };
  return report;
}
