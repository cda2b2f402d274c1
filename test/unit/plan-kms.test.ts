import { describe, expect, it } from 'vitest';
import { validatePlan } from '../../domain/plan.js';
import { isAwsManagedKey, keyRegionProblem } from '../../domain/kms.js';

const plan = (drKey: string | undefined, primaryKmsKeyId?: string) =>
  validatePlan({
    name: 'payments',
    primaryRegion: 'ap-northeast-1',
    ...(primaryKmsKeyId ? { primaryKmsKeyId } : {}),
    drRegions: [{ region: 'ap-northeast-3', ...(drKey ? { kmsKeyId: drKey } : {}) }],
    secrets: { include: [{ prefix: 'prod/' }] },
  });

describe('plan validate: a KMS key ARN must belong to its Region', () => {
  it('accepts a key, an alias or a multi-Region key replica of the DR Region, and ids resolved in the Region', () => {
    for (const key of [
      'arn:aws:kms:ap-northeast-3:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      'arn:aws:kms:ap-northeast-3:123456789012:alias/payments-dr',
      'arn:aws:kms:ap-northeast-3:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab',
      'alias/payments-dr',
      '1234abcd-12ab-34cd-56ef-1234567890ab',
    ])
      expect(plan(key).ok, key).toBe(true);
  });

  it('refuses a key of another Region, naming drRegions[0].kmsKeyId and both Regions', () => {
    const r = plan('arn:aws:kms:ap-northeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    expect(r.ok).toBe(false);
    const p = !r.ok ? r.problems.find((x) => x.path === 'drRegions[0].kmsKeyId') : undefined;
    expect(p?.message).toMatch(/lives in ap-northeast-1.*must be a key of ap-northeast-3/);
  });

  it('refuses a multi-Region key named by its ARN in another Region, and says which ARN to write', () => {
    const r = plan('arn:aws:kms:ap-northeast-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab');
    expect(r.ok).toBe(false);
    const p = !r.ok ? r.problems.find((x) => x.path === 'drRegions[0].kmsKeyId') : undefined;
    expect(p?.message).toContain('arn:aws:kms:ap-northeast-3:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab');
    expect(keyRegionProblem('arn:aws-cn:kms:cn-north-1:123456789012:key/mrk-1', 'cn-northwest-1')).toContain('arn:aws-cn:kms:cn-northwest-1:');
  });

  it('checks primaryKmsKeyId the same way, mrk- keys included', () => {
    const r = plan(undefined, 'arn:aws:kms:ap-northeast-3:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab');
    expect(!r.ok && r.problems.find((x) => x.path === 'primaryKmsKeyId')?.message).toContain('arn:aws:kms:ap-northeast-1:123456789012:key/mrk-');
  });

  it('tells the AWS managed key from customer managed keys', () => {
    expect(
      ['alias/aws/secretsmanager', 'aws/secretsmanager', undefined, 'arn:aws:kms:us-east-1:123456789012:alias/aws/secretsmanager'].every(isAwsManagedKey),
    ).toBe(true);
    expect(isAwsManagedKey('arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab')).toBe(false);
    expect(isAwsManagedKey('alias/payments')).toBe(false);
  });
});
