/**
 * Every Secrets Manager operation through the real SDK client against an in-process lab.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  RotateSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
  ValidateResourcePolicyCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { RunningLab } from '../../lab/server.js';
import { P, rejection, labPerTest } from './helpers.js';

let lab: RunningLab;
let c: SecretsManagerClient;
labPerTest((l, client) => ([lab, c] = [l, client]));

const TOKEN_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';

describe('CreateSecret / DescribeSecret / GetSecretValue', () => {
  it('creates a secret with an ARN, a UUID version labelled AWSCURRENT, and reads it back by name, ARN and partial ARN', async () => {
    const created = await c.send(
      new CreateSecretCommand({
        Name: 'prod/App/Mysql',
        SecretString: '{"password":"p1"}',
        Description: 'db',
        Tags: [{ Key: 'dr-tier', Value: '0' }],
      }),
    );
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:prod\/App\/Mysql-[A-Za-z0-9]{6}$/);
    expect(created.VersionId).toMatch(/^[0-9a-f-]{36}$/);

    const d = await c.send(new DescribeSecretCommand({ SecretId: 'prod/App/Mysql' }));
    expect(d.Description).toBe('db');
    expect(d.Tags).toEqual([{ Key: 'dr-tier', Value: '0' }]);
    expect(d.VersionIdsToStages).toEqual({ [created.VersionId!]: ['AWSCURRENT'] });
    expect(d.CreatedDate).toBeInstanceOf(Date);
    expect(Math.abs(d.CreatedDate!.getTime() - Date.now())).toBeLessThan(5000);
    expect(d.PrimaryRegion).toBeUndefined();

    for (const id of [created.ARN!, created.ARN!.slice(0, -7), 'prod/App/Mysql']) {
      const v = await c.send(new GetSecretValueCommand({ SecretId: id }));
      expect(v.SecretString).toBe('{"password":"p1"}');
      expect(v.VersionStages).toEqual(['AWSCURRENT']);
    }
    const e = await rejection(c.send(new GetSecretValueCommand({ SecretId: `${created.ARN!.slice(0, -6)}XXXXXX` })));
    expect(e.name).toBe('ResourceNotFoundException');
  });

  it('round-trips SecretBinary as bytes', async () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    await c.send(new CreateSecretCommand({ Name: 'bin', SecretBinary: bytes }));
    const v = await c.send(new GetSecretValueCommand({ SecretId: 'bin' }));
    expect(v.SecretString).toBeUndefined();
    expect([...v.SecretBinary!]).toEqual([...bytes]);
  });

  it('rejects a duplicate name with ResourceExistsException, but a retried create (same token, same value) is idempotent', async () => {
    const first = await c.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'v', ClientRequestToken: TOKEN_A }));
    const retry = await c.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'v', ClientRequestToken: TOKEN_A }));
    expect(retry.VersionId).toBe(first.VersionId);
    expect(retry.ARN).toBe(first.ARN);
    const e = await rejection(c.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'other' })));
    expect(e.name).toBe('ResourceExistsException');
  });

  it('a secret created without a value has no version; GetSecretValue says so', async () => {
    const r = await c.send(new CreateSecretCommand({ Name: 'empty' }));
    expect(r.VersionId).toBeUndefined();
    const e = await rejection(c.send(new GetSecretValueCommand({ SecretId: 'empty' })));
    expect(e.name).toBe('ResourceNotFoundException');
    expect(e.message).toMatch(/AWSCURRENT/);
  });

  it('validates names (ValidationException) and unknown secrets like AWS', async () => {
    const e = await rejection(c.send(new CreateSecretCommand({ Name: 'bad name with spaces', SecretString: 'x' })));
    expect(e.name).toBe('ValidationException');
    const both = await rejection(c.send(new UpdateSecretCommand({ SecretId: 'nope' })));
    expect(both.name).toBe('ResourceNotFoundException');
  });
});

describe('PutSecretValue', () => {
  it('moves AWSCURRENT to the new version and AWSPREVIOUS to the old one', async () => {
    const v1 = await c.send(new CreateSecretCommand({ Name: 's', SecretString: 'one' }));
    const v2 = await c.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'two' }));
    const v3 = await c.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'three' }));
    const d = await c.send(new DescribeSecretCommand({ SecretId: 's' }));
    expect(d.VersionIdsToStages).toEqual({ [v2.VersionId!]: ['AWSPREVIOUS'], [v3.VersionId!]: ['AWSCURRENT'] });
    expect(v1.VersionId! in d.VersionIdsToStages!).toBe(false); // unlabelled: only listed with IncludeDeprecated
    const prev = await c.send(new GetSecretValueCommand({ SecretId: 's', VersionStage: 'AWSPREVIOUS' }));
    expect(prev.SecretString).toBe('two');
    const old = await c.send(new GetSecretValueCommand({ SecretId: 's', VersionId: v1.VersionId }));
    expect(old.SecretString).toBe('one');
    expect(old.VersionStages).toEqual([]);
  });

  it('is idempotent on ClientRequestToken: same token + same value → one version; same token + other value → ResourceExistsException', async () => {
    await c.send(new CreateSecretCommand({ Name: 'idem', SecretString: 'v0' }));
    const a = await c.send(new PutSecretValueCommand({ SecretId: 'idem', SecretString: 'v1', ClientRequestToken: TOKEN_A }));
    const b = await c.send(new PutSecretValueCommand({ SecretId: 'idem', SecretString: 'v1', ClientRequestToken: TOKEN_A }));
    expect(b.VersionId).toBe(TOKEN_A);
    expect(a.VersionId).toBe(TOKEN_A);
    const versions = await c.send(new ListSecretVersionIdsCommand({ SecretId: 'idem', IncludeDeprecated: true }));
    expect(versions.Versions!.length).toBe(2);
    const e = await rejection(c.send(new PutSecretValueCommand({ SecretId: 'idem', SecretString: 'different', ClientRequestToken: TOKEN_A })));
    expect(e.name).toBe('ResourceExistsException');
    expect((await c.send(new GetSecretValueCommand({ SecretId: 'idem' }))).SecretString).toBe('v1');
  });

  it('attaches custom VersionStages without moving AWSCURRENT', async () => {
    const v1 = await c.send(new CreateSecretCommand({ Name: 'custom', SecretString: 'one' }));
    const v2 = await c.send(new PutSecretValueCommand({ SecretId: 'custom', SecretString: 'pending', VersionStages: ['AWSPENDING'] }));
    const d = await c.send(new DescribeSecretCommand({ SecretId: 'custom' }));
    expect(d.VersionIdsToStages).toEqual({ [v1.VersionId!]: ['AWSCURRENT'], [v2.VersionId!]: ['AWSPENDING'] });
  });

  it('prunes unlabelled versions beyond 100', async () => {
    await c.send(new CreateSecretCommand({ Name: 'many', SecretString: 'v0' }));
    for (let i = 1; i <= 105; i++)
      lab.secretsManager.handleSync(
        'PutSecretValue',
        { SecretId: 'many', SecretString: `v${i}`, ClientRequestToken: randomUUID() },
        { region: P, accountId: lab.accountId, requestId: 'r', clock: lab.clock },
      );
    const all = await c.send(new ListSecretVersionIdsCommand({ SecretId: 'many', IncludeDeprecated: true }));
    expect(all.Versions!.length).toBe(100);
    const labelled = await c.send(new ListSecretVersionIdsCommand({ SecretId: 'many' }));
    expect(labelled.Versions!.map((v) => v.VersionStages).sort()).toEqual([['AWSCURRENT'], ['AWSPREVIOUS']]);
  });
});

describe('UpdateSecret / UpdateSecretVersionStage / ListSecretVersionIds', () => {
  it('UpdateSecret changes the description without a version, and a value with one', async () => {
    await c.send(new CreateSecretCommand({ Name: 'u', SecretString: 'one' }));
    const r1 = await c.send(new UpdateSecretCommand({ SecretId: 'u', Description: 'new desc', KmsKeyId: 'alias/custom' }));
    expect(r1.VersionId).toBeUndefined();
    const r2 = await c.send(new UpdateSecretCommand({ SecretId: 'u', SecretString: 'two' }));
    expect(r2.VersionId).toBeDefined();
    const d = await c.send(new DescribeSecretCommand({ SecretId: 'u' }));
    expect(d.Description).toBe('new desc');
    expect(d.KmsKeyId).toBe('alias/custom');
    expect(d.VersionIdsToStages![r2.VersionId!]).toEqual(['AWSCURRENT']);
  });

  it('moves AWSCURRENT with MoveToVersionId + RemoveFromVersionId, setting AWSPREVIOUS; refuses a move without RemoveFromVersionId', async () => {
    const v1 = await c.send(new CreateSecretCommand({ Name: 'stage', SecretString: 'one' }));
    const v2 = await c.send(new PutSecretValueCommand({ SecretId: 'stage', SecretString: 'two', VersionStages: ['AWSPENDING'] }));
    const e = await rejection(c.send(new UpdateSecretVersionStageCommand({ SecretId: 'stage', VersionStage: 'AWSCURRENT', MoveToVersionId: v2.VersionId })));
    expect(e.name).toBe('InvalidParameterException');
    await c.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'stage',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: v2.VersionId,
        RemoveFromVersionId: v1.VersionId,
      }),
    );
    await c.send(new UpdateSecretVersionStageCommand({ SecretId: 'stage', VersionStage: 'AWSPENDING', RemoveFromVersionId: v2.VersionId }));
    const d = await c.send(new DescribeSecretCommand({ SecretId: 'stage' }));
    expect(d.VersionIdsToStages).toEqual({ [v1.VersionId!]: ['AWSPREVIOUS'], [v2.VersionId!]: ['AWSCURRENT'] });
    const list = await c.send(new ListSecretVersionIdsCommand({ SecretId: 'stage', MaxResults: 1 }));
    expect(list.Versions!.length).toBe(1);
    expect(list.NextToken).toBeDefined();
    const rest = await c.send(new ListSecretVersionIdsCommand({ SecretId: 'stage', MaxResults: 1, NextToken: list.NextToken }));
    expect(rest.Versions!.length).toBe(1);
    expect(rest.NextToken).toBeUndefined();
    expect(new Set([list.Versions![0]!.VersionId, rest.Versions![0]!.VersionId])).toEqual(new Set([v1.VersionId, v2.VersionId]));
  });
});

describe('DeleteSecret / RestoreSecret', () => {
  it('schedules deletion (default 30 days), refuses reads "marked for deletion", hides it from ListSecrets, and restores', async () => {
    await c.send(new CreateSecretCommand({ Name: 'del', SecretString: 'x' }));
    const r = await c.send(new DeleteSecretCommand({ SecretId: 'del' }));
    expect(r.DeletionDate!.getTime() - Date.now()).toBeGreaterThan(29.9 * 86_400_000);
    const e = await rejection(c.send(new GetSecretValueCommand({ SecretId: 'del' })));
    expect(e.name).toBe('InvalidRequestException');
    expect(e.message).toMatch(/marked for deletion/);
    const put = await rejection(c.send(new PutSecretValueCommand({ SecretId: 'del', SecretString: 'y' })));
    expect(put.message).toMatch(/marked for deletion/);
    const d = await c.send(new DescribeSecretCommand({ SecretId: 'del' }));
    expect(d.DeletedDate).toBeInstanceOf(Date);
    expect((await c.send(new ListSecretsCommand({}))).SecretList!.map((s) => s.Name)).not.toContain('del');
    expect((await c.send(new ListSecretsCommand({ IncludePlannedDeletion: true }))).SecretList!.map((s) => s.Name)).toContain('del');
    const again = await rejection(c.send(new CreateSecretCommand({ Name: 'del', SecretString: 'z' })));
    expect(again.name).toBe('InvalidRequestException');
    await c.send(new RestoreSecretCommand({ SecretId: 'del' }));
    expect((await c.send(new GetSecretValueCommand({ SecretId: 'del' }))).SecretString).toBe('x');
  });

  it('validates the recovery window and hard-deletes when it passes on the lab clock', async () => {
    await c.send(new CreateSecretCommand({ Name: 'win', SecretString: 'x' }));
    for (const days of [6, 31]) {
      const e = await rejection(c.send(new DeleteSecretCommand({ SecretId: 'win', RecoveryWindowInDays: days })));
      expect(e.name).toBe('InvalidParameterException');
    }
    const both = await rejection(c.send(new DeleteSecretCommand({ SecretId: 'win', RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true })));
    expect(both.name).toBe('InvalidParameterException');
    await c.send(new DeleteSecretCommand({ SecretId: 'win', RecoveryWindowInDays: 7 }));
    lab.clock.advance(7 * 86_400_000 + 1000);
    lab.secretsManager.runSchedules();
    const gone = await rejection(c.send(new DescribeSecretCommand({ SecretId: 'win' })));
    expect(gone.name).toBe('ResourceNotFoundException');
  });

  it('ForceDeleteWithoutRecovery removes the secret at once (the name is free again)', async () => {
    await c.send(new CreateSecretCommand({ Name: 'force', SecretString: 'x' }));
    await c.send(new DeleteSecretCommand({ SecretId: 'force', ForceDeleteWithoutRecovery: true }));
    expect((await rejection(c.send(new DescribeSecretCommand({ SecretId: 'force' })))).name).toBe('ResourceNotFoundException');
    await c.send(new CreateSecretCommand({ Name: 'force', SecretString: 'y' }));
  });
});

describe('tags and resource policies', () => {
  it('TagResource merges, UntagResource removes', async () => {
    await c.send(new CreateSecretCommand({ Name: 't', SecretString: 'x', Tags: [{ Key: 'a', Value: '1' }] }));
    await c.send(
      new TagResourceCommand({
        SecretId: 't',
        Tags: [
          { Key: 'a', Value: '2' },
          { Key: 'b', Value: '3' },
        ],
      }),
    );
    await c.send(new UntagResourceCommand({ SecretId: 't', TagKeys: ['b'] }));
    expect((await c.send(new DescribeSecretCommand({ SecretId: 't' }))).Tags).toEqual([{ Key: 'a', Value: '2' }]);
  });

  it('Put/Get/Delete/ValidateResourcePolicy, with malformed and public policies refused', async () => {
    await c.send(new CreateSecretCommand({ Name: 'pol', SecretString: 'x' }));
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
    });
    await c.send(new PutResourcePolicyCommand({ SecretId: 'pol', ResourcePolicy: policy }));
    expect((await c.send(new GetResourcePolicyCommand({ SecretId: 'pol' }))).ResourcePolicy).toBe(policy);
    expect((await rejection(c.send(new PutResourcePolicyCommand({ SecretId: 'pol', ResourcePolicy: '{not json' })))).name).toBe(
      'MalformedPolicyDocumentException',
    );
    const pub = JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }] });
    expect((await rejection(c.send(new PutResourcePolicyCommand({ SecretId: 'pol', ResourcePolicy: pub, BlockPublicPolicy: true })))).name).toBe(
      'PublicPolicyException',
    );
    expect((await c.send(new ValidateResourcePolicyCommand({ ResourcePolicy: policy }))).PolicyValidationPassed).toBe(true);
    expect((await c.send(new ValidateResourcePolicyCommand({ ResourcePolicy: '{' }))).PolicyValidationPassed).toBe(false);
    await c.send(new DeleteResourcePolicyCommand({ SecretId: 'pol' }));
    expect((await c.send(new GetResourcePolicyCommand({ SecretId: 'pol' }))).ResourcePolicy).toBeUndefined();
  });
});

describe('BatchGetSecretValue', () => {
  it('returns values by id list with an Errors entry for each missing secret', async () => {
    await c.send(new CreateSecretCommand({ Name: 'b1', SecretString: 'one' }));
    await c.send(new CreateSecretCommand({ Name: 'b2', SecretString: 'two' }));
    const r = await c.send(new BatchGetSecretValueCommand({ SecretIdList: ['b1', 'b2', 'missing'] }));
    expect(r.SecretValues!.map((v) => [v.Name, v.SecretString])).toEqual([
      ['b1', 'one'],
      ['b2', 'two'],
    ]);
    expect(r.Errors).toEqual([expect.objectContaining({ SecretId: 'missing', ErrorCode: 'ResourceNotFoundException' })]);
  });

  it('pages through Filters with MaxResults/NextToken', async () => {
    lab.secretsManager.seed(
      P,
      Array.from({ length: 5 }, (_, i) => ({ name: `batch/${i}`, value: `v${i}` })),
    );
    const names: string[] = [];
    let token: string | undefined;
    do {
      const r = await c.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['batch/'] }], MaxResults: 2, NextToken: token }));
      names.push(...r.SecretValues!.map((v) => v.Name!));
      token = r.NextToken;
    } while (token);
    expect(names).toEqual(['batch/0', 'batch/1', 'batch/2', 'batch/3', 'batch/4']);
    expect((await rejection(c.send(new BatchGetSecretValueCommand({ SecretIdList: ['x'], Filters: [{ Key: 'name', Values: ['x'] }] })))).name).toBe(
      'InvalidParameterException',
    );
  });
});

describe('ListSecrets', () => {
  it('filters by name/tag/description/all with negation, pages by 100, and carries SecretVersionsToStages', async () => {
    lab.secretsManager.seed(P, [
      ...Array.from({ length: 150 }, (_, i) => ({
        name: `prod/payments/${String(i).padStart(3, '0')}`,
        value: 'x',
        tags: [{ Key: 'dr-tier', Value: i % 2 ? '1' : '0' }],
      })),
      { name: 'prod/payments/scratch/tmp', value: 'x', tags: [{ Key: 'dr-tier', Value: '0' }] },
      { name: 'prod/App/Mysql', value: 'x', description: 'The MySQL password' },
      { name: 'dev/thing', value: 'x' },
    ]);
    const page1 = await c.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['prod/payments/'] }] }));
    expect(page1.SecretList!.length).toBe(100);
    expect(page1.NextToken).toBeDefined();
    const page2 = await c.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['prod/payments/'] }], NextToken: page1.NextToken }));
    expect(page2.SecretList!.length).toBe(51);
    expect(page2.NextToken).toBeUndefined();
    const first = page1.SecretList![0]!;
    expect(Object.values(first.SecretVersionsToStages!)).toEqual([['AWSCURRENT']]);
    expect(first.ARN).toMatch(/^arn:aws:secretsmanager:ap-northeast-1:/);

    const negated = await c.send(
      new ListSecretsCommand({
        Filters: [
          { Key: 'name', Values: ['prod/payments/'] },
          { Key: 'name', Values: ['!prod/payments/scratch/'] },
          { Key: 'tag-value', Values: ['0'] },
        ],
      }),
    );
    expect(negated.SecretList!.length).toBe(75);
    expect(negated.SecretList!.some((s) => s.Name!.includes('scratch'))).toBe(false);

    const byTagKey = await c.send(new ListSecretsCommand({ Filters: [{ Key: 'tag-key', Values: ['!dr-tier'] }] }));
    expect(byTagKey.SecretList!.map((s) => s.Name).sort()).toEqual(['dev/thing', 'prod/App/Mysql']);
    const byDesc = await c.send(new ListSecretsCommand({ Filters: [{ Key: 'description', Values: ['the sql'] }] }));
    expect(byDesc.SecretList!.map((s) => s.Name)).toEqual(['prod/App/Mysql']);
    const all = await c.send(new ListSecretsCommand({ Filters: [{ Key: 'all', Values: ['Mysql'] }] }));
    expect(all.SecretList!.map((s) => s.Name)).toEqual(['prod/App/Mysql']);
    const caseSensitive = await c.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['PROD/'] }] }));
    expect(caseSensitive.SecretList).toEqual([]);
    const small = await c.send(new ListSecretsCommand({ MaxResults: 3, SortOrder: 'desc', Filters: [{ Key: 'name', Values: ['dev/', 'prod/App'] }] }));
    expect(small.SecretList!.length).toBe(2);
    expect((await rejection(c.send(new ListSecretsCommand({ MaxResults: 101 })))).name).toBe('InvalidParameterException');
    expect((await rejection(c.send(new ListSecretsCommand({ NextToken: 'garbage' })))).name).toBe('InvalidNextTokenException');
  });
});

describe('rotation and passwords', () => {
  // RotateSecret with rotation functions, schedules and stalls: test/lab/rotation.test.ts.
  it('rejects a bad schedule expression', async () => {
    await c.send(new CreateSecretCommand({ Name: 'rot2', SecretString: 'x' }));
    const e = await rejection(c.send(new RotateSecretCommand({ SecretId: 'rot2', RotationRules: { ScheduleExpression: 'every tuesday' } })));
    expect(e.name).toBe('InvalidParameterException');
  });

  it('GetRandomPassword honours every option', async () => {
    const def = await c.send(new GetRandomPasswordCommand({}));
    expect(def.RandomPassword!.length).toBe(32);
    const digits = await c.send(
      new GetRandomPasswordCommand({
        PasswordLength: 50,
        ExcludeLowercase: true,
        ExcludeUppercase: true,
        ExcludePunctuation: true,
        ExcludeCharacters: '01',
      }),
    );
    expect(digits.RandomPassword).toMatch(/^[2-9]{50}$/);
    const spaced = await c.send(new GetRandomPasswordCommand({ PasswordLength: 8, IncludeSpace: true, ExcludeNumbers: true, ExcludePunctuation: true }));
    expect(spaced.RandomPassword).toMatch(/^[A-Za-z ]{8}$/);
    expect(spaced.RandomPassword).toMatch(/ /); // RequireEachIncludedType defaults to true
    const e = await rejection(c.send(new GetRandomPasswordCommand({ PasswordLength: 4097 })));
    expect(e.name).toBe('InvalidParameterException');
  });
});
