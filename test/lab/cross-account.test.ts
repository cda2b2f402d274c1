/**
 * The multi-account lab through the product's signed client (worker/cross-account-client.ts)
 * and STS client (worker/sts-client.ts): accounts chosen by the access key, STS AssumeRole with
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
import type { CrossAccountSecretsApi } from '../../activities/cross-account-api.js';
import { createCrossAccountClient } from '../../worker/cross-account-client.js';
import { createAccountClients } from '../../worker/account-clients.js';
import { assumeRole, assumeRoleProvider, getCallerIdentity } from '../../worker/sts-client.js';
import { classifyAwsError } from '../../activities/aws-errors.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningLab } from '../../lab/server.js';
import { stackEnv } from '../../lab/stack.js';
import { main } from '../../cli/main.js';
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

  it('/_lab/seed and /_lab/lambda take an accountId; a bad one is a 400 naming the field', async () => {
    const seeded = await labPost(lab, '/_lab/seed', { region: P, accountId: RECOVERY_ACCOUNT, secrets: [{ name: 'seeded/one', value: 'x' }] });
    expect(seeded.status).toBe(200);
    expect((seeded.json as { arns: string[] }).arns[0]).toContain(`:${RECOVERY_ACCOUNT}:secret:seeded/one-`);
    expect((await sdk(keyOf(RECOVERY_ACCOUNT)).send(new ListSecretsCommand({}))).SecretList?.map((x) => x.Name)).toEqual(['seeded/one']);
    expect((await sdk(keyOf(PRIMARY_ACCOUNT)).send(new ListSecretsCommand({}))).SecretList).toEqual([]);
    const fn = await labPost(lab, '/_lab/lambda', { region: P, name: 'rotate-dr', accountId: RECOVERY_ACCOUNT });
    expect((fn.json as { arn: string }).arn).toBe(`arn:aws:lambda:${P}:${RECOVERY_ACCOUNT}:function:rotate-dr`);
    const bad = await labPost(lab, '/_lab/seed', { region: P, accountId: '12', secrets: [] });
    expect(bad).toEqual({ status: 400, json: { error: '"accountId" must be a 12-digit AWS account id' } });
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

describe('cross-account access checks both sides, as IAM documents it', () => {
  it("reading another account's secret by ARN needs its resource policy and a customer managed key whose policy allows kms:Decrypt", async () => {
    const owner = sdk(keyOf(RECOVERY_ACCOUNT));
    const reader = sdk(keyOf(PRIMARY_ACCOUNT));
    const managed = await owner.send(new CreateSecretCommand({ Name: 'app/shared', SecretString: 's1' }));
    const custom = await owner.send(new CreateSecretCommand({ Name: 'app/custom', SecretString: 's2', KmsKeyId: 'alias/app-key' }));
    const denied = await rejection(reader.send(new GetSecretValueCommand({ SecretId: managed.ARN! })));
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toMatch(/because no resource-based policy allows the secretsmanager:GetSecretValue action$/);
    const allowRead = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${PRIMARY_ACCOUNT}:root` }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
    });
    for (const arn of [managed.ARN!, custom.ARN!]) await owner.send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: allowRead }));
    // The AWS managed key can never be used from another account.
    expect((await rejection(reader.send(new GetSecretValueCommand({ SecretId: managed.ARN! })))).message).toMatch(/^Access to KMS is not allowed/);
    expect((await rejection(reader.send(new GetSecretValueCommand({ SecretId: custom.ARN! })))).message).toMatch(/^Access to KMS is not allowed/);
    await labPost(lab, '/_lab/kms/key-policy', {
      accountId: RECOVERY_ACCOUNT,
      region: P,
      keyId: 'alias/app-key',
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: PRIMARY_ACCOUNT }, Action: 'kms:Decrypt', Resource: '*' }] },
    });
    expect((await reader.send(new GetSecretValueCommand({ SecretId: custom.ARN! }))).SecretString).toBe('s2');
    // The resource policy allows reads only.
    expect((await rejection(reader.send(new PutSecretValueCommand({ SecretId: custom.ARN!, SecretString: 'x' })))).name).toBe('AccessDeniedException');
  });

  it("the caller's identity policy must allow AcceptCrossAccountReplication on the replica (the lab's IAM enforcement)", async () => {
    const { primaryArn, replicaArn, primary } = await pair();
    const allowAllBut = (notAction: string) => ({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', NotAction: notAction, Resource: '*' }],
    });
    await labPost(lab, '/_lab/iam/policy', { accessKeyId: `lab${PRIMARY_ACCOUNT}`, policy: allowAllBut('secretsmanager:AcceptCrossAccountReplication') });
    try {
      const e = await rejection(primary.associateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: replicaArn }));
      expect(e.name).toBe('AccessDeniedException');
      expect(e.message).toBe(
        `User: arn:aws:iam::${PRIMARY_ACCOUNT}:user/lab${PRIMARY_ACCOUNT} is not authorized to perform: secretsmanager:AcceptCrossAccountReplication on resource: ${replicaArn} because no identity-based policy allows the secretsmanager:AcceptCrossAccountReplication action`,
      );
      await labPost(lab, '/_lab/iam/unbind', { accessKeyId: `lab${PRIMARY_ACCOUNT}` });
      await labPost(lab, '/_lab/iam/policy', { accessKeyId: `lab${PRIMARY_ACCOUNT}`, policy: allowAllBut('kms:Encrypt') });
      const k = await rejection(primary.associateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: replicaArn }));
      expect(k.message).toMatch(/kms:Encrypt on resource: arn:aws:kms:ap-northeast-1:222222222222:key\/recovery-key because no identity-based policy/);
    } finally {
      await labPost(lab, '/_lab/iam/unbind', { accessKeyId: `lab${PRIMARY_ACCOUNT}` });
    }
  });
});

describe('the local stack', () => {
  it('`lab up` / `lab env` export AWS_ENDPOINT_URL_STS, and the STS client finds the lab through it', async () => {
    const env = stackEnv({ home: '/tmp/x', startedAt: '', labUrl: lab.url, regions: [P], processes: [] });
    expect(env.AWS_ENDPOINT_URL_STS).toBe(lab.url);
    const me = await getCallerIdentity({ region: P, credentials: keyOf(PRIMARY_ACCOUNT), env: { AWS_ENDPOINT_URL_STS: env.AWS_ENDPOINT_URL_STS } });
    expect(me.Account).toBe(PRIMARY_ACCOUNT);
  });
});

describe('the state file keeps every account', () => {
  it('secrets of other accounts, the cross-account link, STS keys, roles, revocations and key policies survive a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-accounts-'));
    const statePath = join(dir, 'state.json');
    try {
      const first = await withLab({ statePath });
      const saved = lab;
      lab = first;
      try {
        const { primaryArn, replicaArn, primary } = await pair();
        await primary.associateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: replicaArn });
        await eventually(
          async () => (await primary.describeSecretCrossAccount({ SecretId: primaryArn })).CrossAccountReplicas?.[0]?.ReplicationStatus === 'InSync',
        );
        await labPost(first, '/_lab/roles', { accountId: RECOVERY_ACCOUNT, roleName: 'kept', externalId: 'ext-kept' });
        const creds = await assumeRole(
          { region: P, endpoint: first.url, credentials: keyOf(PRIMARY_ACCOUNT) },
          { RoleArn: `arn:aws:iam::${RECOVERY_ACCOUNT}:role/kept`, RoleSessionName: 'k1', ExternalId: 'ext-kept' },
        );
        await labPost(first, '/_lab/accounts/333333333333/revoke');
        await first.close();

        const second = await withLab({ statePath });
        lab = second;
        const again = signed(keyOf(RECOVERY_ACCOUNT));
        expect((await again.describeSecretCrossAccount({ SecretId: replicaArn })).CrossAccountPrimary).toEqual({
          PrimarySecretARN: primaryArn,
          ReplicationStatus: 'InSync',
        });
        expect((await sdk(creds).send(new GetSecretValueCommand({ SecretId: replicaArn }))).SecretString).toBe('v1');
        expect((await rejection(sdk(keyOf('333333333333')).send(new ListSecretsCommand({})))).name).toBe('UnrecognizedClientException');
        const roles = (await (await fetch(`${second.url}/_lab/roles`)).json()) as { roles: Array<{ arn: string }> };
        expect(roles.roles.map((r) => r.arn)).toEqual([`arn:aws:iam::${RECOVERY_ACCOUNT}:role/kept`]);
        const keys = (await (await fetch(`${second.url}/_lab/kms/key-policy`)).json()) as { keys: Array<{ keyArn: string }> };
        expect(keys.keys.map((k) => k.keyArn)).toEqual([`arn:aws:kms:${P}:${RECOVERY_ACCOUNT}:alias/recovery-key`]);
        await second.close();
      } finally {
        lab = saved;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the CLI: lab account and lab role', () => {
  async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const spyOut = process.stdout.write.bind(process.stdout);
    const spyErr = process.stderr.write.bind(process.stderr);
    const before = process.env.SECRETS_DR_LAB_URL;
    process.env.SECRETS_DR_LAB_URL = lab.url;
    process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      const code = await main(args);
      return { code, out: out.join(''), err: err.join('') };
    } finally {
      process.stdout.write = spyOut;
      process.stderr.write = spyErr;
      if (before === undefined) delete process.env.SECRETS_DR_LAB_URL;
      else process.env.SECRETS_DR_LAB_URL = before;
    }
  }

  it('revoke / restore an account, create a role, list; bad input exits 2 naming the field', async () => {
    expect(
      (await cli(['lab', 'role', 'create', '--account', RECOVERY_ACCOUNT, '--name', 'dr', '--trust', PRIMARY_ACCOUNT, '--external-id', 'ext-1'])).code,
    ).toBe(0);
    const denied = await rejection(
      assumeRole(
        { region: P, endpoint: lab.url, credentials: keyOf('333333333333') },
        { RoleArn: `arn:aws:iam::${RECOVERY_ACCOUNT}:role/dr`, RoleSessionName: 's1', ExternalId: 'ext-1' },
      ),
    );
    expect(denied.name).toBe('AccessDenied');
    expect((await cli(['lab', 'account', 'revoke', PRIMARY_ACCOUNT, '--json'])).code).toBe(0);
    expect((await rejection(sdk(keyOf(PRIMARY_ACCOUNT)).send(new ListSecretsCommand({})))).name).toBe('UnrecognizedClientException');
    const listed = await cli(['lab', 'account', 'list', '--json']);
    expect(JSON.parse(listed.out)).toMatchObject({ defaultAccountId: '123456789012' });
    expect((JSON.parse(listed.out) as { revoked: string[] }).revoked).toEqual([PRIMARY_ACCOUNT]);
    expect((await cli(['lab', 'account', 'restore', PRIMARY_ACCOUNT])).code).toBe(0);
    expect((await sdk(keyOf(PRIMARY_ACCOUNT)).send(new ListSecretsCommand({}))).SecretList).toEqual([]);
    const bad = await cli(['lab', 'account', 'revoke', '12345']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/12 digits/);
  });
});

describe('worker clients per account (worker/account-clients.ts)', () => {
  it("the primary account's clients use the given keys; a recovery account's assume its role (external id) and act in that account", async () => {
    const saved = { sm: process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER, sts: process.env.AWS_ENDPOINT_URL_STS };
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = lab.url;
    process.env.AWS_ENDPOINT_URL_STS = lab.url;
    try {
      await labPost(lab, '/_lab/roles', {
        accountId: RECOVERY_ACCOUNT,
        roleName: 'secrets-dr-recovery',
        trustedAccounts: [PRIMARY_ACCOUNT],
        externalId: 'ext-123456',
      });
      const { primaryArn, replicaArn } = await pair();
      const clientsOf = createAccountClients({ requestTimeoutMs: 5_000, credentials: keyOf(PRIMARY_ACCOUNT) });
      const primary = clientsOf(P);
      const recovery = clientsOf(P, {
        accountId: RECOVERY_ACCOUNT,
        roleArn: `arn:aws:iam::${RECOVERY_ACCOUNT}:role/secrets-dr-recovery`,
        externalId: 'ext-123456',
      });
      await primary.crossAccount.associateCrossAccountReplica({ SecretId: primaryArn, CrossAccountReplicaARN: replicaArn });
      const listed = await recovery.secretsManager.listSecrets({});
      expect(listed.SecretList?.map((s) => s.ARN)).toEqual([replicaArn]);
      await eventually(
        async () => (await recovery.crossAccount.describeSecretCrossAccount({ SecretId: replicaArn })).CrossAccountPrimary?.ReplicationStatus === 'InSync',
      );
      expect((await recovery.secretsManager.getSecretValue({ SecretId: replicaArn })).SecretString).toBe('v1');
      const wrong = clientsOf(P, { accountId: RECOVERY_ACCOUNT, roleArn: `arn:aws:iam::${RECOVERY_ACCOUNT}:role/secrets-dr-recovery`, externalId: 'not-it' });
      const e = await rejection(wrong.secretsManager.listSecrets({}));
      expect(e.name).toBe('AccessDenied');
    } finally {
      if (saved.sm === undefined) delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
      else process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = saved.sm;
      if (saved.sts === undefined) delete process.env.AWS_ENDPOINT_URL_STS;
      else process.env.AWS_ENDPOINT_URL_STS = saved.sts;
    }
  });
});

describe("the JS SDK's own STS client (@aws-sdk/nested-clients/sts, what the SDK's credential providers use)", () => {
  it('AssumeRole parses (credentials, expiration, assumed-role user); refusals come back as AccessDenied and InvalidClientTokenId', async () => {
    const { STSClient, AssumeRoleCommand } = await import('@aws-sdk/nested-clients/sts');
    await labPost(lab, '/_lab/roles', { accountId: RECOVERY_ACCOUNT, roleName: 'r', externalId: 'ext-js' });
    const c = new STSClient({ region: P, endpoint: lab.url, credentials: keyOf(PRIMARY_ACCOUNT), maxAttempts: 1 });
    const input = { RoleArn: `arn:aws:iam::${RECOVERY_ACCOUNT}:role/r`, RoleSessionName: 'js' };
    const denied = await rejection(c.send(new AssumeRoleCommand(input)));
    expect(denied).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const ok = await c.send(new AssumeRoleCommand({ ...input, ExternalId: 'ext-js' }));
    expect(ok.Credentials?.AccessKeyId).toMatch(/^ASIA/);
    expect(ok.Credentials?.Expiration).toBeInstanceOf(Date);
    expect(ok.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${RECOVERY_ACCOUNT}:assumed-role/r/js`);
    await labPost(lab, `/_lab/accounts/${PRIMARY_ACCOUNT}/revoke`);
    const revoked = await rejection(c.send(new AssumeRoleCommand({ ...input, ExternalId: 'ext-js' })));
    expect(revoked).toMatchObject({ name: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' });
  });
});

describe('temporary keys need their session token', () => {
  it('an STS key sent without its session token, or with another, is UnrecognizedClientException', async () => {
    const creds = await assumeRole(
      { region: P, endpoint: lab.url, credentials: keyOf(PRIMARY_ACCOUNT) },
      { RoleArn: `arn:aws:iam::${RECOVERY_ACCOUNT}:role/any`, RoleSessionName: 's1' },
    );
    for (const sessionToken of [undefined, 'another-token']) {
      const e = await rejection(
        sdk({ accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }).send(
          new ListSecretsCommand({}),
        ),
      );
      expect(e.name).toBe('UnrecognizedClientException');
    }
    expect((await sdk(creds).send(new ListSecretsCommand({}))).SecretList).toEqual([]);
  });
});
