/** `secrets-dr approve ID` / `reject ID --reason TEXT`: answer a workflow's approval gate. */
import { userInfo } from 'node:os';
import { z } from 'zod';
import { WorkflowNotFoundError } from '@temporalio/client';
import { APPROVAL_UPDATE, type ApprovalDecision } from '../../domain/approval.js';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import { defineCommand } from '../command.js';
import { printJson, type Io } from '../output.js';
import { connectClient } from '../temporal.js';

async function answer(id: string, decision: ApprovalDecision, io: Io): Promise<ExitCode> {
  const c = await connectClient();
  try {
    const result = await c.client.workflow.getHandle(id).executeUpdate(APPROVAL_UPDATE, { args: [decision] });
    if (io.json) printJson(io, { workflowId: id, ...decision, result });
    else io.out(`${id}: ${decision.decision === 'approve' ? 'approved' : `rejected (${decision.reason})`}${decision.subject ? ` for ${decision.subject}` : ''}`);
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new OperatorError(ErrorType.UsageError, `no running workflow with id ${id}`);
    const msg = (err as Error).message;
    if (/update|validat|reject|not waiting|no pending/i.test(msg)) throw new OperatorError(ErrorType.UsageError, `${id} refused the answer: ${msg}`, [], ExitCode.Failed);
    throw err;
  } finally {
    await c.close();
  }
}

const by = () => {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
};

export const approveCommand = defineCommand({
  words: ['approve'],
  summary: 'approve the gate a workflow is waiting at',
  args: 'WORKFLOW_ID',
  examples: ['secrets-dr approve secrets-dr/payments/failover', 'secrets-dr approve secrets-dr/payments/failback --subject prod/App/Mysql --reason keep-original'],
  options: {
    subject: { type: 'string', placeholder: 'SECRET', description: 'answer the gate about this one secret (a per-secret question of failback or setup)' },
    reason: { type: 'string', placeholder: 'TEXT', description: 'why, kept in the workflow history (failback per-secret: keep-original)' },
  },
  schema: z.object({
    positionals: z.tuple([z.string().min(1)], { error: 'expected exactly one WORKFLOW_ID' }),
    subject: z.string().optional(),
    reason: z.string().optional(),
  }),
  run: (o, io) => answer(o.positionals[0], { decision: 'approve', reason: o.reason, subject: o.subject, by: by() }, io),
});

export const rejectCommand = defineCommand({
  words: ['reject'],
  summary: 'reject the gate a workflow is waiting at (nothing destructive happens)',
  args: 'WORKFLOW_ID',
  examples: ['secrets-dr reject secrets-dr/payments/failover --reason "primary is back, no failover"'],
  options: {
    subject: { type: 'string', placeholder: 'SECRET', description: 'reject the gate about this one secret only' },
    reason: { type: 'string', placeholder: 'TEXT', description: 'why (required), kept in the workflow history' },
  },
  schema: z.object({
    positionals: z.tuple([z.string().min(1)], { error: 'expected exactly one WORKFLOW_ID' }),
    subject: z.string().optional(),
    reason: z.string({ error: 'a rejection needs --reason TEXT' }).min(1),
  }),
  run: (o, io) => answer(o.positionals[0], { decision: 'reject', reason: o.reason, subject: o.subject, by: by() }, io),
});
