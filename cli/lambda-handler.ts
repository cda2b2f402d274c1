/**
 * AWS Lambda handler for teams that target a Lambda function instead of the HTTP receiver: the
 * rule's target invokes it with the event itself (no API key: IAM decides who may invoke). Same
 * validation and signal-with-start as `secrets-dr receiver`. Configuration (validated at cold
 * start): SECRETS_DR_PLAN (the plan's YAML text) or SECRETS_DR_PLAN_FILE, plus the Temporal
 * variables of the CLI (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS).
 * An invalid event is answered with {statusCode: 400} and starts nothing (no retry helps it).
 */
import { readFileSync } from 'node:fs';
import { ErrorType, OperatorError } from '../domain/errors.js';
import type { Plan } from '../domain/plan.js';
import { parsePlanText } from './plan-file.js';
import { triggerRecover } from './recover-trigger.js';
import { connectClient, type Connected } from './temporal.js';

let connected: Promise<Connected> | undefined;
let plan: Plan | undefined;

function loadPlan(env: NodeJS.ProcessEnv): Plan {
  const text = env.SECRETS_DR_PLAN ?? (env.SECRETS_DR_PLAN_FILE ? readFileSync(env.SECRETS_DR_PLAN_FILE, 'utf8') : undefined);
  if (!text) throw new OperatorError(ErrorType.ConfigInvalid, 'set SECRETS_DR_PLAN (the plan YAML) or SECRETS_DR_PLAN_FILE');
  const { plan: p, problems } = parsePlanText(text);
  if (!p) throw new OperatorError(ErrorType.PlanInvalid, 'the plan given to the Lambda handler is invalid', problems);
  return p;
}

export async function handler(event: unknown): Promise<{ statusCode: number; body: string }> {
  plan ??= loadPlan(process.env);
  connected ??= connectClient();
  const c = await connected;
  const out = await triggerRecover(c.client, plan, event, { taskQueuePrefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX });
  const { status, ...rest } = out;
  console.log(JSON.stringify({ msg: 'secrets-dr lambda', status, ...('hint' in rest ? { eventId: rest.hint.eventId, workflowId: rest.workflowId } : rest) }));
  return { statusCode: status, body: JSON.stringify(rest) };
}
