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
import { parseSchedule as parseRules, type RotationWindow, type Schedule } from '../../domain/rotation-schedule.js';

export type { RotationWindow, Schedule };

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
    if (!/^[0-9A-Za-z()#?*\-/, ]+$/.test(e))
      throw validation(e, 'scheduleExpression', 'Member must satisfy regular expression pattern: [0-9A-Za-z\\(\\)#\\?\\*\\-\\/, ]+');
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

/** The schedule the rules define (undefined: no schedule), refused as AWS refuses it (InvalidParameterException). */
export function parseSchedule(rules: RotationRules | undefined): Schedule | undefined {
  return parseRules(rules, invalidParam);
}

/** RotationRules as DescribeSecret shows them: AutomaticallyAfterDays calculated from a ScheduleExpression. */
export function describeRules(rules: RotationRules | undefined): RotationRules | undefined {
  if (!rules || rules.ScheduleExpression === undefined) return rules;
  const schedule = parseSchedule(rules);
  return schedule ? { AutomaticallyAfterDays: schedule.days(), ...rules } : rules;
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
