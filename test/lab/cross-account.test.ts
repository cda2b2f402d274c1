/**
 * The multi-account lab through the product's signed client (activities/cross-account-client.ts)
 * and STS client (activities/sts-client.ts): accounts chosen by the access key, STS AssumeRole with
 * trust checks and expiry, revocation, and every cross-account Secrets Manager operation with its
 * error cases, as the model's documentation describes them.
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  StopReplicationToReplicaCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCrossAccountClient, type CrossAccountSecretsApi } from '../../activities/cross-account-client.js';
import { assumeRole, assumeRoleProvider, getCallerIdentity } from '../../activities/sts-client.js';
import { classifyAwsError } from '../../activities/aws-errors.js';
import type { RunningLab } from '../../lab/server.js';
import { eventually, labPost, P, rejection, withLab } from './helpers.js';

const PRIMARY_ACCOUNT = '111111111111';
const RECOVERY_ACCOUNT = '222222222222';
const keyOf = (account: string) => ({ accessKeyId: `lab${account}`, secretAccessKey: 'x' });

let lab: RunningLab;
beforeAll(async () => {
  lab = await withLab();
});
afterAll(async () => {
  await lab?.close();
});
beforeEach(() => lab.reset());

const signed = (creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, region = P): CrossAccountSecretsApi =>
  createCrossAccountClient({ region, endpoint: lab.url, credentials: creds });
const sdk = (creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, region = P): SecretsManagerClient =>
  new SecretsManagerClient({ region, endpoint: lab.url, credentials: creds, maxAttempts: 1 });

/** A primary in PRIMARY_ACCOUNT, a cross-account replica in RECOVERY_ACCOUNT that accepts replication from it. */
async function pair(opts: { acceptPolicy?: boolean; replicaKey?: string; keyPolicy?: boolean } = {}) {
  const primarySdk = sdk(keyOf(PRIMARY_ACCOUNT));
  const { ARN: primaryArn } = await primarySdk.send(new CreateSecretCommand({ Name: 'prod/db', SecretString: 'v1', KmsKeyId: 'alias/primary-key' }));
  const replicaKey = opts.replicaKey ?? 'alias/recovery-key';
  const recovery = signed(keyOf(RECOVERY_ACCOUNT));
  const created = await recovery.createCrossAccountReplica({ Name: 'dr/prod/db', CrossAccountPrimaryARN: primaryArn!, KmsKeyId: replicaKey });
  if (opts.acceptPolicy !== false) {
    await sdk(keyOf(RECOVERY_ACCOUNT)).send(
      new PutResourcePolicyCommand({
        SecretId: created.ARN!,
        ResourcePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${PRIMARY_ACCOUNT}:root` },
              Action: 'secretsmanager:AcceptCrossAccountReplication',
              Resource: '*',
            },
          ],
        }),
      }),
    );
  }
  if (opts.keyPolicy !== false) {
    await labPost(lab, '/_lab/kms/key-policy', {
      accountId: RECOVERY_ACCOUNT,
      region: P,
      keyId: replicaKey,
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${RECOVERY_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
          { Effect: 'Allow', Principal: { AWS: PRIMARY_ACCOUNT }, Action: ['kms:Encrypt', 'kms:GenerateDataKey'], Resource: '*' },
        ],
      },
    });
  }
  return { primaryArn: primaryArn!, replicaArn: created.ARN!, primary: signed(keyOf(PRIMARY_ACCOUNT)), recovery, primarySdk };
}

describe('accounts are chosen by the access key', () => {
  it('lab<12 digits> is that account; other keys the default account; each sees only its own secrets', async () => {
    const a = await sdk(keyOf(PRIMARY_ACCOUNT)).send(new CreateSecretCommand({ Name: 'same/name', SecretString: 'a' }));
    const d = await sdk({ accessKeyId: 'test', secretAccessKey: 'x' }).send(new CreateSecretCommand({ Name: 'same/name', SecretString: 'd' }));
    expect(a.ARN).toContain(`:${PRIMARY_ACCOUNT}:secret:same/name-`);
    expect(d.ARN).toContain(':123456789012:secret:same/name-');
    const listed = await sdk(keyOf(RECOVERY_ACCOUNT)).send(new ListSecretsCommand({}));
    expect(listed.SecretList).toEqual([]);
    const got = await sdk(keyOf(PRIMARY_ACCOUNT)).send(new GetSecretValueCommand({ SecretId: 'same/name' }));
    expect(got.SecretString).toBe('a');
  });
});

describe('STS', () => {
  it('AssumeRole hands out keys of the role account; GetCallerIdentity names the session', async () => {
    await labPost(lab, '/_lab/roles', {
      accountId: RECOVERY_ACCOUNT,
      roleName: 'secrets-dr-recovery',
      trustedAccounts: [PRIMARY_ACCOUNT],
      externalId: 'ext-123456',
    });
    const roleArn = `arn:aws:iam::${RECOVERY_ACCOUNT}:role/secrets-dr-recovery`;
    const sts = { region: P, endpoint: lab.url, credentials: keyOf(PRIMARY_ACCOUNT) };
    const creds = await assumeRole(sts, { RoleArn: roleArn, RoleSessionName: 'dr-session', ExternalId: 'ext-123456', DurationSeconds: 900 });
    expect(creds.accessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(creds.expiration.getTime() - Date.now()).toBeGreaterThan(800_000);
    expect(creds.assumedRoleArn).toBe(`arn:aws:sts::${RECOVERY_ACCOUNT}:assumed-role/secrets-dr-recovery/dr-session`);
    const me = await getCallerIdentity({ region: P, endpoint: lab.url, credentials: creds });
    expect(me).toMatchObject({ Account: RECOVERY_ACCOUNT, Arn: creds.assumedRoleArn });
    const made = await sdk(creds).send(new CreateSecretCommand({ Name: 'as/role', SecretString: 'x' }));
    expect(made.ARN).toContain(`:${RECOVERY_ACCOUNT}:secret:`);
  });

  it('a wrong or missing ExternalId, or an untrusted account, is AccessDenied (403)', async () => {
    await labPost(lab, '/_lab/roles', { accountId: RECOVERY_ACCOUNT, roleName: 'r', trustedAccounts: [PRIMARY_ACCOUNT], externalId: 'ext-123456' });
    const roleArn = `arn:aws:iam::${RECOVERY_ACCOUNT}:role/r`;
    for (const [key, externalId] of [
      [keyOf(PRIMARY_ACCOUNT), 'wrong-id'],
      [keyOf(PRIMARY_ACCOUNT), undefined],
      [keyOf('333333333333'), 'ext-123456'],
    ] as const) {
      const e = (await rejection(
        assumeRole(
          { region: P, endpoint: lab.url, credentials: key },
          { RoleArn: roleArn, RoleSessionName: 's1', ...(externalId ? { ExternalId: externalId } : {}) },
        ),
      )) as Error & { $metadata: { httpStatusCode: number } };
      expect(e.name).toBe('AccessDenied');
      expect(e.$metadata.httpStatusCode).toBe(403);
      expect(e.message).toMatch(/is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role\/r$/);
    }
  });

  it('expired temporary keys answer ExpiredTokenException; the provider assumes the role again before expiry', async () => {
    const opts = { region: P, endpoint: lab.url, credentials: keyOf(PRIMARY_ACCOUNT) };
    const input = { RoleArn: `arn:aws:iam::${RECOVERY_ACCOUNT}:role/any`, RoleSessionName: 's1', DurationSeconds: 900 };
    const creds = await assumeRole(opts, input);
    await labPost(lab, '/_lab/clock', { advanceMs: 901_000 });
    const e = await rejection(sdk(creds).send(new GetSecretValueCommand({ SecretId: 'x' })));
    expect((e as Error).name).toBe('ExpiredTokenException');
    expect((e as Error).message).toBe('The security token included in the request is expired');
    expect(classifyAwsError(e)).toBe('denied');
    let clock = Date.now();
    const provider = assumeRoleProvider(opts, input, 300_000, () => clock);
    const first = await provider();
    expect(await provider()).toBe(first);
    clock = first.expiration.getTime() - 299_000; // inside the refresh margin
    expect((await provider()).accessKeyId).not.toBe(first.accessKeyId);
  });

  it('a revoked account: its keys (and its STS keys) get UnrecognizedClientException; other accounts keep working', async () => {
    const creds = await assumeRole(
      { region: P, endpoint: lab.url, credentials: keyOf(RECOVERY_ACCOUNT) },
      { RoleArn: `arn:aws:iam::${PRIMARY_ACCOUNT}:role/ops`, RoleSessionName: 'x1' },
    );
    expect((await labPost(lab, `/_lab/accounts/${PRIMARY_ACCOUNT}/revoke`)).status).toBe(200);
    for (const key of [keyOf(PRIMARY_ACCOUNT), creds]) {
      const e = (await rejection(sdk(key).send(new GetSecretValueCommand({ SecretId: 'x' })))) as Error & { $metadata: { httpStatusCode: number } };
      expect(e.name).toBe('UnrecognizedClientException');
      expect(e.message).toBe('The security token included in the request is invalid.');
      expect(e.$metadata.httpStatusCode).toBe(400);
    }
    const sts = (await rejection(getCallerIdentity({ region: P, endpoint: lab.url, credentials: keyOf(PRIMARY_ACCOUNT) }))) as Error;
    expect(sts.name).toBe('InvalidClientTokenId');
    const other = await rejection(sdk(keyOf(RECOVERY_ACCOUNT)).send(new GetSecretValueCommand({ SecretId: 'x' })));
    expect((other as Error).name).toBe('ResourceNotFoundException');
    await labPost(lab, `/_lab/accounts/${PRIMARY_ACCOUNT}/restore`);
    const back = await rejection(sdk(keyOf(PRIMARY_ACCOUNT)).send(new GetSecretValueCommand({ SecretId: 'x' })));
    expect((back as Error).name).toBe('ResourceNotFoundException');
  });
});

describe('cross-account replication through the signed client', () => {
  it('create → associate → InSync; DescribeSecret shows both sides in the model shapes; values propagate; writes to the replica are refused', async () => {
    const { primaryArn, replicaArn, primary, recovery, primarySdk } = await pair();
    const before = await recovery.describeSecretCrossAccount({ SecretId: replicaArn });
    expect(before.CrossAccountPrimary).toEqual({ PrimarySecretARN: primaryArn, ReplicationStatus: 'Pending' });
    const assoc = await primary.associateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: replicaArn, ReplicaRestriction: 'SameOrg' });
    expect(assoc).toEqual({ ARN: primaryArn, CrossAccountReplicaARN: replicaArn, ReplicationStatus: 'InProgress' });
    const synced = await eventually(async () => {
      const d = await primary.describeSecretCrossAccount({ SecretId: primaryArn });
      return d.CrossAccountReplicas?.[0]?.ReplicationStatus === 'InSync' && d;
    });
    expect(synced.CrossAccountReplicas).toEqual([{ ReplicaSecretARN: replicaArn, ReplicationStatus: 'InSync' }]);
    expect(synced.CreatedDate).toBeInstanceOf(Date);
    const replicaSide = await recovery.describeSecretCrossAccount({ SecretId: replicaArn });
    expect(replicaSide.CrossAccountPrimary).toEqual({ PrimarySecretARN: primaryArn, ReplicationStatus: 'InSync' });
    const rsdk = sdk(keyOf(RECOVERY_ACCOUNT));
    expect((await rsdk.send(new GetSecretValueCommand({ SecretId: replicaArn }))).SecretString).toBe('v1');
    await primarySdk.send(new PutSecretValueCommand({ SecretId: primaryArn, SecretString: 'v2' }));
    await eventually(async () => (await rsdk.send(new GetSecretValueCommand({ SecretId: 'dr/prod/db' }))).SecretString === 'v2');
    const refused = await rejection(rsdk.send(new PutSecretValueCommand({ SecretId: replicaArn, SecretString: 'nope' })));
    expect((refused as Error).name).toBe('InvalidParameterException');
    // Idempotent: the same association again repairs/re-syncs and answers the same shape.
    const again = await primary.associateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: replicaArn });
    expect(again.CrossAccountReplicaARN).toBe(replicaArn);
  });

  it('DeleteSecret on an associated primary fails; disassociate → Detached (no more updates); StopReplicationToReplica → standalone', async () => {
    const { primaryArn, replicaArn, primary, recovery, primarySdk } = await pair();
    await primary.associateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: replicaArn });
    await eventually(async () => (await recovery.describeSecretCrossAccount({ SecretId: replicaArn })).CrossAccountPrimary?.ReplicationStatus === 'InSync');
    const del = await rejection(primarySdk.send(new DeleteSecretCommand({ SecretId: primaryArn, ForceDeleteWithoutRecovery: true })));
    expect((del as Error).name).toBe('InvalidRequestException');
    const delReplica = await rejection(sdk(keyOf(RECOVERY_ACCOUNT)).send(new DeleteSecretCommand({ SecretId: replicaArn, ForceDeleteWithoutRecovery: true })));
    expect((delReplica as Error).name).toBe('InvalidRequestException');

    expect(await primary.disassociateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: replicaArn })).toEqual({
      ARN: primaryArn,
      CrossAccountReplicaARN: replicaArn,
    });
    expect((await recovery.describeSecretCrossAccount({ SecretId: replicaArn })).CrossAccountPrimary?.ReplicationStatus).toBe('Detached');
    expect((await primary.describeSecretCrossAccount({ SecretId: primaryArn })).CrossAccountReplicas?.[0]?.ReplicationStatus).toBe('Detached');
    await primarySdk.send(new PutSecretValueCommand({ SecretId: primaryArn, SecretString: 'after-detach' }));
    await new Promise((r) => setTimeout(r, 400));
    const rsdk = sdk(keyOf(RECOVERY_ACCOUNT));
    expect((await rsdk.send(new GetSecretValueCommand({ SecretId: replicaArn }))).SecretString).toBe('v1');
    await rsdk.send(new StopReplicationToReplicaCommand({ SecretId: replicaArn }));
    const standalone = await recovery.describeSecretCrossAccount({ SecretId: replicaArn });
    expect(standalone.CrossAccountPrimary).toBeUndefined();
    await rsdk.send(new PutSecretValueCommand({ SecretId: replicaArn, SecretString: 'promoted' }));
    // The primary may now be deleted (nothing associated).
    await primarySdk.send(new DeleteSecretCommand({ SecretId: primaryArn, ForceDeleteWithoutRecovery: true }));
  });

  it('StopReplicationToReplica works while the primary account is revoked (the compromised-account story)', async () => {
    const { primaryArn, replicaArn, primary } = await pair();
    await primary.associateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: replicaArn });
    await eventually(
      async () => (await primary.describeSecretCrossAccount({ SecretId: primaryArn })).CrossAccountReplicas?.[0]?.ReplicationStatus === 'InSync',
    );
    await labPost(lab, `/_lab/accounts/${PRIMARY_ACCOUNT}/revoke`);
    const e = await rejection(primary.describeSecretCrossAccount({ SecretId: primaryArn }));
    expect((e as Error).name).toBe('UnrecognizedClientException');
    expect(classifyAwsError(e)).toBe('denied');
    const rsdk = sdk(keyOf(RECOVERY_ACCOUNT));
    await rsdk.send(new StopReplicationToReplicaCommand({ SecretId: 'dr/prod/db' }));
    await rsdk.send(new PutSecretValueCommand({ SecretId: 'dr/prod/db', SecretString: 'rotated-in-recovery' }));
    expect((await rsdk.send(new GetSecretValueCommand({ SecretId: 'dr/prod/db' }))).SecretString).toBe('rotated-in-recovery');
  });

  it('association errors: no acceptance policy, no key grant, wrong Region, same account, not a replica of this primary, a second replica, other organization', async () => {
    const { primaryArn, replicaArn, primary, recovery } = await pair({ acceptPolicy: false, keyPolicy: false });
    const name = async (p: Promise<unknown>) => {
      const e = (await rejection(p)) as Error & { $metadata?: { httpStatusCode?: number } };
      return `${e.name}: ${e.message}`;
    };
    expect(await name(primary.associateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: replicaArn }))).toMatch(
      /^AccessDeniedException: .*secretsmanager:AcceptCrossAccountReplication on resource: arn:aws:secretsmanager:ap-northeast-1:222222222222:secret:dr\/prod\/db-/,
    );
    await sdk(keyOf(RECOVERY_ACCOUNT)).send(
      new PutResourcePolicyCommand({
        SecretId: replicaArn,
        ResourcePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: PRIMARY_ACCOUNT }, Action: 'secretsmanager:AcceptCrossAccountReplication', Resource: '*' }],
        }),
      }),
    );
    // The replica's key still has KMS's default policy (its own account only).
    expect(await name(primary.associateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: replicaArn }))).toMatch(
      /^AccessDeniedException: .*kms:Encrypt on resource: arn:aws:kms:ap-northeast-1:222222222222:alias\/recovery-key/,
    );
    // Nothing changed on either side.
    expect((await recovery.describeSecretCrossAccount({ SecretId: replicaArn })).CrossAccountPrimary?.ReplicationStatus).toBe('Pending');
    expect((await primary.describeSecretCrossAccount({ SecretId: primaryArn })).CrossAccountReplicas).toBeUndefined();

    const otherRegion = replicaArn.replace(P, 'ap-northeast-3');
    expect(await name(primary.associateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: otherRegion }))).toMatch(
      /^InvalidParameterException: .*same Region/,
    );
    expect(await name(primary.associateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: primaryArn }))).toMatch(
      /^InvalidParameterException: .*another AWS account/,
    );
    const stranger = await signed(keyOf('333333333333')).createCrossAccountReplica({
      Name: 'x/y',
      CrossAccountPrimaryARN: primaryArn.replace('prod/db', 'prod/other'),
      KmsKeyId: 'k1',
    });
    expect(await name(primary.associateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: stranger.ARN! }))).toMatch(
      /^InvalidRequestException: .*not a cross-account replica of/,
    );
    expect(
      await name(primary.associateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: replicaArn.replace('dr/prod/db', 'missing') })),
    ).toMatch(/^ResourceNotFoundException/);

    await labPost(lab, '/_lab/kms/key-policy', {
      accountId: RECOVERY_ACCOUNT,
      region: P,
      keyId: 'alias/recovery-key',
      policy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${PRIMARY_ACCOUNT}:root` }, Action: 'kms:Encrypt', Resource: '*' }],
      },
    });
    await labPost(lab, '/_lab/accounts', { accountId: RECOVERY_ACCOUNT, organizationId: 'o-other' });
    expect(await name(primary.associateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: replicaArn }))).toMatch(
      /^InvalidRequestException: ReplicaRestriction is SameOrg/,
    );
    const ok = await primary.associateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: replicaArn, ReplicaRestriction: 'NoRestriction' });
    expect(ok.ReplicationStatus).toBe('InProgress');

    // A second cross-account replica of the same primary.
    const second = await signed(keyOf('444444444444')).createCrossAccountReplica({ Name: 'dr2', CrossAccountPrimaryARN: primaryArn, KmsKeyId: 'k2' });
    expect(
      await name(primary.associateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: second.ARN!, ReplicaRestriction: 'NoRestriction' })),
    ).toMatch(/^LimitExceededException: .*at most one/);
  });

  it('CreateSecret(CrossAccountPrimaryARN) refuses a value, a missing or AWS managed key, another Region, and its own account', async () => {
    const recovery = signed(keyOf(RECOVERY_ACCOUNT));
    const primaryArn = `arn:aws:secretsmanager:${P}:${PRIMARY_ACCOUNT}:secret:prod/db-AbCdEf`;
    const msg = async (input: Record<string, unknown>) => {
      const e = (await rejection(
        recovery.createCrossAccountReplica({ Name: 'r', CrossAccountPrimaryARN: primaryArn, KmsKeyId: 'k', ...input } as never),
      )) as Error;
      return `${e.name}: ${e.message}`;
    };
    expect(await msg({ SecretString: 'x' })).toMatch(/^InvalidParameterException: You can't include SecretString/);
    expect(await msg({ KmsKeyId: 'alias/aws/secretsmanager' })).toMatch(/^InvalidParameterException: .*customer managed KMS key/);
    expect(await msg({ CrossAccountPrimaryARN: primaryArn.replace(P, 'us-west-2') })).toMatch(/^InvalidParameterException: .*same Region/);
    expect(await msg({ CrossAccountPrimaryARN: primaryArn.replace(PRIMARY_ACCOUNT, RECOVERY_ACCOUNT) })).toMatch(
      /^InvalidParameterException: .*another AWS account/,
    );
  });
});
