/**
 * The log stream of the worker, the receiver and the CLI's errors: human text by default, one
 * JSON object per line (`{"ts","level","msg","fields"}`) with SECRETS_DR_LOG_FORMAT=json. What
 * goes in is names, Regions, ids and counts; callers never pass a secret value (the leak scans
 * read this stream too).
 */

export type LogFormat = 'text' | 'json';
export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error';
type LogFields = Record<string, unknown>;

export const LOG_FORMATS = ['text', 'json'] as const;

/** The format asked for; anything but `json` is text (worker/config.ts rejects other values at start). */
export function logFormat(env: NodeJS.ProcessEnv = process.env): LogFormat {
  return env.SECRETS_DR_LOG_FORMAT?.trim().toLowerCase() === 'json' ? 'json' : 'text';
}

/** Errors become `{name, message, type?}`, bigints strings: JSON.stringify would print `{}` or throw. */
function plain(value: unknown, depth = 0): unknown {
  if (value instanceof Error) {
    const e = value as Error & { type?: string; cause?: unknown };
    return {
      name: e.name,
      message: e.message,
      ...(e.type ? { type: e.type } : {}),
      ...(e.cause !== undefined && depth < 3 ? { cause: plain(e.cause, depth + 1) } : {}),
    };
  }
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return depth < 6 ? value.map((v) => plain(v, depth + 1)) : '[…]';
  if (value && typeof value === 'object') {
    if (depth >= 6) return '{…}';
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => typeof v !== 'function')
        .map(([k, v]) => [k, plain(v, depth + 1)]),
    );
  }
  return value;
}

/** One log line, without its newline. */
export function formatLog(format: LogFormat, level: LogLevelName, msg: string, fields: LogFields = {}, at = new Date()): string {
  if (format === 'json') return JSON.stringify({ ts: at.toISOString(), level, msg, fields: plain(fields) });
  const extra = Object.keys(fields).length ? ` ${JSON.stringify(plain(fields))}` : '';
  return `${at.toISOString()} [${level.toUpperCase()}] ${msg}${extra}`;
}

export type Log = (level: LogLevelName, msg: string, fields?: LogFields) => void;

/** A logger writing to stderr in the format of the environment (read once). */
export function stderrLog(format: LogFormat = logFormat()): Log {
  return (level, msg, fields) => {
    process.stderr.write(`${formatLog(format, level, msg, fields)}\n`);
  };
}
