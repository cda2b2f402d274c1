/**
 * Secrets Manager call sequences whose answers were recorded on real AWS, replayed against the
 * lab with the real SDK client. Each test names its recording:
 * - "localstack <test>": localstack/localstack tests/aws/services/secretsmanager/
 *   test_secretsmanager.py and its .snapshot.json (aws-validated tests);
 * - "moto <test>": getmoto/moto tests/test_secretsmanager/ tests marked aws_verified.
 * Secrets, versions and labels; the version-label cycles are in aws-recorded-versions.test.ts and
 * the ListSecrets filters in aws-recorded-list.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  ValidateResourcePolicyCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { RunningLab } from '../../lab/server.js';
import { awsError, fieldsOf, P, rawCall, sleep, labPerTest } from './helpers.js';

let lab: RunningLab;
let c: SecretsManagerClient;
labPerTest((l, client) => ([lab, c] = [l, client]), { maxAttempts: 1 });

const NOT_FOUND = "Secrets Manager can't find the specified secret.";
const DELETED = "You can't perform this operation on the secret because it was marked for deletion.";
const INVALID_NAME = 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!';
const tokenInUse = (token: string, arn: string): string =>
  `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret ${arn}.`;

describe('create, read, update, delete (localstack recordings)', () => {
  for (const name of ['s-c64bdc03', 'Valid/_+=.@-Name', 'Valid/_+=.@-Name-a1b2', 'Valid/_+=.@-Name-a1b2c3-']) {
    it(`localstack test_create_and_update_secret[${name}]: every answer carries exactly the recorded fields`, async () => {
      const created = await c.send(new CreateSecretCommand({ Name: name, SecretString: 'my_secret', Description: 'Testing secret creation.' }));
      expect(fieldsOf(created)).toEqual(['ARN', 'Name', 'VersionId']);
      expect(created.ARN!.split('-').pop()).toHaveLength(6);

      const byName = await c.send(new GetSecretValueCommand({ SecretId: name }));
      expect(fieldsOf(byName)).toEqual(['ARN', 'CreatedDate', 'Name', 'SecretString', 'VersionId', 'VersionStages']);
      expect(byName.VersionStages).toEqual(['AWSCURRENT']);

      const described = await c.send(new DescribeSecretCommand({ SecretId: name }));
      expect(fieldsOf(described)).toEqual(['ARN', 'CreatedDate', 'Description', 'LastAccessedDate', 'LastChangedDate', 'Name', 'VersionIdsToStages']);
      expect(described.VersionIdsToStages).toEqual({ [created.VersionId!]: ['AWSCURRENT'] });

      for (const id of [created.ARN!, created.ARN!.slice(0, -7)]) {
        expect((await c.send(new GetSecretValueCommand({ SecretId: id }))).SecretString).toBe('my_secret');
      }

      const put = await c.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'new_secret' }));
      expect(fieldsOf(put)).toEqual(['ARN', 'Name', 'VersionId', 'VersionStages']);
      expect(put.VersionStages).toEqual(['AWSCURRENT']);
      expect((await c.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('new_secret');

      const updated = await c.send(new UpdateSecretCommand({ SecretId: created.ARN, SecretString: 'test123', Description: 'd1' }));
      expect(fieldsOf(updated)).toEqual(['ARN', 'Name', 'VersionId']);

      const deleted = await c.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
      expect(fieldsOf(deleted)).toEqual(['ARN', 'DeletionDate', 'Name']);
    });
  }

  it('localstack test_create_and_update_secret[Invalid/_+=.@-Name-a1b2c3]: a partial ARN ending in -XXXXXX is read as a full ARN, so it is not found', async () => {
    const created = await c.send(new CreateSecretCommand({ Name: 'Invalid/_+=.@-Name-a1b2c3', SecretString: 'my_secret' }));
    expect(await awsError(c.send(new GetSecretValueCommand({ SecretId: created.ARN!.slice(0, -7) })))).toEqual({
      name: 'ResourceNotFoundException',
      message: NOT_FOUND,
      status: 400,
    });
    expect((await c.send(new GetSecretValueCommand({ SecretId: created.ARN }))).SecretString).toBe('my_secret');
  });

  it('localstack test_secret_not_found: GetSecretValue and ListSecretVersionIds on a missing secret', async () => {
    for (const call of [new GetSecretValueCommand({ SecretId: 's-missing1' }), new ListSecretVersionIdsCommand({ SecretId: 's-missing2' })]) {
      expect(await awsError(c.send(call as GetSecretValueCommand))).toEqual({ name: 'ResourceNotFoundException', message: NOT_FOUND, status: 400 });
    }
  });

  it('localstack test_secret_version_not_found: a secret created without a value has no AWSCURRENT, no such version, no AWSPENDING', async () => {
    await c.send(new CreateSecretCommand({ Name: 's-empty' }));
    const versionId = randomUUID();
    const cases: [GetSecretValueCommand, string][] = [
      [new GetSecretValueCommand({ SecretId: 's-empty' }), 'for staging label: AWSCURRENT'],
      [new GetSecretValueCommand({ SecretId: 's-empty', VersionId: versionId }), `for VersionId: ${versionId}`],
      [new GetSecretValueCommand({ SecretId: 's-empty', VersionStage: 'AWSPENDING' }), 'for staging label: AWSPENDING'],
    ];
    for (const [call, what] of cases) {
      expect(await awsError(c.send(call))).toEqual({
        name: 'ResourceNotFoundException',
        message: `Secrets Manager can't find the specified secret value ${what}`,
        status: 400,
      });
    }
  });

  it('localstack test_get_secret_value_errors: a missing label, and a VersionId with a label it does not carry', async () => {
    const created = await c.send(new CreateSecretCommand({ Name: 'errs', SecretString: 'test' }));
    expect(await awsError(c.send(new GetSecretValueCommand({ SecretId: created.ARN, VersionStage: 'AWSPREVIOUS' })))).toEqual({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
      status: 400,
    });
    expect(await awsError(c.send(new GetSecretValueCommand({ SecretId: 'errs', VersionId: created.VersionId, VersionStage: 'AWSPREVIOUS' })))).toEqual({
      name: 'InvalidRequestException',
      message: 'You provided a VersionStage that is not associated to the provided VersionId.',
      status: 400,
    });
  });

  it('localstack test_exp_raised_on_creation_of_secret_scheduled_for_deletion', async () => {
    await c.send(new CreateSecretCommand({ Name: 'sched', SecretString: 'x' }));
    const deleted = await c.send(new DeleteSecretCommand({ SecretId: 'sched', RecoveryWindowInDays: 7 }));
    expect(fieldsOf(deleted)).toEqual(['ARN', 'DeletionDate', 'Name']);
    expect(await awsError(c.send(new CreateSecretCommand({ Name: 'sched', SecretString: 'x' })))).toEqual({
      name: 'InvalidRequestException',
      message: "You can't create this secret because a secret with this name is already scheduled for deletion.",
      status: 400,
    });
  });

  it('localstack test_can_recreate_delete_secret: after a forced delete the name is free again, under a new ARN', async () => {
    const first = await c.send(new CreateSecretCommand({ Name: 'again', SecretString: 'x' }));
    await c.send(new DeleteSecretCommand({ SecretId: 'again', ForceDeleteWithoutRecovery: true }));
    const second = await c.send(new CreateSecretCommand({ Name: 'again', SecretString: 'x' }));
    expect(fieldsOf(second)).toEqual(['ARN', 'Name', 'VersionId']);
    expect(second.ARN).not.toBe(first.ARN);
    expect(second.VersionId).not.toBe(first.VersionId);
  });

  it('localstack test_force_delete_deleted_secret: a secret scheduled for deletion shows DeletedDate and can still be force-deleted', async () => {
    const created = await c.send(new CreateSecretCommand({ Name: 'fd', SecretString: 'x' }));
    await c.send(new DeleteSecretCommand({ SecretId: created.ARN }));
    const described = await c.send(new DescribeSecretCommand({ SecretId: created.ARN }));
    expect(fieldsOf(described)).toEqual(['ARN', 'CreatedDate', 'DeletedDate', 'LastChangedDate', 'Name', 'VersionIdsToStages']);
    const forced = await c.send(new DeleteSecretCommand({ SecretId: created.ARN, ForceDeleteWithoutRecovery: true }));
    expect(fieldsOf(forced)).toEqual(['ARN', 'DeletionDate', 'Name']);
    expect((await awsError(c.send(new DescribeSecretCommand({ SecretId: created.ARN })))).name).toBe('ResourceNotFoundException');
  });

  it('localstack test_delete_non_existent_secret_returns_as_if_secret_exists: force-deleting a missing name answers 200 with Name, ARN and DeletionDate', async () => {
    const r = await c.send(new DeleteSecretCommand({ SecretId: 's-never-created', ForceDeleteWithoutRecovery: true }));
    expect(r.$metadata.httpStatusCode).toBe(200);
    expect(r.Name).toBe('s-never-created');
    expect(r.ARN).toMatch(/^arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:s-never-created-[A-Za-z0-9]{6}$/);
    expect(r.DeletionDate).toBeInstanceOf(Date);
    // Without ForceDeleteWithoutRecovery a missing secret is still not found.
    expect((await awsError(c.send(new DeleteSecretCommand({ SecretId: 's-never-created' })))).name).toBe('ResourceNotFoundException');
  });

  it('localstack test_secret_exists_snapshots / moto test_create_duplicate_secret_without_specifying_token', async () => {
    await c.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'my_secret_dup', Description: 'd' }));
    expect(await awsError(c.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'my_secret_dup', Description: 'd' })))).toEqual({
      name: 'ResourceExistsException',
      message: 'The operation failed because the secret dup already exists.',
      status: 400,
    });
  });

  it('localstack test_secret_restore: DeleteSecret then RestoreSecret answer {ARN, DeletionDate, Name} and {ARN, Name}', async () => {
    await c.send(new CreateSecretCommand({ Name: 'rest', SecretString: 'my_secret', Description: 'test description' }));
    expect(fieldsOf(await c.send(new DeleteSecretCommand({ SecretId: 'rest' })))).toEqual(['ARN', 'DeletionDate', 'Name']);
    expect(fieldsOf(await c.send(new RestoreSecretCommand({ SecretId: 'rest' })))).toEqual(['ARN', 'Name']);
  });

  it('localstack test_resource_policy: put answers {ARN, Name}, get returns the policy as given', async () => {
    await c.send(new CreateSecretCommand({ Name: 'pol', SecretString: 'my_secret' }));
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
    });
    expect(fieldsOf(await c.send(new PutResourcePolicyCommand({ SecretId: 'pol', ResourcePolicy: policy })))).toEqual(['ARN', 'Name']);
    const got = await c.send(new GetResourcePolicyCommand({ SecretId: 'pol' }));
    expect(fieldsOf(got)).toEqual(['ARN', 'Name', 'ResourcePolicy']);
    expect(JSON.parse(got.ResourcePolicy!)).toEqual(JSON.parse(policy));
    expect((await c.send(new DeleteResourcePolicyCommand({ SecretId: 'pol' }))).$metadata.httpStatusCode).toBe(200);
  });

  it('localstack test_last_accessed_date / test_last_updated_date: LastAccessedDate appears with the first read (to the day); every new value moves LastChangedDate', async () => {
    await c.send(new CreateSecretCommand({ Name: 'dates', SecretString: 'MySecretValue' }));
    const before = await c.send(new DescribeSecretCommand({ SecretId: 'dates' }));
    expect(before.LastAccessedDate).toBeUndefined();
    const value = await c.send(new GetSecretValueCommand({ SecretId: 'dates' }));
    expect(Math.abs(value.CreatedDate!.getTime() - before.LastChangedDate!.getTime())).toBeLessThan(1000);
    await c.send(new GetSecretValueCommand({ SecretId: 'dates' }));
    const read = await c.send(new DescribeSecretCommand({ SecretId: 'dates' }));
    expect(read.LastAccessedDate!.getTime() % 86_400_000).toBe(0);
    let last = read.LastChangedDate!;
    for (const v of ['MyNewSecretValue', 'MyNewSecretValue', 'MyVeryNewSecretValue']) {
      await sleep(5); // AWS answers take milliseconds; the lab's clock has millisecond resolution
      await c.send(new UpdateSecretCommand({ SecretId: 'dates', SecretString: v }));
      const d = await c.send(new DescribeSecretCommand({ SecretId: 'dates' }));
      expect(d.LastChangedDate!.getTime()).toBeGreaterThan(last.getTime());
      last = d.LastChangedDate!;
    }
  });
});

describe('GetRandomPassword (localstack recording)', () => {
  it('localstack test_get_random_exclude_characters_and_symbols: 120 characters, none of the excluded ones', async () => {
    const r = await c.send(new GetRandomPasswordCommand({ PasswordLength: 120, ExcludeCharacters: 'xyzDje@?!.' }));
    expect(r.RandomPassword).toHaveLength(120);
    expect([...r.RandomPassword!].filter((ch) => 'xyzDje@?!.'.includes(ch))).toEqual([]);
  });
});

describe('fields AWS leaves out (localstack recordings)', () => {
  it('localstack test_create_secret_version_from_empty_secret: no VersionId, no empty Description, no VersionIdsToStages until a value is put', async () => {
    const created = await c.send(new CreateSecretCommand({ Name: 'test-version-x', Description: '' }));
    expect(fieldsOf(created)).toEqual(['ARN', 'Name']);
    expect(fieldsOf(await c.send(new DescribeSecretCommand({ SecretId: created.ARN })))).toEqual(['ARN', 'CreatedDate', 'LastChangedDate', 'Name']);
    const put = await c.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: 'example-string-to-protect' }));
    expect(fieldsOf(put)).toEqual(['ARN', 'Name', 'VersionId', 'VersionStages']);
    expect(put.VersionStages).toEqual(['AWSCURRENT']);
  });

  it('localstack test_update_secret_description: a Description-only or SecretId-only UpdateSecret answers {ARN, Name}; RotationEnabled, Tags and KmsKeyId are never shown', async () => {
    const created = await c.send(new CreateSecretCommand({ Name: 'desc', SecretString: 'MySecretString' }));
    const describe = () => c.send(new DescribeSecretCommand({ SecretId: 'desc' }));
    expect(fieldsOf(await describe())).toEqual(['ARN', 'CreatedDate', 'LastChangedDate', 'Name', 'VersionIdsToStages']);

    expect(fieldsOf(await c.send(new UpdateSecretCommand({ SecretId: 'desc', Description: 'MyDescription' })))).toEqual(['ARN', 'Name']);
    const d1 = await describe();
    expect(d1.Description).toBe('MyDescription');
    expect(d1.VersionIdsToStages).toEqual({ [created.VersionId!]: ['AWSCURRENT'] });

    const u1 = await c.send(new UpdateSecretCommand({ SecretId: 'desc', SecretString: 'MyNewSecretString', Description: 'MyNewDescription' }));
    expect(fieldsOf(u1)).toEqual(['ARN', 'Name', 'VersionId']);
    expect((await describe()).VersionIdsToStages).toEqual({ [u1.VersionId!]: ['AWSCURRENT'], [created.VersionId!]: ['AWSPREVIOUS'] });

    const u2 = await c.send(new UpdateSecretCommand({ SecretId: 'desc', SecretString: 'MyNewSecretStringMyNewSecretString' }));
    const d3 = await describe();
    expect(d3.Description).toBe('MyNewDescription');
    expect(d3.VersionIdsToStages).toEqual({ [u1.VersionId!]: ['AWSPREVIOUS'], [u2.VersionId!]: ['AWSCURRENT'] });

    const onlyId = await c.send(new UpdateSecretCommand({ SecretId: 'desc' }));
    expect(onlyId.$metadata.httpStatusCode).toBe(200);
    expect(fieldsOf(onlyId)).toEqual(['ARN', 'Name']);
    const d4 = await describe();
    expect(fieldsOf(d4)).toEqual(['ARN', 'CreatedDate', 'Description', 'LastChangedDate', 'Name', 'VersionIdsToStages']);
    expect(d4.VersionIdsToStages).toEqual(d3.VersionIdsToStages);
  });

  it('localstack test_secret_tags: no Tags until tagged; Tags: [] once every tag is removed', async () => {
    const created = await c.send(new CreateSecretCommand({ Name: 'tags' }));
    expect(fieldsOf(created)).toEqual(['ARN', 'Name']);
    const describe = () => c.send(new DescribeSecretCommand({ SecretId: created.ARN }));
    expect(fieldsOf(await describe())).toEqual(['ARN', 'CreatedDate', 'LastChangedDate', 'Name']);

    expect(fieldsOf(await c.send(new TagResourceCommand({ SecretId: created.ARN, Tags: [{ Key: 'tag1', Value: 'value1' }] })))).toEqual([]);
    expect((await describe()).Tags).toEqual([{ Key: 'tag1', Value: 'value1' }]);
    await c.send(new TagResourceCommand({ SecretId: created.ARN, Tags: [{ Key: 'tag2', Value: 'value2' }] }));
    expect((await describe()).Tags).toEqual([
      { Key: 'tag1', Value: 'value1' },
      { Key: 'tag2', Value: 'value2' },
    ]);
    expect(fieldsOf(await c.send(new UntagResourceCommand({ SecretId: created.ARN, TagKeys: ['tag1'] })))).toEqual([]);
    expect((await describe()).Tags).toEqual([{ Key: 'tag2', Value: 'value2' }]);
    await c.send(new UntagResourceCommand({ SecretId: created.ARN, TagKeys: ['tag2'] }));
    const emptied = await describe();
    expect(fieldsOf(emptied)).toEqual(['ARN', 'CreatedDate', 'LastChangedDate', 'Name', 'Tags']);
    expect(emptied.Tags).toEqual([]);
    await c.send(
      new TagResourceCommand({
        SecretId: created.ARN,
        Tags: [
          { Key: 'tag3', Value: 'value3' },
          { Key: 'tag4', Value: 'value4' },
        ],
      }),
    );
    expect((await describe()).Tags).toEqual([
      { Key: 'tag3', Value: 'value3' },
      { Key: 'tag4', Value: 'value4' },
    ]);
    await c.send(new UntagResourceCommand({ SecretId: created.ARN, TagKeys: ['tag3', 'tag4'] }));
    expect((await describe()).Tags).toEqual([]);
  });

  it('localstack test_tag_untag_resource_on_deleted_secret: tagging a secret scheduled for deletion is refused', async () => {
    const created = await c.send(new CreateSecretCommand({ Name: 'tdel', SecretString: 'x', Tags: [{ Key: 'initial-tag', Value: 'initial-value' }] }));
    await c.send(new DeleteSecretCommand({ SecretId: created.ARN }));
    const refused = { name: 'InvalidRequestException', message: DELETED, status: 400 };
    expect(await awsError(c.send(new TagResourceCommand({ SecretId: created.ARN, Tags: [{ Key: 'new-tag', Value: 'new-value' }] })))).toEqual(refused);
    expect(await awsError(c.send(new UntagResourceCommand({ SecretId: created.ARN, TagKeys: ['initial-tag'] })))).toEqual(refused);
  });
});

describe('invalid names (localstack test_invalid_secret_name)', () => {
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
  });
  for (const name of ['Inv Name', ' Inv Name', ' Inv*Name? ', ' Inv *?!]Name\\-']) {
    it(`localstack test_invalid_secret_name[${name}]: ValidationException on every operation that takes the name`, async () => {
      const calls = [
        new CreateSecretCommand({ Name: name, SecretString: 'MySecretString' }),
        new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }),
        new DescribeSecretCommand({ SecretId: name }),
        new GetSecretValueCommand({ SecretId: name }),
        new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }),
        new PutSecretValueCommand({ SecretId: name, SecretString: 'MySecretString' }),
        new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'FirstTag', Value: 'SomeValue' }] }),
        new UntagResourceCommand({ SecretId: name, TagKeys: ['FirstTag'] }),
        new UpdateSecretCommand({ SecretId: name, Description: 'MyNewDescription' }),
        new ValidateResourcePolicyCommand({ SecretId: name, ResourcePolicy: policy }),
      ];
      for (const call of calls) {
        expect(await awsError(c.send(call as DescribeSecretCommand))).toEqual({ name: 'ValidationException', message: INVALID_NAME, status: 400 });
      }
    });
  }
});

describe('ClientRequestToken (moto aws_verified recordings, localstack test_no_client_request_token)', () => {
  const token = '3f1c2e4a-5b6d-4e7f-8a9b-0c1d2e3f4a5b';

  it('moto test_create_duplicate_secret_with_same_token: the retry of a CreateSecret gets the same answer', async () => {
    const input = { Name: 'same', SecretString: 'Hello', ClientRequestToken: token };
    const first = await c.send(new CreateSecretCommand(input));
    const again = await c.send(new CreateSecretCommand(input));
    const { $metadata: _a, ...a } = first;
    const { $metadata: _b, ...b } = again;
    expect(b).toEqual(a);
    expect(first.VersionId).toBe(token);
  });

  it('moto test_create/put/update_different_secret_value_with_same_token: ResourceExistsException naming the token and the ARN', async () => {
    const created = await c.send(new CreateSecretCommand({ Name: 'tok', SecretString: 'Hello', ClientRequestToken: token }));
    const expected = { name: 'ResourceExistsException', message: tokenInUse(token, created.ARN!), status: 400 };
    expect(await awsError(c.send(new CreateSecretCommand({ Name: 'tok', SecretString: 'Hi', ClientRequestToken: token })))).toEqual(expected);
    expect(await awsError(c.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: 'Hi', ClientRequestToken: token })))).toEqual(expected);
    expect(await awsError(c.send(new UpdateSecretCommand({ SecretId: created.ARN, SecretString: 'Hi', ClientRequestToken: token })))).toEqual(expected);
    expect((await c.send(new GetSecretValueCommand({ SecretId: 'tok' }))).SecretString).toBe('Hello');
  });

  it('moto test_put_same_secret_value_with_same_token / test_update_same_secret_value_with_same_token: the same value and token is the same version', async () => {
    const created = await c.send(new CreateSecretCommand({ Name: 'tok2', SecretString: 'Hello', ClientRequestToken: token }));
    const put = await c.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: 'Hello', ClientRequestToken: token }));
    expect({ ARN: put.ARN, Name: put.Name, VersionId: put.VersionId }).toEqual({ ARN: created.ARN, Name: created.Name, VersionId: created.VersionId });
    expect(put.VersionStages).toEqual(['AWSCURRENT']);
    expect((await c.send(new UpdateSecretCommand({ SecretId: 'tok2', SecretString: 'Hello', ClientRequestToken: token }))).VersionId).toBe(token);
    expect((await c.send(new ListSecretVersionIdsCommand({ SecretId: 'tok2', IncludeDeprecated: true }))).Versions).toHaveLength(1);
  });

  for (const [operation, type] of [
    ['CreateSecret', 'InvalidRequestException'],
    ['UpdateSecret', 'InvalidRequestException'],
    ['RotateSecret', 'InvalidParameterException'],
    ['PutSecretValue', 'InvalidRequestException'],
  ] as const) {
    it(`localstack test_no_client_request_token[${operation}]: a raw request without the token gets 400 ${type} with Message`, async () => {
      const params: Record<string, unknown> = { SecretString: 'thisisthesecret', Description: 'My secret string' };
      params[operation === 'CreateSecret' ? 'Name' : 'SecretId'] = 'no-token-secret';
      const r = await rawCall(lab, P, operation, params);
      expect(r).toEqual({ status: 400, body: { __type: type, Message: 'You must provide a ClientRequestToken value. We recommend a UUID-type value.' } });
    });
  }
});

describe('binary values (localstack recordings)', () => {
  it('localstack test_get_secret_value: the SDK decodes SecretBinary, a raw request gets it base64', async () => {
    const created = await c.send(new CreateSecretCommand({ Name: 'bin', SecretBinary: Buffer.from('footest') }));
    const viaSdk = await c.send(new GetSecretValueCommand({ SecretId: created.ARN }));
    expect(Buffer.from(viaSdk.SecretBinary!).toString()).toBe('footest');
    expect(fieldsOf(viaSdk)).toEqual(['ARN', 'CreatedDate', 'Name', 'SecretBinary', 'VersionId', 'VersionStages']);
    const raw = await rawCall(lab, P, 'GetSecretValue', { SecretId: 'bin' });
    expect(raw.status).toBe(200);
    expect(raw.body.SecretBinary).toBe('Zm9vdGVzdA==');
    expect(Object.keys(raw.body).sort()).toEqual(['ARN', 'CreatedDate', 'Name', 'SecretBinary', 'VersionId', 'VersionStages']);
  });

  const changes: [Buffer, Buffer][] = [
    [Buffer.from('footest'), Buffer.from('updated1')],
    [Buffer.from([0, 1, 2, 0xff]), Buffer.from([0xfe, 0xfd])],
  ];
  for (const [put, update] of changes) {
    it(`localstack test_change_secret_value_after_creation[${put.toString('hex')}]: binary values replace each other byte for byte`, async () => {
      await c.send(new CreateSecretCommand({ Name: 'binchg', SecretBinary: Buffer.from('initial') }));
      await c.send(new PutSecretValueCommand({ SecretId: 'binchg', SecretBinary: put }));
      const afterPut = await c.send(new GetSecretValueCommand({ SecretId: 'binchg' }));
      expect(Buffer.from(afterPut.SecretBinary!)).toEqual(put);
      expect(afterPut.VersionStages).toEqual(['AWSCURRENT']);
      await c.send(new UpdateSecretCommand({ SecretId: 'binchg', SecretBinary: update }));
      expect(Buffer.from((await c.send(new GetSecretValueCommand({ SecretId: 'binchg' }))).SecretBinary!)).toEqual(update);
    });
  }
});
