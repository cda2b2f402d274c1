/** Output helpers: plain tables for people, one JSON document (or JSON lines) for machines. */
import { formatLog, logFormat } from '../worker/log.js';

/** With SECRETS_DR_LOG_FORMAT=json stderr is a log stream: a plain line (a progress bar, a notice) becomes one JSON log line. */
function errLine(line: string): string {
  if (logFormat() !== 'json' || line.startsWith('{"ts":')) return line;
  return formatLog('json', 'info', line);
}
export interface Io {
  out(line: string): void;
  err(line: string): void;
  json: boolean;
  /** Colour and progress bars only on a terminal. */
  tty: boolean;
}

export function stdio(json: boolean): Io {
  return {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(errLine(l) + '\n'),
    json,
    tty: Boolean(process.stdout.isTTY) && !json,
  };
}

export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/** Left-aligned columns; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}
