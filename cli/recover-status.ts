/**
 * The plan's recover workflow as `status` shows it: nothing when none runs; otherwise its phase, and
 * while the veto window is open, where the failover would go, the time left and the command that
 * stops it. Read with the workflow's status query (its memory; no AWS call).
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { formatDuration } from '../domain/duration.js';
import { recoverWorkflowId } from '../domain/ids.js';
import type { RecoverStatus } from '../domain/recover.js';
import type { recoverWorkflow } from '../workflows/recover.workflow.js';
import { recoverStatusQuery } from '../workflows/recover.messages.js';
import type { Io } from './output.js';
import type { Connected } from './temporal.js';

interface RunningRecover extends RecoverStatus {
  workflowId: string;
  /** Milliseconds until the veto window closes (while it is open). */
  vetoWindowLeftMs?: number;
}

export async function runningRecover(c: Connected, planName: string, now = Date.now()): Promise<RunningRecover | undefined> {
  const handle = c.client.workflow.getHandle<typeof recoverWorkflow>(recoverWorkflowId(planName));
  try {
    if ((await handle.describe()).status.name !== 'RUNNING') return undefined;
    const s = await handle.query(recoverStatusQuery);
    const left = s.vetoWindowEndsAt ? Math.max(0, Date.parse(s.vetoWindowEndsAt) - now) : undefined;
    return { workflowId: handle.workflowId, ...s, ...(left !== undefined ? { vetoWindowLeftMs: left } : {}) };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

export function renderRecover(r: RunningRecover, io: Io): void {
  const last = r.journal.at(-1);
  io.out(`recover ${r.workflowId}: ${r.phase}${last ? ` (last: ${last.what})` : ''}`);
  if (r.phase === 'vetoWindow') {
    const left = r.vetoWindowLeftMs === undefined ? 'soon' : `in ${formatDuration(r.vetoWindowLeftMs)}`;
    io.out(`  VETO WINDOW OPEN: automatic failover to ${r.target ?? 'the DR Region'} ${left} (until ${r.vetoWindowEndsAt ?? '?'})`);
    io.out(`  to stop it: secrets-dr veto ${r.workflowId} --reason TEXT`);
  }
  if (r.phase === 'awaitingApproval')
    io.out(`  waiting for approval: secrets-dr approve ${r.workflowId}   |   secrets-dr reject ${r.workflowId} --reason TEXT`);
}
