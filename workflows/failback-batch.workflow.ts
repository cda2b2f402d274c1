/**
 * One phase of a failback over a chunk of ≤ CHUNK_SIZE secrets (child of `failbackWorkflow`), so
 * no history grows with the fleet: the parent holds one child per chunk and phase, each child a
 * few events per batch activity. Phases, in the order the failback machine runs them:
 *   plan       both sides described (HMACs, never values) → per-secret decision (domain/failback.ts)
 *   reconcile  stray value of the original backed up → DR value copied back → the side replication
 *              will overwrite backed up when it holds values the survivor lacks (invariant 2)
 *   replicate  ReplicateSecretToRegions with force (refused by the activity without a copy)
 *   await      poll the source's replication status until InSync (bounded by plan.setup.inSyncTimeout)
 *   verify     both sides described again: replica of the source, same AWSCURRENT HMAC as expected
 */
import { sleep } from '@temporalio/workflow';
import type { Plan } from '../domain/plan.js';
import { planItem, type FailbackItem, type SecretFacts } from '../domain/failback.js';
import type { FailbackActivities } from '../activities/failback.activities.js';
import type { ReplicationActivities } from '../activities/replication.activities.js';
import { regionActivities } from './activity-options.js';
import { chunk, failureText } from './setup-support.js';
import { FAILBACK_OPTIONS } from './failback-options.js';

export const CHUNK_SIZE = 500;
export const BATCH_SIZE = 50;
const IN_FLIGHT = 2;

export type FailbackPhase = 'plan' | 'reconcile' | 'replicate' | 'await' | 'verify';

export interface FailbackBatchInput {
  phase: FailbackPhase;
  plan: Plan;
  /** The original primary Region and the failover's DR Region. */
  from: string;
  to: string;
  reverse: boolean;
  /** The parent's workflow id: ClientRequestTokens derive from it (a re-run of a chunk writes nothing twice). */
  failbackId: string;
  records: string[];
  /** phase `plan`: names only; other phases: the items to work on. */
  names?: string[];
  items?: FailbackItem[];
  taskQueuePrefix?: string;
  batchSize?: number;
}

export interface FailbackBatchResult {
  items: FailbackItem[];
  /** Facts of the secrets whose decision is `ask` (the parent resolves them after the answer). */
  asks: SecretFacts[];
}

export async function failbackBatchWorkflow(input: FailbackBatchInput): Promise<FailbackBatchResult> {
  const { plan, from, to, reverse, failbackId } = input;
  const share = plan.failover.writeQuotaShare;
  const acts = (r: string) => regionActivities<FailbackActivities & ReplicationActivities>(r, input.taskQueuePrefix, FAILBACK_OPTIONS);
  const size = input.batchSize ?? BATCH_SIZE;
  /** Source of replication and the Region it overwrites. */
  const [source, target] = reverse ? [to, from] : [from, to];
  const kmsKeyId = reverse ? undefined : plan.drRegions.find((d) => d.region === to)?.kmsKeyId;

  /** Runs `fn` over batches of `list`, two in flight, results in order. */
  const batched = async <T, R>(list: readonly T[], fn: (batch: T[]) => Promise<R[]>): Promise<R[]> => {
    const batches = chunk(list, size);
    const out: R[][] = [];
    let next = 0;
    const lane = async () => {
      while (next < batches.length) {
        const i = next++;
        out[i] = await fn(batches[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, batches.length) }, lane));
    return out.flat();
  };
  const fail = (i: FailbackItem, reason: string): FailbackItem => ({ ...i, status: 'failed', reason });
  const inspect = (names: string[]) => acts(from).inspectFailbackBatch({ planName: plan.name, dr: to, records: input.records, names });

  if (input.phase === 'plan') {
    const facts = await batched(input.names ?? [], inspect);
    const items = facts.map((f) => planItem(f, plan, from, to, reverse));
    const asks = facts.filter((_, n) => items[n]!.resolution === 'ask');
    return { items: items.map((i) => (i.resolution === 'ask' ? { ...i, status: 'awaiting-approval' as const } : i)), asks };
  }

  const items = new Map((input.items ?? []).map((i) => [i.name, i]));
  const set = (i: FailbackItem) => void items.set(i.name, i);
  const result = (): FailbackBatchResult => ({ items: (input.items ?? []).map((i) => items.get(i.name)!), asks: [] });
  const live = () => [...items.values()].filter((i) => i.status !== 'failed' && i.status !== 'skipped');

  /** A batch activity that failed as a whole (Region down through every retry) fails its secrets, not the failback. */
  const guard = async (batch: FailbackItem[], run: () => Promise<void>) => {
    try {
      await run();
    } catch (err) {
      for (const i of batch) set(fail(items.get(i.name)!, failureText(err).message));
    }
  };

  const backup = async (region: string, list: FailbackItem[], reason: (i: FailbackItem) => string) =>
    batched(list, async (batch) => {
      await guard(batch, async () => {
        const r = await acts(region).backupBatch({ planName: plan.name, items: batch.map((i) => ({ name: i.name, reason: reason(i) })), workflowId: failbackId, writeQuotaShare: share });
        r.forEach((b, n) => {
          const i = items.get(batch[n]!.name)!;
          set(b.ok ? { ...i, backups: [...(i.backups ?? []), `${region}:${b.backup}`] } : fail(i, b.reason ?? 'backup failed'));
        });
      });
      return [];
    });

  switch (input.phase) {
    case 'reconcile': {
      // 1. A stray value on the original is saved before it stops being AWSCURRENT.
      await backup(from, live().filter((i) => i.backupOriginal), (i) =>
        i.change === 'original-changed' || i.change === 'both-changed'
          ? `failback: ${i.change} in ${from}; the ${to} value wins (stray value of the old primary)`
          : `failback: the copy-back from ${to} moves AWSPREVIOUS in ${from}`,
      );
      // 2. The newer DR value becomes the original's AWSCURRENT (one activity reads and writes it).
      const copies = live().filter((i) => i.resolution === 'copy-back');
      await batched(copies, async (batch) => {
        await guard(batch, async () => {
          const r = await acts(from).copyBackBatch({ dr: to, names: batch.map((i) => i.name), workflowId: failbackId, writeQuotaShare: share });
          r.forEach((c) => {
            const i = items.get(c.name)!;
            set(c.ok ? { ...i, copiedBack: true } : fail(i, c.reason ?? 'copy-back failed'));
          });
        });
        return [];
      });
      // 3. The side replication overwrites is backed up when it holds values the survivor lacks.
      await backup(target, live().filter((i) => i.backupOverwritten), () => (reverse ? `failback --reverse: stale secret in ${target} overwritten by replication from ${source}` : `failback: standalone secret in ${target} overwritten by re-replication from ${source}`));
      for (const i of live()) set({ ...i, status: 'reconciled' });
      return result();
    }
    case 'replicate': {
      const todo = live().filter((i) => i.resolution !== 'verify');
      await batched(todo, async (batch) => {
        await guard(batch, async () => {
          const r = await acts(source).reReplicateBatch({
            planName: plan.name,
            target,
            ...(kmsKeyId ? { kmsKeyId } : {}),
            items: batch.map((i) => {
              const b = i.backups?.find((x) => x.startsWith(`${target}:`))?.slice(target.length + 1);
              return { name: i.name, ...(b ? { backup: b } : {}) };
            }),
            writeQuotaShare: share,
          });
          r.forEach((x) => {
            const i = items.get(x.name)!;
            set(x.ok ? { ...i, status: 'replicating' } : fail(i, x.reason ?? 're-replication failed'));
          });
        });
        return [];
      });
      for (const i of live()) if (i.resolution === 'verify') set({ ...i, status: 'replicating' });
      return result();
    }
    case 'await': {
      const deadline = Date.now() + plan.setup.inSyncTimeout;
      let wait = 300;
      for (;;) {
        const waiting = live().filter((i) => i.status === 'replicating');
        if (waiting.length === 0) break;
        if (Date.now() > deadline) {
          for (const i of waiting) set(fail(i, `not InSync in ${target} within ${Math.round(plan.setup.inSyncTimeout / 1000)} s`));
          break;
        }
        await sleep(wait);
        wait = Math.min(5_000, Math.round(wait * 1.5));
        await batched(waiting, async (batch) => {
          try {
            const statuses = await acts(source).replicationStatusBatch({ items: batch.map((i) => ({ secret: i.name, region: target })) });
            for (const s of statuses) {
              const i = items.get(s.name)!;
              if (s.status === 'InSync') set({ ...i, status: 'in-sync' });
              else if (s.status === 'Failed' || s.status === 'deleted') set(fail(i, `replication to ${target}: ${s.message ?? s.status}`));
            }
          } catch {
            // A poll that failed is just a poll: try again after the next wait.
          }
          return [];
        });
      }
      return result();
    }
    case 'verify': {
      // Describe, don't assume: read both sides again, compare AWSCURRENT by HMAC.
      const todo = live();
      await batched(todo, async (batch) => {
        await guard(batch, async () => {
          const facts = await inspect(batch.map((i) => i.name));
          for (const f of facts) {
            const i = items.get(f.name)!;
            const replica = reverse ? f.original : f.dr;
            const primary = reverse ? f.dr : f.original;
            // By HMAC; without the plan's HMAC key by version id (a replica carries its primary's ids).
            const same = primary.currentHmac !== undefined ? primary.currentHmac === replica.currentHmac : primary.current !== undefined && primary.current === replica.current;
            const expected = i.expectHmac === undefined || primary.currentHmac === i.expectHmac;
            if (replica.primaryRegion !== source) set(fail({ ...i, hmacMatch: same }, `${target} does not hold a replica of ${source} after re-replication`));
            else if (!same) set(fail({ ...i, hmacMatch: false }, `AWSCURRENT differs between ${source} and ${target} (by HMAC)`));
            else if (!expected) set(fail({ ...i, hmacMatch: true }, `AWSCURRENT is not the value reconciliation chose (it changed during failback): check by hand`));
            else set({ ...i, status: 'verified', hmacMatch: true, ...(f.original.fenced ? { fenced: true } : {}) });
          }
        });
        return [];
      });
      return result();
    }
  }
}
