/**
 * The one error handler at the edge: operator errors print as one clear line (plus their list of
 * problems) with exit 2 or their own code; Temporal/network errors as one line with what to do;
 * anything else is a bug in secrets-dr, printed with its stack. With SECRETS_DR_LOG_FORMAT=json
 * (and no --json) each error is one JSON log line on stderr instead (worker/log.ts).
 */
import { ExitCode, OperatorError } from '../domain/errors.js';
import { formatLog, logFormat } from '../worker/log.js';
import { paint, type Io } from './output.js';

function isConnectionError(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: number | string };
  return (
    e?.name === 'TransportError' ||
    /ECONNREFUSED|connect|UNAVAILABLE|Failed to connect|transport|DNS resolution|tcp connect error|deadline/i.test(e?.message ?? '')
  );
}

interface Reported {
  type: string;
  message: string;
  problems?: OperatorError['problems'];
  stack?: string;
  exitCode: ExitCode;
}

function classify(err: unknown, context: { temporalAddress?: string }): Reported {
  if (err instanceof OperatorError) return { type: err.type, message: err.message, problems: err.problems, exitCode: err.exitCode };
  if (isConnectionError(err)) {
    const where = context.temporalAddress ? ` at ${context.temporalAddress}` : '';
    return {
      type: 'TemporalUnreachable',
      message: `cannot reach the Temporal server${where}: ${(err as Error).message.split('\n')[0]} (set TEMPORAL_ADDRESS or TEMPORAL_PROFILE, or start the local stack with \`secrets-dr lab up\`)`,
      exitCode: ExitCode.Failed,
    };
  }
  const e = err as Error;
  return { type: 'InternalError', message: e?.message ?? String(err), stack: e?.stack, exitCode: ExitCode.Failed };
}

export function handleError(err: unknown, io: Io, context: { temporalAddress?: string } = {}): ExitCode {
  const r = classify(err, context);
  if (io.json) {
    io.out(JSON.stringify({ error: { type: r.type, message: r.message, ...(r.problems ? { problems: r.problems } : {}) } }, null, 2));
  } else if (logFormat() === 'json') {
    const internal = r.type === 'InternalError' ? 'internal error (a bug in secrets-dr; please report it): ' : '';
    io.err(
      formatLog('json', 'error', `${internal}${r.message}`, {
        type: r.type,
        exitCode: r.exitCode,
        ...(r.problems?.length ? { problems: r.problems } : {}),
        ...(r.stack ? { stack: r.stack } : {}),
      }),
    );
  } else if (r.type === 'InternalError') {
    io.err(`internal error (a bug in secrets-dr; please report it): ${r.stack ?? r.message}`);
  } else {
    io.err(`${paint(io, 'red', 'error:')} ${r.message}`);
    for (const p of r.problems ?? []) io.err(`  ${p.path}: ${p.message}`);
  }
  return r.exitCode;
}
