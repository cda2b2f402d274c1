/**
 * A chunk of a failover's promotions (child of `failoverWorkflow`), so no history grows with N:
 * ≤ CHUNK_SIZE secrets in batches of BATCH_SIZE, two batches in flight (the per-Region write
 * governor is the real limit; two keep it busy across batch boundaries). Pause/resume/cancel are
 * forwarded by the parent and take effect between batches.
 */
import { condition, getExternalWorkflowHandle, setHandler } from '@temporalio/workflow';
import type { SecretOutcome } from '../domain/failover.js';
import { countOutcomes } from '../domain/failover.js';
import type { FailoverActivities } from '../activities/failover.activities.js';
import { regionActivities } from './activity-options.js';
import { PROMOTE_OPTIONS } from './failover-options.js';
import { failoverBatchProgressSignal } from './failover.messages.js';
import { cancelSignal, pauseSignal, resumeSignal } from './kit/control.messages.js';

export const BATCH_SIZE = 100;
export const CHUNK_SIZE = 1_000;
const IN_FLIGHT = 2;

export interface FailoverChunkInput {
  parentId: string;
  chunk: number;
  planName: string;
  from: string;
  to: string;
  failoverId: string;
  names: string[];
  writeQuotaShare: number;
  taskQueuePrefix?: string;
  batchSize?: number;
  fencedBeforePromotion?: boolean;
}

export interface FailoverChunkResult {
  outcomes: SecretOutcome[];
  lineageRecords: string[];
  hmacs: boolean;
  lineageDetail?: string;
}

export async function failoverChunkWorkflow(input: FailoverChunkInput): Promise<FailoverChunkResult> {
  let paused = false;
  let cancelled = false;
  setHandler(pauseSignal, () => void (paused = true));
  setHandler(resumeSignal, () => void (paused = false));
  setHandler(cancelSignal, () => void (cancelled = true));

  const acts = regionActivities<FailoverActivities>(input.to, input.taskQueuePrefix, PROMOTE_OPTIONS);
  const parent = getExternalWorkflowHandle(input.parentId);
  const batches: string[][] = [];
  const size = input.batchSize ?? BATCH_SIZE;
  for (let i = 0; i < input.names.length; i += size) batches.push(input.names.slice(i, i + size));

  const results: SecretOutcome[][] = [];
  const result: FailoverChunkResult = { outcomes: [], lineageRecords: [], hmacs: true };
  let next = 0;
  const lane = async () => {
    while (next < batches.length) {
      const i = next++;
      const names = batches[i]!;
      await condition(() => !paused || cancelled);
      if (cancelled) {
        results[i] = names.map((name) => ({ name, status: 'skipped', reason: 'failover cancelled before this secret was promoted' }));
        continue;
      }
      const batch = `${String(input.chunk).padStart(4, '0')}-${String(i).padStart(3, '0')}`;
      const r = await acts.promoteBatch({ planName: input.planName, from: input.from, to: input.to, failoverId: input.failoverId, batch, names, writeQuotaShare: input.writeQuotaShare, fencedBeforePromotion: input.fencedBeforePromotion });
      results[i] = r.outcomes;
      if (r.lineage.record) result.lineageRecords.push(r.lineage.record);
      if (!r.lineage.hmacs) {
        result.hmacs = false;
        result.lineageDetail = r.lineage.detail;
      }
      await parent.signal(failoverBatchProgressSignal, { key: batch, counts: countOutcomes(r.outcomes) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, batches.length) }, lane));
  result.outcomes = results.flat();
  return result;
}
