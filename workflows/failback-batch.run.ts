/**
 * What one failback chunk child works with: its items by name, the activity proxies of both
 * Regions, the per-secret decision, and the helpers every phase shares (batches through the kit's
 * loop, a failed batch failing its secrets, backups, and lifting failback's fence on what will not
 * be overwritten after all).
 */
import { itemsOf, planItem, replicaKmsKey, unpackNames, type FailbackItem, type SecretFacts } from '../domain/failback.js';
import type { FailbackActivities } from '../activities/failback.activities.js';
import type { ReplicationActivities } from '../activities/replication.activities.js';
import type { FailoverActivities } from '../activities/failover.activities.js';
import { regionActivities } from './activity-options.js';
import { FAILBACK_OPTIONS } from './failback-options.js';
import type { FailbackBatchInput, FailbackBatchResult } from './failback-batch.workflow.js';
import { chunk, runBatches } from './kit/batch-loop.js';
import { failureMessage } from './kit/failures.js';

export const BATCH_SIZE = 50;
/** Secrets in the first part of a fused chunk. */
const FIRST_PART = 5;

/**
 * A fused chunk's parts: a first one of FIRST_PART, then parts of `size`. Every chunk fences its first part at once,
 * in the overwritten Region's one policy bucket; a small one lets the source Region's buckets start sooner.
 */
export function fusedParts<T>(items: readonly T[], size: number): T[][] {
  return [items.slice(0, FIRST_PART), ...chunk(items.slice(FIRST_PART), size)].filter((p) => p.length > 0);
}
const IN_FLIGHT = 2;

export class FailbackBatchRun {
  readonly share: number;
  /** Source of replication and the Region it overwrites. */
  readonly source: string;
  readonly target: string;
  readonly items: Map<string, FailbackItem>;

  constructor(readonly input: FailbackBatchInput) {
    this.share = input.plan.failover.writeQuotaShare;
    [this.source, this.target] = input.reverse ? [input.to, input.from] : [input.from, input.to];
    this.items = new Map(itemsOf(input).map((i) => [i.name, i]));
  }

  acts(region: string) {
    return regionActivities<FailbackActivities & FailoverActivities & ReplicationActivities>(region, this.input.taskQueuePrefix, FAILBACK_OPTIONS);
  }

  /** Runs `fn` over batches of `list`, two in flight, results in order. */
  async batched<T, R>(list: readonly T[], fn: (batch: T[]) => Promise<R[]>): Promise<R[]> {
    return (await runBatches({ batches: chunk(list, this.input.batchSize ?? BATCH_SIZE), inFlight: IN_FLIGHT, run: fn })).flat();
  }

  inspect(names: string[]): Promise<SecretFacts[]> {
    const { plan, from, to, records, recordsPacked } = this.input;
    return this.acts(from).inspectFailbackBatch({ planName: plan.name, dr: to, records: records ?? (recordsPacked ? unpackNames(recordsPacked) : []), names });
  }

  /** The plan's decision for one secret, with the replica's KMS key (never silently the AWS managed key). */
  decide(f: SecretFacts): FailbackItem {
    const { plan, from, to, reverse } = this.input;
    const i = planItem(f, plan, from, to, reverse);
    const key = replicaKmsKey(plan, this.target, (reverse ? f.original : f.dr).kmsKeyId);
    return {
      ...i,
      dr: to,
      ...(f.recorded?.failoverId ? { failoverId: f.recorded.failoverId } : {}),
      ...(key && i.resolution !== 'skip' ? { kmsKeyId: key } : {}),
    };
  }

  get(name: string): FailbackItem {
    return this.items.get(name)!;
  }
  set(i: FailbackItem): void {
    this.items.set(i.name, i);
  }
  fail(i: FailbackItem, reason: string): FailbackItem {
    return { ...i, status: 'failed', reason };
  }
  live(): FailbackItem[] {
    return [...this.items.values()].filter((i) => i.status !== 'failed' && i.status !== 'skipped');
  }

  /** A batch activity that failed as a whole (Region down through every retry) fails its secrets, not the failback. */
  async guard(batch: readonly FailbackItem[], run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (err) {
      for (const i of batch) this.set(this.fail(this.get(i.name), failureMessage(err)));
    }
  }

  async backup(region: string, list: FailbackItem[], reason: (i: FailbackItem) => string): Promise<void> {
    await this.batched(list, async (batch) => {
      await this.guard(batch, async () => {
        const r = await this.acts(region).backupBatch({
          planName: this.input.plan.name,
          items: batch.map((i) => ({ name: i.name, reason: reason(i) })),
          workflowId: this.input.failbackId,
          writeQuotaShare: this.share,
        });
        r.forEach((b, n) => {
          const i = this.get(batch[n]!.name);
          this.set(b.ok ? { ...i, backups: [...(i.backups ?? []), `${region}:${b.backup}`] } : this.fail(i, b.reason ?? 'backup failed'));
        });
      });
      return [];
    });
  }

  /**
   * Secrets that will not be overwritten after all stay the writable copy where they are: failback's
   * fence on them is lifted before the phase returns (their other side is still fenced by failover).
   */
  async result(): Promise<FailbackBatchResult> {
    const { source, target, share } = this;
    const { reverse, to, failbackId } = this.input;
    const stuck = [...this.items.values()].filter((i) => (i.targetFenced || i.sourceOpen) && (i.status === 'failed' || i.status === 'skipped'));
    await this.batched(stuck, async (batch) => {
      try {
        // The original's fence first (re-replication lifts it): at no moment may both sides accept writes.
        const refence = reverse ? [] : batch.filter((i) => i.fenced || i.sourceOpen).map((i) => i.name);
        if (refence.length > 0) {
          const r = await this.acts(source).fenceBatch({
            region: source,
            failoverId: batch[0]!.failoverId ?? failbackId,
            to,
            names: refence,
            writeQuotaShare: share,
          });
          if (r.failed.length > 0) throw new Error(`could not fence ${source} again: ${r.failed.map((f) => `${f.name}: ${f.reason}`).join('; ')}`);
        }
        const r = await this.acts(target).liftTargetFenceBatch({ names: batch.map((i) => i.name), writeQuotaShare: share });
        for (const x of r) {
          const i = this.get(x.name);
          this.set(
            x.ok
              ? { ...i, targetFenced: false, sourceOpen: false }
              : { ...i, sourceOpen: false, reason: `${i.reason ?? ''}; STILL FENCED in ${target}: ${x.reason}` },
          );
        }
      } catch (err) {
        for (const i of batch) this.set({ ...this.get(i.name), reason: `${i.reason ?? ''}; STILL FENCED in ${target}: ${failureMessage(err)}` });
      }
      return [];
    });
    return { items: [...this.items.values()], asks: [] };
  }
}
