/**
 * Rotation rules as AWS reads them (RotationRulesType): AutomaticallyAfterDays, rate(...) and
 * cron(...) schedule expressions, Duration; the rotation windows they define, and the new values
 * the lab's rotation functions generate.
 *
 * Sources (AWS API reference RotationRulesType, user guide "Rotation schedules", botocore's model):
 * - AutomaticallyAfterDays 1..1000; Duration `[0-9]+h` (2-3 characters); ScheduleExpression 1-256
 *   characters of `[0-9A-Za-z()#?*-/, ]`. Shape violations answer ValidationException in AWS's
 *   "1 validation error detected" form.
 * - AutomaticallyAfterDays together with ScheduleExpression: InvalidParameterException "You cannot
 *   specify both rotation frequency and schedule expression together." (reported from AWS).
 * - rate(N hour|hours|day|days): at most every 4 hours, at most 999 days; windows start at midnight
 *   (hour rates: every N hours from midnight, reset each day).
 * - cron(Minutes Hours Day-of-month Month Day-of-week Year), UTC: minutes must be 0 (windows open on
 *   the hour), year must be *; L and # as in the user guide; one of the day fields is ?.
 * - The window closes after Duration, else after 1 h (a schedule in hours) or at the end of the UTC
 *   day (a schedule in days); it must not reach into the next UTC day or the next window.
 * - DescribeSecret reports AutomaticallyAfterDays calculated from a ScheduleExpression (seen as
 *   `{AutomaticallyAfterDays: 1, ScheduleExpression: "rate(10 hours)"}`), and NextRotationDate as
 *   the latest moment of the next window (seen as 23:59:59 UTC for a schedule in days).
 * AWS's exact wording of the semantic schedule errors (bad rate, bad cron field, window too long)
 * is not recorded anywhere we could find: those messages are the lab's, the error type is AWS's.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { RotationKind } from '../lambda/functions.js';
import { err, invalidParam, type RotationRules } from './model.js';
import { generatePassword } from './password.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** A rotation window, epoch ms: rotation starts at some moment in [start, end). */
interface RotationWindow {
  start: number;
  end: number;
}

interface Schedule {
  /** The first window that opens after `afterMs` (after the last rotation, or when rotation was set up). */
  windowAfter(afterMs: number): RotationWindow;
  /** AutomaticallyAfterDays as DescribeSecret reports it. */
  days(): number;
}

const validation = (value: unknown, field: string, constraint: string) =>
  err('ValidationException', `1 validation error detected: Value '${String(value)}' at 'rotationRules.${field}' failed to satisfy constraint: ${constraint}`);

/** RotationRules of a RotateSecret request, validated; undefined when absent. */
export function readRotationRules(raw: unknown): RotationRules | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidParam('RotationRules must be an object.');
  const r = raw as Record<string, unknown>;
  const rules: RotationRules = {};
  if (r.AutomaticallyAfterDays !== undefined && r.AutomaticallyAfterDays !== null) {
    const d = r.AutomaticallyAfterDays;
    if (typeof d !== 'number' || !Number.isInteger(d)) throw invalidParam('AutomaticallyAfterDays must be an integer.');
    if (d < 1) throw validation(d, 'automaticallyAfterDays', 'Member must have value greater than or equal to 1');
    if (d > 1000) throw validation(d, 'automaticallyAfterDays', 'Member must have value less than or equal to 1000');
    rules.AutomaticallyAfterDays = d;
  }
  if (r.ScheduleExpression !== undefined && r.ScheduleExpression !== null) {
    const e = r.ScheduleExpression;
    if (typeof e !== 'string') throw invalidParam('ScheduleExpression must be a string.');
    if (e.length < 1) throw validation(e, 'scheduleExpression', 'Member must have length greater than or equal to 1');
    if (e.length > 256) throw validation(e, 'scheduleExpression', 'Member must have length less than or equal to 256');
    if (!/^[0-9A-Za-z()#?*\-/, ]+$/.test(e)) throw validation(e, 'scheduleExpression', 'Member must satisfy regular expression pattern: [0-9A-Za-z\\(\\)#\\?\\*\\-\\/, ]+');
    rules.ScheduleExpression = e;
  }
  if (r.Duration !== undefined && r.Duration !== null) {
    const d = r.Duration;
    if (typeof d !== 'string') throw invalidParam('Duration must be a string.');
    if (d.length < 2) throw validation(d, 'duration', 'Member must have length greater than or equal to 2');
    if (d.length > 3) throw validation(d, 'duration', 'Member must have length less than or equal to 3');
    if (!/^[0-9]+h$/.test(d)) throw validation(d, 'duration', 'Member must satisfy regular expression pattern: [0-9]+h');
    rules.Duration = d;
  }
  if (rules.AutomaticallyAfterDays !== undefined && rules.ScheduleExpression !== undefined) {
    throw invalidParam('You cannot specify both rotation frequency and schedule expression together.');
  }
  parseSchedule(rules); // semantic checks: expression, window length
  return rules;
}

/** The schedule the rules define (undefined: no schedule, rotation only on demand). */
export function parseSchedule(rules: RotationRules | undefined): Schedule | undefined {
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
      if (n < 4 || n > 23) throw invalidParam(`Invalid ScheduleExpression ${expr}: a rate in hours must be between 4 and 23 hours (Secrets Manager rotates at most every four hours; use days beyond).`);
      if (duration !== undefined && duration > n * HOUR) throw invalidParam(`Duration ${rules.Duration} is longer than the rotation interval of ${expr}: the rotation window must not extend into the next rotation window.`);
      return everyNHours(n, duration ?? HOUR);
    }
    if (n < 1 || n > 999) throw invalidParam(`Invalid ScheduleExpression ${expr}: a rate in days must be between 1 and 999 days.`);
    return everyNDays(n, duration);
  }
  const cron = /^cron\((.*)\)$/.exec(expr);
  if (cron) return cronSchedule(expr, cron[1]!, duration, rules.Duration);
  throw invalidParam(`Invalid ScheduleExpression ${expr}: use rate(N hours), rate(N days) or cron(0 H D M W *).`);
}

/** RotationRules as DescribeSecret shows them: AutomaticallyAfterDays calculated from a ScheduleExpression. */
export function describeRules(rules: RotationRules | undefined): RotationRules | undefined {
  if (!rules || rules.ScheduleExpression === undefined) return rules;
  const schedule = parseSchedule(rules);
  return schedule ? { AutomaticallyAfterDays: schedule.days(), ...rules } : rules;
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

function cronSchedule(expr: string, body: string, duration: number | undefined, durationText: string | undefined): Schedule {
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
function listField(text: string, lo: number, hi: number, names: string[] | undefined, nameBase: number, bad: (w: string) => Error, field: string): number[] | null {
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

/** A moment inside the window at which a scheduled rotation starts (AWS picks one at random). */
export function startWithin(w: RotationWindow): number {
  const span = Math.max(0, w.end - w.start);
  return w.start + Math.floor(span * 0.5 * Math.random());
}

// ------------------------------------------------------------------ values

type Value = { string?: string; binary?: string };

/**
 * The value a lab rotation function's createSecret step writes, as AWS's templates do: a JSON
 * secret gets a new `password` (alternating users also switches `username` between `user` and
 * `user_clone`); a secret that is not JSON gets a new random string; a binary one new random bytes.
 */
export function pendingValue(kind: RotationKind, current: Value | undefined): Value {
  if (current?.binary !== undefined) return { binary: randomBytes(32).toString('base64') };
  if (current?.string !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(current.string);
    } catch {
      parsed = undefined;
    }
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const next: Record<string, unknown> = { ...(parsed as Record<string, unknown>), password: generatePassword({ ExcludeCharacters: '/@"\'\\' }) };
      if (kind === 'rotation-alternating-users' && typeof next.username === 'string') {
        next.username = next.username.endsWith('_clone') ? next.username.slice(0, -'_clone'.length) : `${next.username}_clone`;
      }
      return { string: JSON.stringify(next) };
    }
  }
  return { string: generatePassword({ ExcludePunctuation: true, PasswordLength: 24 + randomInt(9) }) };
}
