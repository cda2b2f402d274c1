/**
 * From a validated inbound event to the recover workflow: signal-with-start (one recover per plan,
 * id `secrets-dr/<plan>/recover`), the hint carrying the event id and a dedup key, so duplicates
 * are deduplicated inside the workflow. Shared by the HTTP receiver and the Lambda handler.
 */
import type { Client } from '@temporalio/client';
import { recoverWorkflowId, workflowTaskQueue } from '../domain/ids.js';
import { hintFromEvent, InboundEvent, type RecoveryHint } from '../domain/inbound-events.js';
import type { Plan } from '../domain/plan.js';
import type { RecoverInput } from '../domain/recover.js';
import type { recoverWorkflow } from '../workflows/recover.workflow.js';
import { recoverHintSignal } from '../workflows/recover.messages.js';

export type TriggerOutcome =
  { status: 400; error: string; issues?: string[] } | { status: 200; ignored: string } | { status: 202; workflowId: string; runId: string; hint: RecoveryHint };

/** What an inbound body asks for, decided without Temporal: a 400 or 200 answer, or a hint to signal. */
export function decideTrigger(
  plan: Plan,
  body: unknown,
  now: Date = new Date(),
): { answer: Exclude<TriggerOutcome, { status: 202 }> } | { hint: RecoveryHint } {
  let parsed: ReturnType<typeof InboundEvent.safeParse>;
  try {
    parsed = InboundEvent.safeParse(body);
  } catch (err) {
    // zod's length checks run on any value with a `length` and throw on one that is no number ({"length":{"toString":null}}): bad input, a 400.
    return { answer: { status: 400, error: 'not a CloudWatch alarm or AWS Health event', issues: [`(event): ${(err as Error).message}`] } };
  }
  if (!parsed.success) {
    return {
      answer: {
        status: 400,
        error: 'not a CloudWatch alarm or AWS Health event',
        issues: parsed.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`),
      },
    };
  }
  const decision = hintFromEvent(plan, parsed.data, now.toISOString());
  if ('ignored' in decision) return { answer: { status: 200, ignored: decision.ignored } };
  return { hint: decision.hint };
}

/** Signal-with-start of recover with a decided hint. */
export async function signalRecover(client: Client, plan: Plan, hint: RecoveryHint, opts: { taskQueuePrefix: string }): Promise<TriggerOutcome> {
  const input: RecoverInput = { plan, taskQueuePrefix: opts.taskQueuePrefix };
  const handle = await client.workflow.signalWithStart<typeof recoverWorkflow, [RecoveryHint]>('recoverWorkflow', {
    workflowId: recoverWorkflowId(plan.name),
    taskQueue: workflowTaskQueue(opts.taskQueuePrefix),
    args: [input],
    signal: recoverHintSignal,
    signalArgs: [hint],
  });
  return { status: 202, workflowId: handle.workflowId, runId: handle.signaledRunId, hint };
}

/** Validates a parsed body and, for a relevant event, signal-with-starts recover. Never throws on bad input. */
export async function triggerRecover(client: Client, plan: Plan, body: unknown, opts: { taskQueuePrefix: string; now?: () => Date }): Promise<TriggerOutcome> {
  const decided = decideTrigger(plan, body, opts.now?.() ?? new Date());
  return 'answer' in decided ? decided.answer : signalRecover(client, plan, decided.hint, opts);
}
