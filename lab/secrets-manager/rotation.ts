/**
 * Rotation without Lambda: schedule parsing (AutomaticallyAfterDays, rate(...), cron(...),
 * Duration) and the built-in rotator's new value. The Lambda ARN is recorded, never called.
 */
import { randomBytes } from 'node:crypto';
import { invalidParam, type RotationRules } from './model.js';
import { generatePassword } from './password.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

export interface Schedule {
  /** Next rotation strictly after `fromMs`. */
  next(fromMs: number): number;
}

export function readRotationRules(raw: unknown): RotationRules | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object') throw invalidParam('RotationRules must be an object.');
  const r = raw as Record<string, unknown>;
  const rules: RotationRules = {};
  if (r.AutomaticallyAfterDays !== undefined && r.AutomaticallyAfterDays !== null) {
    const d = r.AutomaticallyAfterDays;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > 1000) {
      throw invalidParam('AutomaticallyAfterDays must be an integer between 1 and 1000.');
    }
    rules.AutomaticallyAfterDays = d;
  }
  if (typeof r.ScheduleExpression === 'string') rules.ScheduleExpression = r.ScheduleExpression;
  if (typeof r.Duration === 'string') rules.Duration = r.Duration;
  if (rules.AutomaticallyAfterDays !== undefined && rules.ScheduleExpression !== undefined) {
    throw invalidParam('You can\'t specify both AutomaticallyAfterDays and ScheduleExpression.');
  }
  if (rules.Duration !== undefined) {
    const m = /^(\d{1,2})h$/.exec(rules.Duration);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 24) throw invalidParam('Duration must be between 1h and 24h, e.g. 3h.');
  }
  parseSchedule(rules); // validates the expression
  return rules;
}

export function parseSchedule(rules: RotationRules | undefined): Schedule | undefined {
  if (!rules) return undefined;
  if (rules.AutomaticallyAfterDays !== undefined) {
    const ms = rules.AutomaticallyAfterDays * DAY;
    return { next: (from) => from + ms };
  }
  const expr = rules.ScheduleExpression?.trim();
  if (!expr) return undefined;
  const rate = /^rate\(\s*(\d+)\s+(hours?|days?)\s*\)$/.exec(expr);
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2]!.startsWith('hour') ? HOUR : DAY;
    if (unit === HOUR && (n < 4 || n > 23)) throw invalidParam('rate(N hours) must be between 4 and 23 hours.');
    if (unit === DAY && (n < 1 || n > 1000)) throw invalidParam('rate(N days) must be between 1 and 1000 days.');
    return { next: (from) => from + n * unit };
  }
  const cron = /^cron\((.*)\)$/.exec(expr);
  if (cron) return parseCron(cron[1]!);
  throw invalidParam(`Invalid ScheduleExpression: ${expr}. Use rate(N days), rate(N hours) or cron(...).`);
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** A field as a set of allowed values, or null for "any" (`*` / `?`). */
function parseField(text: string, min: number, max: number, names?: string[], nameBase = 1): Set<number> | null {
  if (text === '*' || text === '?') return null;
  const out = new Set<number>();
  const value = (s: string): number => {
    const upper = s.toUpperCase();
    const named = names?.indexOf(upper) ?? -1;
    const n = named >= 0 ? named + nameBase : Number(s);
    if (!Number.isInteger(n) || n < min || n > max) throw invalidParam(`Invalid cron field value: ${s}`);
    return n;
  };
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw invalidParam(`Invalid cron step: ${part}`);
    let lo: number;
    let hi: number;
    if (range === '*') {
      lo = min;
      hi = max;
    } else if (range!.includes('-')) {
      const [a, b] = range!.split('-');
      lo = value(a!);
      hi = value(b!);
    } else {
      lo = value(range!);
      hi = stepText === undefined ? lo : max;
    }
    for (let n = lo; n <= hi; n += step) out.add(n);
  }
  return out;
}

function parseCron(body: string): Schedule {
  const f = body.trim().split(/\s+/);
  if (f.length !== 6) throw invalidParam('cron() needs 6 fields: minutes hours day-of-month month day-of-week year.');
  if (f.some((x) => /[LW#]/.test(x))) throw invalidParam('The lab supports cron fields with * ? , - / only (no L, W or #).');
  if (f[2] !== '?' && f[4] !== '?') throw invalidParam('cron(): one of day-of-month and day-of-week must be ?.');
  const minutes = parseField(f[0]!, 0, 59);
  const hours = parseField(f[1]!, 0, 23);
  const dom = parseField(f[2]!, 1, 31);
  const months = parseField(f[3]!, 1, 12, MONTHS, 1);
  const dow = parseField(f[4]!, 1, 7, DAYS, 1); // 1 = SUN
  const years = parseField(f[5]!, 1970, 2199);
  const minuteList = minutes ? [...minutes].sort((a, b) => a - b) : Array.from({ length: 60 }, (_, i) => i);
  const hourList = hours ? [...hours].sort((a, b) => a - b) : Array.from({ length: 24 }, (_, i) => i);
  return {
    next(from: number): number {
      const start = new Date(Math.floor(from / 60_000) * 60_000 + 60_000);
      let day = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
      for (let i = 0; i < 366 * 5; i++, day += DAY) {
        const d = new Date(day);
        if (years && !years.has(d.getUTCFullYear())) continue;
        if (months && !months.has(d.getUTCMonth() + 1)) continue;
        if (dom && !dom.has(d.getUTCDate())) continue;
        if (dow && !dow.has(d.getUTCDay() + 1)) continue;
        for (const h of hourList) {
          for (const m of minuteList) {
            const t = day + h * HOUR + m * 60_000;
            if (t >= start.getTime()) return t;
          }
        }
      }
      throw invalidParam('cron(): no occurrence in the next five years.');
    },
  };
}

/**
 * The rotated value: a JSON SecretString with a `password` field gets a new password in that field,
 * anything else is replaced by a new random string.
 */
export function rotatedValue(previous: { string?: string; binary?: string } | undefined): { string?: string; binary?: string } {
  if (previous?.binary !== undefined) return { binary: randomBytes(32).toString('base64') };
  if (previous?.string !== undefined) {
    try {
      const parsed: unknown = JSON.parse(previous.string);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && 'password' in parsed) {
        return { string: JSON.stringify({ ...parsed, password: generatePassword({ ExcludeCharacters: '"\\\'' }) }) };
      }
    } catch {
      // not JSON: fall through
    }
  }
  return { string: generatePassword({ ExcludePunctuation: true }) };
}
