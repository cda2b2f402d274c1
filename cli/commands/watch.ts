/**
 * `secrets-dr watch ID`: live progress of a failover (progress bar: promoted / total, rate, ETA;
 * `--json` streams one JSON line per second), then its report and exit code.
 * `pause ID` / `resume ID` / `cancel ID [--reason]`: control a running failover (between batches;
 * what is promoted stays promoted and is reported).
 */
import { userInfo } from 'node:os';
import { z } from 'zod';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import { CANCEL_SIGNAL, PAUSE_SIGNAL, PROGRESS_QUERY, RESUME_SIGNAL } from '../../domain/control.js';
import { formatDuration } from '../../domain/duration.js';
import { type FailoverProgress, type FailoverReport } from '../../domain/failover.js';
import { defineCommand } from '../command.js';
import type { Io } from '../output.js';
import { connectClient, type Connected } from '../temporal.js';
import { exitCodeOf, renderFailoverReport } from './failover.js';

export function progressLine(p: FailoverProgress): string {
  const done = p.counts.promoted + p.counts.alreadyStandalone;
  const width = 30;
  const filled = p.total > 0 ? Math.round((p.processed / p.total) * width) : 0;
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const state = p.paused ? 'PAUSED' : p.cancelRequested ? 'cancelling' : p.step;
  const eta = p.etaMs !== undefined ? `, ETA ${formatDuration(p.etaMs)}` : '';
  const failed = p.counts.failed ? `, ${p.counts.failed} failed` : '';
  return `${bar} ${done}/${p.total} standalone${failed} · ${p.ratePerSecond}/s${eta} · ${state}`;
}

export async function watchFailover(c: Connected, workflowId: string, io: Io): Promise<ExitCode> {
  const handle = c.client.workflow.getHandle(workflowId);
  let lastLine = '';
  let lastPrinted = 0;
  let approvalHinted = false;
  for (;;) {
    let d;
    try {
      d = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new OperatorError(ErrorType.UsageError, `no workflow with id ${workflowId}`);
      throw err;
    }
    if (d.status.name !== 'RUNNING') break;
    const p = await handle.query<FailoverProgress>(PROGRESS_QUERY).catch(() => undefined);
    if (p) {
      if (io.json) io.out(JSON.stringify({ type: 'progress', at: new Date().toISOString(), ...p }));
      else {
        const line = progressLine(p);
        if (io.tty) process.stdout.write(`\r${line.padEnd(lastLine.length)}`);
        else if (line !== lastLine && Date.now() - lastPrinted > 5_000) {
          io.out(line);
          lastPrinted = Date.now();
        }
        lastLine = line;
      }
      if (p.step === 'awaitingApproval' && !approvalHinted) {
        approvalHinted = true;
        (io.json ? io.err : io.out)(`${io.tty ? '\n' : ''}waiting for approval: secrets-dr approve ${workflowId}`);
      }
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
  if (io.tty && lastLine) process.stdout.write('\n');
  let report: FailoverReport;
  try {
    report = (await handle.result()) as FailoverReport;
  } catch (err) {
    io.err(`failover ${workflowId} did not finish: ${(err as Error).message}`);
    return ExitCode.Failed;
  }
  if (io.json) io.out(JSON.stringify({ type: 'report', ...report }));
  else renderFailoverReport(report, io);
  return exitCodeOf(report);
}

export const watchCommand = defineCommand({
  words: ['watch'],
  summary: 'live progress of a failover (progress bar; --json streams lines)',
  usage: 'secrets-dr watch WORKFLOW_ID [--json]',
  options: {},
  schema: z.object({ json: z.boolean(), positionals: z.tuple([z.string().min(1)], { error: 'expected exactly one WORKFLOW_ID' }) }),
  async run(opts, io) {
    const conn = await connectClient();
    try {
      return await watchFailover(conn, opts.positionals[0], io);
    } finally {
      await conn.close();
    }
  },
});

const by = () => {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
};

function controlCommand(word: 'pause' | 'resume' | 'cancel', signal: string, summary: string) {
  return defineCommand({
    words: [word],
    summary,
    usage: `secrets-dr ${word} WORKFLOW_ID${word === 'cancel' ? ' [--reason TEXT]' : ''}`,
    options: { reason: { type: 'string' } },
    schema: z.object({ json: z.boolean(), reason: z.string().max(1_000).optional(), positionals: z.tuple([z.string().min(1)], { error: 'expected exactly one WORKFLOW_ID' }) }),
    async run(opts, io) {
      const id = opts.positionals[0];
      const conn = await connectClient();
      try {
        await conn.client.workflow.getHandle(id).signal(signal, { by: by(), ...(opts.reason ? { reason: opts.reason } : {}) });
        io.out(io.json ? JSON.stringify({ workflowId: id, signal }) : `${id}: ${signal} sent (takes effect between batches)`);
        return ExitCode.Ok;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new OperatorError(ErrorType.UsageError, `no running workflow with id ${id}`);
        throw err;
      } finally {
        await conn.close();
      }
    },
  });
}

export const pauseCommand = controlCommand('pause', PAUSE_SIGNAL, 'pause a running failover between batches');
export const resumeCommand = controlCommand('resume', RESUME_SIGNAL, 'resume a paused failover');
export const cancelCommand = controlCommand('cancel', CANCEL_SIGNAL, 'stop promoting (what is promoted stays promoted and is reported)');
