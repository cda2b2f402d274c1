/**
 * A chunk of a failover's promotions (child of `failoverWorkflow`), so no history grows with N:
 * ≤ CHUNK_SIZE secrets in batches of BATCH_SIZE, two batches in flight, the first one half as long
 * (staggeredChunk), so the two never reach their tails together and the per-Region write governor
 * stays busy across batch boundaries. Pause/resume/cancel are
 * relayed by the parent; the batch loop honours them between batches.
 */
import { getExternalWorkflowHandle, patched } from '@temporalio/workflow';
import { countOutcomes, recordedRotations, settledOf, type SecretOutcome } from '../domain/failover.js';
import type { FailoverActivities } from '../activities/failover.activities.js';
import { regionActivities } from './activity-options.js';
import { PROMOTE_OPTIONS } from './failover-options.js';
import { failoverBatchProgressSignal } from './failover.messages.js';
import { chunk, runBatches, staggeredChunk } from './kit/batch-loop.js';
import { listenForControl } from './kit/control.js';
import { FailoverChunkInput } from '../domain/workflow-inputs.js';

const BATCH_SIZE = 100;
export const CANCELLED_BEFORE_PROMOTION = 'failover cancelled before this secret was promoted';
export const CHUNK_SIZE = 1_000;
const IN_FLIGHT = 2;
/** Chunks started before this marker split their names evenly (replayed as they ran). */
const STAGGERED_BATCHES_PATCH = 'failover-staggered-batches';

export interface FailoverChunkResult {
  outcomes: SecretOutcome[];
  lineageRecords: string[];
  hmacs: boolean;
  lineageDetail?: string;
}

export async function failoverChunkWorkflow(raw: FailoverChunkInput): Promise<FailoverChunkResult> {
  const input = FailoverChunkInput.parse(raw);
  const control = listenForControl();
  const acts = regionActivities<FailoverActivities>(input.to, input.taskQueuePrefix, PROMOTE_OPTIONS);
  const parent = getExternalWorkflowHandle(input.parentId);
  const result: FailoverChunkResult = { outcomes: [], lineageRecords: [], hmacs: true };

  const size = input.batchSize ?? BATCH_SIZE;
  const outcomes = await runBatches({
    batches: patched(STAGGERED_BATCHES_PATCH) ? staggeredChunk(input.names, size) : chunk(input.names, size),
    inFlight: IN_FLIGHT,
    control: () => control,
    skip: (names) => names.map((name): SecretOutcome => ({ name, status: 'skipped', reason: CANCELLED_BEFORE_PROMOTION })),
    run: async (names, i) => {
      const batch = `${String(input.chunk).padStart(4, '0')}-${String(i).padStart(3, '0')}`;
      const r = await acts.promoteBatch({
        planName: input.planName,
        from: input.from,
        to: input.to,
        failoverId: input.failoverId,
        batch,
        names,
        writeQuotaShare: input.writeQuotaShare,
        ...(input.writeQuotaShareMode ? { writeQuotaShareMode: input.writeQuotaShareMode } : {}), // 'fixed' too: a fixed plan resets an auto governor
        fencedBeforePromotion: input.fencedBeforePromotion,
        ...(input.rotation ? { rotation: recordedRotations(input.rotation, names) } : {}),
      });
      if (r.lineage.record) result.lineageRecords.push(r.lineage.record);
      if (!r.lineage.hmacs) Object.assign(result, { hmacs: false, lineageDetail: r.lineage.detail });
      await parent.signal(failoverBatchProgressSignal, { key: batch, counts: countOutcomes(r.outcomes), settled: r.outcomes.map(settledOf) });
      return r.outcomes;
    },
  });
  result.outcomes = outcomes.flat();
  return result;
}
