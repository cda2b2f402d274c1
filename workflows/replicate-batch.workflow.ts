/**
 * replicateBatch (child of replicate): up to ~100 secrets × every DR Region, one replicate machine
 * each. The machines decide; this loop collects the actions they emit and runs them *batched by
 * kind* (one describe/replicate/poll activity for many secrets), so a batch costs a few dozen
 * history events whatever its size. Conflicts go to one resolveConflict child each and run
 * independently: an `ask` waiting for a person never holds up the other secrets' polling.
 * Each machine is a kit MachineDriver; as their effects are batched across machines, this loop
 * `take`s the actions each driver queued instead of letting it run them one by one. The effects
 * themselves live in replicate-batch.steps.ts.
 */
import { condition, getExternalWorkflowHandle } from '@temporalio/workflow';
import type { SecretOutcome } from '../domain/replication.js';
import { outcomeOf, replicateMachine, type ReplicateEvent } from './machines/replicate.machine.js';
import { batchSteps, type BatchedKind, type Item, type Kind } from './replicate-batch.steps.js';
import { batchProgressSignal } from './setup.messages.js';
import { MachineDriver } from './kit/run-machine.js';
import { ReplicateBatchInput } from '../domain/workflow-inputs.js';

type Driver = MachineDriver<typeof replicateMachine>;

export async function replicateBatchWorkflow(raw: ReplicateBatchInput): Promise<SecretOutcome[]> {
  const input = ReplicateBatchInput.parse(raw);
  const { plan } = input;

  const machines = new Map<string, Driver>();
  const queues: Record<Kind, Item[]> = { inspect: [], replicate: [], pollStatus: [], verifyReplica: [], resolveConflict: [] };
  const busy = new Set<Kind>();
  const events: Array<{ key: string; event: ReplicateEvent }> = [];
  const emit = (key: string, event: ReplicateEvent) => events.push({ key, event });
  const { batched, resolveConflict } = batchSteps(input, (key) => machines.get(key)!.context, emit);
  const enqueue = (key: string) => {
    const m = machines.get(key)!;
    for (const a of m.take()) queues[a.type as Kind]?.push({ key, secret: m.context.secret, region: m.context.region });
  };

  for (const secret of input.names) {
    for (const { region, kmsKeyId } of plan.drRegions) {
      const key = `${region}\u0000${secret}`;
      const input = { secret, region, primaryRegion: plan.primaryRegion, inSyncTimeoutMs: plan.setup.inSyncTimeout, ...(kmsKeyId ? { kmsKeyId } : {}) };
      machines.set(key, new MachineDriver(replicateMachine, input));
      enqueue(key);
    }
  }

  const parent = getExternalWorkflowHandle(input.setupWorkflowId);
  let ticks = 0;
  let reported = -1;
  let reportedAt = 0;
  for (;;) {
    while (events.length > 0) {
      const { key, event } = events.shift()!;
      machines.get(key)!.send(event);
      enqueue(key);
    }
    const finals = [...machines.values()].filter((m) => m.done);
    const all = finals.length === machines.size;
    if (finals.length !== reported && (all || Date.now() - reportedAt >= 1_000)) {
      const counts: Record<string, number> = {};
      for (const s of finals) {
        const state = outcomeOf(s.context, String(s.snapshot.value)).state;
        counts[state] = (counts[state] ?? 0) + 1;
      }
      await parent.signal(batchProgressSignal, { batch: input.batch, done: finals.length, counts }).catch(() => undefined);
      reported = finals.length;
      reportedAt = Date.now();
    }
    if (all) break;
    for (const kind of Object.keys(batched) as BatchedKind[]) {
      if (busy.has(kind) || queues[kind].length === 0) continue;
      const items = queues[kind].splice(0);
      busy.add(kind);
      void batched[kind](items).finally(() => {
        busy.delete(kind);
        ticks++;
      });
    }
    for (const i of queues.resolveConflict.splice(0)) void resolveConflict(i);
    const seen = ticks;
    // Wake on new events, or when a kind frees up while work for it is queued.
    await condition(() => events.length > 0 || ticks !== seen);
  }
  return [...machines.values()].map((m) => outcomeOf(m.context, String(m.snapshot.value)));
}
