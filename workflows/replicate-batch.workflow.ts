/**
 * replicateBatch (child of replicate): up to ~100 secrets × every DR Region, one replicate machine
 * each. The machines decide; this loop collects the actions they emit and runs them *batched by
 * kind* (one describe/replicate/poll activity for many secrets), so a batch costs a few dozen
 * history events whatever its size. Conflicts go to one resolveConflict child each and run
 * independently: an `ask` waiting for a person never holds up the other secrets' polling.
 */
import { condition, executeChild, getExternalWorkflowHandle, sleep } from '@temporalio/workflow';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { conflictWorkflowId } from '../domain/ids.js';
import type { Plan } from '../domain/plan.js';
import { classifyInspection, conflictPolicyFor, type SecretOutcome, type TargetView } from '../domain/replication.js';
import type { ReplicationActivities } from '../activities/replication.activities.js';
import { regionActivities } from './activity-options.js';
import { outcomeOf, replicateMachine, type ReplicateEvent } from './machines/replicate.machine.js';
import { resolveConflictWorkflow } from './resolve-conflict.workflow.js';
import { batchProgressSignal } from './setup.messages.js';
import { BATCH_READ_OPTIONS, failureReason, WRITE_OPTIONS } from './setup-support.js';

export interface ReplicateBatchInput {
  plan: Plan;
  names: string[];
  batch: number;
  setupWorkflowId: string;
  taskQueuePrefix?: string;
}

type Snapshot = SnapshotFrom<typeof replicateMachine>;
type Kind = 'inspect' | 'replicate' | 'pollStatus' | 'verifyReplica' | 'resolveConflict';
interface Item { key: string; secret: string; region: string }

const MIN_POLL_MS = 300;
const MAX_POLL_MS = 15_000;

export async function replicateBatchWorkflow(input: ReplicateBatchInput): Promise<SecretOutcome[]> {
  const { plan, taskQueuePrefix: prefix } = input;
  const reads = (r: string) => regionActivities<ReplicationActivities>(r, prefix, BATCH_READ_OPTIONS);
  const writes = regionActivities<ReplicationActivities>(plan.primaryRegion, prefix, WRITE_OPTIONS);
  const kmsOf = (r: string) => plan.drRegions.find((d) => d.region === r)?.kmsKeyId;

  const machines = new Map<string, Snapshot>();
  const queues: Record<Kind, Item[]> = { inspect: [], replicate: [], pollStatus: [], verifyReplica: [], resolveConflict: [] };
  const busy = new Set<Kind>();
  const events: Array<{ key: string; event: ReplicateEvent }> = [];
  const emit = (key: string, event: ReplicateEvent) => events.push({ key, event });
  const enqueue = (key: string, actions: ReadonlyArray<{ type: string }>) => {
    const s = machines.get(key)!.context;
    for (const a of actions) queues[a.type as Kind]?.push({ key, secret: s.secret, region: s.region });
  };

  for (const secret of input.names) {
    for (const { region, kmsKeyId } of plan.drRegions) {
      const key = `${region}\u0000${secret}`;
      const [snap, actions] = initialTransition(replicateMachine, { secret, region, primaryRegion: plan.primaryRegion, inSyncTimeoutMs: plan.setup.inSyncTimeout, ...(kmsKeyId ? { kmsKeyId } : {}) });
      machines.set(key, snap);
      enqueue(key, actions);
    }
  }

  const byRegion = (items: Item[]) => {
    const m = new Map<string, Item[]>();
    for (const i of items) m.set(i.region, [...(m.get(i.region) ?? []), i]);
    return m;
  };

  const handlers: Record<Exclude<Kind, 'resolveConflict'>, (items: Item[]) => Promise<void>> = {
    async inspect(items) {
      const names = [...new Set(items.map((i) => i.secret))];
      try {
        const [primaries, ...targets] = await Promise.all([
          reads(plan.primaryRegion).describePrimaries({ names }),
          ...[...byRegion(items).keys()].map(async (r) => [r, await reads(r).describeTargets({ names: items.filter((i) => i.region === r).map((i) => i.secret) })] as const),
        ]);
        const p = new Map(primaries.map((v) => [v.name, v]));
        const t = new Map<string, TargetView>(targets.flatMap(([r, views]) => views.map((v) => [`${r}\u0000${v.name}`, v] as const)));
        for (const i of items) {
          const pv = p.get(i.secret) ?? { name: i.secret, exists: false };
          const inspection = classifyInspection(plan.primaryRegion, i.region, pv, t.get(i.key) ?? { name: i.secret, exists: false });
          emit(i.key, { type: 'INSPECTED', inspection, policy: conflictPolicyFor(plan, i.secret, pv.tags), ...(pv.arn ? { primaryArn: pv.arn } : {}), at: Date.now() });
        }
      } catch (err) {
        const { message } = failureReason(err);
        for (const i of items) emit(i.key, { type: 'INSPECTED', inspection: { kind: 'blocked', reason: 'other', detail: `could not inspect: ${message}` }, policy: plan.conflicts.policy, at: Date.now() });
      }
    },
    async replicate(items) {
      try {
        const results = await writes.replicateBatch({ items: items.map((i) => ({ secret: i.secret, region: i.region, ...(kmsOf(i.region) ? { kmsKeyId: kmsOf(i.region) } : {}) })), writeQuotaShare: plan.failover.writeQuotaShare });
        results.forEach((r, n) => emit(items[n]!.key, r.ok ? { type: 'REPLICATED', at: Date.now() } : { type: 'REPLICATE_FAILED', reason: r.reason ?? 'other', message: r.message ?? 'replication refused' }));
      } catch (err) {
        const f = failureReason(err);
        for (const i of items) emit(i.key, { type: 'REPLICATE_FAILED', reason: f.reason, message: f.message });
      }
    },
    async pollStatus(items) {
      // Poll young waits often and old ones rarely: bounded history even for a long inSyncTimeout.
      const youngest = Math.max(...items.map((i) => machines.get(i.key)!.context.waitStartedAt ?? Date.now()));
      await sleep(Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, (Date.now() - youngest) / 4)));
      try {
        const statuses = await reads(plan.primaryRegion).replicationStatusBatch({ items: items.map((i) => ({ secret: i.secret, region: i.region })) });
        statuses.forEach((status, n) => emit(items[n]!.key, { type: 'STATUS', status, at: Date.now() }));
      } catch {
        for (const i of items) emit(i.key, { type: 'STATUS', status: { name: i.secret, region: i.region, status: 'InProgress' }, at: Date.now() });
      }
    },
    async verifyReplica(items) {
      for (const [r, group] of byRegion(items)) {
        try {
          const views = await reads(r).describeTargets({ names: group.map((i) => i.secret) });
          views.forEach((target, n) => emit(group[n]!.key, { type: 'VERIFIED', target, at: Date.now() }));
        } catch {
          for (const i of group) emit(i.key, { type: 'VERIFIED', target: { name: i.secret, exists: false }, at: Date.now() });
        }
      }
    },
  };

  const resolve = async (i: Item) => {
    const c = machines.get(i.key)!.context;
    try {
      const resolution = await executeChild(resolveConflictWorkflow, {
        workflowId: conflictWorkflowId(input.setupWorkflowId, i.region, i.secret),
        args: [
          {
            planName: plan.name,
            bus: plan.events.bus,
            primaryRegion: plan.primaryRegion,
            region: i.region,
            secret: i.secret,
            policy: c.policy,
            approvalTimeoutMs: plan.conflicts.approvalTimeout,
            ...(c.kmsKeyId ? { kmsKeyId: c.kmsKeyId } : {}),
            writeQuotaShare: plan.failover.writeQuotaShare,
            ...(prefix ? { taskQueuePrefix: prefix } : {}),
            setupWorkflowId: input.setupWorkflowId,
          },
        ],
      });
      emit(i.key, { type: 'RESOLVED', resolution, at: Date.now() });
    } catch (err) {
      const f = failureReason(err);
      emit(i.key, { type: 'RESOLVED', resolution: { secret: i.secret, region: i.region, policy: c.policy, result: 'failed', reason: f.reason, detail: f.message }, at: Date.now() });
    }
  };

  const parent = getExternalWorkflowHandle(input.setupWorkflowId);
  let ticks = 0;
  let reported = -1;
  let reportedAt = 0;
  for (;;) {
    while (events.length > 0) {
      const { key, event } = events.shift()!;
      const [snap, actions] = transition(replicateMachine, machines.get(key)!, event);
      machines.set(key, snap);
      enqueue(key, actions);
    }
    const finals = [...machines.values()].filter((s) => s.status === 'done');
    const all = finals.length === machines.size;
    if (finals.length !== reported && (all || Date.now() - reportedAt >= 1_000)) {
      const counts: Record<string, number> = {};
      for (const s of finals) {
        const state = outcomeOf(s.context, String(s.value)).state;
        counts[state] = (counts[state] ?? 0) + 1;
      }
      await parent.signal(batchProgressSignal, { batch: input.batch, done: finals.length, counts }).catch(() => undefined);
      reported = finals.length;
      reportedAt = Date.now();
    }
    if (all) break;
    for (const kind of Object.keys(handlers) as Array<keyof typeof handlers>) {
      if (busy.has(kind) || queues[kind].length === 0) continue;
      const items = queues[kind].splice(0);
      busy.add(kind);
      void handlers[kind](items).finally(() => {
        busy.delete(kind);
        ticks++;
      });
    }
    for (const i of queues.resolveConflict.splice(0)) void resolve(i);
    const seen = ticks;
    // Wake on new events, or when a kind frees up while work for it is queued.
    await condition(() => events.length > 0 || ticks !== seen);
  }
  return [...machines.values()].map((s) => outcomeOf(s.context, String(s.value)));
}
