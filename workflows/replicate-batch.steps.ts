/**
 * replicateBatch's effects, batched by kind: one describe/replicate/poll activity for many secrets
 * (each item is one secret × DR Region, driven by its own replicate machine). Each answers every
 * item with the event for its machine through `emit`; a failed activity answers each of its items,
 * so no machine waits forever. Conflicts go to one resolveConflict child each.
 */
import { executeChild, sleep } from '@temporalio/workflow';
import { conflictWorkflowId } from '../domain/ids.js';
import { classifyInspection, conflictPolicyFor, type TargetView } from '../domain/replication.js';
import type { ReplicationActivities } from '../activities/replication.activities.js';
import { regionActivities } from './activity-options.js';
import type { ReplicateContext, ReplicateEvent } from './machines/replicate.machine.js';
import { resolveConflictWorkflow } from './resolve-conflict.workflow.js';
import { BATCH_READ_OPTIONS, failureReason, WRITE_OPTIONS } from './setup-support.js';
import type { ReplicateBatchInput } from '../domain/workflow-inputs.js';
import { writeShareOf } from '../domain/plan.js';

/** The kinds of work the machines ask for; all but `resolveConflict` run batched. */
export type Kind = 'inspect' | 'replicate' | 'pollStatus' | 'verifyReplica' | 'resolveConflict';
export type BatchedKind = Exclude<Kind, 'resolveConflict'>;
export interface Item {
  key: string;
  secret: string;
  region: string;
}

const MIN_POLL_MS = 300;
const MAX_POLL_MS = 15_000;

const byRegion = (items: Item[]) => {
  const m = new Map<string, Item[]>();
  for (const i of items) m.set(i.region, [...(m.get(i.region) ?? []), i]);
  return m;
};

export function batchSteps(input: ReplicateBatchInput, contextOf: (key: string) => ReplicateContext, emit: (key: string, event: ReplicateEvent) => void) {
  const { plan, taskQueuePrefix: prefix } = input;
  const reads = (r: string) => regionActivities<ReplicationActivities>(r, prefix, BATCH_READ_OPTIONS);
  const writes = regionActivities<ReplicationActivities>(plan.primaryRegion, prefix, WRITE_OPTIONS);
  const kmsOf = (r: string) => plan.drRegions.find((d) => d.region === r)?.kmsKeyId;

  const batched: Record<BatchedKind, (items: Item[]) => Promise<void>> = {
    async inspect(items) {
      const names = [...new Set(items.map((i) => i.secret))];
      try {
        const [primaries, ...targets] = await Promise.all([
          reads(plan.primaryRegion).describePrimaries({ names }),
          ...[...byRegion(items).keys()].map(
            async (r) => [r, await reads(r).describeTargets({ names: items.filter((i) => i.region === r).map((i) => i.secret) })] as const,
          ),
        ]);
        const p = new Map(primaries.map((v) => [v.name, v]));
        const t = new Map<string, TargetView>(targets.flatMap(([r, views]) => views.map((v) => [`${r}\u0000${v.name}`, v] as const)));
        for (const i of items) {
          const pv = p.get(i.secret) ?? { name: i.secret, exists: false };
          const inspection = classifyInspection(plan.primaryRegion, i.region, pv, t.get(i.key) ?? { name: i.secret, exists: false });
          emit(i.key, {
            type: 'INSPECTED',
            inspection,
            policy: conflictPolicyFor(plan, i.secret, pv.tags),
            ...(pv.arn ? { primaryArn: pv.arn } : {}),
            at: Date.now(),
          });
        }
      } catch (err) {
        const { message } = failureReason(err);
        for (const i of items)
          emit(i.key, {
            type: 'INSPECTED',
            inspection: { kind: 'blocked', reason: 'other', detail: `could not inspect: ${message}` },
            policy: plan.conflicts.policy,
            at: Date.now(),
          });
      }
    },
    async replicate(items) {
      try {
        const results = await writes.replicateBatch({
          items: items.map((i) => ({ secret: i.secret, region: i.region, ...(kmsOf(i.region) ? { kmsKeyId: kmsOf(i.region) } : {}) })),
          ...writeShareOf(plan.failover),
        });
        results.forEach((r, n) =>
          emit(
            items[n]!.key,
            r.ok
              ? { type: 'REPLICATED', at: Date.now() }
              : { type: 'REPLICATE_FAILED', reason: r.reason ?? 'other', message: r.message ?? 'replication refused' },
          ),
        );
      } catch (err) {
        const f = failureReason(err);
        for (const i of items) emit(i.key, { type: 'REPLICATE_FAILED', reason: f.reason, message: f.message });
      }
    },
    async pollStatus(items) {
      // Poll young waits often and old ones rarely: bounded history even for a long inSyncTimeout.
      const youngest = Math.max(...items.map((i) => contextOf(i.key).waitStartedAt ?? Date.now()));
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

  const resolveConflict = async (i: Item) => {
    const c = contextOf(i.key);
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
            ...writeShareOf(plan.failover),
            ...(prefix ? { taskQueuePrefix: prefix } : {}),
            setupWorkflowId: input.setupWorkflowId,
          },
        ],
      });
      emit(i.key, { type: 'RESOLVED', resolution, at: Date.now() });
    } catch (err) {
      const f = failureReason(err);
      emit(i.key, {
        type: 'RESOLVED',
        resolution: { secret: i.secret, region: i.region, policy: c.policy, result: 'failed', reason: f.reason, detail: f.message },
        at: Date.now(),
      });
    }
  };
  return { batched, resolveConflict };
}
