import { describe, expect, it } from 'vitest';
import {
  AWS_LIMITS,
  BackupTag,
  backupCovers,
  backupName,
  backupPrefix,
  backupTags,
  labelsDigest,
  MANIFEST_STAGE,
  originNameOf,
  originTags,
  retargetPolicy,
  TOOL_FENCE_SIDS,
  selectPrunable,
  tagValue,
  type BackupInfo,
} from '../../domain/backup.js';
import { secretMonthlyPrice, PRICES } from '../../domain/prices.js';
import { planItem, type SecretFacts, type SideFacts } from '../../domain/failback.js';

const ARN = 'arn:aws:secretsmanager:ap-northeast-3:123456789012:secret:prod/db-AbCdEf';
const BACKUP_ARN = 'arn:aws:secretsmanager:ap-northeast-3:123456789012:secret:secrets-dr-backup/p/prod/db/2026-12-02T050000Z-XyZ123';
const origin = (name: string) =>
  originTags({
    planName: 'payments',
    originName: name,
    originArn: `${ARN}${name}`,
    originVersion: 'v1',
    originLabels: 'abc',
    reason: 'r'.repeat(300),
    workflowId: `wf/${name}`,
  });

describe('backup names and tags stay within AWS limits', () => {
  it('a 512-character secret name gives a backup name of at most 512 characters, stable and distinct per secret', () => {
    const long = `${'a/'.repeat(255)}xy`;
    const other = `${'a/'.repeat(255)}xz`;
    expect(long).toHaveLength(512);
    const at = new Date('2026-12-02T05:00:00Z');
    const name = backupName('payments', long, at);
    expect(name.length).toBeLessThanOrEqual(AWS_LIMITS.nameMax);
    expect(name.startsWith(backupPrefix('payments', long))).toBe(true);
    expect(backupName('payments', long, at)).toBe(name);
    expect(backupPrefix('payments', other)).not.toBe(backupPrefix('payments', long));
    // Short names keep the readable form.
    expect(backupName('payments', 'prod/db', at)).toBe('secrets-dr-backup/payments/prod/db/2026-12-02T050000Z');
    // Only the characters AWS allows in a secret name.
    expect(name).toMatch(/^[A-Za-z0-9/_+=.@-]+$/);
  });

  it('no origin tag value is longer than 256; a long origin name is split over two tags and joined back', () => {
    const long = 'n'.repeat(500);
    const tags = origin(long);
    for (const [k, v] of tags) {
      expect(k.length, k).toBeLessThanOrEqual(AWS_LIMITS.tagKeyMax);
      expect(v.length, k).toBeLessThanOrEqual(AWS_LIMITS.tagValueMax);
    }
    expect(originNameOf(tags.map(([Key, Value]) => ({ Key, Value })))).toBe(long);
    expect(tagValue('x'.repeat(600))).not.toBe(tagValue(`${'x'.repeat(599)}y`));
    // Only the characters AWS allows in a tag value.
    expect(tagValue('x'.repeat(600))).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u);
  });

  it('the original tags plus the origin tags: more than 50 cannot be carried; ours replace a same-key original tag', () => {
    const ours = origin('prod/db');
    const fits = Array.from({ length: AWS_LIMITS.tagsMax - ours.length }, (_, i) => [`k${i}`, 'v'] as const);
    const r = backupTags(fits, ours);
    expect('tags' in r && r.tags).toHaveLength(AWS_LIMITS.tagsMax);
    const tooMany = backupTags([...fits, ['one-more', 'v']], ours);
    expect(tooMany).toMatchObject({ problem: expect.stringContaining('exceed') });
    const clash = backupTags([[BackupTag.reason, 'mine']], ours);
    expect('tags' in clash && clash.tags.filter(([k]) => k === BackupTag.reason)).toEqual([[BackupTag.reason, 'r'.repeat(256)]]);
  });
});

describe('the resource policy carried to the backup', () => {
  const deny = {
    Sid: 'DenyIntern',
    Effect: 'Deny',
    Principal: { AWS: 'arn:aws:iam::123456789012:role/intern' },
    Action: 'secretsmanager:GetSecretValue',
    Resource: ARN,
  };
  it('Resource naming the original (exactly or by wildcard) names the backup; "*" and other ARNs stay; our fence is left out', () => {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        deny,
        {
          Sid: 'Wild',
          Effect: 'Deny',
          Principal: '*',
          Action: 'secretsmanager:DeleteSecret',
          Resource: ['arn:aws:secretsmanager:ap-northeast-3:123456789012:secret:prod/db-??????', '*'],
        },
        { Sid: 'Other', Effect: 'Allow', Principal: '*', Action: '*', NotResource: 'arn:aws:secretsmanager:*:*:secret:other-*' },
        { Sid: 'SecretsDrFenceDenyWrites', Effect: 'Deny', Principal: '*', Action: 'secretsmanager:PutSecretValue', Resource: '*' },
        { Sid: 'SecretsDrFailbackDenyWrites', Effect: 'Deny', Principal: '*', Action: 'secretsmanager:PutSecretValue', Resource: '*' },
      ],
    });
    const out = retargetPolicy(policy, ARN, BACKUP_ARN, TOOL_FENCE_SIDS);
    expect('policy' in out).toBe(true);
    const doc = JSON.parse((out as { policy: string }).policy) as { Version: string; Statement: Array<Record<string, unknown>> };
    expect(doc.Version).toBe('2012-10-17');
    expect(doc.Statement.map((s) => s.Sid)).toEqual(['DenyIntern', 'Wild', 'Other']);
    expect(doc.Statement[0]).toEqual({ ...deny, Resource: BACKUP_ARN });
    expect(doc.Statement[1]!.Resource).toEqual([BACKUP_ARN, '*']);
    expect(doc.Statement[2]!.NotResource).toBe('arn:aws:secretsmanager:*:*:secret:other-*');
  });

  it('a single statement object, nothing left, and text that is not a policy', () => {
    expect(JSON.parse((retargetPolicy(JSON.stringify({ Statement: deny }), ARN, BACKUP_ARN) as { policy: string }).policy).Statement[0].Resource).toBe(
      BACKUP_ARN,
    );
    expect(retargetPolicy(JSON.stringify({ Statement: [{ Sid: 'F' }] }), ARN, BACKUP_ARN, ['F'])).toEqual({});
    expect(retargetPolicy('{not json', ARN, BACKUP_ARN)).toEqual({ problem: expect.stringContaining('JSON') });
  });
});

describe('labels digest and coverage (checked before any destructive call)', () => {
  it('equal for the same ids and labels in any order; the manifest and unlabelled versions do not count', () => {
    expect(labelsDigest({ a: ['AWSCURRENT', 'BLUE'], b: ['AWSPREVIOUS'] })).toBe(labelsDigest({ b: ['AWSPREVIOUS'], a: ['BLUE', 'AWSCURRENT'], c: [] }));
    expect(labelsDigest({ a: ['AWSCURRENT'], m: [MANIFEST_STAGE] })).toBe(labelsDigest({ a: ['AWSCURRENT'] }));
    expect(labelsDigest({ a: ['AWSCURRENT'], b: ['BLUE'] })).not.toBe(labelsDigest({ a: ['AWSCURRENT', 'BLUE'], b: [] }));
  });

  it('a backup covers the secret only while its labels are unchanged (older backups: by AWSCURRENT)', () => {
    const now = { a: ['AWSCURRENT'], b: ['BLUE'] };
    const tags = [{ Key: BackupTag.originLabels, Value: labelsDigest(now) }];
    expect(backupCovers(tags, now)).toBe(true);
    expect(backupCovers(tags, { a: ['AWSCURRENT'], c: ['BLUE'] })).toBe(false);
    expect(backupCovers([{ Key: BackupTag.originVersion, Value: 'a' }], now)).toBe(true);
    expect(backupCovers([{ Key: BackupTag.originVersion, Value: 'z' }], now)).toBe(false);
    expect(backupCovers([], now)).toBe(false);
  });
});

describe('prune: old backups go, never the only backup of an original that changed after it', () => {
  const DAY = 86_400_000;
  const now = Date.parse('2026-12-31T00:00:00Z');
  const b = (name: string, originName: string, daysOld: number, originChanged: boolean, region = 'ap-northeast-3'): BackupInfo => ({
    name,
    arn: `arn:${name}`,
    region,
    originName,
    createdAt: new Date(now - daysOld * DAY).toISOString(),
    originChanged,
  });
  it.each([
    ['the only backup, original changed since: kept', [b('x1', 'x', 40, true)], [], ['x1']],
    ['the only backup, original unchanged: removed (the original holds the same)', [b('x1', 'x', 40, false)], ['x1'], []],
    ['two old backups, original changed: the newer kept, the older removed', [b('x1', 'x', 50, true), b('x2', 'x', 40, true)], ['x1'], ['x2']],
    ['an old and a young backup: the old removed, the young kept', [b('x1', 'x', 50, true), b('x2', 'x', 5, true)], ['x1'], ['x2']],
    ['young backups: kept', [b('y1', 'y', 29, true)], [], ['y1']],
    ['same origin name in two Regions: separate secrets', [b('x1', 'x', 40, true, 'r1'), b('x1', 'x', 40, true, 'r2')], [], ['x1', 'x1']],
  ])('%s', (_name, backups, removed, kept) => {
    const r = selectPrunable(backups, now, 30 * DAY);
    expect(r.remove.map((x) => x.name).sort()).toEqual(removed);
    expect(r.keep.map((x) => x.backup.name).sort()).toEqual(kept);
  });
});

describe('prices', () => {
  it('one file, with its date; an override must be a number ≥ 0', () => {
    expect(PRICES).toMatchObject({ secretPerMonthUsd: 0.4, asOf: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
    expect(secretMonthlyPrice(undefined)).toBe(0.4);
    expect(secretMonthlyPrice('0.45')).toBe(0.45);
    expect(secretMonthlyPrice('cheap')).toBeUndefined();
    expect(secretMonthlyPrice('-1')).toBeUndefined();
  });
});

describe('copy-back never moves AWSPREVIOUS without a backup of the version that loses it', () => {
  const side = (over: Partial<SideFacts> = {}): SideFacts => ({ exists: true, arn: 'arn:x-AbCdEf', current: 'v1', currentHmac: 'h1', hmacs: ['h1'], ...over });
  const facts = (o: Partial<SideFacts>): SecretFacts => ({
    name: 's',
    recorded: { versionId: 'v1', hmac: 'h1' },
    original: side(o),
    dr: side({ current: 'v2', currentHmac: 'h2', hmacs: ['h1', 'h2'] }),
  });
  const plan = { failback: { onOriginalChanged: 'keep-dr', onBothChanged: 'ask', approvalTimeout: 1 } } as const;
  it.each([
    ['the original holds an AWSPREVIOUS (another labelled value): backed up first', facts({ hmacs: ['h0', 'h1'] }), true],
    ['without HMACs, told by version id', facts({ currentHmac: undefined, hmacs: ['version:v0', 'version:v1'] }), true],
    ['the original holds its AWSCURRENT only: nothing to lose', facts({}), undefined],
    ['without HMACs, AWSCURRENT only', facts({ currentHmac: undefined, hmacs: ['version:v1'] }), undefined],
  ])('%s', (_name, f, backupOriginal) => {
    const item = planItem(f, plan, 'ap-northeast-1', 'ap-northeast-3', false);
    expect(item.resolution).toBe('copy-back');
    expect(item.backupOriginal).toBe(backupOriginal);
  });
});
