/**
 * `backupSecret` in MockActivityEnvironment over a fake Secrets Manager with just the backup activities'
 * operations (BackupClients): what a backup holds, describe-first reuse, completing a cut-off backup, and
 * throttling absorbed by the write governor.
 */
import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { createBackupSecretActivities, type BackupClients, type BackupRequest, type BackupResult } from '../../activities/backup.activities.js';
import { backupName, BackupManifest, MANIFEST_STAGE } from '../../domain/backup.js';
import { ErrorType } from '../../domain/errors.js';
import { awsError, FakeSecretsManager } from '../support/fake-secrets-manager.js';

const SECRET = 'prod/app/db';
const POLICY = (arn: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'AppRead', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:role/app' }, Action: 'secretsmanager:GetSecretValue', Resource: arn },
    ],
  });

function region(name: string) {
  const fake = new FakeSecretsManager(name);
  fake.seed(SECRET, 'current-value', { previous: 'previous-value', tags: { team: 'payments' } });
  fake.secrets.get(SECRET)!.policy = POLICY(fake.arnOf(SECRET));
  const clients: BackupClients = {
    region: name,
    secretsManager: fake.only(
      'listSecrets',
      'describeSecret',
      'getSecretValue',
      'getResourcePolicy',
      'createSecret',
      'putResourcePolicy',
      'putSecretValue',
      'updateSecretVersionStage',
      'deleteSecret',
    ),
  };
  return { fake, activities: createBackupSecretActivities(clients) };
}

const request = (workflowId = 'failback-1'): BackupRequest => ({
  planName: 'payments',
  secret: SECRET,
  backup: backupName('payments', SECRET, new Date('2026-12-02T05:00:00Z')),
  reason: 'before failback overwrites it',
  workflowId,
  writeQuotaShare: 1,
});

const run = (activities: ReturnType<typeof region>['activities'], r: BackupRequest) =>
  new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(activities.backupSecret, r) as Promise<BackupResult>;

/** The backup's labelled versions as value → labels (the test may read values: it is the fake's). */
function heldValues(fake: FakeSecretsManager, name: string): Record<string, string[]> {
  const b = fake.secrets.get(name)!;
  return Object.fromEntries(
    [...b.versions.values()].filter((v) => v.stages.length > 0 && !v.stages.includes(MANIFEST_STAGE)).map((v) => [v.value.SecretString!, [...v.stages].sort()]),
  );
}

describe('backupSecret over a fake client', () => {
  it('saves every labelled version under its labels, the policy retargeted to the backup, the tags, and a manifest last; returns no value', async () => {
    const { fake, activities } = region('ap-northeast-3');
    const out = await run(activities, request());
    expect(out).toMatchObject({ backup: request().backup, reused: false, hasPrevious: true, versions: 2 });
    expect(heldValues(fake, out.backup)).toEqual({ 'current-value': ['AWSCURRENT'], 'previous-value': ['AWSPREVIOUS'] });
    const b = fake.secrets.get(out.backup)!;
    expect(b.policy).toContain(b.arn);
    expect(b.policy).not.toContain(fake.arnOf(SECRET));
    expect(b.tags).toContainEqual({ Key: 'team', Value: 'payments' });
    const manifest = BackupManifest.parse(JSON.parse([...b.versions.values()].find((v) => v.stages.includes(MANIFEST_STAGE))!.value.SecretString!));
    expect(manifest.origin.versions.map((v) => v.stages.join())).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
    // Order: the policy protects the backup before any value is written; the manifest goes last.
    const writes = fake.calls.filter((c) => c.id === out.backup && ['CreateSecret', 'PutResourcePolicy', 'PutSecretValue'].includes(c.op)).map((c) => c.op);
    expect(writes).toEqual(['CreateSecret', 'PutResourcePolicy', 'PutSecretValue', 'PutSecretValue', 'PutSecretValue']);
    expect(JSON.stringify(out)).not.toMatch(/current-value|previous-value/);
  });

  it('describe first: a second run for the same state reuses the complete backup and writes nothing', async () => {
    const { fake, activities } = region('ap-northeast-2');
    const first = await run(activities, request());
    const writesBefore = fake.calls.filter(
      (c) => c.op !== 'DescribeSecret' && c.op !== 'ListSecrets' && c.op !== 'GetResourcePolicy' && c.op !== 'GetSecretValue',
    ).length;
    const again = await run(activities, { ...request('another-workflow'), backup: backupName('payments', SECRET, new Date('2026-12-03T00:00:00Z')) });
    expect(again).toMatchObject({ backup: first.backup, reused: true });
    expect(
      fake.calls.filter((c) => c.op !== 'DescribeSecret' && c.op !== 'ListSecrets' && c.op !== 'GetResourcePolicy' && c.op !== 'GetSecretValue'),
    ).toHaveLength(writesBefore);
  });

  it('an attempt cut off after the first value (no answer) fails retryably; the next attempt completes the same backup, nothing written twice', async () => {
    const { fake, activities } = region('eu-west-1');
    // The first PutSecretValue (AWSCURRENT) goes through; the second gets no answer.
    fake.failNext('PutSecretValue', () => awsError('ServiceUnavailableException', 'unavailable', 503), 1, { id: request().backup, after: 1 });
    const failure = await run(activities, request()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect([(failure as ApplicationFailure).type, (failure as ApplicationFailure).nonRetryable]).toEqual([ErrorType.RegionUnreachable, false]);
    expect(fake.secrets.get(request().backup)!.versions.size).toBe(1);

    const out = await run(activities, request());
    expect(out).toMatchObject({ backup: request().backup, reused: false });
    expect(fake.callsOf('CreateSecret', request().backup)).toBe(1);
    expect(heldValues(fake, out.backup)).toEqual({ 'current-value': ['AWSCURRENT'], 'previous-value': ['AWSPREVIOUS'] });
  });

  it('a throttled write is absorbed by the write governor: sent again, the backup completes', async () => {
    const { fake, activities } = region('eu-west-2');
    fake.failNext('PutSecretValue', () => awsError('ThrottlingException', 'Rate exceeded'), 2);
    const out = await run(activities, request());
    expect(heldValues(fake, out.backup)).toEqual({ 'current-value': ['AWSCURRENT'], 'previous-value': ['AWSPREVIOUS'] });
    expect(fake.callsOf('PutSecretValue')).toBe(3 + 2);
  });
});
