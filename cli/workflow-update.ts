/**
 * Answers a running workflow through one of its updates (approval, veto). The workflow's synchronous
 * validator decides whether the answer is taken; a refusal comes back as an operator error with the
 * workflow's own reason, and nothing reaches its history.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { rootCause } from '@temporalio/common';
import type { UpdateDefinition } from '@temporalio/common';
import { ErrorType, ExitCode, OperatorError } from '../domain/errors.js';
import type { Connected } from './temporal.js';

export async function sendUpdate<Ret, Arg>(c: Connected, workflowId: string, update: UpdateDefinition<Ret, [Arg]>, arg: Arg): Promise<Ret> {
  try {
    return await c.client.workflow.getHandle(workflowId).executeUpdate(update, { args: [arg] });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new OperatorError(ErrorType.UsageError, `no running workflow with id ${workflowId} (check the id with \`secrets-dr status\`)`);
    }
    if (err instanceof WorkflowUpdateFailedError) {
      throw new OperatorError(ErrorType.UsageError, `${workflowId} refused the answer: ${rootCause(err.cause) ?? err.message}`, [], ExitCode.Failed);
    }
    throw err;
  }
}
