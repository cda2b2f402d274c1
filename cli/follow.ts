/**
 * Follows a running operation until it ends: its progress (a bar on a terminal, a line per change
 * otherwise, one JSON line per poll with --json), hints for the approvals it waits for, then its
 * report and exit code. One loop for `watch`, `failover --wait` and `failback`: each operation
 * only says how to draw its progress and report (a FollowSpec).
 */
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition, Workflow, WorkflowResultType } from '@temporalio/common';
import { ErrorType, ExitCode, OperatorError } from '../domain/errors.js';
import type { Io } from './output.js';

export interface FollowSpec<W extends Workflow, P> {
  /** "failover", "failback": for messages. */
  noun: string;
  progressQuery: QueryDefinition<P>;
  line(p: P): string;
  /** The approvals the operation waits for now ('' = the fleet-wide gate, else a subject). */
  gates(p: P): string[];
  render(report: WorkflowResultType<W>, io: Io): void;
  exitCode(report: WorkflowResultType<W>): ExitCode;
  /** Without a terminal, print a changed line at most this often (ms; 0: every change). */
  quietMs?: number;
}

interface FollowOptions {
  /** false: return exit 4 as soon as an approval is pending (the caller's `--wait` is absent). */
  wait?: boolean;
  pollMs?: number;
}

export function approvalHint(id: string, subject: string): string {
  const about = subject ? ` --subject ${subject}` : '';
  return `waiting for approval${subject ? ` about ${subject}` : ''}: secrets-dr approve ${id}${about}${subject ? ' [--reason keep-original]' : ''}   (or: secrets-dr reject ${id}${about} --reason TEXT)`;
}

export async function follow<W extends Workflow, P>(
  handle: WorkflowHandle<W>,
  spec: FollowSpec<W, P>,
  io: Io,
  opts: FollowOptions = {},
): Promise<{ code: ExitCode; report?: WorkflowResultType<W> }> {
  const wait = opts.wait ?? true;
  const say = (l: string) => (io.json ? io.err(l) : io.out(l));
  let lastLine = '';
  let lastPrinted = 0;
  const hinted = new Set<string>();
  for (;;) {
    let running: boolean;
    try {
      running = (await handle.describe()).status.name === 'RUNNING';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new OperatorError(ErrorType.UsageError, `no workflow with id ${handle.workflowId}`);
      throw err;
    }
    if (!running) break;
    const p = await handle.query(spec.progressQuery).catch(() => undefined);
    if (p !== undefined) {
      const line = spec.line(p);
      if (io.json) io.out(JSON.stringify({ type: 'progress', at: new Date().toISOString(), ...p }));
      else if (io.tty) process.stdout.write(`\r${line.padEnd(lastLine.length)}`);
      else if (line !== lastLine && Date.now() - lastPrinted >= (spec.quietMs ?? 0)) {
        io.out(line);
        lastPrinted = Date.now();
      }
      lastLine = line;
      const gates = spec.gates(p);
      for (const g of gates.filter((x) => !hinted.has(x))) {
        hinted.add(g);
        say(`${io.tty && !io.json ? '\n' : ''}${approvalHint(handle.workflowId, g)}`);
      }
      if (!wait && gates.length > 0) return { code: ExitCode.AwaitingApproval };
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? (wait ? 1_000 : 300)));
  }
  if (io.tty && !io.json && lastLine) process.stdout.write('\n');
  let report: WorkflowResultType<W>;
  try {
    report = await handle.result();
  } catch (err) {
    io.err(`${spec.noun} ${handle.workflowId} did not finish: ${(err as Error).message}`);
    return { code: ExitCode.Failed };
  }
  if (io.json) io.out(JSON.stringify({ type: 'report', ...(report as object) }));
  else spec.render(report, io);
  return { code: spec.exitCode(report), report };
}
