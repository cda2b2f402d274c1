import { describe, expect, it } from 'vitest';
import { deniedByResourcePolicy } from '../../lab/secrets-manager/resource-policy.js';
import { fencePolicy, withoutFence } from '../../activities/failover.activities.js';

describe('lab: explicit Deny for everyone in a resource policy', () => {
  it('denies the fenced write actions, not reads or policy changes', () => {
    const policy = fencePolicy(undefined);
    for (const op of ['PutSecretValue', 'UpdateSecret', 'UpdateSecretVersionStage', 'RotateSecret', 'DeleteSecret'])
      expect(deniedByResourcePolicy(policy, op), op).toBe(true);
    for (const op of ['GetSecretValue', 'DescribeSecret', 'PutResourcePolicy', 'DeleteResourcePolicy', 'TagResource'])
      expect(deniedByResourcePolicy(policy, op), op).toBe(false);
  });

  it('ignores allows, conditions and named principals; matches wildcards', () => {
    const doc = (s: object) => JSON.stringify({ Version: '2012-10-17', Statement: [s] });
    expect(deniedByResourcePolicy(doc({ Effect: 'Allow', Principal: '*', Action: '*' }), 'PutSecretValue')).toBe(false);
    expect(deniedByResourcePolicy(doc({ Effect: 'Deny', Principal: '*', Action: 'secretsmanager:*', Condition: { x: 1 } }), 'PutSecretValue')).toBe(false);
    expect(deniedByResourcePolicy(doc({ Effect: 'Deny', Principal: { AWS: 'arn:aws:iam::1:role/x' }, Action: '*' }), 'PutSecretValue')).toBe(false);
    expect(deniedByResourcePolicy(doc({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'secretsmanager:Put*' }), 'PutSecretValue')).toBe(true);
  });

  it("the fence keeps the secret's own statements and can be taken out again", () => {
    const own = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'App', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::1:role/app' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
    });
    const fenced = fencePolicy(own);
    expect(JSON.parse(fenced).Statement).toHaveLength(2);
    expect(fencePolicy(fenced)).toBe(fenced); // idempotent
    expect(JSON.parse(withoutFence(fenced)!).Statement).toEqual(JSON.parse(own).Statement);
    expect(withoutFence(fencePolicy(undefined))).toBeUndefined();
  });
});
