/**
 * The one error handler at the edge: operator errors print as one clear line (plus their list of
 * problems) with exit 2 or their own code; Temporal/network errors as one line with what to do;
 * anything else is a bug in secrets-dr, printed with its stack.
 */
import { ExitCode, OperatorError } from '../domain/errors.js';
import { paint, type Io } from './output.js';

function isConnectionError(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: number | string };
  return (
    e?.name === 'TransportError' ||
    /ECONNREFUSED|connect|UNAVAILABLE|Failed to connect|transport|DNS resolution|tcp connect error|deadline/i.test(e?.message ?? '')
  );
}

export function handleError(err: unknown, io: Io, context: { temporalAddress?: string } = {}): ExitCode {
  if (err instanceof OperatorError) {
    if (io.json) {
      io.out(JSON.stringify({ error: { type: err.type, message: err.message, problems: err.problems } }, null, 2));
    } else {
      io.err(`${paint(io, 'red', 'error:')} ${err.message}`);
      for (const p of err.problems) io.err(`  ${p.path}: ${p.message}`);
    }
    return err.exitCode;
  }
  if (isConnectionError(err)) {
    const where = context.temporalAddress ? ` at ${context.temporalAddress}` : '';
    const message = `cannot reach the Temporal server${where}: ${(err as Error).message.split('\n')[0]} (set TEMPORAL_ADDRESS, or start the local stack with \`secrets-dr lab up\`)`;
    if (io.json) io.out(JSON.stringify({ error: { type: 'TemporalUnreachable', message } }, null, 2));
    else io.err(`error: ${message}`);
    return ExitCode.Failed;
  }
  const e = err as Error;
  if (io.json) io.out(JSON.stringify({ error: { type: 'InternalError', message: e?.message ?? String(err) } }, null, 2));
  else io.err(`internal error (a bug in secrets-dr; please report it): ${e?.stack ?? String(err)}`);
  return ExitCode.Failed;
}
