/**
 * IAM's evaluation of identity-based policies for one request, as AWS documents it (policy
 * evaluation logic, single account, no SCPs/boundaries/session policies). Pure.
 *
 * - Default deny; an Allow statement that matches allows; an explicit Deny that matches wins.
 * - A statement matches when its Action (or NotAction), Resource (or NotResource) and every
 *   condition match. `*` matches any run of characters, `?` one; actions compare
 *   case-insensitively, resources case-sensitively, ARNs component by component (a wildcard
 *   never spans the `:` between service, Region, account and resource).
 * - Conditions: operators AND-ed, keys of an operator AND-ed, values of a key OR-ed (for a negated
 *   operator: the value matches none of them). Keys compare case-insensitively. A key absent from
 *   the request: the condition is false, except negated operators and `...IfExists` (true) and
 *   `Null` (its point). `ForAnyValue:`/`ForAllValues:` compare multi-valued keys as sets.
 */
import { parseOperator, type IamPolicy, type Statement } from './policy.js';

/** Condition keys of a request: name (any case) → value(s); absent keys are left out. */
export type RequestContextKeys = Record<string, string | readonly string[]>;

export interface AuthzRequest {
  /** `service:Action`, e.g. `secretsmanager:CreateSecret`. */
  action: string;
  /** The resource ARN (or `*` for actions without one). */
  resource: string;
  /** How an AccessDenied names the resource when not by `resource` (a secret id that names nothing: as given). */
  shownAs?: string;
  context: RequestContextKeys;
}

export type Decision =
  { allowed: true; statement: string } | { allowed: false; reason: 'explicit-deny'; statement: string } | { allowed: false; reason: 'implicit-deny' };

/** A wildcard pattern (`*`, `?`) as an anchored RegExp. */
function wildcard(pattern: string, ignoreCase: boolean): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
}

const ARN_PARTS = 6;
/** arn:partition:service:region:account:resource (the resource part may hold further colons). */
function splitArn(s: string): string[] | undefined {
  if (!s.startsWith('arn:')) return undefined;
  const parts: string[] = [];
  let rest = s;
  for (let i = 0; i < ARN_PARTS - 1; i++) {
    const at = rest.indexOf(':');
    if (at < 0) return undefined;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  parts.push(rest);
  return parts;
}

/** ARN matching as IAM does it (Resource element, ArnLike): per component; other strings as a whole. */
export function arnMatches(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  const p = splitArn(pattern);
  const v = splitArn(value);
  if (!p || !v) return wildcard(pattern, false).test(value);
  return p.every((part, i) => wildcard(part, false).test(v[i]!));
}

export function actionMatches(pattern: string, action: string): boolean {
  return wildcard(pattern, true).test(action);
}

function lookup(context: RequestContextKeys, key: string): readonly string[] | undefined {
  const k = key.toLowerCase();
  for (const [name, value] of Object.entries(context)) {
    if (name.toLowerCase() === k) return typeof value === 'string' ? [value] : value;
  }
  return undefined;
}

type Compare = (policyValue: string, requestValue: string) => boolean;
const num = (s: string): number => (s.trim() === '' ? NaN : Number(s));
const COMPARE: Record<string, { test: Compare; negated: boolean }> = {
  StringEquals: { test: (p, v) => p === v, negated: false },
  StringNotEquals: { test: (p, v) => p === v, negated: true },
  StringEqualsIgnoreCase: { test: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { test: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: true },
  StringLike: { test: (p, v) => wildcard(p, false).test(v), negated: false },
  StringNotLike: { test: (p, v) => wildcard(p, false).test(v), negated: true },
  ArnEquals: { test: arnMatches, negated: false },
  ArnLike: { test: arnMatches, negated: false },
  ArnNotEquals: { test: arnMatches, negated: true },
  ArnNotLike: { test: arnMatches, negated: true },
  NumericEquals: { test: (p, v) => num(v) === num(p), negated: false },
  NumericNotEquals: { test: (p, v) => num(v) === num(p), negated: true },
  NumericLessThan: { test: (p, v) => num(v) < num(p), negated: false },
  NumericLessThanEquals: { test: (p, v) => num(v) <= num(p), negated: false },
  NumericGreaterThan: { test: (p, v) => num(v) > num(p), negated: false },
  NumericGreaterThanEquals: { test: (p, v) => num(v) >= num(p), negated: false },
  Bool: { test: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: false },
};

function conditionHolds(operator: string, key: string, policyValues: readonly string[], context: RequestContextKeys): boolean {
  const { base, set, ifExists } = parseOperator(operator);
  const values = lookup(context, key);
  const present = values !== undefined && values.length > 0;
  if (base === 'Null') return policyValues.some((p) => (p.toLowerCase() === 'true') === !present);
  const cmp = COMPARE[base]!;
  if (!present) {
    if (set === 'ForAllValues') return true; // an empty set is a subset of anything
    return ifExists || cmp.negated;
  }
  const matchesSome = (v: string): boolean => policyValues.some((p) => cmp.test(p, v));
  const one = (v: string): boolean => (cmp.negated ? !matchesSome(v) : matchesSome(v));
  if (set === 'ForAllValues') return values.every(one);
  // ForAnyValue, and a single-valued key (any of its values, though AWS sends one).
  return values.some(one);
}

function statementMatches(s: Statement, req: AuthzRequest): boolean {
  const action = s.Action ? s.Action.some((p) => actionMatches(p, req.action)) : !s.NotAction!.some((p) => actionMatches(p, req.action));
  if (!action) return false;
  const resource = s.Resource ? s.Resource.some((p) => arnMatches(p, req.resource)) : !s.NotResource!.some((p) => arnMatches(p, req.resource));
  if (!resource) return false;
  for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
    for (const [key, values] of Object.entries(keys)) {
      if (!conditionHolds(operator, key, values, req.context)) return false;
    }
  }
  return true;
}

const label = (policyIndex: number, s: Statement, i: number): string => `policy ${policyIndex + 1} statement ${s.Sid ?? `#${i + 1}`}`;

/** The decision for one request under the identity's policies. */
export function evaluate(policies: readonly IamPolicy[], req: AuthzRequest): Decision {
  let allow: string | undefined;
  for (const [pi, policy] of policies.entries()) {
    for (const [si, s] of policy.Statement.entries()) {
      if (!statementMatches(s, req)) continue;
      if (s.Effect === 'Deny') return { allowed: false, reason: 'explicit-deny', statement: label(pi, s, si) };
      allow ??= label(pi, s, si);
    }
  }
  return allow ? { allowed: true, statement: allow } : { allowed: false, reason: 'implicit-deny' };
}

/**
 * AWS's AccessDenied text: `User: <principal> is not authorized to perform: <action>[ on resource:
 * <resource>] because no identity-based policy allows the <action> action` (or `with an explicit
 * deny in an identity-based policy`). Actions without a resource (`*`) omit the resource part.
 */
export function accessDeniedMessage(principal: string, req: AuthzRequest, reason: 'explicit-deny' | 'implicit-deny'): string {
  const on = req.resource === '*' ? '' : ` on resource: ${req.shownAs ?? req.resource}`;
  const why =
    reason === 'explicit-deny' ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${req.action} action`;
  return `User: ${principal} is not authorized to perform: ${req.action}${on} ${why}`;
}
