/**
 * failback: make the original primary authoritative again without losing a value (DESIGN.md).
 * The machine (machines/failback.machine.ts) orders the fleet-wide steps; this file turns the
 * approval update, timers and child results into its events. Every step over secrets runs in
 * child workflows (failback-batch.workflow.ts) of ≤ 500 secrets, so histories stay small.
 *
 * Decisions:
 * - "Changed since failover" is decided per secret against the lineage recorded at promotion
 *   (`secrets-dr/<plan>/lineage/<failoverId>/…` in the DR Region: version ids and HMACs) by the
 *   earliest failover since the failback that last verified the secret: every failover run, and
 *   failovers to different DR Regions, are reconciled, not only the latest. Each failback leaves
 *   `secrets-dr/<plan>/failback/<stamp>/…` (names it verified) for the next one: AWS-side truth
 *   that outlives Temporal's history retention.
 * - One writable side at a time: the side replication overwrites gets failback's deny-writes fence
 *   before it is read for the last time; copy-back lifts the original's fence for its own write
 *   only; re-replication lifts it once the other side is fenced. A secret that does not fail back
 *   gets the original's fence back before the other side's is lifted.
 * - Per-secret asks (plan.failback.onOriginalChanged/onBothChanged = ask) wait for the `approval`
 *   update with `subject` = the secret, up to plan.failback.approvalTimeout, while the other
 *   secrets are reconciled; nothing of an asked secret is written before its answer. Approve = the
 *   DR value wins (`--reason keep-original` keeps the original's); reject = the secret is left as
 *   it is (still standalone in the DR Region, still fenced) and reported.
 * - Re-replication overwrites a whole secret (ForceOverwriteReplicaSecret): it is sent only after
 *   the copy-back or the backups of reconciliation, and the activity itself refuses it when the
 *   overwritten side holds a value that exists nowhere else.
 * - The fence stays until the end (unfencing), except for the statement lifted by the
 *   orchestrator's own writes; secrets that did not fail back stay fenced.
 */
import { condition, getExternalWorkflowHandle, patched, setHandler, startChild, workflowInfo } from '@temporalio/workflow';
import { initialTransition, transition } from 'xstate';
import { ApprovalDecision, type PendingApproval } from '../domain/approval.js';
import { expectedPromotionMs } from '../domain/failover.js';
import {
  FULL_ITEMS_LIMIT,
  FailbackInput,
  answerToResolution,
  countItems,
  expectedWrites,
  itemNeedsAttention,
  resolve,
  reversePlanChange,
  type FailbackItem,
  type FailbackProgress,
  type FailbackReport,
  type FailoverRun,
  type PendingAsk,
  type SecretFacts,
} from '../domain/failback.js';
import type { OutgoingEvent } from '../domain/events.js';
import { failbackWorkflowId, fenceWorkflowId, RUN_STAMP_MS_PATCH, runStamp, workflowTaskQueue } from '../domain/ids.js';
import type { FailbackActivities } from '../activities/failback.activities.js';
import type { FailoverActivities } from '../activities/failover.activities.js';
import type { EventActivities } from '../activities/events.activities.js';
import { regionActivities } from './activity-options.js';
import { INSPECT_OPTIONS, SIDE_OPTIONS } from './failover-options.js';
import { FAILBACK_OPTIONS } from './failback-options.js';
import { failbackProgressQuery } from './failback.messages.js';
import { approvalUpdate as failbackApprovalUpdate, pendingApprovalQuery as failbackPendingApprovalQuery } from './kit/control.messages.js';
import { CHUNK_SIZE, failbackBatchWorkflow, type FailbackPhase } from './failback-batch.workflow.js';
import { failbackMachine, type FailbackEffect, type FailbackEvent } from './machines/failback.machine.js';
import { chunk, failureText } from './setup-support.js';

const SIDE_BATCH = 250;
const CHUNKS_IN_FLIGHT = 2;

export async function failbackWorkflow(raw: FailbackInput): Promise<FailbackReport> {
  const input = FailbackInput.parse(raw);
  const { plan, reverse } = input;
  const from = plan.primaryRegion;
  const share = plan.failover.writeQuotaShare;
  const prefix = input.taskQueuePrefix;
  const { workflowId } = workflowInfo();
  const started = new Date();
  const stamp = runStamp(started, patched(RUN_STAMP_MS_PATCH)); // replay: older runs keep whole seconds
  const side = (region: string) => regionActivities<FailbackActivities & FailoverActivities & EventActivities>(region, prefix, SIDE_OPTIONS);

  // ---- what the workflow knows (never a value)
  /** The DR Region most failed-over secrets live in (each item names its own: `dr`). */
  let to: string = plan.drRegions[0]!.region;
  let failoverId: string | undefined;
  /** Every failover since the last failback (per secret), and per DR Region the records that tell it. */
  let failovers: FailoverRun[] = [];
  const records = new Map<string, string[]>();
  let items: FailbackItem[] = [];
  const askFacts = new Map<string, SecretFacts>();
  const asks = new Map<string, PendingAsk>();
  const answers = new Map<string, ApprovalDecision>();
  const problems: string[] = [];
  const warnings: string[] = [];
  let rotation: FailbackReport['rotation'];
  let unfenced: number | undefined;
  let fleetDecision: ApprovalDecision | undefined;
  let pendingGate: PendingApproval | null = null;

  let [snapshot, actions] = initialTransition(failbackMachine, { reverse, dryRun: input.dryRun, requireApproval: plan.failover.requireApproval && !input.skipApproval });
  const queue: string[] = actions.map((a) => a.type);
  const send = (event: FailbackEvent) => {
    [snapshot, actions] = transition(failbackMachine, snapshot, event);
    queue.push(...actions.map((a) => a.type));
  };
  const step = () => String(snapshot.value);

  setHandler(failbackProgressQuery, (): FailbackProgress => ({
    workflowId, plan: plan.name, from, to, reverse, step: step(), total: items.length, counts: countItems(items),
    pendingAsks: [...asks.values()].filter((a) => !answers.has(a.subject)), startedAt: started.toISOString(),
  }));
  setHandler(failbackPendingApprovalQuery, () => {
    if (pendingGate) return pendingGate;
    const a = [...asks.values()].find((x) => !answers.has(x.subject));
    return a ? { step: `failback-${a.change}`, subject: a.subject, requestedAt: a.requestedAt, timeoutMs: a.timeoutMs } : null;
  });
  setHandler(
    failbackApprovalUpdate,
    (d) => {
      if (pendingGate) {
        fleetDecision = d;
        return { accepted: true as const, decision: d.decision };
      }
      const open = [...asks.keys()].filter((s) => !answers.has(s));
      const subject = d.subject ?? open[0]!;
      answers.set(subject, d);
      return { accepted: true as const, decision: d.decision, subject };
    },
    {
      // Validators run synchronously: a refused answer never reaches history.
      validator: (d) => {
        ApprovalDecision.parse(d);
        if (d.decision === 'reject' && !d.reason) throw new Error('a rejection needs a reason');
        if (pendingGate) {
          if (fleetDecision) throw new Error(`${workflowId} already has an answer`);
          return;
        }
        const open = [...asks.keys()].filter((s) => !answers.has(s));
        if (open.length === 0) throw new Error(`${workflowId} is not waiting for approval (step: ${step()})`);
        if (d.subject === undefined && open.length > 1) throw new Error(`${open.length} secrets wait for an answer: say which with --subject (${open.slice(0, 5).join(', ')}${open.length > 5 ? ', ...' : ''})`);
        if (d.subject !== undefined && !open.includes(d.subject)) throw new Error(`no pending question about ${d.subject} (pending: ${open.slice(0, 5).join(', ') || 'none'})`);
      },
    },
  );

  const publish = async (region: string, event: OutgoingEvent) => {
    try {
      await side(region).publishEvent({ bus: plan.events.bus, event });
    } catch (err) {
      warnings.push(`event "${event.detailType}" not published in ${region}: ${failureText(err).message}`);
    }
  };

  /** Runs one phase over `list` (of one DR Region) in children of ≤ CHUNK_SIZE, two at a time; merges their items back. */
  const runPhase = async (phase: FailbackPhase, list: FailbackItem[] | string[], tag: string = phase, dr: string = to): Promise<void> => {
    if (phase !== 'plan') {
      // Items of failovers to different DR Regions: one pass per Region.
      const byRegion = new Map<string, FailbackItem[]>();
      for (const i of list as FailbackItem[]) byRegion.set(i.dr ?? to, [...(byRegion.get(i.dr ?? to) ?? []), i]);
      if (byRegion.size > 1) {
        for (const [r, part] of byRegion) await runPhase(phase, part, `${tag}-${r}`, r);
        return;
      }
      dr = byRegion.keys().next().value ?? to;
    }
    const chunks = chunk<FailbackItem | string>(list, CHUNK_SIZE);
    let next = 0;
    const lane = async () => {
      while (next < chunks.length) {
        const k = next++;
        const part = chunks[k]!;
        const names = part.map((p) => (typeof p === 'string' ? p : p.name));
        try {
          const child = await startChild(failbackBatchWorkflow, {
            // From the plan, not workflowInfo(): replaying a recorded history under another id starts the same children.
            workflowId: `${failbackWorkflowId(plan.name)}${input.dryRun ? '/dry-run' : ''}/${stamp}/${tag}-${k}`,
            taskQueue: workflowTaskQueue(prefix),
            // Write tokens are per run (a later failback of the same plan must write again): id + start stamp.
            args: [{ phase, plan, from, to: dr, reverse, failbackId: `${workflowId}/${stamp}`, records: records.get(dr) ?? [], ...(phase === 'plan' ? { names } : { items: part as FailbackItem[] }), taskQueuePrefix: prefix, batchSize: input.batchSize }],
          });
          const r = await child.result();
          merge(r.items);
          for (const f of r.asks) askFacts.set(f.name, f);
        } catch (err) {
          const reason = `${phase} failed: ${failureText(err).message}`;
          if (phase === 'plan') problems.push(reason);
          else merge((part as FailbackItem[]).map((i) => ({ ...i, status: 'failed' as const, reason })));
        }
      }
    };
    await Promise.all(Array.from({ length: CHUNKS_IN_FLIGHT }, lane));
  };
  const merge = (updated: FailbackItem[]) => {
    const index = new Map(updated.map((i) => [i.name, i]));
    if (items.length === 0) {
      items.push(...updated);
      return;
    }
    const known = new Set(items.map((i) => i.name));
    items = items.map((i) => index.get(i.name) ?? i);
    for (const u of updated) if (!known.has(u.name)) items.push(u);
  };
  /**
   * Leaves this failback's record next to the failovers' lineage (names it verified, per DR Region):
   * the next failback counts only promotions after it. Without it the next one would take an older
   * baseline for those secrets, so a failure is reported.
   */
  const recordFailedBack = async () => {
    const byRegion = new Map<string, string[]>();
    for (const i of withStatus('verified')) byRegion.set(i.dr ?? to, [...(byRegion.get(i.dr ?? to) ?? []), i.name]);
    for (const [region, names] of byRegion) {
      for (const [k, part] of chunk(names, 1_000).entries()) {
        try {
          await side(region).recordFailbackBatch({ planName: plan.name, failbackId: stamp, from, to: region, reverse, part: String(k), names: part, writeQuotaShare: share });
        } catch (err) {
          warnings.push(`the record of ${part.length} failed-back secret(s) was not written in ${region} (${failureText(err).message}): the next failback may reconcile them against an older failover`);
        }
      }
    }
  };
  const withStatus = (...s: FailbackItem['status'][]) => items.filter((i) => s.includes(i.status));
  const count = (...s: FailbackItem['status'][]) => withStatus(...s).length;

  const effects: Record<FailbackEffect, () => Promise<FailbackEvent | undefined>> = {
    async runPreflight() {
      // Every failover since the last failback (per secret: since the failback that verified it), in every DR Region.
      const found = await Promise.all(
        plan.drRegions.map(({ region }) =>
          side(region).findFailoverLineage({ planName: plan.name, ...(input.failoverId ? { failoverId: input.failoverId } : {}) }).catch((err) => (warnings.push(`${region} does not answer: ${failureText(err).message}`), undefined)),
        ),
      );
      const open = found.filter((f): f is NonNullable<typeof f> => f !== undefined && f.names.length > 0).sort((a, b) => b.names.length - a.names.length);
      if (open.length === 0) {
        problems.push(`no failover lineage of plan ${plan.name} found in ${plan.drRegions.map((d) => d.region).join(', ')}${input.failoverId ? ` for failover ${input.failoverId}` : ''} since the last failback: failback needs the lineage failover records at promotion`);
        return { type: 'PREFLIGHT_DONE', problems: [...problems], total: 0 };
      }
      to = open[0]!.region;
      failovers = open.flatMap((f) => f.failovers).sort((a, b) => (a.failoverId < b.failoverId ? -1 : a.failoverId > b.failoverId ? 1 : 0));
      failoverId = failovers.at(-1)?.failoverId;
      for (const f of open) records.set(f.region, f.records);
      for (const f of failovers) if (f.from && f.from !== from) problems.push(`failover ${f.failoverId} went from ${f.from}, but the plan's primaryRegion is ${from}`);
      for (const f of failovers) if (!f.hmacs) warnings.push(`failover ${f.failoverId} recorded lineage without HMACs: changes are told apart by version id only`);
      if (reverse && open.length > 1) problems.push(`--reverse keeps one DR Region as the primary, but failovers since the last failback went to ${open.map((f) => f.region).join(' and ')}: fail back without --reverse first`);
      // The original Region must answer before anything is decided (describe both sides).
      try {
        await regionActivities<FailoverActivities>(from, prefix, INSPECT_OPTIONS).inspectFleet({ plan, region: from, maxPages: 1 });
      } catch (err) {
        problems.push(`the original primary Region ${from} does not answer: ${failureText(err).message} (fail back once it is healthy)`);
      }
      if (problems.length === 0) {
        // Promoted in two DR Regions since the last failback: which copy wins is a person's call.
        const regionsOf = new Map<string, string[]>();
        for (const f of open) for (const n of f.names) regionsOf.set(n, [...(regionsOf.get(n) ?? []), f.region]);
        const twice = [...regionsOf].filter(([, r]) => r.length > 1);
        merge(twice.map(([name, r]) => ({ name, change: 'blocked' as const, resolution: 'skip' as const, status: 'skipped' as const, reason: `promoted in ${r.join(' and ')} since the last failback: keep one copy (back up the other), then run failback again` })));
        for (const f of open) await runPhase('plan', f.names.filter((n) => regionsOf.get(n)!.length === 1), 'plan', f.region);
        items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        // Never silently the AWS managed key: say which replicas get it (the plan names no key for the Region and the secret had none).
        const managed = items.filter((i) => !i.kmsKeyId && i.resolution !== 'skip' && i.resolution !== 'verify');
        if (managed.length > 0) {
          const where = reverse ? from : [...new Set(managed.map((i) => i.dr ?? to))].join(', ');
          warnings.push(`${managed.length} secret(s) will be replicated into ${where} with the AWS managed key aws/secretsmanager: the plan names no key for that Region (${reverse ? 'primaryKmsKeyId' : 'drRegions[].kmsKeyId'}) and they had none there (${managed.slice(0, 5).map((i) => i.name).join(', ')}${managed.length > 5 ? ', ...' : ''})`);
        }
        if (!input.dryRun) {
          // A pending fence still waiting for the original Region would fence again after unfencing: it is not needed any more.
          await getExternalWorkflowHandle(fenceWorkflowId(plan.name, from)).cancel().catch(() => undefined);
        }
      }
      return { type: 'PREFLIGHT_DONE', problems: [...problems], total: items.length };
    },

    async requestApproval() {
      const timeoutMs = plan.failover.approvalTimeout;
      pendingGate = { step: 'failback', subject: `${reverse ? `${to} stays primary, replicating into ${from}` : `${to} → ${from}`} (${items.length} secrets)`, requestedAt: new Date().toISOString(), timeoutMs };
      await publish(from, { detailType: 'Approval Requested', detail: { plan: plan.name, workflowId, step: 'failback', timeoutMs, subject: pendingGate.subject } });
      const answered = await condition(() => fleetDecision !== undefined, timeoutMs);
      pendingGate = null;
      if (!answered) return { type: 'APPROVAL_TIMEOUT' };
      return fleetDecision!.decision === 'approve' ? { type: 'APPROVED', by: fleetDecision!.by } : { type: 'REJECTED', reason: fleetDecision!.reason };
    },

    async reconcile() {
      const timeoutMs = plan.failback.approvalTimeout;
      for (const i of withStatus('awaiting-approval')) {
        asks.set(i.name, { subject: i.name, change: i.change, requestedAt: new Date().toISOString(), timeoutMs });
        await publish(from, { detailType: 'Approval Requested', detail: { plan: plan.name, workflowId, step: `failback-${i.change}`, timeoutMs, subject: i.name } });
      }
      // Secrets that need nobody are reconciled while the asked ones wait for their answer.
      const direct = runPhase('reconcile', withStatus('planned').filter((i) => i.resolution !== 'verify'));
      const asked = asks.size > 0 ? condition(() => [...asks.keys()].every((s) => answers.has(s)), timeoutMs) : Promise.resolve(true);
      await Promise.all([direct, asked]);
      const answered: FailbackItem[] = [];
      for (const i of withStatus('awaiting-approval')) {
        const a = answers.get(i.name);
        if (!a) merge([{ ...i, status: 'skipped', reason: `no answer within ${Math.round(timeoutMs / 60_000)} min: left as it is (still standalone in ${to}, still fenced in ${from})` }]);
        else if (a.decision === 'reject') merge([{ ...i, resolution: 'skip', status: 'skipped', reason: `rejected${a.by ? ` by ${a.by}` : ''}: ${a.reason ?? ''} (left as it is)` }]);
        else answered.push({ ...resolve(i, askFacts.get(i.name)!, answerToResolution(a.decision, a.reason)), status: 'planned' });
      }
      if (answered.length) {
        merge(answered);
        await runPhase('reconcile', answered, 'reconcile-answered');
      }
      for (const i of withStatus('planned')) if (i.resolution === 'verify') merge([{ ...i, status: 'reconciled' }]);
      return { type: 'RECONCILED', ready: count('reconciled'), attention: count('failed', 'skipped') };
    },

    async reReplicate() {
      const before = count('failed');
      await runPhase('replicate', withStatus('reconciled'));
      return { type: 'REREPLICATED', failed: count('failed') - before };
    },

    async awaitInSync() {
      const before = count('failed');
      await runPhase('await', withStatus('replicating'));
      return { type: 'IN_SYNC', notInSync: count('failed') - before };
    },

    async verify() {
      const before = count('failed');
      await runPhase('verify', withStatus('in-sync'));
      await recordFailedBack();
      return { type: 'VERIFIED', verified: count('verified'), mismatched: count('failed') - before };
    },

    async restoreRotation() {
      const names = withStatus('verified').filter((i) => i.rotation).map((i) => i.name);
      const lambdaArn = plan.rotation[from];
      rotation = { restored: 0, failed: 0, detail: '', ...(lambdaArn ? { lambdaArn } : {}) };
      if (names.length === 0) rotation.detail = 'no failed-back secret has rotation enabled';
      else if (!lambdaArn) {
        rotation.detail = `no rotation Lambda for ${from} in the plan (rotation.${from}): ${names.length} secret(s) keep the rotation configuration they had in ${from}`;
        warnings.push(rotation.detail);
      } else {
        for (const batch of chunk(names, SIDE_BATCH)) {
          try {
            const r = await side(from).rehomeRotationBatch({ region: from, names: batch, lambdaArn, writeQuotaShare: share });
            rotation.restored += r.rehomed;
            rotation.failed += r.failed.length;
            warnings.push(...r.failed.slice(0, 20).map((f) => `rotation not restored for ${f.name}: ${f.reason}`));
          } catch (err) {
            rotation.failed += batch.length;
            warnings.push(`rotation restore failed for a batch: ${failureText(err).message}`);
          }
        }
        rotation.detail = `${rotation.restored} of ${names.length} secret(s) rotate with ${lambdaArn} again (RotateImmediately=false)`;
      }
      return { type: 'ROTATION_RESTORED' };
    },

    async unfence() {
      let failed = 0;
      unfenced = 0;
      const fenced = new Set(items.filter((i) => i.fenced).map((i) => i.name));
      for (const batch of chunk(withStatus('verified').map((i) => i.name), SIDE_BATCH)) {
        try {
          const r = await regionActivities<FailbackActivities>(from, prefix, FAILBACK_OPTIONS).unfenceBatch({ names: batch, writeQuotaShare: share });
          for (const u of r) {
            if (u.ok) unfenced += fenced.has(u.name) ? 1 : 0; // opened by re-replication or here
            else {
              failed++;
              warnings.push(`not unfenced: ${u.name}: ${u.reason}`);
            }
          }
        } catch (err) {
          failed += batch.length;
          warnings.push(`unfencing failed for a batch: ${failureText(err).message}`);
        }
      }
      // Unfencing and the rotation settings change the primaries: they propagate again. Describe, don't
      // assume: the failback ends when the replicas have caught up (InSync) once more.
      const verified = withStatus('verified');
      await runPhase('await', verified.map((i) => ({ ...i, status: 'replicating' as const })), 'settle');
      merge(withStatus('in-sync').map((i) => ({ ...i, status: 'verified' as const })));
      failed += verified.length - count('verified');
      const stillFenced = items.filter((i) => i.status !== 'verified' && i.fenced).length;
      if (stillFenced) warnings.push(`${stillFenced} secret(s) that did not fail back stay fenced in ${from} (their primary is still in ${to})`);
      return { type: 'UNFENCED', failed };
    },

    async announceCompleted() {
      const c = snapshot.context;
      await publish(reverse ? to : from, {
        detailType: 'Failback Completed',
        detail: {
          plan: plan.name, workflowId, from: to, to: reverse ? to : from,
          outcome: c.total > 0 && count('verified') === 0 ? 'failed' : count('verified') === c.total && c.unfenceFailed === 0 ? 'done' : 'partial',
          counts: countItems(items),
          durationMs: Date.now() - started.getTime(),
        },
      });
      return { type: 'ANNOUNCED' };
    },
  };

  while (snapshot.status !== 'done' || queue.length > 0) {
    await condition(() => queue.length > 0 || snapshot.status === 'done');
    const effect = queue.shift();
    if (!effect) continue;
    const run = effects[effect as FailbackEffect];
    if (!run) continue; // xstate's own actions (assign) are applied by transition already
    const event = await run();
    if (event) send(event);
  }

  const final = step();
  const c = snapshot.context;
  const writes = expectedWrites(items);
  return {
    workflowId,
    plan: plan.name,
    ...(failoverId ? { failoverId } : {}),
    ...(failovers.length ? { failovers } : {}),
    from,
    to,
    reverse,
    outcome: final === 'dryRun' ? 'dry-run' : (final as FailbackReport['outcome']),
    ...(c.detail ? { detail: c.detail } : {}),
    total: items.length,
    counts: countItems(items),
    items: items.slice(0, FULL_ITEMS_LIMIT),
    attention: final === 'dryRun' ? items.filter((i) => i.status === 'skipped' || i.resolution === 'ask') : items.filter(itemNeedsAttention).slice(0, FULL_ITEMS_LIMIT),
    problems: c.problems.length ? c.problems : problems,
    warnings,
    ...(rotation ? { rotation } : {}),
    ...(unfenced !== undefined ? { unfenced } : {}),
    ...(reverse ? { planChange: reversePlanChange(plan, to) } : {}),
    writes: { expected: writes, expectedMs: expectedPromotionMs(writes, share) },
    durationMs: Date.now() - started.getTime(),
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
  };
}
