/**
 * The pending fence of a failover (unplanned, or a planned fence the old primary stopped answering
 * in the middle of): started by the failover as an abandoned child with id
 * `fenceWorkflowId(plan, region)`, it retries until the old primary Region answers again (bounded
 * backoff, up to `deadlineMs`), then fences every secret it was handed that is still a primary
 * there: deny-write resource policy statement + `secrets-dr:fenced` tag. The failover itself does
 * not wait for a dead Region (its RTO would be the outage's length).
 *
 * Every run of the failover hands over what it made standalone: the first starts this workflow, a
 * later run (while this one is still pending) adds its secrets with `fenceAddSignal`. Requests
 * queue up and are applied together; a request that arrives while a fence is being applied is
 * applied right after it, so the workflow only completes with an empty queue. A secret is fenced
 * only when its ARN suffix there is the one the failover promoted (a same-named secret that is not
 * our replica is left alone). History stays bounded: continue-as-new carries the queue.
 */
import { ApplicationFailure, continueAsNew, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../domain/errors.js';
import type { FailoverActivities } from '../activities/failover.activities.js';
import { regionActivities } from './activity-options.js';
import { FENCE_OPTIONS, INSPECT_OPTIONS } from './failover-options.js';
import { fenceAddSignal } from './failover.messages.js';
import { chunk } from './kit/batch-loop.js';
import { failureMessage, failureType, isPermanent } from './kit/failures.js';
import { FenceWorkflowInput, type FenceRequest, type FenceWorkflowResult } from '../domain/workflow-inputs.js';
import { writeShareOf } from '../domain/plan.js';

const FENCE_BATCH = 250;
const MAX_BACKOFF_MS = 60_000;
const MAX_FAILED_LISTED = 200;

export async function fenceWorkflow(raw: FenceWorkflowInput): Promise<FenceWorkflowResult> {
  const input = FenceWorkflowInput.parse(raw);
  const inspect = regionActivities<FailoverActivities>(input.region, input.taskQueuePrefix, INSPECT_OPTIONS);
  const fence = regionActivities<FailoverActivities>(input.region, input.taskQueuePrefix, FENCE_OPTIONS);
  const deadline = input.deadlineAt ?? Date.now() + (input.deadlineMs ?? 7 * 24 * 3_600_000);
  let backoff = input.retryInitialMs ?? 5_000;
  const queue: FenceRequest[] = input.queued ?? [
    { failoverId: input.failoverId, to: input.to, ...(input.names ? { names: input.names } : {}), ...(input.suffixes ? { suffixes: input.suffixes } : {}) },
  ];
  setHandler(fenceAddSignal, (r) => void queue.push(r));
  const result: FenceWorkflowResult = input.resultSoFar ?? {
    region: input.region,
    fenced: 0,
    alreadyFenced: 0,
    failed: [],
    attempts: 0,
    appliedAt: '',
    failoverIds: [],
  };

  /** Applies a set of requests: one listing of the Region, then fence batches per failover run. */
  async function apply(requests: FenceRequest[]): Promise<void> {
    const primaries = new Set<string>();
    let token: string | undefined;
    do {
      const page = await inspect.inspectFleet({ plan: input.plan, region: input.region, nextToken: token, maxPages: 20 });
      for (const e of page.entries) if (e.primaryRegion === undefined && !e.deleted && !e.fenced) primaries.add(e.name);
      token = page.nextToken;
    } while (token);
    const claimed = new Set<string>();
    for (const r of requests) {
      const names = (r.names ?? [...primaries]).filter((n) => primaries.has(n) && !claimed.has(n));
      for (const n of names) claimed.add(n);
      for (const slice of chunk(names, FENCE_BATCH)) {
        const suffixes = r.suffixes ? Object.fromEntries(slice.filter((n) => r.suffixes![n] !== undefined).map((n) => [n, r.suffixes![n]!])) : undefined;
        const out = await fence.fenceBatch({
          region: input.region,
          failoverId: r.failoverId,
          to: r.to,
          names: slice,
          ...writeShareOf(input.plan.failover),
          ...(suffixes ? { suffixes } : {}),
        });
        result.fenced += out.fenced;
        result.alreadyFenced += out.alreadyFenced;
        result.failed.push(...out.failed.slice(0, Math.max(0, MAX_FAILED_LISTED - result.failed.length)));
      }
      if (!result.failoverIds!.includes(r.failoverId)) result.failoverIds!.push(r.failoverId);
    }
  }

  for (let attempts = (input.attemptsSoFar ?? 0) + 1; ; attempts++) {
    if (queue.length === 0) {
      result.appliedAt = new Date().toISOString();
      return result;
    }
    result.attempts = attempts;
    const requests = queue.splice(0);
    try {
      await apply(requests);
      continue; // requests that arrived meanwhile are applied before the workflow completes
    } catch (err) {
      queue.unshift(...requests);
      // A refusal (access denied, a bad plan) will not heal by waiting: say so now.
      if (isPermanent(err)) throw ApplicationFailure.nonRetryable(`fencing ${input.region} was refused: ${failureMessage(err)}`, failureType(err));
      // Still down (or down again): wait and try again, until the deadline.
      if (Date.now() + backoff > deadline) {
        throw ApplicationFailure.nonRetryable(
          `the old primary ${input.region} did not answer before the fence deadline: ${failureMessage(err)}`,
          ErrorType.RegionUnreachable,
        );
      }
      await sleep(backoff);
      backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      // A Region may stay down for days: keep the history bounded.
      if (workflowInfo().continueAsNewSuggested || attempts % 200 === 0) {
        await continueAsNew<typeof fenceWorkflow>({
          ...input,
          deadlineAt: deadline,
          attemptsSoFar: attempts,
          retryInitialMs: backoff,
          queued: queue.splice(0),
          resultSoFar: result,
        });
      }
    }
  }
}
