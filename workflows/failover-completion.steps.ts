/**
 * Failover's last steps: rotation re-homed onto the DR Region's Lambda, the pending fence handed
 * to the fence workflow, and the completion event — which announces the outcome the machine
 * decided (context.outcome), never one of its own.
 */
import { ParentClosePolicy, getExternalWorkflowHandle, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { fenceWorkflowId, workflowTaskQueue } from '../domain/ids.js';
import { unverifiedScheduleWarnings } from '../domain/failover.js';
import type { FailoverContext, FailoverEvent } from './machines/failover.machine.js';
import type { FailoverRun } from './failover.run.js';
import { suffixesOf } from './failover.steps.js';
import { moveRotation } from './rotation.steps.js';
import { fenceWorkflow } from './fence.workflow.js';
import { fenceAddSignal } from './failover.messages.js';
import type { FenceRequest } from '../domain/workflow-inputs.js';

export async function rehomeRotation(run: FailoverRun): Promise<FailoverEvent> {
  const { to, warnings } = run;
  // already-standalone too: a promotion whose response was lost (or a re-run) must still move rotation;
  // rehomeRotationBatch describes first and skips secrets that already use the Region's Lambda.
  const standalone = run.outcomes.filter((o) => o.status === 'promoted' || o.status === 'already-standalone');
  // Never re-home onto a rotation in flight (RotateSecret fails there): its next steps are on the report.
  const heldBack = standalone.filter((o) => o.rotationInFlight).length;
  const names = standalone.filter((o) => o.rotation && !o.rotationInFlight).map((o) => o.name);
  const lambdaArn = run.plan.rotation[to];
  const rotation = {
    withRotation: names.length + standalone.filter((o) => o.rotation && o.rotationInFlight).length,
    rehomed: 0,
    failed: 0,
    heldBack,
    detail: '',
    ...(lambdaArn ? { lambdaArn } : {}),
  };
  run.rotation = rotation;
  if (names.length === 0) rotation.detail = heldBack ? '' : 'no promoted secret had rotation enabled';
  else if (!lambdaArn) {
    rotation.detail = `no rotation Lambda for ${to} in the plan (rotation.${to}): ${names.length} secret(s) will not rotate until one is configured`;
    warnings.push(rotation.detail);
  } else {
    // Each secret's schedule as recorded from the primary at preflight, passed explicitly.
    const r = await moveRotation(run.side(to), { region: to, names, lambdaArn, ...run.writeShare, verb: 're-homed', recorded: standalone }, warnings);
    Object.assign(rotation, { rehomed: r.moved, failed: r.failed });
    rotation.detail = `${rotation.rehomed} of ${names.length} secret(s) rotate with ${lambdaArn} (RotateImmediately=false), each on the schedule recorded from the primary`;
    warnings.push(...unverifiedScheduleWarnings(standalone, to));
  }
  if (heldBack)
    rotation.detail = `${rotation.detail ? `${rotation.detail}; ` : ''}${heldBack} secret(s) with a rotation in flight held back (finish or roll it back first: see their next steps)`;
  return { type: 'REHOME_DONE' };
}

/**
 * Every secret of ours that is standalone now, whichever run promoted it, goes to the pending fence
 * (fencing one whose promotion failed would leave it writable nowhere). An earlier run's fence that
 * is still pending is told by signal; one that completed between the start and the signal is
 * started again (bounded).
 */
export async function handOffFence(run: FailoverRun): Promise<undefined> {
  const { plan, from, to, failoverId, input } = run;
  const id = fenceWorkflowId(plan.name, from);
  const names = run.outcomes.filter((o) => (o.status === 'promoted' || o.status === 'already-standalone') && !run.fencedNow.has(o.name)).map((o) => o.name);
  const request: FenceRequest = { failoverId, to, names, suffixes: suffixesOf(run.outcomes, names) };
  for (let tries = 1; ; tries++) {
    try {
      await startChild(fenceWorkflow, {
        workflowId: id,
        taskQueue: workflowTaskQueue(input.taskQueuePrefix),
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [
          {
            plan,
            region: from,
            to,
            failoverId,
            taskQueuePrefix: input.taskQueuePrefix,
            retryInitialMs: input.fenceRetryInitialMs,
            names,
            suffixes: request.suffixes,
          },
        ],
      });
      break;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    try {
      await getExternalWorkflowHandle(id).signal(fenceAddSignal, request);
      break;
    } catch (err) {
      if (tries >= 3) throw err;
    }
  }
  run.fenceHandedTo = id;
  return undefined;
}

export async function announceCompleted(run: FailoverRun, c: FailoverContext): Promise<FailoverEvent> {
  const { plan, workflowId, from, to, mode } = run;
  await run.publish(to, {
    detailType: 'Failover Completed',
    detail: {
      plan: plan.name,
      workflowId,
      from,
      to,
      mode,
      outcome: c.outcome!,
      counts: { ...c.counts, unverified: c.unverified },
      durationMs: Date.now() - run.started.getTime(),
      rtoMs: run.rtoMs(),
    },
  });
  return { type: 'ANNOUNCED' };
}
