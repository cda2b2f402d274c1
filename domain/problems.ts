/**
 * zod issues → problems an operator can act on: a readable path (`drRegions[0].region`), and for a
 * value of the wrong type "expected X, got Y" with what to write instead (zod 4 leaves the value out
 * of issues unless asked, so the parsed document is passed along). Pure; used for the plan, CLI
 * options and the environment.
 */
import type { z } from 'zod';
import type { Problem } from './errors.js';

const NOTHING = Symbol('nothing');

/** The value at `path` inside `doc`, or NOTHING when some part of the path is absent. */
function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = doc;
  for (const part of path) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, part)) return NOTHING;
    v = (v as Record<PropertyKey, unknown>)[part];
  }
  return v;
}

const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}...` : s);

/** What a value is, in the plan author's words. */
function describeValue(v: unknown): string {
  if (v === null) return 'an empty value (null)';
  if (Array.isArray(v)) return `a list of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (typeof v === 'string') return `the text ${JSON.stringify(clip(v))}`;
  if (typeof v === 'number' || typeof v === 'bigint') return `the number ${String(v)}`;
  if (typeof v === 'boolean') return `${v} (a boolean)`;
  if (typeof v === 'object') return 'a mapping (key: value)';
  return typeof v;
}

const EXPECTED: Record<string, string> = {
  string: 'expected text',
  number: 'expected a number',
  int: 'expected a whole number',
  boolean: 'expected true or false',
  array: 'expected a list',
  object: 'expected a mapping (key: value)',
  record: 'expected a mapping (key: value)',
};

/** What to write instead, for the mistakes people make (quotes around numbers, numbers without a unit). */
function typeHint(expected: string, message: string, v: unknown): string | undefined {
  if ((expected === 'number' || expected === 'int') && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)))
    return `write it without quotes: ${v.trim()}`;
  if (expected === 'boolean' && typeof v === 'string') return 'write true or false, without quotes';
  if (/duration/.test(message) && typeof v === 'number') return `add a unit: "${v}s", "${v}m" or "${v}ms"`;
  if (expected === 'string' && message === EXPECTED.string && typeof v !== 'object') return `put it in quotes: "${String(v)}"`;
  if (expected === 'array' && v !== null && typeof v !== 'object') return `write it as a list: [${JSON.stringify(v)}]`;
  return undefined;
}

/** "expected X, got Y (what to write)" for a value of the wrong type; "missing (expected X)" when there is none. */
function typeMessage(issue: z.core.$ZodIssueInvalidType, value: unknown): string {
  // Our own messages say what is expected ("expected a duration such as...", "needs --name N");
  // zod's default says "Invalid input: ...": only that one is replaced by our wording.
  const expected = !/^Invalid input/.test(issue.message) ? issue.message : (EXPECTED[issue.expected] ?? `expected ${issue.expected}`);
  if (value === NOTHING || value === undefined) return `missing (${expected})`;
  const hint = typeHint(issue.expected, expected, value);
  return `${expected}, got ${describeValue(value)}${hint ? `; ${hint}` : ''}`;
}

/**
 * zod issues → problems with readable paths; unknown keys name the key itself. `input` (the parsed
 * document) lets a value of the wrong type be named even when the issue does not carry it.
 */
export function issuesToProblems(issues: readonly z.core.$ZodIssue[], input: unknown = NOTHING): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({ path: formatPath([...issue.path, key]), message: `unknown field "${key}" (check its spelling; see \`secrets-dr plan schema\`)` });
      }
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // A number or a keyword (writeQuotaShare: 0.6 | auto) given the wrong type: the number branch's own
      // "expected X, got Y" (its message names the keyword too).
      const numeric = issue.errors[0]?.[0];
      if (numeric?.code === 'invalid_type' && numeric.expected === 'number') {
        const value = 'input' in issue ? issue.input : input === NOTHING ? NOTHING : valueAt(input, issue.path);
        problems.push({ path: formatPath(issue.path), message: typeMessage(numeric, value) });
        continue;
      }
      // A selector: say what was expected rather than every branch's complaint.
      problems.push({ path: formatPath(issue.path), message: issue.message });
      continue;
    }
    const value = 'input' in issue ? issue.input : input === NOTHING ? NOTHING : valueAt(input, issue.path);
    let message = issue.message;
    if (issue.code === 'invalid_type') message = typeMessage(issue, value);
    else if (issue.code === 'invalid_value' && value !== NOTHING && value !== undefined)
      message = `${issue.message.replace(/^Invalid option: /, '')}, got ${describeValue(value)}`;
    problems.push({ path: formatPath(issue.path), message });
  }
  return problems;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(plan)' : out;
}
