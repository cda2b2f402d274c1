/**
 * A fence is a parsed statement, never a substring of the policy text (issue 18 review): only a deny to
 * everyone of every fenced action, without Condition or Not* elements, counts as our fence; and only a
 * statement whose Sid IS ours is lifted: a lookalike (the Sid inside another Sid or a Condition value)
 * leaves the policy byte-for-byte as it was.
 */
import { describe, expect, it } from 'vitest';
import { hasDenyStatement, policyWithDeny } from '../../domain/failback.js';
import { FENCE_SID, FENCED_ACTIONS } from '../../domain/failover.js';

const ours = { Sid: FENCE_SID, Effect: 'Deny', Principal: '*', Action: [...FENCED_ACTIONS], Resource: '*' };
const app = { Sid: 'App', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' };
const policyOf = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

describe('hasDenyStatement: only a full fence counts', () => {
  it.each([
    ['the statement policyWithDeny writes', policyWithDeny(undefined, FENCE_SID, FENCED_ACTIONS)],
    ['ours beside an application statement', policyWithDeny(policyOf(app), FENCE_SID, FENCED_ACTIONS)],
    ['ours as a lone Statement object (not an array)', JSON.stringify({ Version: '2012-10-17', Statement: ours })],
    ['Principal {"AWS":"*"} (how AWS may return "*")', policyOf({ ...ours, Principal: { AWS: '*' } })],
    ['every action by the service wildcard', policyOf({ ...ours, Action: 'secretsmanager:*' })],
    ['every action by "*"', policyOf({ ...ours, Action: '*' })],
    ['action names in another case (IAM action names are case-insensitive)', policyOf({ ...ours, Action: FENCED_ACTIONS.map((a) => a.toUpperCase()) })],
    ['Resource as ["*"]', policyOf({ ...ours, Resource: ['*'] })],
  ])('fenced: %s', (_what, policy) => {
    expect(hasDenyStatement(policy, FENCE_SID, FENCED_ACTIONS)).toBe(true);
  });

  it.each([
    ['with a Condition', policyOf({ ...ours, Condition: { StringEquals: { 'aws:PrincipalAccount': '111122223333' } } })],
    ['with NotPrincipal', policyOf({ ...ours, NotPrincipal: { AWS: 'arn:aws:iam::111122223333:root' } })],
    ['with NotAction', policyOf({ ...ours, NotAction: 'secretsmanager:GetSecretValue' })],
    ['with NotResource', policyOf({ ...ours, NotResource: 'arn:aws:secretsmanager:*:*:secret:other' })],
    ['with NotPrincipal instead of Principal', policyOf({ ...ours, Principal: undefined, NotPrincipal: { AWS: 'arn:aws:iam::1:root' } })],
    ['with NotAction instead of Action', policyOf({ ...ours, Action: undefined, NotAction: 'secretsmanager:GetSecretValue' })],
    ['with NotResource instead of Resource', policyOf({ ...ours, Resource: undefined, NotResource: 'arn:aws:secretsmanager:*:*:secret:other' })],
    ['a narrowed Principal', policyOf({ ...ours, Principal: { AWS: 'arn:aws:iam::111122223333:root' } })],
    ['a narrowed Resource', policyOf({ ...ours, Resource: 'arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:prod/db-AbCdEf' })],
    ['no Resource at all', policyOf({ ...ours, Resource: undefined })],
    ['an action missing', policyOf({ ...ours, Action: FENCED_ACTIONS.slice(1) })],
    ['a partial wildcard (not known to cover every action)', policyOf({ ...ours, Action: 'secretsmanager:Put*' })],
    ['Effect Allow', policyOf({ ...ours, Effect: 'Allow' })],
    ['another Sid', policyOf({ ...ours, Sid: `${FENCE_SID}Audit` })],
    ['malformed JSON', `{"Statement":[${JSON.stringify(ours)}`],
    ['a statement that is not an object', JSON.stringify({ Statement: [null, 7, 'x'] })],
    ['no policy', undefined],
  ])('not fenced: %s', (_what, policy) => {
    expect(hasDenyStatement(policy, FENCE_SID, FENCED_ACTIONS)).toBe(false);
  });
});
