/**
 * EventBridge event patterns: a validating compiler and a matcher, written from the documented
 * semantics ("Content filtering in Amazon EventBridge event patterns", "Comparison operators for
 * use in event patterns") and the behaviour of AWS's open-source matcher, Event Ruler.
 *
 * Shape of a pattern: a non-empty JSON object; every field is either a non-empty object (a nested
 * pattern) or a non-empty array of alternatives (OR). An alternative is a literal (string, number,
 * boolean, null) or a one-key match expression: prefix, suffix, equals-ignore-case, wildcard,
 * anything-but, numeric, exists, cidr. `"$or": [ {...}, {...}, ... ]` (at least two objects) ORs
 * sub-patterns at any level. Fields are ANDed.
 *
 * Matching (what an SRE can rely on in the lab):
 * - Arrays in the event are "crushed": a leaf matches if any element matches; a nested pattern
 *   matches if any object element of the array matches it as a whole (so two fields are never
 *   satisfied by different elements of one array, as in Event Ruler's array-consistent matching).
 * - Only leaves are values: an object-valued field does not satisfy `exists: true` and does satisfy
 *   `exists: false`; `null` is a value (`exists: true`); an empty array holds no value.
 * - String operators (prefix, suffix, equals-ignore-case, wildcard, cidr) only match strings;
 *   `numeric` only matches JSON numbers; a literal number matches numerically equal numbers
 *   (5 matches 5.0), a literal string never matches a number.
 * - anything-but matches any present value other than the ones given (numbers, booleans and null
 *   included); it never matches an absent field.
 *
 * Known difference: `exists: false` under an array of objects is evaluated per element (an element
 * lacking the field matches), where Event Ruler looks at the whole array.
 */
import { isIP } from 'node:net';

/** Thrown for malformed patterns; the service maps it to InvalidEventPatternException. */
export class EventPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventPatternException';
  }
}

type Literal = string | number | boolean | null;

type Matcher =
  | { kind: 'exact'; value: Literal; ip?: bigint }
  | { kind: 'prefix'; value: string; ignoreCase: boolean }
  | { kind: 'suffix'; value: string; ignoreCase: boolean }
  | { kind: 'equals-ignore-case'; value: string }
  | { kind: 'wildcard'; regex: RegExp }
  | { kind: 'numeric'; lower?: { value: number; open: boolean }; upper?: { value: number; open: boolean } }
  | { kind: 'exists'; value: boolean }
  | { kind: 'cidr'; version: 4 | 6; low: bigint; high: bigint }
  | { kind: 'anything-but'; not: Matcher[] };

type FieldNode = { kind: 'leaf'; matchers: Matcher[] } | { kind: 'object'; node: ObjectNode };

interface ObjectNode {
  fields: Array<{ name: string; node: FieldNode }>;
  /** Each entry is one `$or`: the object matches if any of its branches does. */
  ors: ObjectNode[][];
}

/** A validated, compiled pattern. Opaque: use `matchesPattern`. */
export interface CompiledPattern {
  readonly root: ObjectNode;
  /** The pattern text as given. */
  readonly source: string;
}

/** Numbers in numeric and anything-but expressions are limited to ±5e9 (Event Ruler's documented range). */
const NUMERIC_LIMIT = 5e9;

const MATCH_EXPRESSIONS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard', 'anything-but', 'numeric', 'exists', 'cidr']);

/** Parses and validates a pattern. Throws EventPatternError (with AWS-like reasons) when invalid. */
export function parseEventPattern(json: string): CompiledPattern {
  if (typeof json !== 'string' || json.trim() === '') throw new EventPatternError('Event pattern is not valid. Reason: Empty event pattern');
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new EventPatternError(`Event pattern is not valid. Reason: ${(err as Error).message}`);
  }
  if (!isPlainObject(raw)) throw new EventPatternError('Event pattern is not valid. Reason: Filter is not an object');
  return { root: compileObject(raw, '', false), source: json };
}

/** True if the event (a full envelope, or any JSON object) matches the pattern. */
export function matchesPattern(pattern: CompiledPattern, event: unknown): boolean {
  return matchObject(pattern.root, event);
}

// ---------------------------------------------------------------------------------------------
// Compilation

function fail(path: string, reason: string): never {
  throw new EventPatternError(`Event pattern is not valid. Reason: ${reason}${path ? ` at "${path}"` : ''}`);
}

function compileObject(obj: Record<string, unknown>, path: string, insideOr: boolean): ObjectNode {
  const keys = Object.keys(obj);
  if (keys.length === 0) fail(path, 'Empty objects are not allowed');
  const node: ObjectNode = { fields: [], ors: [] };
  for (const key of keys) {
    const value = obj[key];
    const here = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value)) fail(here, 'It must be an Array followed with $or.');
      if (value.length < 2) fail(here, 'There must have at least 2 Objects in $or relationship.');
      const branches = value.map((branch, i) => {
        if (!isPlainObject(branch)) fail(`${here}[${i}]`, 'Only JSON object is allowed in array of $or relationship.');
        return compileObject(branch, path, true);
      });
      node.ors.push(branches);
      continue;
    }
    if (insideOr && MATCH_EXPRESSIONS.has(key)) {
      fail(here, `${key} is Ruler reserved fieldName which cannot be used inside $or.`);
    }
    if (Array.isArray(value)) {
      node.fields.push({ name: key, node: { kind: 'leaf', matchers: compileLeaf(value, here) } });
    } else if (isPlainObject(value)) {
      node.fields.push({ name: key, node: { kind: 'object', node: compileObject(value, here, insideOr) } });
    } else {
      fail(here, `"${key}" must be an object or an array`);
    }
  }
  return node;
}

function compileLeaf(values: unknown[], path: string): Matcher[] {
  if (values.length === 0) fail(path, 'Empty arrays are not allowed');
  return values.map((v) => {
    if (v === null || typeof v === 'boolean') return { kind: 'exact', value: v };
    if (typeof v === 'number') return { kind: 'exact', value: v };
    if (typeof v === 'string') {
      const ip = ipToBigInt(v);
      return ip === undefined ? { kind: 'exact', value: v } : { kind: 'exact', value: v, ip: ip.value };
    }
    if (isPlainObject(v)) return compileExpression(v, path);
    return fail(path, 'Match value must be String, number, true, false, or null');
  });
}

function onlyKey(expr: Record<string, unknown>, path: string): [string, unknown] {
  const keys = Object.keys(expr);
  if (keys.length === 0) fail(path, 'Match expression name not found');
  if (keys.length > 1) fail(path, 'Only one key allowed in match expression');
  const key = keys[0] as string;
  return [key, expr[key]];
}

function compileExpression(expr: Record<string, unknown>, path: string): Matcher {
  const [op, arg] = onlyKey(expr, path);
  switch (op) {
    case 'prefix':
    case 'suffix': {
      if (typeof arg === 'string') return { kind: op, value: arg, ignoreCase: false };
      if (isPlainObject(arg)) {
        const [inner, innerArg] = onlyKey(arg, path);
        if (inner !== 'equals-ignore-case') fail(path, `Unsupported ${op} pattern: ${inner}`);
        if (typeof innerArg !== 'string') fail(path, `equals-ignore-case match pattern must be a string`);
        return { kind: op, value: innerArg, ignoreCase: true };
      }
      return fail(path, `${op} match pattern must be a string`);
    }
    case 'equals-ignore-case':
      if (typeof arg !== 'string') fail(path, 'equals-ignore-case match pattern must be a string');
      return { kind: 'equals-ignore-case', value: arg };
    case 'wildcard':
      if (typeof arg !== 'string') fail(path, 'wildcard match pattern must be a string');
      return { kind: 'wildcard', regex: compileWildcard(arg, path) };
    case 'exists':
      if (typeof arg !== 'boolean') fail(path, 'exists match pattern must be either true or false.');
      return { kind: 'exists', value: arg };
    case 'cidr':
      if (typeof arg !== 'string') fail(path, 'cidr match pattern must be a string');
      return compileCidr(arg, path);
    case 'numeric':
      return compileNumeric(arg, path);
    case 'anything-but':
      return compileAnythingBut(arg, path);
    default:
      return fail(path, `Unrecognized match type ${op}`);
  }
}

function checkRange(n: number, path: string): number {
  if (!Number.isFinite(n) || n < -NUMERIC_LIMIT || n > NUMERIC_LIMIT) {
    fail(path, `Value must be between ${-NUMERIC_LIMIT} and ${NUMERIC_LIMIT}, inclusive`);
  }
  return n;
}

function compileNumeric(arg: unknown, path: string): Matcher {
  if (!Array.isArray(arg)) fail(path, 'Value of numeric must be an array.');
  const terms = arg as unknown[];
  const num = (i: number, op: string): number => {
    const v = terms[i];
    if (typeof v !== 'number') fail(path, `Value of ${op} must be numeric`);
    return checkRange(v, path);
  };
  const op1 = terms[0];
  if (typeof op1 !== 'string') fail(path, `Invalid member in numeric match: ${JSON.stringify(op1)}`);
  switch (op1) {
    case '=': {
      const v = num(1, '=');
      if (terms.length !== 2) fail(path, 'Too many elements in numeric expression');
      return { kind: 'numeric', lower: { value: v, open: false }, upper: { value: v, open: false } };
    }
    case '<':
    case '<=': {
      const v = num(1, op1);
      if (terms.length !== 2) fail(path, 'Too many elements in numeric expression');
      return { kind: 'numeric', upper: { value: v, open: op1 === '<' } };
    }
    case '>':
    case '>=': {
      const lower = { value: num(1, op1), open: op1 === '>' };
      if (terms.length === 2) return { kind: 'numeric', lower };
      const op2 = terms[2];
      if (op2 !== '<' && op2 !== '<=') fail(path, `Bad numeric range operator: ${JSON.stringify(op2)}`);
      const upper = { value: num(3, op2), open: op2 === '<' };
      if (terms.length !== 4) fail(path, 'Too many terms in numeric range expression');
      if (upper.value < lower.value) fail(path, 'Bottom must be less than top');
      return { kind: 'numeric', lower, upper };
    }
    default:
      return fail(path, `Unrecognized numeric range operator: ${op1}`);
  }
}

function compileAnythingBut(arg: unknown, path: string): Matcher {
  if (typeof arg === 'string') return { kind: 'anything-but', not: [{ kind: 'exact', value: arg }] };
  if (typeof arg === 'number') return { kind: 'anything-but', not: [{ kind: 'exact', value: checkRange(arg, path) }] };
  if (Array.isArray(arg)) {
    if (arg.length === 0) fail(path, 'Empty arrays are not allowed');
    const strings = arg.every((v) => typeof v === 'string');
    const numbers = arg.every((v) => typeof v === 'number');
    if (!strings && !numbers) {
      fail(path, 'Inside anything but list, either all values are number or string, mixed type is not supported');
    }
    return {
      kind: 'anything-but',
      not: arg.map((v) => ({ kind: 'exact', value: numbers ? checkRange(v as number, path) : (v as string) })),
    };
  }
  if (isPlainObject(arg)) {
    const [op, inner] = onlyKey(arg, path);
    switch (op) {
      case 'prefix':
      case 'suffix':
        if (typeof inner !== 'string') fail(path, 'prefix/suffix match pattern must be a string');
        if (inner === '') fail(path, 'Null prefix/suffix not allowed');
        return { kind: 'anything-but', not: [{ kind: op, value: inner, ignoreCase: false }] };
      case 'equals-ignore-case':
      case 'wildcard': {
        const list = typeof inner === 'string' ? [inner] : inner;
        if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string')) {
          fail(path, `Inside anything-but/${op} list, only strings are supported.`);
        }
        return {
          kind: 'anything-but',
          not: (list as string[]).map((s): Matcher =>
            op === 'wildcard' ? { kind: 'wildcard', regex: compileWildcard(s, path) } : { kind: 'equals-ignore-case', value: s },
          ),
        };
      }
      default:
        return fail(path, `Unsupported anything-but pattern: ${op}`);
    }
  }
  return fail(path, 'Value of anything-but must be an array or single string/number value.');
}

/** `*` matches any run of characters; `\*` is a literal asterisk, `\\` a literal backslash. */
function compileWildcard(text: string, path: string): RegExp {
  let out = '';
  let previousStar = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\') {
      const next = text[i + 1];
      if (next !== '*' && next !== '\\') fail(path, `Invalid use of backslash escape character at char ${i} of wildcard pattern`);
      out += escapeRegex(next);
      i++;
      previousStar = false;
    } else if (c === '*') {
      if (previousStar) fail(path, `Consecutive wildcard characters at pos ${i} of wildcard pattern`);
      out += '.*';
      previousStar = true;
    } else {
      out += escapeRegex(c);
      previousStar = false;
    }
  }
  return new RegExp(`^${out}$`, 's');
}

function escapeRegex(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function compileCidr(text: string, path: string): Matcher {
  const parts = text.split('/');
  if (parts.length !== 2) fail(path, "Malformed CIDR, one '/' required");
  const [addr, bitsText] = parts as [string, string];
  if (!/^\d+$/.test(bitsText)) fail(path, 'Malformed CIDR, mask bits must be an integer');
  const ip = ipToBigInt(addr);
  if (!ip) fail(path, `Invalid IP address: ${addr}`);
  const bits = Number(bitsText);
  const width = ip.version === 4 ? 32 : 128;
  // Event Ruler refuses a full-length mask (/32, /128): a single address is written without `cidr`.
  if (bits > width - 1) fail(path, `IPv${ip.version} mask bits must be < ${width}`);
  const hostBits = BigInt(width - bits);
  const hostMask = (1n << hostBits) - 1n;
  // Like Event Ruler, the range starts at the address as written (host bits are not cleared).
  return { kind: 'cidr', version: ip.version, low: ip.value, high: ip.value | hostMask };
}

// ---------------------------------------------------------------------------------------------
// Matching

function matchObject(node: ObjectNode, value: unknown): boolean {
  const obj = isPlainObject(value) ? value : undefined;
  for (const field of node.fields) {
    const child = obj && Object.prototype.hasOwnProperty.call(obj, field.name) ? obj[field.name] : undefined;
    if (!matchField(field.node, child)) return false;
  }
  for (const branches of node.ors) {
    if (!branches.some((b) => matchObject(b, value))) return false;
  }
  return true;
}

function matchField(node: FieldNode, value: unknown): boolean {
  if (node.kind === 'object') {
    const candidates = objectsIn(value);
    if (candidates.length === 0) return matchObject(node.node, undefined);
    return candidates.some((c) => matchObject(node.node, c));
  }
  const leaves = leavesIn(value);
  return node.matchers.some((m) => {
    if (m.kind === 'exists') return m.value === leaves.length > 0;
    return leaves.some((leaf) => matchValue(m, leaf));
  });
}

/** The leaf values at a field: the value itself, or the non-object elements of (nested) arrays. */
function leavesIn(value: unknown): Literal[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap((v) => leavesIn(v));
  if (isPlainObject(value)) return [];
  return [value as Literal];
}

function objectsIn(value: unknown): Array<Record<string, unknown>> {
  if (Array.isArray(value)) return value.flatMap((v) => objectsIn(v));
  return isPlainObject(value) ? [value] : [];
}

function foldCase(s: string): string {
  return s.toUpperCase().toLowerCase();
}

function matchValue(m: Matcher, v: Literal): boolean {
  switch (m.kind) {
    case 'exact':
      if (typeof m.value === 'number') return typeof v === 'number' && v === m.value;
      if (typeof m.value === 'string' && typeof v === 'string') {
        if (v === m.value) return true;
        if (m.ip !== undefined) {
          const ip = ipToBigInt(v);
          return ip !== undefined && ip.value === m.ip && isIP(v) === isIP(m.value);
        }
        return false;
      }
      return v === m.value;
    case 'prefix':
      if (typeof v !== 'string') return false;
      return m.ignoreCase ? foldCase(v).startsWith(foldCase(m.value)) : v.startsWith(m.value);
    case 'suffix':
      if (typeof v !== 'string') return false;
      return m.ignoreCase ? foldCase(v).endsWith(foldCase(m.value)) : v.endsWith(m.value);
    case 'equals-ignore-case':
      return typeof v === 'string' && foldCase(v) === foldCase(m.value);
    case 'wildcard':
      return typeof v === 'string' && m.regex.test(v);
    case 'numeric':
      if (typeof v !== 'number') return false;
      if (m.lower && (m.lower.open ? !(v > m.lower.value) : !(v >= m.lower.value))) return false;
      if (m.upper && (m.upper.open ? !(v < m.upper.value) : !(v <= m.upper.value))) return false;
      return true;
    case 'cidr': {
      if (typeof v !== 'string') return false;
      const ip = ipToBigInt(v);
      return ip !== undefined && ip.version === m.version && ip.value >= m.low && ip.value <= m.high;
    }
    case 'anything-but':
      return !m.not.some((n) => matchValue(n, v));
    case 'exists':
      return m.value;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses an IPv4 or IPv6 literal into an integer; undefined when it is not an IP address. */
function ipToBigInt(text: string): { version: 4 | 6; value: bigint } | undefined {
  const kind = isIP(text);
  if (kind === 4) {
    let value = 0n;
    for (const part of text.split('.')) value = (value << 8n) | BigInt(Number(part));
    return { version: 4, value };
  }
  if (kind === 6) {
    let body = text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
    // An embedded IPv4 tail (::ffff:10.0.0.1) becomes two hextets.
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(body);
    if (v4) {
      const n = ipToBigInt(v4[1] as string)!.value;
      body = `${body.slice(0, v4.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
    }
    const [head, tail] = body.includes('::') ? (body.split('::') as [string, string]) : [body, undefined];
    const headParts = head ? head.split(':') : [];
    const tailParts = tail ? tail.split(':') : [];
    const missing = 8 - headParts.length - tailParts.length;
    const parts = tail === undefined ? headParts : [...headParts, ...Array<string>(missing).fill('0'), ...tailParts];
    let value = 0n;
    for (const p of parts) value = (value << 16n) | BigInt(parseInt(p, 16));
    return { version: 6, value };
  }
  return undefined;
}
