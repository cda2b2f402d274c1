/**
 * AWS Lambda handler for teams that target a Lambda function instead of the HTTP receiver: the
 * rule's target invokes it with the event itself (no API key: IAM decides who may invoke). Same
 * validation and signal-with-start as `secrets-dr receiver`. Configuration (validated at cold
 * start): SECRETS_DR_PLAN (the plan's YAML text) or SECRETS_DR_PLAN_FILE, plus the Temporal
 * variables of the CLI (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS).
 * An invalid event is answered with {statusCode: 400} and starts nothing (no retry helps it). An
 * invalid plan (YAML, alias bomb, schema) is a configuration error, answered like the receiver
 * answers it (422 with every problem, one JSON log line) on every invocation until it is fixed:
 * never a throw, which Lambda would retry and log as a crash.
 */
import { readFileSync } from 'node:fs';
import { ErrorType, OperatorError, type Problem } from '../domain/errors.js';
import { PLAN_CONFIG_INVALID_STATUS } from '../domain/inbound-events.js';
import type { Plan } from '../domain/plan.js';
import { parsePlanText } from './plan-file.js';
import { decideTrigger, signalRecover, type TriggerOutcome } from './recover-trigger.js';
import { type Connected, withTemporal } from './temporal.js';

let connected: Promise<Connected> | undefined;
type Config = { plan: Plan } | { error: string; problems: Problem[] };
let config: Config | undefined;

/** The plan from the environment, or the configuration error (never throws). */
export function loadLambdaConfig(env: NodeJS.ProcessEnv): Config {
  let text = env.SECRETS_DR_PLAN;
  if (text === undefined && env.SECRETS_DR_PLAN_FILE) {
    try {
      text = readFileSync(env.SECRETS_DR_PLAN_FILE, 'utf8');
    } catch (err) {
      return { error: `cannot read SECRETS_DR_PLAN_FILE ${env.SECRETS_DR_PLAN_FILE}: ${(err as Error).message}`, problems: [] };
    }
  }
  if (!text) return { error: 'set SECRETS_DR_PLAN (the plan YAML) or SECRETS_DR_PLAN_FILE', problems: [] };
  const { plan, problems } = parsePlanText(text);
  if (!plan)
    return {
      error: `the plan given to the Lambda handler (${env.SECRETS_DR_PLAN !== undefined ? 'SECRETS_DR_PLAN' : env.SECRETS_DR_PLAN_FILE}) is invalid; fix it (\`secrets-dr plan validate -f FILE\`)`,
      problems,
    };
  return { plan };
}

export async function handler(event: unknown): Promise<{ statusCode: number; body: string }> {
  config ??= loadLambdaConfig(process.env);
  if (!('plan' in config)) {
    const { error, problems } = config;
    console.error(JSON.stringify({ msg: 'secrets-dr lambda: configuration error', type: ErrorType.PlanInvalid, error, problems }));
    return { statusCode: PLAN_CONFIG_INVALID_STATUS, body: JSON.stringify({ error, problems }) };
  }
  const { plan } = config;
  // The event first: an invalid or irrelevant one is answered without connecting to Temporal.
  const decided = decideTrigger(plan, event);
  if ('answer' in decided) return respond(decided.answer);
  // The warm connection outlives the invocation: later ones of this instance reuse it.
  connected ??= withTemporal({ keepOpen: true }, async (conn) => conn).catch((err: unknown) => {
    connected = undefined; // a Temporal server down at cold start: the next invocation tries again
    throw err;
  });
  let c: Connected;
  try {
    c = await connected;
  } catch (err) {
    if (!(err instanceof OperatorError) || err.type !== ErrorType.ConfigInvalid) throw err; // Temporal unreachable: a retry may help
    console.error(JSON.stringify({ msg: 'secrets-dr lambda: configuration error', type: err.type, error: err.message, problems: err.problems }));
    return { statusCode: PLAN_CONFIG_INVALID_STATUS, body: JSON.stringify({ error: err.message, problems: err.problems }) };
  }
  return respond(await signalRecover(c.client, plan, decided.hint, { taskQueuePrefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX }));
}

function respond(out: TriggerOutcome): { statusCode: number; body: string } {
  const { status, ...rest } = out;
  console.log(JSON.stringify({ msg: 'secrets-dr lambda', status, ...('hint' in rest ? { eventId: rest.hint.eventId, workflowId: rest.workflowId } : rest) }));
  return { statusCode: status, body: JSON.stringify(rest) };
}

/** Tests: forget the cold start (the next invocation reads the environment again). */
export function resetLambdaColdStart(): void {
  config = undefined;
  connected = undefined;
}
