/**
 * Resource-based policies (a secret's resource policy, a KMS key policy) evaluated for one
 * principal, as IAM documents cross-account access: a request from another account is allowed only
 * when BOTH the caller's identity policies (lab/iam/evaluate.ts, in its own account) and the
 * resource's policy allow it; an explicit Deny in either wins. Within one account a resource policy
 * Allow is enough on its own, but the lab (like the product's generated policies) keeps identity
 * policies as the rule there and uses this only across accounts and for explicit denies. Pure.
 *
 * Principal forms matched: `"*"`, `{"AWS": "*"}`, an account id, `arn:aws:iam::<account>:root`
 * (any principal of that account), a user or role ARN (a role matches its assumed-role sessions),
 * an assumed-role session ARN. `Service` principals never match a caller.
 */
import { evaluate, type RequestContextKeys } from './evaluate.js';
import { parsePolicy } from './policy.js';

export interface Principal {
  accountId: string;
  /** `arn:aws:iam::<acct>:user/<name>` or `arn:aws:sts::<acct>:assumed-role/<role>/<session>`. */
  arn: string;
}

type ResourceDecision = 'allow' | 'explicit-deny' | 'none';

function principalEntries(p: unknown): string[] | 'everyone' | undefined {
  if (p === '*') return 'everyone';
  if (!p || typeof p !== 'object') return undefined;
  const aws = (p as { AWS?: unknown }).AWS;
  const list = typeof aws === 'string' ? [aws] : Array.isArray(aws) ? aws.filter((x): x is string => typeof x === 'string') : [];
  if (list.includes('*')) return 'everyone';
  return list;
}

/** True when one Principal entry names the caller. */
function principalMatches(entry: string, who: Principal): boolean {
  if (entry === '*') return true;
  if (/^\d{12}$/.test(entry)) return entry === who.accountId;
  if (entry === `arn:aws:iam::${who.accountId}:root`) return true;
  if (entry === who.arn) return true;
  const role = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(entry);
  const session = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(who.arn);
  return !!role && !!session && role[1] === session[1] && role[2] === session[2];
}

/** The decision of a resource policy (JSON text) for `action` on `resource` by `who`. */
export function evaluateResourcePolicy(
  policyText: string | undefined,
  who: Principal,
  action: string,
  resource: string,
  context: RequestContextKeys = {},
): ResourceDecision {
  if (!policyText) return 'none';
  let doc: { Version?: unknown; Statement?: unknown };
  try {
    doc = JSON.parse(policyText) as typeof doc;
  } catch {
    return 'none';
  }
  const raw = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  // Keep the statements that name this principal; the rest of the grammar is the identity policy's.
  const statements = (raw as Array<Record<string, unknown>>).filter((s) => {
    const entries = principalEntries(s?.Principal);
    if (entries === 'everyone') return true;
    return !!entries && entries.some((e) => principalMatches(e, who));
  });
  if (statements.length === 0) return 'none';
  let policy;
  try {
    policy = parsePolicy({
      Version: doc.Version ?? '2012-10-17',
      Statement: statements.map((s) => {
        const { Principal: _p, NotPrincipal: _np, ...rest } = s;
        return rest.Resource === undefined && rest.NotResource === undefined ? { ...rest, Resource: '*' } : rest;
      }),
    });
  } catch {
    return 'none';
  }
  const d = evaluate([policy], { action, resource, context });
  return d.allowed ? 'allow' : d.reason === 'explicit-deny' ? 'explicit-deny' : 'none';
}
