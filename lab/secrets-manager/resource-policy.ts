/**
 * The one part of IAM the lab evaluates: an explicit `Deny` in a secret's resource policy for
 * every principal (`"*"` or `{"AWS": "*"}`), without conditions, refuses the listed actions with
 * AccessDeniedException — as AWS does for anyone, whatever their identity policies allow. Enough to
 * observe a fence (deny-write policy on an old primary). Allows, conditions and named principals
 * are not evaluated (the lab has no identities).
 */
type Statement = { Effect?: string; Principal?: unknown; Action?: unknown; Condition?: unknown };

function everyone(principal: unknown): boolean {
  if (principal === '*') return true;
  const aws = (principal as { AWS?: unknown } | undefined)?.AWS;
  return aws === '*' || (Array.isArray(aws) && aws.includes('*'));
}

function matches(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return re.test(action);
}

/** True when `policy` explicitly denies `secretsmanager:<operation>` to everyone. */
export function deniedByResourcePolicy(policy: string | undefined, operation: string): boolean {
  if (!policy) return false;
  let doc: { Statement?: Statement | Statement[] };
  try {
    doc = JSON.parse(policy) as typeof doc;
  } catch {
    return false;
  }
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  const action = `secretsmanager:${operation}`;
  return statements.some((s) => {
    if (s.Effect !== 'Deny' || s.Condition !== undefined || !everyone(s.Principal)) return false;
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
    return actions.some((a) => typeof a === 'string' && matches(a, action));
  });
}
