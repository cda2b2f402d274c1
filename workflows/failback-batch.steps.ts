/**
 * The phases of a failback chunk child after `plan` (see failback-batch.workflow.ts for what each
 * does and why in this order). Each works on the chunk's items and ends with `result()`, which lifts
 * failback's fence from what will not be overwritten after all.
 */
import { sleep } from '@temporalio/workflow';
import { resolve } from '../domain/failback.js';
import type { FailbackBatchRun } from './failback-batch.run.js';
import type { FailbackBatchResult } from './failback-batch.workflow.js';

/**
 * Re-replication may follow in this child (failback-batch.workflow.ts `through`, fused). The copy-back
 * still puts the original's fence statement back at once (the re-replication lifts it again): `result()`
 * re-fences by the tag, so a statement left lifted after a later failure would leave both sides writable,
 * and a write the original accepted before a refused re-replication would become a stray value (a review
 * of the keep-it-lifted variant found both; it saved two policy calls per copied secret only).
 */
export async function reconcilePhase(b: FailbackBatchRun): Promise<FailbackBatchResult> {
  await fenceOverwritten(b);
  return reconcileFenced(b);
}

/** 0. The side replication overwrites stops changing (failback's fence). */
export async function fenceOverwritten(b: FailbackBatchRun): Promise<void> {
  const { target, share } = b;
  const overwritten = b.live().filter((i) => i.resolution !== 'verify' && i.resolution !== 'skip' && i.resolution !== 'ask');
  await b.batched(overwritten, async (batch) => {
    // Marked first: a fence half-applied by a batch that then failed is lifted again (result()).
    for (const i of batch) b.set({ ...b.get(i.name), targetFenced: true });
    await b.guard(batch, async () => {
      const r = await b.acts(target).fenceTargetBatch({ names: batch.map((i) => i.name), writeQuotaShare: share });
      r.forEach((x) => {
        const i = b.get(x.name);
        b.set(x.ok ? { ...i, targetFenced: !x.skipped } : b.fail(i, x.reason ?? 'fence failed'));
      });
    });
    return [];
  });
}

/** Reconciliation of the fenced secrets: read again, backups, copy-back (steps 0–3 of failback-batch.workflow.ts). */
export async function reconcileFenced(b: FailbackBatchRun): Promise<FailbackBatchResult> {
  const { from, to, reverse, failbackId } = b.input;
  const { source, target, share } = b;
  // The fenced side is read again: a write that landed there since `plan` is decided again instead of being overwritten.
  // (--reverse: the original is always backed up, below, now that it is fenced, and overwritten.)
  await b.batched(reverse ? [] : b.live().filter((i) => i.targetFenced), async (batch) => {
    await b.guard(batch, async () => {
      for (const f of await b.inspect(batch.map((i) => i.name))) {
        const i = b.get(f.name);
        const again = b.decide(f);
        if (again.change === i.change) b.set({ ...resolve(i, f, i.resolution), ...(again.kmsKeyId ? { kmsKeyId: again.kmsKeyId } : {}) });
        else if (again.resolution === 'ask' || again.resolution === 'skip') {
          b.set({
            ...i,
            change: again.change,
            resolution: 'skip',
            status: 'skipped',
            reason: `changed during failback (now ${again.change}${again.reason ? `: ${again.reason}` : ''}): left as it is; run failback again to decide it`,
          });
        } else b.set({ ...again, targetFenced: true, ...(i.fenced ? { fenced: true } : {}) });
      }
    });
    return [];
  });
  // 1. A stray value on the original is saved before it stops being AWSCURRENT.
  await b.backup(
    from,
    b.live().filter((i) => i.backupOriginal),
    (i) =>
      i.change === 'original-changed' || i.change === 'both-changed'
        ? `failback: ${i.change} in ${from}; the ${to} value wins (stray value of the old primary)`
        : `failback: the copy-back from ${to} moves AWSPREVIOUS in ${from}`,
  );
  // 2. The newer DR value becomes the original's AWSCURRENT (one activity reads and writes it).
  const copies = b.live().filter((i) => i.resolution === 'copy-back');
  await b.batched(copies, async (batch) => {
    await b.guard(batch, async () => {
      const r = await b.acts(from).copyBackBatch({
        dr: to,
        names: batch.map((i) => i.name),
        workflowId: failbackId,
        writeQuotaShare: share,
      });
      r.forEach((c) => {
        const i = b.get(c.name);
        b.set(c.ok ? { ...i, copiedBack: true } : b.fail(i, c.reason ?? 'copy-back failed'));
      });
    });
    return [];
  });
  // 3. The side replication overwrites is backed up when it holds values the survivor lacks.
  await b.backup(
    target,
    b.live().filter((i) => i.backupOverwritten),
    () =>
      reverse
        ? `failback --reverse: stale secret in ${target} overwritten by replication from ${source}`
        : `failback: standalone secret in ${target} overwritten by re-replication from ${source}`,
  );
  for (const i of b.live()) b.set({ ...i, status: 'reconciled' });
  return b.result();
}

export async function replicatePhase(b: FailbackBatchRun): Promise<FailbackBatchResult> {
  const { plan, failbackId } = b.input;
  const { source, target, share } = b;
  const todo = b.live().filter((i) => i.resolution !== 'verify');
  await b.batched(todo, async (batch) => {
    await b.guard(batch, async () => {
      const r = await b.acts(source).reReplicateBatch({
        planName: plan.name,
        target,
        items: batch.map((i) => {
          const kept = i.backups?.findLast((x) => x.startsWith(`${target}:`))?.slice(target.length + 1);
          return {
            name: i.name,
            ...(kept ? { backup: kept } : {}),
            ...(i.kmsKeyId ? { kmsKeyId: i.kmsKeyId } : {}),
            ...(i.sourceOpen ? { sourceOpen: true } : {}),
          };
        }),
        workflowId: failbackId,
        writeQuotaShare: share,
      });
      r.forEach((x) => {
        const i = b.get(x.name);
        const backups = x.backup ? { backups: [...(i.backups ?? []), `${target}:${x.backup}`] } : {};
        b.set(x.ok ? { ...i, ...backups, status: 'replicating' } : b.fail({ ...i, ...backups }, x.reason ?? 're-replication failed'));
      });
    });
    return [];
  });
  for (const i of b.live()) if (i.resolution === 'verify') b.set({ ...i, status: 'replicating' });
  return b.result();
}

export async function awaitPhase(b: FailbackBatchRun): Promise<FailbackBatchResult> {
  const { plan } = b.input;
  const { source, target } = b;
  const deadline = Date.now() + plan.setup.inSyncTimeout;
  let wait = 300;
  for (;;) {
    const waiting = b.live().filter((i) => i.status === 'replicating');
    if (waiting.length === 0) break;
    if (Date.now() > deadline) {
      for (const i of waiting) b.set(b.fail(i, `not InSync in ${target} within ${Math.round(plan.setup.inSyncTimeout / 1000)} s`));
      break;
    }
    await sleep(wait);
    wait = Math.min(5_000, Math.round(wait * 1.5));
    await b.batched(waiting, async (batch) => {
      try {
        const statuses = await b.acts(source).replicationStatusBatch({ items: batch.map((i) => ({ secret: i.name, region: target })) });
        for (const s of statuses) {
          const i = b.get(s.name);
          if (s.status === 'InSync') b.set({ ...i, status: 'in-sync' });
          else if (s.status === 'Failed' || s.status === 'deleted') b.set(b.fail(i, `replication to ${target}: ${s.message ?? s.status}`));
        }
      } catch {
        // A poll that failed is just a poll: try again after the next wait.
      }
      return [];
    });
  }
  return b.result();
}

export async function verifyPhase(b: FailbackBatchRun): Promise<FailbackBatchResult> {
  const { reverse } = b.input;
  const { source, target } = b;
  // Describe, don't assume: read both sides again, compare AWSCURRENT by HMAC.
  const todo = b.live();
  await b.batched(todo, async (batch) => {
    await b.guard(batch, async () => {
      const facts = await b.inspect(batch.map((i) => i.name));
      for (const f of facts) {
        const i = b.get(f.name);
        const replica = reverse ? f.original : f.dr;
        const primary = reverse ? f.dr : f.original;
        // By HMAC; without the plan's HMAC key by version id (a replica carries its primary's ids).
        const same =
          primary.currentHmac !== undefined
            ? primary.currentHmac === replica.currentHmac
            : primary.current !== undefined && primary.current === replica.current;
        const expected = i.expectHmac === undefined || primary.currentHmac === i.expectHmac;
        if (replica.primaryRegion !== source) b.set(b.fail({ ...i, hmacMatch: same }, `${target} does not hold a replica of ${source} after re-replication`));
        else if (!same) b.set(b.fail({ ...i, hmacMatch: false }, `AWSCURRENT differs between ${source} and ${target} (by HMAC)`));
        else if (!expected)
          b.set(b.fail({ ...i, hmacMatch: true }, `AWSCURRENT is not the value reconciliation chose (it changed during failback): check by hand`));
        else b.set({ ...i, status: 'verified', hmacMatch: true, ...(f.original.fenced ? { fenced: true } : {}) });
      }
    });
    return [];
  });
  return b.result();
}
