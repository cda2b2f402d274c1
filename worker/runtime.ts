/** The Temporal Core runtime of this process, installed once with the log level asked for. */
import { appendFileSync } from 'node:fs';
import { DefaultLogger, Runtime, type LogLevel, type LogEntry } from '@temporalio/worker';

let installed = false;

// Our workers are split on purpose (workflows on one queue, each Region's activities on its own),
// so these two notices describe the design, not a problem.
const EXPECTED = /^No (activities|workflows) registered, not polling/;

/** Level from SECRETS_DR_LOG_LEVEL, else the given default. */
export function logLevelFromEnv(fallback: LogLevel): LogLevel {
  const level = process.env.SECRETS_DR_LOG_LEVEL?.toUpperCase();
  return level === 'TRACE' || level === 'DEBUG' || level === 'INFO' || level === 'WARN' || level === 'ERROR' ? level : fallback;
}

/** One log line as the console logger writes it, for a log file. */
function fileLine(entry: LogEntry): string {
  const at = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  return `${at} [${entry.level}] ${entry.message}${entry.meta && Object.keys(entry.meta).length ? ` ${JSON.stringify(entry.meta)}` : ''}\n`;
}

/**
 * Installs the runtime (once). Only processes that run workers call this: an installed runtime
 * keeps the process alive, so short commands must not. With `logFile`, worker and Core logs go
 * to that file instead of the console (the demo keeps its story free of log lines that way).
 */
export function installRuntime(level: LogLevel = logLevelFromEnv('WARN'), logFile?: string): void {
  if (installed) return;
  installed = true;
  const base = new DefaultLogger(level, logFile ? (entry: LogEntry) => appendFileSync(logFile, fileLine(entry)) : undefined);
  const logger = new DefaultLogger(level, (entry: LogEntry) => {
    if (EXPECTED.test(entry.message)) return;
    const compact = compactActivityFailure(entry);
    if (compact) return base.log(entry.level, compact);
    base.log(entry.level, entry.message, entry.meta);
  });
  Runtime.install({ logger, telemetryOptions: { logging: { forward: {}, filter: { core: level, other: level } } } });
}

/**
 * An activity failing with one of our typed failures (a Region that does not answer, a refused
 * call) is an expected event during an outage: one line says it; the stack adds nothing.
 */
function compactActivityFailure(entry: LogEntry): string | undefined {
  if (entry.message !== 'Activity failed') return undefined;
  const meta = entry.meta as { error?: { name?: string; type?: string; message?: string }; activityType?: string; attempt?: number; workflowId?: string } | undefined;
  const err = meta?.error;
  if (!err || err.name !== 'ApplicationFailure' || !err.type) return undefined;
  return `activity ${meta?.activityType} failed (attempt ${meta?.attempt}, workflow ${meta?.workflowId}): ${err.type}: ${err.message}`;
}
