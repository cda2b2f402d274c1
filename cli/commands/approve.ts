/** `secrets-dr approve ID` / `reject ID --reason TEXT`: answer a workflow's approval gate. */
import { z } from 'zod';
import { type ApprovalDecision } from '../../domain/approval.js';
import { ExitCode } from '../../domain/errors.js';
import { approvalUpdate } from '../../workflows/kit/control.messages.js';
import { defineCommand } from '../command.js';
import { operatorName as by } from '../operator.js';
import { printJson, type Io } from '../output.js';
import { withTemporal } from '../temporal.js';
import { sendUpdate } from '../workflow-update.js';

async function answer(id: string, decision: ApprovalDecision, io: Io): Promise<ExitCode> {
  return withTemporal({}, async (c) => {
    const result = await sendUpdate(c, id, approvalUpdate, decision);
    if (io.json) printJson(io, { workflowId: id, ...decision, result });
    else
      io.out(`${id}: ${decision.decision === 'approve' ? 'approved' : `rejected (${decision.reason})`}${decision.subject ? ` for ${decision.subject}` : ''}`);
    return ExitCode.Ok;
  });
}

export const approveCommand = defineCommand({
  words: ['approve'],
  summary: 'approve the gate a workflow is waiting at',
  args: 'WORKFLOW_ID',
  examples: [
    'secrets-dr approve secrets-dr/payments/failover',
    'secrets-dr approve secrets-dr/payments/failback --subject prod/App/Mysql --reason keep-original',
  ],
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
