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
  /** Progress bars (carriage returns) only on a terminal; never with --json. */
  tty: boolean;
  /** Colour and symbols: a terminal, not --json, and NO_COLOR unset or empty (https://no-color.org). */
  color?: boolean;
}

/** Whether output to a stream may be coloured: a terminal, not --json, NO_COLOR unset or empty. */
export function colorAllowed(stream: { isTTY?: boolean }, json: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !json && !env.NO_COLOR;
}

export function stdio(json: boolean): Io {
  return {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(errLine(l) + '\n'),
    json,
    tty: Boolean(process.stdout.isTTY) && !json,
    color: colorAllowed(process.stdout, json),
  };
}

const SGR = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;
type Style = keyof typeof SGR;

/** Styles text for this Io: ANSI colour when `io.color`, the text unchanged otherwise. */
export function paint(io: Pick<Io, 'color'>, style: Style, text: string): string {
  if (!io.color) return text;
  const [on, off] = SGR[style];
  return `\u001b[${on}m${text}\u001b[${off}m`;
}

/** A status symbol on a colour terminal (✓ ✗ ⚠), a plain word elsewhere (logs and pipes stay ASCII). */
export function symbol(io: Pick<Io, 'color'>, kind: 'ok' | 'fail' | 'warn'): string {
  if (!io.color) return { ok: 'ok', fail: 'FAILED', warn: 'warning' }[kind];
  return { ok: paint(io, 'green', '✓'), fail: paint(io, 'red', '✗'), warn: paint(io, 'yellow', '⚠') }[kind];
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
