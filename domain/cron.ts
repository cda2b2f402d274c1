/**
 * Cron expressions as Temporal Schedules accept them (`ScheduleSpec.cronExpressions`): 5 fields
 * (minute hour day-of-month month day-of-week), 6 (… year) or 7 (second … year); `@yearly`,
 * `@monthly`, `@weekly`, `@daily`, `@hourly`, `@every <n><s|m|h|d>[/<phase>]`; an optional
 * `CRON_TZ=<zone>`/`TZ=<zone>` prefix and `# comment` suffix. Checked here so a plan with a bad
 * `drills.schedule` is refused when it is validated, not when the schedule is created.
 */

interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const SECOND: Field = { name: 'second', min: 0, max: 59 };
const MINUTE: Field = { name: 'minute', min: 0, max: 59 };
const HOUR: Field = { name: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: Field = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: Field = { name: 'month', min: 1, max: 12, names: MONTHS };
/** 0 and 7 are both Sunday. */
const DAY_OF_WEEK: Field = { name: 'day-of-week', min: 0, max: 7, names: DAYS };
const YEAR: Field = { name: 'year', min: 1970, max: 2999 };

const LAYOUTS: Record<number, Field[]> = {
  5: [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK],
  6: [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR],
  7: [SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR],
};

const SHORTHANDS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
const EVERY = /^@every\s+\d+[smhd](\/\d+[smhd])?$/;

function valueOf(text: string, f: Field): number | string {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n < f.min || n > f.max ? `${text} is out of range (${f.min}-${f.max})` : n;
  }
  const i = f.names?.indexOf(text.toUpperCase() as never) ?? -1;
  if (i >= 0) return f === MONTH ? i + 1 : i;
  return f.names ? `"${text}" is neither a number (${f.min}-${f.max}) nor a name (${f.names.join(', ')})` : `"${text}" is not a number (${f.min}-${f.max})`;
}

/** The problem with one field (a value, a range `1-5`/`MON-FRI`, a list `0,30`, a step), or undefined when it is valid. */
function fieldProblem(text: string, f: Field): string | undefined {
  for (const part of text.split(',')) {
    const [range, step, extra] = part.split('/');
    if (extra !== undefined || range === undefined || range === '') return `"${part}" is not a value, a range or a step`;
    if (step !== undefined && !/^[1-9]\d*$/.test(step)) return `the step in "${part}" must be a whole number of at least 1`;
    if (range === '*') continue;
    const bounds = range.split('-');
    if (bounds.length > 2 || bounds.some((b) => b === '')) return `"${range}" is not a value or a range "a-b"`;
    const values = bounds.map((b) => valueOf(b, f));
    const bad = values.find((v) => typeof v === 'string');
    if (bad !== undefined) return String(bad);
    if (values.length === 2 && (values[0] as number) > (values[1] as number)) return `the range "${range}" runs backwards`;
  }
  return undefined;
}

/** Why `expr` is not a cron expression Temporal accepts, or undefined when it is one. */
export function cronProblem(expr: string): string | undefined {
  let s = expr
    .trim()
    .replace(/\s+#.*$/, '')
    .trim();
  s = s.replace(/^(CRON_TZ|TZ)=\S+\s+/, '');
  if (s === '') return 'it is empty';
  if (s.startsWith('@')) {
    return SHORTHANDS.has(s) || EVERY.test(s) ? undefined : `"${s}" is not one of ${[...SHORTHANDS].join(', ')} or "@every <n><s|m|h|d>"`;
  }
  const fields = s.split(/\s+/);
  const layout = LAYOUTS[fields.length];
  if (!layout)
    return `it has ${fields.length} field${fields.length === 1 ? '' : 's'}; expected 5 (minute hour day-of-month month day-of-week), 6 (… year) or 7 (second … year)`;
  for (const [i, text] of fields.entries()) {
    const problem = fieldProblem(text, layout[i]!);
    if (problem) return `field ${i + 1} (${layout[i]!.name}): ${problem}`;
  }
  return undefined;
}
