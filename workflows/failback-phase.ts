/**
 * One failback phase over a list of secrets: per DR Region, in child workflows of ≤ chunkSize
 * secrets, four at a time, through the one batch loop (pause holds between chunks). Cancel applies
 * to `reconcile` only: a secret not reconciled yet is left as it is; one already reconciled is
 * carried through the later phases, so no secret is left half failed back.
 */
import { startChild } from '@temporalio/workflow';
import { itemsOf, packItems, packNames, type FailbackItem } from '../domain/failback.js';
import { failbackWorkflowId, workflowTaskQueue } from '../domain/ids.js';
import { CHUNK_SIZE, failbackBatchWorkflow, type FailbackPhase } from './failback-batch.workflow.js';
import type { FailbackRun } from './failback.run.js';
import { chunk, runBatches, type ControlState } from './kit/batch-loop.js';
import { failureMessage } from './kit/failures.js';

const CHUNKS_IN_FLIGHT = 4;

export interface PhaseOptions {
  control: () => ControlState;
  /** Names the children: `${tag}-${k}` (default the phase). */
  tag?: string;
  /** The DR Region of the list (phase `plan`: names only, so it is given). */
  dr?: string;
  /** Phase `reconcile`: each chunk goes on through verification (failback-batch.workflow.ts). */
  through?: 'verify';
  /** Phase `await` by names: children return only the secrets that did not come back InSync (their status and reason are merged). */
  byName?: boolean;
}

/** What a reconciling child needs of an item: it reads the fenced side again and decides backups and the expected value there. */
const forReconcile = ({ expectHmac, backupOriginal, backupOverwritten, rotationRules, reason, ...i }: FailbackItem): FailbackItem => {
  void [expectHmac, backupOriginal, backupOverwritten, rotationRules, reason];
  return i;
};

export async function runPhase(run: FailbackRun, phase: FailbackPhase, list: FailbackItem[] | string[], opts: PhaseOptions): Promise<void> {
  const tag = opts.tag ?? phase;
  let dr = opts.dr ?? run.to;
  if (phase !== 'plan' && !opts.byName) {
    // Items of failovers to different DR Regions: one pass per Region.
    const byRegion = new Map<string, FailbackItem[]>();
    for (const i of list as FailbackItem[])
      byRegion
        .set(i.dr ?? run.to, byRegion.get(i.dr ?? run.to) ?? [])
        .get(i.dr ?? run.to)!
        .push(i);
    if (byRegion.size > 1) {
      for (const [r, part] of byRegion) await runPhase(run, phase, part, { ...opts, tag: `${tag}-${r}`, dr: r });
      return;
    }
    dr = byRegion.keys().next().value ?? run.to;
  }
  const { plan, input, from, reverse } = run;
  await runBatches({
    batches: chunk<FailbackItem | string>(list, input.chunkSize ?? CHUNK_SIZE),
    inFlight: input.chunksInFlight ?? CHUNKS_IN_FLIGHT,
    control: opts.control,
    ...(phase === 'reconcile'
      ? {
          skip: (part: Array<FailbackItem | string>) =>
            run.merge(
              (part as FailbackItem[]).map((i) => ({
                ...i,
                status: 'skipped' as const,
                reason: `failback cancelled before this secret was reconciled: left as it is (still standalone in ${i.dr ?? run.to}, still fenced in ${from}); run failback again`,
              })),
            ),
        }
      : {}),
    run: async (part, k) => {
      const names = part.map((p) => (typeof p === 'string' ? p : p.name));
      try {
        const child = await startChild(failbackBatchWorkflow, {
          // From the plan, not workflowInfo(): replaying a recorded history under another id starts the same children.
          workflowId: `${failbackWorkflowId(plan.name)}${input.dryRun ? '/dry-run' : ''}/${run.stamp}/${tag}-${k}`,
          taskQueue: workflowTaskQueue(input.taskQueuePrefix),
          // Write tokens are per run (a later failback of the same plan must write again): id + start stamp.
          args: [
            {
              phase,
              plan,
              from,
              to: dr,
              reverse,
              failbackId: `${run.workflowId}/${run.stamp}`,
              recordsPacked: packNames(run.records.get(dr) ?? []),
              ...(phase === 'plan' || opts.byName
                ? { names }
                : { packed: packItems(opts.through && !reverse ? (part as FailbackItem[]).map(forReconcile) : (part as FailbackItem[])) }),
              taskQueuePrefix: input.taskQueuePrefix,
              batchSize: input.batchSize,
              ...(opts.through ? { through: opts.through } : {}),
            },
          ],
        });
        const r = await child.result();
        const items = itemsOf(r);
        if (opts.byName) run.merge(items.map(({ name, status, reason }) => ({ ...run.item(name), status, ...(reason ? { reason } : {}) })));
        else run.merge(items);
        for (const f of r.asks) run.askFacts.set(f.name, f);
      } catch (err) {
        const reason = `${phase} failed: ${failureMessage(err)}`;
        if (phase === 'plan') run.problems.push(reason);
        else run.merge((part as FailbackItem[]).map((i) => ({ ...i, status: 'failed' as const, reason })));
      }
    },
  });
}
