/**
 * `secrets-dr watch ID`: live progress of a failover or a failback — Region or account DR, and
 * account setup (progress bar or state line; `--json` streams one JSON line per second), then its
 * report and exit code.
 * `pause ID` / `resume ID` / `cancel ID [--reason]`: control a running failover or failback
 * between batches (what is done stays done and is reported; a cancelled failback reconciles no
 * further secret and carries the reconciled ones through).
 */
import { userInfo } from 'node:os';
import { z } from 'zod';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import type { failoverWorkflow } from '../../workflows/failover.workflow.js';
import type { failbackWorkflow } from '../../workflows/failback.workflow.js';
import { cancelSignal, pauseSignal, resumeSignal, type ControlSignal } from '../../workflows/kit/control.messages.js';
import { defineCommand } from '../command.js';
import { follow } from '../follow.js';
import { withTemporal } from '../temporal.js';
import { failoverFollow } from './failover.js';
import { failbackFollow } from './failback.js';
import { accountFailbackFollow, accountFailoverFollow, accountSetupFollow } from './account.js';
import type { accountFailoverWorkflow } from '../../workflows/account-failover.workflow.js';
import type { accountFailbackWorkflow } from '../../workflows/account-failback.workflow.js';
import type { accountSetupWorkflow } from '../../workflows/account-setup.workflow.js';

/** The operations `watch`, `pause`, `resume` and `cancel` work with, by workflow type. */
const STEERABLE = ['failoverWorkflow', 'failbackWorkflow'] as const;

async function workflowType(handle: { describe(): Promise<{ type: string }> }, id: string): Promise<string> {
  try {
    return (await handle.describe()).type;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new OperatorError(ErrorType.UsageError, `no workflow with id ${id}`);
    throw err;
  }
}

function notSteerable(id: string, type: string): OperatorError {
  return new OperatorError(
    ErrorType.UsageError,
    `${id} is a ${type}; watch works with a failover, a failback and account setup/failover/failback; pause, resume and cancel with a Region failover or failback (secrets-dr failover|failback print their id)`,
  );
}

export const watchCommand = defineCommand({
  words: ['watch'],
  summary: 'live progress of a failover or failback, Region or account DR (progress bar; --json streams lines)',
  args: 'WORKFLOW_ID',
  examples: [
    'secrets-dr watch secrets-dr/payments/failover',
    'secrets-dr watch secrets-dr/payments/failback --json',
    'secrets-dr watch secrets-dr/payments/account/210987654321/failover',
  ],
  options: {},
  schema: z.object({ json: z.boolean(), positionals: z.tuple([z.string().min(1)], { error: 'expected exactly one WORKFLOW_ID' }) }),
  async run(opts, io) {
    const id = opts.positionals[0];
    return withTemporal({}, async (conn) => {
      const type = await workflowType(conn.client.workflow.getHandle(id), id);
      if (type === 'failoverWorkflow') return (await follow(conn.client.workflow.getHandle<typeof failoverWorkflow>(id), failoverFollow, io)).code;
      if (type === 'failbackWorkflow') return (await follow(conn.client.workflow.getHandle<typeof failbackWorkflow>(id), failbackFollow, io)).code;
      const w = conn.client.workflow;
      if (type === 'accountFailoverWorkflow') return (await follow(w.getHandle<typeof accountFailoverWorkflow>(id), accountFailoverFollow, io)).code;
      if (type === 'accountFailbackWorkflow') return (await follow(w.getHandle<typeof accountFailbackWorkflow>(id), accountFailbackFollow, io)).code;
      if (type === 'accountSetupWorkflow') return (await follow(w.getHandle<typeof accountSetupWorkflow>(id), accountSetupFollow, io)).code;
      throw notSteerable(id, type);
    });
  },
});

const by = () => {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
};

function controlCommand(word: 'pause' | 'resume' | 'cancel', signal: ControlSignal, summary: string) {
  return defineCommand({
    words: [word],
    summary,
    args: 'WORKFLOW_ID',
    examples:
      word === 'cancel'
        ? [`secrets-dr cancel secrets-dr/payments/failback --reason "primary is flapping again"`]
        : [`secrets-dr ${word} secrets-dr/payments/failover`, `secrets-dr ${word} secrets-dr/payments/failback`],
    options: { reason: { type: 'string', placeholder: 'TEXT', description: 'why (recorded in the workflow history and the report)' } },
    schema: z.object({
      json: z.boolean(),
      reason: z.string().max(1_000).optional(),
      positionals: z.tuple([z.string().min(1)], { error: 'expected exactly one WORKFLOW_ID' }),
    }),
    async run(opts, io) {
      const id = opts.positionals[0];
      return withTemporal({}, async (conn) => {
        try {
          const handle = conn.client.workflow.getHandle(id);
          const type = await workflowType(handle, id);
          if (!(STEERABLE as readonly string[]).includes(type)) throw notSteerable(id, type);
          await handle.signal(signal, { by: by(), ...(opts.reason ? { reason: opts.reason } : {}) });
          io.out(io.json ? JSON.stringify({ workflowId: id, signal: signal.name }) : `${id}: ${signal.name} sent (takes effect between batches)`);
          return ExitCode.Ok;
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) throw new OperatorError(ErrorType.UsageError, `no running workflow with id ${id}`);
          throw err;
        }
      });
    },
  });
}

export const pauseCommand = controlCommand('pause', pauseSignal, 'pause a running failover or failback between batches');
export const resumeCommand = controlCommand('resume', resumeSignal, 'resume a paused failover or failback');
export const cancelCommand = controlCommand('cancel', cancelSignal, 'stop a failover or failback between batches (what is done stays done and is reported)');
