/**
 * The pending fence of a failover (unplanned, or a planned fence the old primary stopped answering
 * in the middle of): started by the failover as an abandoned child with id
 * `fenceWorkflowId(plan, region)`, it retries until the old primary Region answers again (bounded
 * backoff, up to `deadlineMs`), then fences every plan secret that is still a primary there:
 * deny-write resource policy statement + `secrets-dr:fenced` tag. The failover itself does not wait
 * for a dead Region (its RTO would be the outage's length).
 */
import { ApplicationFailure, continueAsNew, sleep, workflowInfo } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';
import type { Plan } from '../domain/plan.js';
import type { FailoverActivities } from '../activities/failover.activities.js';
import { regionActivities } from './activity-options.js';
import { FENCE_OPTIONS, INSPECT_OPTIONS } from './failover-options.js';

export interface FenceWorkflowInput {
  plan: Plan;
  region: string;
  to: string;
  failoverId: string;
  taskQueuePrefix?: string;
  retryInitialMs?: number;
  deadlineMs?: number;
  /** The secrets to fence (those the failover made standalone); absent: every plan primary there. */
  names?: string[];
  /** Carried through continue-as-new: absolute deadline (epoch ms), attempts so far. */
  deadlineAt?: number;
  attemptsSoFar?: number;
}

export interface FenceWorkflowResult {
  region: string;
  fenced: number;
  alreadyFenced: number;
  failed: Array<{ name: string; reason: string }>;
  attempts: number;
  appliedAt: string;
}

const FENCE_BATCH = 250;
const MAX_BACKOFF_MS = 60_000;

export async function fenceWorkflow(input: FenceWorkflowInput): Promise<FenceWorkflowResult> {
  const inspect = regionActivities<FailoverActivities>(input.region, input.taskQueuePrefix, INSPECT_OPTIONS);
  const fence = regionActivities<FailoverActivities>(input.region, input.taskQueuePrefix, FENCE_OPTIONS);
  const deadline = input.deadlineAt ?? Date.now() + (input.deadlineMs ?? 7 * 24 * 3_600_000);
  let backoff = input.retryInitialMs ?? 5_000;
  const only = input.names ? new Set(input.names) : undefined;
  for (let attempts = (input.attemptsSoFar ?? 0) + 1; ; attempts++) {
    try {
      const names: string[] = [];
      let token: string | undefined;
      do {
        const page = await inspect.inspectFleet({ plan: input.plan, region: input.region, nextToken: token, maxPages: 20 });
        for (const e of page.entries) if (e.primaryRegion === undefined && !e.deleted && !e.fenced && (!only || only.has(e.name))) names.push(e.name);
        token = page.nextToken;
      } while (token);
      const result: FenceWorkflowResult = { region: input.region, fenced: 0, alreadyFenced: 0, failed: [], attempts, appliedAt: '' };
      for (let i = 0; i < names.length; i += FENCE_BATCH) {
        const r = await fence.fenceBatch({ region: input.region, failoverId: input.failoverId, to: input.to, names: names.slice(i, i + FENCE_BATCH), writeQuotaShare: input.plan.failover.writeQuotaShare });
        result.fenced += r.fenced;
        result.alreadyFenced += r.alreadyFenced;
        result.failed.push(...r.failed);
      }
      result.appliedAt = new Date().toISOString();
      return result;
    } catch (err) {
      // A refusal (access denied, a bad plan) will not heal by waiting: say so now.
      const type = (err as { cause?: { type?: string } }).cause?.type ?? (err as { type?: string }).type;
      if (type && (NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(type)) {
        throw ApplicationFailure.nonRetryable(`fencing ${input.region} was refused: ${(err as Error).message}`, type);
      }
      // Still down (or down again): wait and try again, until the deadline.
      if (Date.now() + backoff > deadline) {
        throw ApplicationFailure.nonRetryable(`the old primary ${input.region} did not answer before the fence deadline: ${(err as Error).message}`, 'RegionUnreachable');
      }
      await sleep(backoff);
      backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      // A Region may stay down for days: keep the history bounded.
      if (workflowInfo().continueAsNewSuggested || attempts % 200 === 0) {
        await continueAsNew<typeof fenceWorkflow>({ ...input, deadlineAt: deadline, attemptsSoFar: attempts, retryInitialMs: backoff });
      }
    }
  }
}
