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
import { patched } from '@temporalio/workflow';
import type { Plan } from '../domain/plan.js';
import { itemsOf, packItems, type FailbackItem, type PackedItems, type PackedNames, type SecretFacts } from '../domain/failback.js';
import { BATCH_SIZE, FailbackBatchRun, fusedParts } from './failback-batch.run.js';
import { chunk } from './kit/batch-loop.js';
import { awaitPhase, fenceOverwritten, reconcileFenced, reconcilePhase, replicatePhase, verifyPhase } from './failback-batch.steps.js';

export const CHUNK_SIZE = 500;
/** Secrets per part of a fused chunk (`through: 'verify'`). */
const FUSED_PART = 20;
const FUSED_PART_PATCH = 'failback-fused-part-20';
const FIRST_PART_PATCH = 'failback-fused-first-part-5';

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
  /** The lineage and failback records that decide the scope: `recordsPacked` now, `records` in histories recorded before. */
  records?: string[];
  recordsPacked?: PackedNames;
  /** phase `plan` (and `await` after unfencing): names only; other phases: the items to work on. */
  names?: string[];
  items?: FailbackItem[];
  /** The items, packed (domain/failback.ts `packItems`): what the parent sends now; `items` in histories recorded before. */
  packed?: PackedItems;
  taskQueuePrefix?: string;
  batchSize?: number;
  /**
   * Phase `reconcile`: carry each reconciled secret on through replicate, await and verify in this
   * child, so one chunk's re-replication (the original Region's buckets) overlaps the next chunk's
   * reconciliation (the DR Region's): per secret the order of the steps is the same.
   */
  through?: 'verify';
}

export interface FailbackBatchResult {
  /** Empty when `packed` carries them (histories recorded before packing carry them here). */
  items: FailbackItem[];
  packed?: PackedItems;
  /** Facts of the secrets whose decision is `ask` (the parent resolves them after the answer). */
  asks: SecretFacts[];
}

/**
 * `through: 'verify'`: the chunk in parts of one batch, as a pipeline — part k+1 is reconciled
 * (fenced and read in the overwritten Region, copied back) while part k is re-replicated (the
 * source Region), and awaited and verified behind it: both Regions' quota buckets stay busy, and
 * per secret the steps keep their order.
 */
async function throughVerify(input: FailbackBatchInput): Promise<FailbackBatchResult> {
  const done: Array<Promise<FailbackBatchResult>> = [];
  // One lane per stage, each taking the parts in order (a stage of part k+1 starts once part k has left it).
  let fencing: Promise<unknown> = Promise.resolve();
  let reconciling: Promise<unknown> = Promise.resolve();
  let replicating: Promise<unknown> = Promise.resolve();
  // Small parts: the pipeline fills (first fence → first re-replication) and drains (last fence → last
  // re-replication) by one part per chunk in flight, while the buckets of the other Region wait.
  const size = input.batchSize ?? (patched(FUSED_PART_PATCH) ? FUSED_PART : BATCH_SIZE);
  // A small first part (behind its patch): the source Region's buckets wait for the first part's fence only.
  const split = input.batchSize === undefined && patched(FIRST_PART_PATCH) ? fusedParts(itemsOf(input), size) : chunk(itemsOf(input), size);
  for (const items of split) {
    const part = new FailbackBatchRun({ ...input, items, packed: undefined });
    const fenced = fencing.then(() => fenceOverwritten(part));
    const reconciled = Promise.all([fenced, reconciling]).then(() => reconcileFenced(part));
    const replicated = Promise.all([reconciled, replicating]).then(() => replicatePhase(part));
    [fencing, reconciling, replicating] = [fenced, reconciled, replicated];
    done.push(replicated.then(() => awaitPhase(part)).then(() => verifyPhase(part)));
  }
  const parts = await Promise.all(done);
  // What the parent acts on or reports from here on; it keeps the rest from `plan` (merge updates field by field).
  const compact = ({
    expectHmac,
    kmsKeyId,
    rotationRules,
    targetFenced,
    sourceOpen,
    backupOriginal,
    backupOverwritten,
    ...kept
  }: FailbackItem): FailbackItem => {
    void [expectHmac, kmsKeyId, rotationRules, targetFenced, sourceOpen, backupOriginal, backupOverwritten];
    return kept;
  };
  return { items: parts.flatMap((p) => itemsOf(p).map(compact)), asks: [] };
}

/** The result the parent reads: items packed (history per secret: about its name). */
const packed = (r: FailbackBatchResult): FailbackBatchResult => ({ items: [], packed: packItems(itemsOf(r)), asks: r.asks });

export async function failbackBatchWorkflow(input: FailbackBatchInput): Promise<FailbackBatchResult> {
  return packed(await runChunk(input));
}

async function runChunk(input: FailbackBatchInput): Promise<FailbackBatchResult> {
  const b = new FailbackBatchRun(input);
  switch (input.phase) {
    case 'plan': {
      const facts = await b.batched(input.names ?? [], (names) => b.inspect(names));
      const items = facts.map((f) => b.decide(f));
      const asks = facts.filter((_, n) => items[n]!.resolution === 'ask');
      // The value reconciliation expects is decided again where it is needed (reconcile reads the fenced side
      // again): only `verify` (and --reverse, read once) keep it, so the parent's history carries less per secret.
      const keep = (i: FailbackItem) => i.resolution === 'verify' || input.reverse;
      const slim = ({ expectHmac, ...i }: FailbackItem): FailbackItem => (keep(i) && expectHmac ? { ...i, expectHmac } : i);
      return { items: items.map((i) => (i.resolution === 'ask' ? { ...slim(i), status: 'awaiting-approval' as const } : slim(i))), asks };
    }
    case 'reconcile':
      if (!input.through) return reconcilePhase(b);
      return throughVerify(input);
    case 'replicate':
      return replicatePhase(b);
    case 'await': {
      if (!input.names) return awaitPhase(b);
      // By names (the settle after unfencing): only the secrets that did not come back InSync are returned.
      for (const name of input.names) b.set({ name, change: 'unchanged', resolution: 'replicate', status: 'replicating' });
      const r = await awaitPhase(b);
      return { items: [...b.items.values()].filter((i) => i.status !== 'in-sync'), asks: r.asks };
    }
    case 'verify':
      return verifyPhase(b);
  }
}
