/**
 * Rotation schedules (RotationRulesType) read the way Secrets Manager reads them: AutomaticallyAfterDays,
 * `rate(N hours|days)` and `cron(0 H D M W *)` ScheduleExpressions (UTC), with an optional Duration
 * (`1h`..`24h`); and the rotation windows they define. Pure, shared by the product (status shows
 * the next window, the monitor judges freshness by the real window, failover/failback re-home the
 * rules) and the lab (which answers RotateSecret as AWS does). A rule AWS would refuse is reported
 * through `bad(why)`, which each caller turns into its own error.
 *
 * Sources (AWS API reference RotationRulesType, user guide "Rotation schedules"):
 * - rate(N hour|hours|day|days): at most every 4 hours, at most 999 days; windows start at midnight
 *   (hour rates: every N hours from midnight, reset each day).
 * - cron(Minutes Hours Day-of-month Month Day-of-week Year), UTC: minutes must be 0 (windows open on
 *   the hour), year must be *; L and # as in the user guide; one of the day fields is ?.
 * - The window closes after Duration, else after 1 h (a schedule in hours) or at the end of the UTC
 *   day (a schedule in days); it must not reach into the next UTC day or the next window.
 */
import { z } from 'zod';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** RotationRules as the API carries them. */
export const RotationRules = z.object({
  AutomaticallyAfterDays: z.number().int().optional(),
  ScheduleExpression: z.string().optional(),
  Duration: z.string().optional(),
});
export type RotationRules = z.infer<typeof RotationRules>;

/** A rotation window, epoch ms: rotation starts at some moment in [start, end). */
export interface RotationWindow {
  start: number;
  end: number;
}

export interface Schedule {
  /** The first window that opens after `afterMs` (after the last rotation, or when rotation was set up). */
  windowAfter(afterMs: number): RotationWindow;
  /** AutomaticallyAfterDays as DescribeSecret reports it. */
  days(): number;
}

/** Builds the error for a rule Secrets Manager would refuse, from the reason. */
type BadRule = (why: string) => Error;
const plainError: BadRule = (why) => new Error(why);

/** The schedule the rules define (undefined: no schedule, rotation only on demand). */
export function parseSchedule(rules: RotationRules | undefined, invalidParam: BadRule = plainError): Schedule | undefined {
  if (!rules) return undefined;
  let duration: number | undefined;
  if (rules.Duration !== undefined) {
    const h = Number(rules.Duration.slice(0, -1));
    if (h < 1 || h > 24) throw invalidParam(`Duration ${rules.Duration} is not valid: the rotation window must be between 1h and 24h.`);
    duration = h * HOUR;
  }
  if (rules.AutomaticallyAfterDays !== undefined) return everyNDays(rules.AutomaticallyAfterDays, duration);
  const expr = rules.ScheduleExpression?.trim();
  if (!expr) return undefined;
  const rate = /^rate\((\d+) (hour|hours|day|days)\)$/.exec(expr);
  if (rate) {
    const n = Number(rate[1]);
    if (rate[2]!.startsWith('hour')) {
      if (n < 4 || n > 23)
        throw invalidParam(
          `Invalid ScheduleExpression ${expr}: a rate in hours must be between 4 and 23 hours (Secrets Manager rotates at most every four hours; use days beyond).`,
        );
      if (duration !== undefined && duration > n * HOUR)
        throw invalidParam(
          `Duration ${rules.Duration} is longer than the rotation interval of ${expr}: the rotation window must not extend into the next rotation window.`,
        );
      return everyNHours(n, duration ?? HOUR);
    }
    if (n < 1 || n > 999) throw invalidParam(`Invalid ScheduleExpression ${expr}: a rate in days must be between 1 and 999 days.`);
    return everyNDays(n, duration);
  }
  const cron = /^cron\((.*)\)$/.exec(expr);
  if (cron) return cronSchedule(expr, cron[1]!, duration, rules.Duration, invalidParam);
  throw invalidParam(`Invalid ScheduleExpression ${expr}: use rate(N hours), rate(N days) or cron(0 H D M W *).`);
}

function everyNDays(n: number, duration: number | undefined): Schedule {
  return {
    windowAfter(after) {
      const start = Math.floor(after / DAY) * DAY + n * DAY;
      return { start, end: start + (duration ?? DAY) };
    },
    days: () => n,
  };
}

function everyNHours(n: number, duration: number): Schedule {
  const slots = Array.from({ length: Math.ceil(24 / n) }, (_, i) => i * n).filter((h) => h < 24);
  return {
    windowAfter(after) {
      const earliest = Math.floor(after / HOUR) * HOUR + n * HOUR;
      for (let day = Math.floor(earliest / DAY) * DAY; ; day += DAY) {
        for (const h of slots) {
          const start = day + h * HOUR;
          if (start >= earliest) return { start, end: Math.min(start + duration, day + DAY) };
        }
      }
    },
    days: () => 1,
  };
}

// ------------------------------------------------------------------ cron

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** Day-of-month / day-of-week matcher for one UTC day. */
type DayTest = (d: Date) => boolean;

function cronSchedule(expr: string, body: string, duration: number | undefined, durationText: string | undefined, invalidParam: BadRule): Schedule {
  const bad = (why: string) => invalidParam(`Invalid ScheduleExpression ${expr}: ${why}`);
  const f = body.trim().split(/\s+/);
  if (f.length !== 6) throw bad('a cron expression has 6 fields: Minutes Hours Day-of-month Month Day-of-week Year.');
  const [min, hour, dom, month, dow, year] = f as [string, string, string, string, string, string];
  if (min !== '0') throw bad('the Minutes field must be 0 (rotation windows open on the hour).');
  if (year !== '*') throw bad('the Year field must be * (rotation schedules more than a year apart are not supported).');
  if ((dom === '?') === (dow === '?')) throw bad('exactly one of Day-of-month and Day-of-week must be ?.');
  const hours = listField(hour, 0, 23, undefined, 0, bad, 'Hours');
  const months = listField(month, 1, 12, MONTHS, 1, bad, 'Month');
  const dayTest: DayTest = dom !== '?' ? domTest(dom, bad) : dowTest(dow, bad);
  const hourList = hours ?? Array.from({ length: 24 }, (_, i) => i);
  const inHours = hourList.length > 1;
  const gaps = hourList.slice(1).map((h, i) => (h - hourList[i]!) * HOUR);
  if (inHours) gaps.push((24 - hourList[hourList.length - 1]! + hourList[0]!) * HOUR); // into the next day
  if (inHours && Math.min(...gaps) < 4 * HOUR) throw bad('Secrets Manager rotates a secret at most every four hours.');
  // Default window: one hour for a schedule in hours, else to the end of the UTC day.
  if (duration !== undefined) {
    if (inHours && duration > Math.min(...gaps)) throw bad(`Duration ${durationText} is longer than the time between two rotation windows.`);
    if (hourList[hourList.length - 1]! * HOUR + duration > DAY) throw bad(`Duration ${durationText} makes the rotation window extend into the next UTC day.`);
  }
  const windowLength = (startHour: number) => duration ?? (inHours ? HOUR : DAY - startHour * HOUR);
  const windowAfter = (after: number): RotationWindow => {
    for (let day = Math.floor(after / DAY) * DAY, i = 0; i < 366 * 2; i++, day += DAY) {
      const d = new Date(day);
      if (months && !months.includes(d.getUTCMonth() + 1)) continue;
      if (!dayTest(d)) continue;
      for (const h of hourList) {
        const start = day + h * HOUR;
        if (start > after) return { start, end: start + windowLength(h) };
      }
    }
    throw bad('it has no occurrence within the next two years.');
  };
  windowAfter(Date.now()); // an expression that never fires is refused now
  return {
    windowAfter,
    days() {
      const a = windowAfter(Date.now());
      const b = windowAfter(a.start);
      return Math.max(1, Math.round((b.start - a.start) / DAY));
    },
  };
}

/** A list field (`*`, `a`, `a-b`, `a/n`, `a-b/n`, `*\/n`, comma-separated) as sorted values; null = any. */
function listField(
  text: string,
  lo: number,
  hi: number,
  names: string[] | undefined,
  nameBase: number,
  bad: (w: string) => Error,
  field: string,
): number[] | null {
  if (text === '*') return null;
  const value = (s: string): number => {
    const named = names?.indexOf(s.toUpperCase()) ?? -1;
    const n = named >= 0 ? named + nameBase : /^\d+$/.test(s) ? Number(s) : NaN;
    if (!Number.isInteger(n) || n < lo || n > hi) throw bad(`${field} value ${s} is out of range (${lo}-${hi}).`);
    return n;
  };
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined || range === undefined || range === '') throw bad(`${field} has an invalid element: ${part}.`);
    const step = stepText === undefined ? 1 : /^\d+$/.test(stepText) ? Number(stepText) : NaN;
    if (!Number.isInteger(step) || step < 1) throw bad(`${field} has an invalid increment: ${part}.`);
    let a: number;
    let b: number;
    if (range === '*') [a, b] = [lo, hi];
    else if (range.includes('-')) {
      const [x, y] = range.split('-');
      [a, b] = [value(x!), value(y!)];
      if (a > b) throw bad(`${field} range ${range} runs backwards.`);
    } else [a, b] = [value(range), stepText === undefined ? value(range) : hi];
    for (let n = a; n <= b; n += step) out.add(n);
  }
  return [...out].sort((x, y) => x - y);
}

function lastDayOfMonth(d: Date): number {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
}

function domTest(text: string, bad: (w: string) => Error): DayTest {
  if (text === 'L') return (d) => d.getUTCDate() === lastDayOfMonth(d);
  if (/[#W]/.test(text) || text.includes('L')) throw bad(`Day-of-month ${text}: use values 1-31 with , - * / or L alone.`);
  const days = listField(text, 1, 31, undefined, 0, bad, 'Day-of-month');
  return (d) => days === null || days.includes(d.getUTCDate());
}

function dowTest(text: string, bad: (w: string) => Error): DayTest {
  const weekday = (s: string): number => {
    const i = WEEKDAYS.indexOf(s.toUpperCase());
    const n = i >= 0 ? i + 1 : /^[1-7]$/.test(s) ? Number(s) : NaN;
    if (Number.isNaN(n)) throw bad(`Day-of-week value ${s} is out of range (1-7 or SUN-SAT).`);
    return n;
  };
  const nth = /^([A-Za-z0-9]+)#([1-5])$/.exec(text);
  if (nth) {
    const wd = weekday(nth[1]!);
    const n = Number(nth[2]);
    return (d) => d.getUTCDay() + 1 === wd && Math.ceil(d.getUTCDate() / 7) === n;
  }
  const last = /^([A-Za-z0-9]+)L$/.exec(text);
  if (last) {
    const wd = weekday(last[1]!);
    return (d) => d.getUTCDay() + 1 === wd && d.getUTCDate() + 7 > lastDayOfMonth(d);
  }
  if (text === 'L') return (d) => d.getUTCDay() === 6; // L alone: the last day of the week (SAT)
  if (/[#L]/.test(text)) throw bad(`Day-of-week ${text}: use 1-7 or SUN-SAT with , - * /, or X#n, or XL.`);
  const days = listField(text, 1, 7, WEEKDAYS, 1, bad, 'Day-of-week');
  return (d) => days === null || days.includes(d.getUTCDay() + 1);
}

/**
 * The rules to pass to RotateSecret so a secret keeps its schedule: the ScheduleExpression with its
 * Duration when there is one, else AutomaticallyAfterDays (with its Duration). DescribeSecret also
 * reports an AutomaticallyAfterDays calculated from a ScheduleExpression; sending both is refused
 * ("You cannot specify both rotation frequency and schedule expression together").
 */
export function rulesToRehome(rules: RotationRules | undefined): RotationRules | undefined {
  if (!rules) return undefined;
  const duration = rules.Duration ? { Duration: rules.Duration } : {};
  if (rules.ScheduleExpression) return { ScheduleExpression: rules.ScheduleExpression, ...duration };
  if (rules.AutomaticallyAfterDays !== undefined) return { AutomaticallyAfterDays: rules.AutomaticallyAfterDays, ...duration };
  return undefined;
}

/** The schedule in words: `cron(0 7 * * ? *), 1h window` or `every 30 days`. */
export function scheduleText(rules: RotationRules | undefined): string {
  const r = rulesToRehome(rules);
  if (!r) return 'on demand';
  const what = r.ScheduleExpression ?? `every ${r.AutomaticallyAfterDays} day(s)`;
  return r.Duration ? `${what}, ${r.Duration} window` : what;
}

/** The next window after `afterMs` (undefined: no schedule, or rules this code cannot read). */
export function nextWindow(rules: RotationRules | undefined, afterMs: number): RotationWindow | undefined {
  try {
    return parseSchedule(rulesToRehome(rules))?.windowAfter(afterMs);
  } catch {
    return undefined;
  }
}

/**
 * Freshness by the real window: a secret is late when the first window after its last rotation
 * (or after `sinceMs`, when rotation was configured) has closed without a rotation. A 1-hour
 * window is late one hour after it opened, not at the end of the day.
 */
export function rotationLate(rules: RotationRules | undefined, lastRotatedMs: number | undefined, nowMs: number): RotationWindow | undefined {
  if (lastRotatedMs === undefined) return undefined;
  const w = nextWindow(rules, lastRotatedMs);
  return w && w.end <= nowMs ? w : undefined;
}
