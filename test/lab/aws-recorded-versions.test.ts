/**
 * Version labels (AWSCURRENT, AWSPREVIOUS, AWSPENDING and custom ones) through PutSecretValue,
 * UpdateSecret and UpdateSecretVersionStage, replayed from call sequences recorded on real AWS
 * (localstack test_secretsmanager.snapshot.json; moto tests marked aws_verified) with the real SDK.
 * Labels are listed sorted; ListSecretVersionIds lists the oldest version first and leaves
 * VersionStages out on a version without labels.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { awsError, fieldsOf, labPerTest } from './helpers.js';

let c: SecretsManagerClient;
const S = 'labels';
labPerTest((_lab, client) => (c = client), { maxAttempts: 1 });

/** ListSecretVersionIds as [versionId, labels] pairs (labels undefined when the field is absent). */
async function versions(includeDeprecated = false): Promise<[string, string[] | undefined][]> {
  const r = await c.send(new ListSecretVersionIdsCommand({ SecretId: S, IncludeDeprecated: includeDeprecated }));
  for (const v of r.Versions!) expect(v.KmsKeyIds).toEqual(['DefaultEncryptionKey']);
  return r.Versions!.map((v) => [v.VersionId!, v.VersionStages]);
}
const put = async (value: string, stages?: string[]): Promise<string> =>
  (await c.send(new PutSecretValueCommand({ SecretId: S, SecretString: value, ...(stages ? { VersionStages: stages } : {}) }))).VersionId!;
const move = (stage: string, to: string | undefined, from: string | undefined) =>
  c.send(new UpdateSecretVersionStageCommand({ SecretId: S, VersionStage: stage, MoveToVersionId: to, RemoveFromVersionId: from }));
const current = () => c.send(new GetSecretValueCommand({ SecretId: S }));
const create = async (value: string): Promise<string> => (await c.send(new CreateSecretCommand({ Name: S, SecretString: value }))).VersionId!;

describe('PutSecretValue labels (localstack recordings)', () => {
  it('localstack test_put_secret_value_with_version_stages: custom labels move between versions and leave AWSCURRENT alone; answers list labels sorted', async () => {
    const v0 = await create('secret_string_v0');
    const t1 = randomUUID();
    const r1 = await c.send(
      new PutSecretValueCommand({ SecretId: S, SecretString: 'secret_string_v1', VersionStages: ['SAMPLESTAGE1', 'SAMPLESTAGE0'], ClientRequestToken: t1 }),
    );
    expect(r1.VersionId).toBe(t1);
    expect(r1.VersionStages).toEqual(['SAMPLESTAGE0', 'SAMPLESTAGE1']);
    expect((await current()).VersionId).toBe(v0);
    const r2 = await c.send(
      new PutSecretValueCommand({
        SecretId: S,
        SecretString: 'secret_string_v2',
        VersionStages: ['SAMPLESTAGE1', 'SAMPLESTAGE0'],
        ClientRequestToken: randomUUID(),
      }),
    );
    expect(r2.VersionStages).toEqual(['SAMPLESTAGE0', 'SAMPLESTAGE1']);
    expect((await current()).SecretString).toBe('secret_string_v0');
    const r3 = await c.send(
      new PutSecretValueCommand({ SecretId: S, SecretString: 'secret_string_v3', VersionStages: ['AWSPENDING'], ClientRequestToken: randomUUID() }),
    );
    expect(r3.VersionStages).toEqual(['AWSPENDING']);
    expect((await current()).SecretString).toBe('secret_string_v0');
    const r4 = await c.send(new PutSecretValueCommand({ SecretId: S, SecretString: 'secret_string_v4', ClientRequestToken: randomUUID() }));
    expect(r4.VersionStages).toEqual(['AWSCURRENT']);
    const now = await current();
    expect([now.SecretString, now.VersionId, now.VersionStages]).toEqual(['secret_string_v4', r4.VersionId, ['AWSCURRENT']]);
  });

  it('localstack test_non_versioning_version_stages_replacement: a version that loses all its labels is no longer listed', async () => {
    const v0 = await create('S0');
    const v1 = await put('S1', ['one', 'two', 'three']);
    expect(await versions()).toEqual([
      [v0, ['AWSCURRENT']],
      [v1, ['one', 'three', 'two']],
    ]);
    const v2 = await put('S2', ['one', 'two', 'three', 'four']);
    expect(await versions()).toEqual([
      [v0, ['AWSCURRENT']],
      [v2, ['four', 'one', 'three', 'two']],
    ]);
  });

  it('localstack test_non_versioning_version_stages_no_replacement: labels not named stay where they are', async () => {
    const v0 = await create('S0');
    const v1 = await put('S1', ['one', 'two', 'three']);
    const v2 = await put('S2', ['one', 'two', 'four']);
    expect(await versions()).toEqual([
      [v0, ['AWSCURRENT']],
      [v1, ['three']],
      [v2, ['four', 'one', 'two']],
    ]);
  });

  it('localstack test_deprecated_secret_version_stage: unlabelled versions are listed only with IncludeDeprecated, without a VersionStages field', async () => {
    const v1 = await create('original');
    expect(await versions()).toEqual([[v1, ['AWSCURRENT']]]);
    const v2 = await put('update1');
    expect(await versions()).toEqual([
      [v1, ['AWSPREVIOUS']],
      [v2, ['AWSCURRENT']],
    ]);
    const v3 = await put('update2');
    expect(await versions()).toEqual([
      [v2, ['AWSPREVIOUS']],
      [v3, ['AWSCURRENT']],
    ]);
    expect(await versions(true)).toEqual([
      [v1, undefined],
      [v2, ['AWSPREVIOUS']],
      [v3, ['AWSCURRENT']],
    ]);
    const all = await c.send(new ListSecretVersionIdsCommand({ SecretId: S, IncludeDeprecated: true }));
    expect(fieldsOf(all.Versions![0]!)).toEqual(['CreatedDate', 'KmsKeyIds', 'VersionId']);
    const v4 = await put('update3');
    expect(await versions()).toEqual([
      [v3, ['AWSPREVIOUS']],
      [v4, ['AWSCURRENT']],
    ]);
    expect(await versions(true)).toEqual([
      [v1, undefined],
      [v2, undefined],
      [v3, ['AWSPREVIOUS']],
      [v4, ['AWSCURRENT']],
    ]);
  });

  it('localstack test_update_secret_version_stages_current_previous: UpdateSecret with a value moves AWSCURRENT', async () => {
    const v1 = await create('secret_string_v0');
    expect(await versions()).toEqual([[v1, ['AWSCURRENT']]]);
    const u = await c.send(new UpdateSecretCommand({ SecretId: S, SecretString: 'secret_string_v1' }));
    expect(fieldsOf(u)).toEqual(['ARN', 'Name', 'VersionId']);
    expect(await versions()).toEqual([
      [v1, ['AWSPREVIOUS']],
      [u.VersionId!, ['AWSCURRENT']],
    ]);
  });
});

describe('UpdateSecretVersionStage cycles (localstack recordings)', () => {
  it('localstack test_update_secret_version_stages_return_type: answers {ARN, Name}', async () => {
    const v0 = await create('Something1');
    const v1 = await put('Something2', ['AWSPENDING']);
    expect(v1).not.toBe(v0);
    expect(fieldsOf(await move('AWSCURRENT', v1, v0))).toEqual(['ARN', 'Name']);
  });

  it('localstack test_update_secret_version_stages_current_pending: a later PutSecretValue leaves the old current version with AWSPREVIOUS only (no stale AWSPENDING)', async () => {
    const v0 = await create('Something1');
    const v1 = await put('Something2', ['AWSPENDING']);
    expect(await versions()).toEqual([
      [v0, ['AWSCURRENT']],
      [v1, ['AWSPENDING']],
    ]);
    await move('AWSCURRENT', v1, v0);
    expect(await versions()).toEqual([
      [v0, ['AWSPREVIOUS']],
      [v1, ['AWSCURRENT', 'AWSPENDING']],
    ]);
    const v2 = await put('SS3');
    expect(await versions()).toEqual([
      [v1, ['AWSPREVIOUS']],
      [v2, ['AWSCURRENT']],
    ]);
  });

  it('localstack test_update_secret_version_stages_current_pending_cycle: two rotations done by hand', async () => {
    const v0 = await create('S1');
    const v1 = await put('S2', ['AWSPENDING']);
    expect(await versions()).toEqual([
      [v0, ['AWSCURRENT']],
      [v1, ['AWSPENDING']],
    ]);
    expect((await current()).VersionStages).toEqual(['AWSCURRENT']);
    await move('AWSCURRENT', v1, v0);
    expect(await versions()).toEqual([
      [v0, ['AWSPREVIOUS']],
      [v1, ['AWSCURRENT', 'AWSPENDING']],
    ]);
    expect((await current()).VersionStages).toEqual(['AWSCURRENT', 'AWSPENDING']);
    const v2 = await put('S3', ['AWSPENDING']);
    expect(await versions()).toEqual([
      [v0, ['AWSPREVIOUS']],
      [v1, ['AWSCURRENT']],
      [v2, ['AWSPENDING']],
    ]);
    expect((await current()).SecretString).toBe('S2');
    expect(fieldsOf(await move('AWSCURRENT', v2, v1))).toEqual(['ARN', 'Name']);
    expect(await versions()).toEqual([
      [v1, ['AWSPREVIOUS']],
      [v2, ['AWSCURRENT', 'AWSPENDING']],
    ]);
    const now = await current();
    expect([now.SecretString, now.VersionStages]).toEqual(['S3', ['AWSCURRENT', 'AWSPENDING']]);
  });

  it('localstack test_update_secret_version_stages_current_pending_cycle_custom_stages_1: custom labels ride along and stay on the old version', async () => {
    const v0 = await create('S1');
    const v1 = await put('S2', ['AWSSOMETHING', 'AWSPENDING', 'PUT1']);
    expect(await versions()).toEqual([
      [v0, ['AWSCURRENT']],
      [v1, ['AWSPENDING', 'AWSSOMETHING', 'PUT1']],
    ]);
    await move('AWSCURRENT', v1, v0);
    expect(await versions()).toEqual([
      [v0, ['AWSPREVIOUS']],
      [v1, ['AWSCURRENT', 'AWSPENDING', 'AWSSOMETHING', 'PUT1']],
    ]);
    const v2 = await put('S3', ['AWSPENDING', 'PUT2']);
    expect(await versions()).toEqual([
      [v0, ['AWSPREVIOUS']],
      [v1, ['AWSCURRENT', 'AWSSOMETHING', 'PUT1']],
      [v2, ['AWSPENDING', 'PUT2']],
    ]);
    await move('AWSCURRENT', v2, v1);
    expect(await versions()).toEqual([
      [v1, ['AWSPREVIOUS', 'AWSSOMETHING', 'PUT1']],
      [v2, ['AWSCURRENT', 'AWSPENDING', 'PUT2']],
    ]);
  });

  it('localstack test_update_secret_version_stages_current_pending_cycle_custom_stages_2: a version keeps its custom label after losing AWSPREVIOUS', async () => {
    const vS = await create('SS');
    const v0 = await put('S1', ['AWSCURRENT', 'PUT0']);
    expect(await versions()).toEqual([
      [vS, ['AWSPREVIOUS']],
      [v0, ['AWSCURRENT', 'PUT0']],
    ]);
    const v1 = await put('S2', ['AWSPENDING', 'PUT1']);
    expect(await versions()).toEqual([
      [vS, ['AWSPREVIOUS']],
      [v0, ['AWSCURRENT', 'PUT0']],
      [v1, ['AWSPENDING', 'PUT1']],
    ]);
    await move('AWSCURRENT', v1, v0);
    expect(await versions()).toEqual([
      [v0, ['AWSPREVIOUS', 'PUT0']],
      [v1, ['AWSCURRENT', 'AWSPENDING', 'PUT1']],
    ]);
    const v2 = await put('S3', ['AWSPENDING', 'PUT2']);
    expect(await versions()).toEqual([
      [v0, ['AWSPREVIOUS', 'PUT0']],
      [v1, ['AWSCURRENT', 'PUT1']],
      [v2, ['AWSPENDING', 'PUT2']],
    ]);
    await move('AWSCURRENT', v2, v1);
    expect(await versions()).toEqual([
      [v0, ['PUT0']],
      [v1, ['AWSPREVIOUS', 'PUT1']],
      [v2, ['AWSCURRENT', 'AWSPENDING', 'PUT2']],
    ]);
  });

  it('localstack test_update_secret_version_stages_current_pending_cycle_custom_stages_3: a label removed with only RemoveFromVersionId', async () => {
    const v1 = await create('SS');
    const v2 = await put('S1', ['PENDING']);
    expect(await versions()).toEqual([
      [v1, ['AWSCURRENT']],
      [v2, ['PENDING']],
    ]);
    const byId = async (id: string) => (await c.send(new GetSecretValueCommand({ SecretId: S, VersionId: id }))).VersionStages;
    expect([await byId(v1), await byId(v2)]).toEqual([['AWSCURRENT'], ['PENDING']]);
    await move('AWSCURRENT', v2, v1);
    expect([await byId(v1), await byId(v2)]).toEqual([['AWSPREVIOUS'], ['AWSCURRENT', 'PENDING']]);
    expect(fieldsOf(await move('PENDING', undefined, v2))).toEqual(['ARN', 'Name']);
    expect([await byId(v1), await byId(v2)]).toEqual([['AWSPREVIOUS'], ['AWSCURRENT']]);
  });
});

describe('UpdateSecretVersionStage (moto aws_verified recordings)', () => {
  it('moto test_update_secret_version_stage_manually: AWSCURRENT moved onto the pending version; the old one is AWSPREVIOUS', async () => {
    await create('old_secret');
    const currentId = await put('previous_secret', ['AWSCURRENT']);
    const initial = await c.send(new GetSecretValueCommand({ SecretId: S, VersionStage: 'AWSCURRENT' }));
    expect([initial.VersionStages, initial.SecretString]).toEqual([['AWSCURRENT'], 'previous_secret']);
    const token = randomUUID();
    await c.send(new PutSecretValueCommand({ SecretId: S, ClientRequestToken: token, SecretString: 'new_secret', VersionStages: ['AWSPENDING'] }));
    const pending = await c.send(new GetSecretValueCommand({ SecretId: S, VersionStage: 'AWSPENDING' }));
    expect([pending.VersionStages, pending.SecretString]).toEqual([['AWSPENDING'], 'new_secret']);
    await move('AWSCURRENT', token, currentId);
    const now = await c.send(new GetSecretValueCommand({ SecretId: S, VersionStage: 'AWSCURRENT' }));
    expect([now.VersionStages, now.SecretString]).toEqual([['AWSCURRENT', 'AWSPENDING'], 'new_secret']);
    const previous = await c.send(new GetSecretValueCommand({ SecretId: S, VersionStage: 'AWSPREVIOUS' }));
    expect([previous.VersionStages, previous.SecretString]).toEqual([['AWSPREVIOUS'], 'previous_secret']);
  });

  it('moto test_update_secret_version_stage_dont_specify_current_stage: moving AWSCURRENT without RemoveFromVersionId is refused, naming the version', async () => {
    await create('old_secret');
    const currentId = await put('previous_secret', ['AWSCURRENT']);
    const token = randomUUID();
    await c.send(new PutSecretValueCommand({ SecretId: S, ClientRequestToken: token, SecretString: 'new_secret', VersionStages: ['AWSPENDING'] }));
    expect(await awsError(move('AWSCURRENT', token, undefined))).toEqual({
      name: 'InvalidParameterException',
      message: `The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version ${currentId}, so you must explicitly reference that version in RemoveFromVersionId.`,
      status: 400,
    });
  });
});
