/** The Temporal client for commands, with a fast, clear failure when the server is not there. */
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';

const { temporal } = proto;
import { ErrorType, ExitCode, OperatorError } from '../domain/errors.js';
import { workflowTaskQueue } from '../domain/ids.js';
import { loadEnv, temporalOptions, type Env, type TemporalConnectionOptions } from '../worker/config.js';
import { withApiKeyFromSecret } from './temporal-credentials.js';
import { dataConverter } from '../worker/payload-codec.js';

export interface Connected {
  client: Client;
  env: Env;
  /** The settings used (environment over profile over default). */
  options: TemporalConnectionOptions;
  close(): Promise<void>;
}

/** What to check when Temporal does not answer: in AWS Lambda the local stack is no answer. */
function unreachableAdvice(): string {
  return process.env.AWS_LAMBDA_FUNCTION_NAME
    ? "check TEMPORAL_ADDRESS (or the Temporal profile) and the function's network path to Temporal (VPC subnets with a NAT, security group egress to port 7233)"
    : 'set TEMPORAL_ADDRESS (or TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE), or start the local stack with `secrets-dr lab up`';
}

async function connectClient(given: Env = loadEnv()): Promise<Connected> {
  const env = await withApiKeyFromSecret(given);
  const opts = temporalOptions(env);
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: opts.address, tls: opts.tls, apiKey: opts.apiKey, metadata: opts.metadata, connectTimeout: '5s' });
  } catch (err) {
    throw new OperatorError(
      ErrorType.TemporalUnreachable,
      `cannot reach the Temporal server at ${opts.address}${opts.origin ? ` (${opts.origin})` : ''}: ${(err as Error).message.split('\n')[0]} (${unreachableAdvice()})`,
      [],
      ExitCode.Failed,
    );
  }
  const client = new Client({ connection, namespace: opts.namespace, dataConverter });
  return { client, env, options: opts, close: () => connection.close() };
}

/** How many workers poll `queue` now, for its workflow or its activity tasks. */
export async function pollerCount(client: Client, queue: string, tasks: 'workflow' | 'activity'): Promise<number> {
  const res = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: queue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType:
      tasks === 'workflow' ? temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW : temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  return (res.pollers ?? []).length;
}

/** Refuses to start work nobody will pick up: a workflow queue without pollers waits forever. */
export async function requireWorker(c: Connected): Promise<void> {
  const queue = workflowTaskQueue(c.env.SECRETS_DR_TASK_QUEUE_PREFIX);
  if ((await pollerCount(c.client, queue, 'workflow')) === 0) {
    throw new OperatorError(
      ErrorType.StackUnavailable,
      `no secrets-dr worker is polling task queue "${queue}" on ${c.options.address}: start one with \`secrets-dr worker\` (or the local stack with \`secrets-dr lab up\`)`,
      [],
      ExitCode.Failed,
    );
  }
}

/** Start options on the workflow queue of this process's prefix, one run per id: a second start attaches to the running one. */
export function oneRunPerId(c: Connected, workflowId: string) {
  return { taskQueue: workflowTaskQueue(c.env.SECRETS_DR_TASK_QUEUE_PREFIX), workflowId, workflowIdConflictPolicy: 'USE_EXISTING' as const };
}

interface WithTemporalOptions {
  /** Refuse first when no worker polls the workflow queue (work nobody would pick up). */
  worker?: boolean;
  /** The settings to connect with (default: the process environment, validated). */
  env?: Env;
  /**
   * Keep the connection open after `fn` returns (closed only if `fn` throws): for a long-lived
   * client (the Lambda's warm connection, the demo's stages); the holder calls `close()`.
   */
  keepOpen?: boolean;
}

/**
 * The one way into Temporal: runs `fn` with a connected client and closes it afterwards (unless
 * `keepOpen`); with `worker: true` it first refuses to start work that no worker would pick up.
 */
export async function withTemporal<T>(options: WithTemporalOptions, fn: (c: Connected) => Promise<T>): Promise<T> {
  const c = await connectClient(options.env);
  let ok = false;
  try {
    if (options.worker) await requireWorker(c);
    const out = await fn(c);
    ok = true;
    return out;
  } finally {
    if (!ok || !options.keepOpen) await c.close();
  }
}
