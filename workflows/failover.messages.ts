/** Failover's own messages (pause/resume/cancel, approval and the query name: kit/control.messages.ts). */
import { defineSignal } from '@temporalio/workflow';
import { BATCH_PROGRESS_SIGNAL, FENCE_ADD_SIGNAL, type FailoverProgress, type OutcomeCounts, type SettledSecret } from '../domain/failover.js';
import { progressQuery } from './kit/control.messages.js';
import type { FenceRequest } from '../domain/workflow-inputs.js';

export const failoverProgressQuery = progressQuery<FailoverProgress>();

/** A promotion child reports each finished batch (key = chunk/batch), so `watch` moves while a child runs. */
interface BatchProgress {
  key: string;
  counts: OutcomeCounts;
  /** The batch's per-secret outcomes: names and outcomes only (the dashboard's live table). */
  settled?: SettledSecret[];
}
export const failoverBatchProgressSignal = defineSignal<[BatchProgress]>(BATCH_PROGRESS_SIGNAL);

/** Secrets a failover run made standalone, to fence on the old primary (with the ARN suffix each has in `to`). */
/** A later failover run adds its secrets to a fence that is still pending (idempotent: a fenced name is skipped). */
export const fenceAddSignal = defineSignal<[FenceRequest]>(FENCE_ADD_SIGNAL);
