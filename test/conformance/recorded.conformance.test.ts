/**
 * Behaviours recorded on real AWS (localstack test_secretsmanager.snapshot.json, moto tests marked
 * aws_verified; the lab's own tests in test/lab/aws-recorded-*.test.ts), held against both targets.
 * Where moto answers otherwise, the difference is a quirk in targets.ts and asserted as such.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { PRIMARY, expectAwsError, forEachTarget, skipFor } from './targets.js';

const INVALID_NAME = 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!';
const fields = (o: object): string[] =>
  Object.keys(o)
    .filter((k) => k !== '$metadata' && (o as Record<string, unknown>)[k] !== undefined)
    .sort();

forEachTarget('recorded AWS behaviour', (env) => {
  const sm = () => env.sm(PRIMARY);

  it('localstack test_update_secret_version_stages_current_pending: PutSecretValue leaves the old current version with AWSPREVIOUS only', async (ctx) => {
    skipFor(ctx, env, 'putAfterMovedCurrentKeepsOldLabels');
    const name = env.name('pending');
    const v0 = (await sm().send(new CreateSecretCommand({ Name: name, SecretString: 'Something1' }))).VersionId!;
    const v1 = (await sm().send(new PutSecretValueCommand({ SecretId: name, SecretString: 'Something2', VersionStages: ['AWSPENDING'] }))).VersionId!;
    await sm().send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: v1, RemoveFromVersionId: v0 }));
    const v2 = (await sm().send(new PutSecretValueCommand({ SecretId: name, SecretString: 'SS3' }))).VersionId!;
    const listed = (await sm().send(new ListSecretVersionIdsCommand({ SecretId: name }))).Versions!;
    const stages = Object.fromEntries(listed.filter((v) => v.VersionStages?.length).map((v) => [v.VersionId, v.VersionStages]));
    expect(stages).toEqual({ [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] });
  });

  it('localstack test_get_secret_value_errors: a VersionId with a VersionStage it does not carry', async () => {
    const name = env.name('mismatch');
    const created = await sm().send(new CreateSecretCommand({ Name: name, SecretString: 'test' }));
    const err = await expectAwsError(
      sm().send(new GetSecretValueCommand({ SecretId: name, VersionId: created.VersionId, VersionStage: 'AWSPREVIOUS' })),
      'InvalidRequestException',
    );
    expect(err.message).toBe('You provided a VersionStage that is not associated to the provided VersionId.');
  });

  it('localstack test_delete_non_existent_secret_returns_as_if_secret_exists: force-deleting a missing name answers 200', async () => {
    const name = env.name('never');
    const r = await sm().send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    expect(r.Name).toBe(name);
    expect(r.ARN).toBeDefined();
    expect(r.DeletionDate).toBeInstanceOf(Date);
  });

  it("localstack test_update_secret_description: UpdateSecret with only SecretId (and the SDK's token) answers {ARN, Name}", async () => {
    const name = env.name('only-id');
    await sm().send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
    const r = await sm().send(new UpdateSecretCommand({ SecretId: name }));
    expect(fields(r)).toEqual(['ARN', 'Name']);
  });

  it('moto test_*_different_secret_value_with_same_token (aws_verified): a token reused with another value', async () => {
    const name = env.name('token');
    const token = randomUUID();
    const created = await sm().send(new CreateSecretCommand({ Name: name, SecretString: 'Hello', ClientRequestToken: token }));
    const message = `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret ${created.ARN}.`;
    for (const call of [
      new CreateSecretCommand({ Name: name, SecretString: 'Hi', ClientRequestToken: token }),
      new PutSecretValueCommand({ SecretId: created.ARN, SecretString: 'Hi', ClientRequestToken: token }),
      new UpdateSecretCommand({ SecretId: created.ARN, SecretString: 'Hi', ClientRequestToken: token }),
    ]) {
      const err = await expectAwsError(sm().send(call as PutSecretValueCommand), 'ResourceExistsException');
      expect(err.message).toBe(message);
    }
  });

  it("localstack test_invalid_secret_name: ValidationException with AWS's message", async (ctx) => {
    skipFor(ctx, env, 'invalidNameAccepted');
    for (const call of [
      new CreateSecretCommand({ Name: ' Inv Name', SecretString: 'x' }),
      new DescribeSecretCommand({ SecretId: ' Inv Name' }),
      new GetSecretValueCommand({ SecretId: 'Inv*Name?' }),
    ]) {
      const err = await expectAwsError(sm().send(call as DescribeSecretCommand), 'ValidationException');
      expect(err.message).toBe(INVALID_NAME);
    }
  });

  it('moto test_update_secret_version_stage_dont_specify_current_stage (aws_verified): moving AWSCURRENT without RemoveFromVersionId', async () => {
    const name = env.name('usvs');
    const current = (await sm().send(new CreateSecretCommand({ Name: name, SecretString: 'old' }))).VersionId!;
    const token = randomUUID();
    await sm().send(new PutSecretValueCommand({ SecretId: name, SecretString: 'new', ClientRequestToken: token, VersionStages: ['AWSPENDING'] }));
    const err = await expectAwsError(
      sm().send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: token })),
      'InvalidParameterException',
    );
    expect(err.message).toBe(
      `The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version ${current}, so you must explicitly reference that version in RemoveFromVersionId.`,
    );
  });

  it('localstack test_create_secret_version_from_empty_secret / test_secret_tags: fields never set are left out', async () => {
    const name = env.name('empty');
    const created = await sm().send(new CreateSecretCommand({ Name: name, Description: '' }));
    expect(fields(created)).toEqual(['ARN', 'Name']);
    const d = await sm().send(new DescribeSecretCommand({ SecretId: name }));
    expect(fields(d)).toEqual(['ARN', 'CreatedDate', 'LastChangedDate', 'Name']);
  });

  it('moto test_with_filter_with_value_with_multiple_words / test_with_duplicate_filter_keys (aws_verified): description words', async () => {
    const names: Record<string, string> = {};
    for (const [k, description] of [
      ['foo', 'one two'],
      ['bar', 'one and two'],
      ['baz', 'one'],
      ['qux', 'two'],
    ]) {
      names[k!] = env.name(k!);
      await sm().send(new CreateSecretCommand({ Name: names[k!], SecretString: 's', Description: description }));
    }
    const list = async (...Filters: { Key: 'description'; Values: string[] }[]) =>
      new Set((await sm().send(new ListSecretsCommand({ Filters }))).SecretList!.map((s) => s.Name));
    expect(await list({ Key: 'description', Values: ['one two'] })).toEqual(new Set([names.foo, names.bar]));
    expect(await list({ Key: 'description', Values: ['t'] })).toEqual(new Set([names.foo, names.bar, names.qux]));
    expect(await list({ Key: 'description', Values: ['one'] }, { Key: 'description', Values: ['two'] })).toEqual(new Set([names.foo, names.bar]));
  });
});
