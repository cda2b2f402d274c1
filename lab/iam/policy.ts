/**
 * An IAM identity-based policy document, parsed strictly: what the lab enforces must be what IAM
 * would accept, and a typo must not silently widen or narrow what the lab allows. Pure.
 *
 * Accepted: Version 2012-10-17 (or 2008-10-17), Statement as one object or a list; each statement
 * with Effect Allow|Deny, exactly one of Action/NotAction, exactly one of Resource/NotResource,
 * an optional Condition of the operators in CONDITION_OPERATORS (with `...IfExists` and the
 * `ForAnyValue:`/`ForAllValues:` qualifiers). `Principal` belongs in resource policies: refused.
 */
import { z } from 'zod';

/** The base operators the lab evaluates (the generated policies use StringEquals, Null; the rest are common). */
export const CONDITION_OPERATORS = [
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'ArnEquals',
  'ArnNotEquals',
  'ArnLike',
  'ArnNotLike',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'Bool',
  'Null',
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (typeof v === 'string' ? [v] : v));
const conditionValue = z
  .union([z.string(), z.boolean(), z.number(), z.array(z.union([z.string(), z.boolean(), z.number()])).min(1)])
  .transform((v) => (Array.isArray(v) ? v : [v]).map(String));

const OPERATOR_RE = new RegExp(`^(?:(ForAnyValue|ForAllValues):)?(${CONDITION_OPERATORS.join('|')})(IfExists)?$`);

const statementSchema = z
  .object({
    Sid: z.string().optional(),
    Effect: z.enum(['Allow', 'Deny']),
    Action: stringOrList.optional(),
    NotAction: stringOrList.optional(),
    Resource: stringOrList.optional(),
    NotResource: stringOrList.optional(),
    Condition: z.record(z.string(), z.record(z.string(), conditionValue)).optional(),
    Principal: z.unknown().optional(),
    NotPrincipal: z.unknown().optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if ((s.Action === undefined) === (s.NotAction === undefined))
      ctx.addIssue({ code: 'custom', path: ['Action'], message: 'exactly one of Action or NotAction is required' });
    if ((s.Resource === undefined) === (s.NotResource === undefined))
      ctx.addIssue({ code: 'custom', path: ['Resource'], message: 'exactly one of Resource or NotResource is required' });
    if (s.Principal !== undefined || s.NotPrincipal !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['Principal'], message: 'an identity-based policy has no Principal (that is a resource policy): remove it' });
    }
    for (const op of Object.keys(s.Condition ?? {})) {
      if (!OPERATOR_RE.test(op))
        ctx.addIssue({
          code: 'custom',
          path: ['Condition', op],
          message: `unknown condition operator; expected one of ${CONDITION_OPERATORS.join(', ')} (optionally ...IfExists, ForAnyValue:/ForAllValues:)`,
        });
    }
    for (const a of [...(s.Action ?? []), ...(s.NotAction ?? [])]) {
      if (a !== '*' && !/^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/.test(a))
        ctx.addIssue({ code: 'custom', path: ['Action'], message: `"${a}" is not service:Action (e.g. secretsmanager:GetSecretValue, secretsmanager:*)` });
    }
  });

export const policyDocumentSchema = z
  .object({
    Version: z.enum(['2012-10-17', '2008-10-17']),
    Id: z.string().optional(),
    // One statement or a list of them (both are IAM grammar); a lone object is read as a list of one.
    Statement: z.preprocess((v) => (v && typeof v === 'object' && !Array.isArray(v) ? [v] : v), z.array(statementSchema)),
  })
  .strict();

export type Statement = z.output<typeof statementSchema>;
export type IamPolicy = z.output<typeof policyDocumentSchema>;

export class PolicyError extends Error {}

/** Parses a policy document (object or JSON text); the error names every bad field and the source. */
export function parsePolicy(input: unknown, source = 'policy'): IamPolicy {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (e) {
      throw new PolicyError(`${source}: not JSON (${(e as Error).message}); expected an IAM policy document {"Version": "2012-10-17", "Statement": [...]}`);
    }
  }
  const parsed = policyDocumentSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(document)'}: ${i.message}`);
    throw new PolicyError(`${source} is not a valid IAM policy document: ${problems.join('; ')}`);
  }
  return parsed.data;
}

export function parseOperator(op: string): { base: ConditionOperator; set?: 'ForAnyValue' | 'ForAllValues'; ifExists: boolean } {
  const m = OPERATOR_RE.exec(op);
  if (!m) throw new PolicyError(`unknown condition operator ${op}`);
  return { base: m[2] as ConditionOperator, ...(m[1] ? { set: m[1] as 'ForAnyValue' | 'ForAllValues' } : {}), ifExists: m[3] !== undefined };
}
