/**
 * One phase of a failback over a chunk of ≤ CHUNK_SIZE secrets (child of `failbackWorkflow`), so
 * no history grows with the fleet: the parent holds one child per chunk and phase, each child a
 * few events per batch activity. Phases, in the order the failback machine runs them:
 *   plan       both sides described (HMACs, never values) → per-secret decision (domain/failback.ts)
 *   reconcile  the side replication will overwrite is fenced (failback's deny-writes statement) and
 *              described again — what changed there since `plan` is decided again, so no write is
 *              overlooked → stray value of the original backed up → DR value copied back (the
 *              original's fence goes back at once: one writable side at a time) → the side
 *              replication will overwrite backed up when it holds values the survivor lacks (invariant 2)
 *   replicate  ReplicateSecretToRegions with force, with the plan's KMS key for the target Region
 *              (the activity re-checks the fenced side and backs up what changed)
 *   await      poll the source's replication status until InSync (bounded by plan.setup.inSyncTimeout)
 *   verify     both sides described again: replica of the source, same AWSCURRENT HMAC as expected
 */
import { sleep } from '@temporalio/workflow';
import type { Plan } from '../domain/plan.js';
import { planItem, replicaKmsKey, resolve, type FailbackItem, type SecretFacts } from '../domain/failback.js';
import type { FailbackActivities } from '../activities/failback.activities.js';
import type { ReplicationActivities } from '../activities/replication.activities.js';
import type { FailoverActivities } from '../activities/failover.activities.js';
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
  const acts = (r: string) => regionActivities<FailbackActivities & FailoverActivities & ReplicationActivities>(r, input.taskQueuePrefix, FAILBACK_OPTIONS);
  const size = input.batchSize ?? BATCH_SIZE;
  /** Source of replication and the Region it overwrites. */
  const [source, target] = reverse ? [to, from] : [from, to];

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

  /** The plan's decision for one secret, with the replica's KMS key (never silently the AWS managed key). */
  const decide = (f: SecretFacts): FailbackItem => {
    const i = planItem(f, plan, from, to, reverse);
    const key = replicaKmsKey(plan, target, (reverse ? f.original : f.dr).kmsKeyId);
    return { ...i, dr: to, ...(f.recorded?.failoverId ? { failoverId: f.recorded.failoverId } : {}), ...(key && i.resolution !== 'skip' ? { kmsKeyId: key } : {}) };
  };

  if (input.phase === 'plan') {
    const facts = await batched(input.names ?? [], inspect);
    const items = facts.map(decide);
    const asks = facts.filter((_, n) => items[n]!.resolution === 'ask');
    return { items: items.map((i) => (i.resolution === 'ask' ? { ...i, status: 'awaiting-approval' as const } : i)), asks };
  }

  const items = new Map((input.items ?? []).map((i) => [i.name, i]));
  const set = (i: FailbackItem) => void items.set(i.name, i);
  const live = () => [...items.values()].filter((i) => i.status !== 'failed' && i.status !== 'skipped');
  /**
   * Secrets that will not be overwritten after all stay the writable copy where they are: failback's
   * fence on them is lifted before the phase returns (their other side is still fenced by failover).
   */
  const result = async (): Promise<FailbackBatchResult> => {
    const stuck = [...items.values()].filter((i) => i.targetFenced && (i.status === 'failed' || i.status === 'skipped'));
    await batched(stuck, async (batch) => {
      try {
        // The original's fence first (re-replication lifts it): at no moment may both sides accept writes.
        const refence = reverse ? [] : batch.filter((i) => i.fenced).map((i) => i.name);
        if (refence.length > 0) {
          const r = await acts(source).fenceBatch({ region: source, failoverId: batch[0]!.failoverId ?? failbackId, to, names: refence, writeQuotaShare: share });
          if (r.failed.length > 0) throw new Error(`could not fence ${source} again: ${r.failed.map((f) => `${f.name}: ${f.reason}`).join('; ')}`);
        }
        const r = await acts(target).liftTargetFenceBatch({ names: batch.map((i) => i.name), writeQuotaShare: share });
        for (const x of r) {
          const i = items.get(x.name)!;
          set(x.ok ? { ...i, targetFenced: false } : { ...i, reason: `${i.reason ?? ''}; STILL FENCED in ${target}: ${x.reason}` });
        }
      } catch (err) {
        for (const i of batch) set({ ...items.get(i.name)!, reason: `${i.reason ?? ''}; STILL FENCED in ${target}: ${failureText(err).message}` });
      }
      return [];
    });
    return { items: (input.items ?? []).map((i) => items.get(i.name)!), asks: [] };
  };

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
      // 0. The side replication overwrites stops changing (failback's fence), then is read again: a
      //    write that landed there since `plan` is decided again instead of being overwritten.
      const overwritten = live().filter((i) => i.resolution !== 'verify' && i.resolution !== 'skip' && i.resolution !== 'ask');
      await batched(overwritten, async (batch) => {
        // Marked first: a fence half-applied by a batch that then failed is lifted again (result()).
        for (const i of batch) set({ ...items.get(i.name)!, targetFenced: true });
        await guard(batch, async () => {
          const r = await acts(target).fenceTargetBatch({ names: batch.map((i) => i.name), writeQuotaShare: share });
          r.forEach((x) => {
            const i = items.get(x.name)!;
            set(x.ok ? { ...i, targetFenced: !x.skipped } : fail(i, x.reason ?? 'fence failed'));
          });
        });
        return [];
      });
      // (--reverse: the original is always backed up, below, now that it is fenced, and overwritten.)
      await batched(reverse ? [] : live().filter((i) => i.targetFenced), async (batch) => {
        await guard(batch, async () => {
          for (const f of await inspect(batch.map((i) => i.name))) {
            const i = items.get(f.name)!;
            const again = decide(f);
            if (again.change === i.change) set({ ...resolve(i, f, i.resolution), ...(again.kmsKeyId ? { kmsKeyId: again.kmsKeyId } : {}) });
            else if (again.resolution === 'ask' || again.resolution === 'skip') {
              set({ ...i, change: again.change, resolution: 'skip', status: 'skipped', reason: `changed during failback (now ${again.change}${again.reason ? `: ${again.reason}` : ''}): left as it is; run failback again to decide it` });
            } else set({ ...again, targetFenced: true, ...(i.fenced ? { fenced: true } : {}) });
          }
        });
        return [];
      });
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
      return await result();
    }
    case 'replicate': {
      const todo = live().filter((i) => i.resolution !== 'verify');
      await batched(todo, async (batch) => {
        await guard(batch, async () => {
          const r = await acts(source).reReplicateBatch({
            planName: plan.name,
            target,
            items: batch.map((i) => {
              const b = i.backups?.findLast((x) => x.startsWith(`${target}:`))?.slice(target.length + 1);
              return { name: i.name, ...(b ? { backup: b } : {}), ...(i.kmsKeyId ? { kmsKeyId: i.kmsKeyId } : {}) };
            }),
            workflowId: failbackId,
            writeQuotaShare: share,
          });
          r.forEach((x) => {
            const i = items.get(x.name)!;
            const backups = x.backup ? { backups: [...(i.backups ?? []), `${target}:${x.backup}`] } : {};
            set(x.ok ? { ...i, ...backups, status: 'replicating' } : fail({ ...i, ...backups }, x.reason ?? 're-replication failed'));
          });
        });
        return [];
      });
      for (const i of live()) if (i.resolution === 'verify') set({ ...i, status: 'replicating' });
      return await result();
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
      return await result();
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
      return await result();
    }
  }
}
