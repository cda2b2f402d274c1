/**
 * The lab enforces IAM policies over the wire: per access key or for every caller, on every
 * service it serves, with AWS's AccessDeniedException (HTTP 400, action and resource named).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { EventBridgeClient, PutEventsCommand, PutRuleCommand } from '@aws-sdk/client-eventbridge';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { RunningLab } from '../../lab/server.js';
import { labGet, labPost, P, rejection, withLab } from './helpers.js';

const ACCOUNT = '123456789012';
const readOnly = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'ssm:GetParameter'], Resource: '*' },
    {
      Effect: 'Allow',
      Action: 'secretsmanager:CreateSecret',
      Resource: `arn:aws:secretsmanager:*:${ACCOUNT}:secret:mine/*`,
      Condition: { StringEquals: { 'aws:RequestedRegion': P } },
    },
    { Effect: 'Deny', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/classified': 'yes' } } },
    { Effect: 'Allow', Action: 'events:PutRule', Resource: `arn:aws:events:*:${ACCOUNT}:rule/secrets-dr-*` },
  ],
};

let lab: RunningLab;
const creds = (key: string) => ({ accessKeyId: key, secretAccessKey: 'x' });
const smAs = (key: string) => new SecretsManagerClient({ region: P, endpoint: lab.url, credentials: creds(key), maxAttempts: 1 });

beforeAll(async () => {
  lab = await withLab({ iamPolicies: [{ accessKeyId: 'reader', policy: readOnly, source: 'reader.json' }] });
  lab.secretsManager.seed(P, [
    { name: 'app/db', value: 'v1' },
    { name: 'app/secret', value: 'v2', tags: [{ Key: 'classified', Value: 'yes' }] },
  ]);
});
afterAll(async () => lab.close());

describe('lab IAM enforcement', () => {
  it("refuses what the key's policy does not allow: 400 AccessDeniedException naming the caller, action and resource", async () => {
    const e = await rejection(smAs('reader').send(new DeleteSecretCommand({ SecretId: 'app/db', ForceDeleteWithoutRecovery: true })));
    const arn = (await smAs('admin').send(new DescribeSecretCommand({ SecretId: 'app/db' }))).ARN!;
    expect(e.name).toBe('AccessDeniedException');
    expect(e.$metadata?.httpStatusCode).toBe(400);
    expect(e.message).toBe(
      `User: arn:aws:iam::${ACCOUNT}:user/reader is not authorized to perform: secretsmanager:DeleteSecret on resource: ${arn} because no identity-based policy allows the secretsmanager:DeleteSecret action`,
    );
    // Nothing happened: the secret is still there.
    expect((await smAs('reader').send(new GetSecretValueCommand({ SecretId: 'app/db' }))).SecretString).toBe('v1');
    const list = await rejection(smAs('reader').send(new ListSecretsCommand({})));
    expect(list.message).toBe(
      `User: arn:aws:iam::${ACCOUNT}:user/reader is not authorized to perform: secretsmanager:ListSecrets because no identity-based policy allows the secretsmanager:ListSecrets action`,
    );
  });

  it('a key without a policy of its own is not restricted when no policy binds every caller', async () => {
    const all = await smAs('admin').send(new ListSecretsCommand({}));
    expect(all.SecretList?.map((s) => s.Name).sort()).toEqual(['app/db', 'app/secret']);
  });

  it('explicit Deny on a resource tag wins; CreateSecret is allowed by the name prefix and the Region condition only', async () => {
    const e = await rejection(smAs('reader').send(new GetSecretValueCommand({ SecretId: 'app/secret' })));
    expect(e.message).toMatch(
      /not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:app\/secret-\w{6} with an explicit deny in an identity-based policy$/,
    );
    const made = await smAs('reader').send(new CreateSecretCommand({ Name: 'mine/one', SecretString: 'x' }));
    expect(made.ARN).toMatch(/:secret:mine\/one-\w{6}$/);
    const other = await rejection(smAs('reader').send(new CreateSecretCommand({ Name: 'theirs/one', SecretString: 'x' })));
    expect(other.message).toMatch(
      /secretsmanager:CreateSecret on resource: arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:theirs\/one-\w{6} because/,
    );
    const dr = new SecretsManagerClient({ region: 'ap-northeast-3', endpoint: lab.url, credentials: creds('reader'), maxAttempts: 1 });
    expect((await rejection(dr.send(new CreateSecretCommand({ Name: 'mine/two', SecretString: 'x' })))).name).toBe('AccessDeniedException');
  });

  it('a secret that does not exist: a caller scoped to its name prefix learns it is missing, any other is denied with the id as given', async () => {
    const missing = await rejection(smAs('reader').send(new DescribeSecretCommand({ SecretId: 'mine/nothing-here' })));
    expect(missing.name).toBe('ResourceNotFoundException');
    await labPost(lab, '/_lab/iam/policy', {
      accessKeyId: 'scoped',
      policy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'secretsmanager:DescribeSecret', Resource: `arn:aws:secretsmanager:*:${ACCOUNT}:secret:mine/*` }],
      },
    });
    expect((await rejection(smAs('scoped').send(new DescribeSecretCommand({ SecretId: 'mine/nothing-here' })))).name).toBe('ResourceNotFoundException');
    const denied = await rejection(smAs('scoped').send(new DescribeSecretCommand({ SecretId: 'theirs/nothing-here' })));
    expect(denied.message).toBe(
      `User: arn:aws:iam::${ACCOUNT}:user/scoped is not authorized to perform: secretsmanager:DescribeSecret on resource: theirs/nothing-here because no identity-based policy allows the secretsmanager:DescribeSecret action`,
    );
  });

  it('RotateSecret also needs lambda:InvokeFunction on the function it configures', async () => {
    const fn = `arn:aws:lambda:${P}:${ACCOUNT}:function:rotate-x`;
    await labPost(lab, '/_lab/iam/policy', {
      accessKeyId: 'rotator',
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:RotateSecret', Resource: '*' }] },
    });
    const e = await rejection(smAs('rotator').send(new RotateSecretCommand({ SecretId: 'app/db', RotationLambdaARN: fn })));
    expect(e.message).toBe(
      `User: arn:aws:iam::${ACCOUNT}:user/rotator is not authorized to perform: lambda:InvokeFunction on resource: ${fn} because no identity-based policy allows the lambda:InvokeFunction action`,
    );
  });

  it('EventBridge and SSM are evaluated too; a Parameter Store reference also needs secretsmanager:GetSecretValue', async () => {
    const eb = new EventBridgeClient({ region: P, endpoint: lab.url, credentials: creds('reader'), maxAttempts: 1 });
    await eb.send(new PutRuleCommand({ Name: 'secrets-dr-alarm', EventPattern: '{"source":["aws.cloudwatch"]}' }));
    const put = await rejection(eb.send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd', Detail: '{}' }] })));
    expect(put.name).toBe('AccessDeniedException');
    expect(put.message).toBe(
      `User: arn:aws:iam::${ACCOUNT}:user/reader is not authorized to perform: events:PutEvents on resource: arn:aws:events:${P}:${ACCOUNT}:event-bus/default because no identity-based policy allows the events:PutEvents action`,
    );
    const ssm = (key: string) => new SSMClient({ region: P, endpoint: lab.url, credentials: creds(key), maxAttempts: 1 });
    const read = await ssm('reader').send(new GetParameterCommand({ Name: '/aws/reference/secretsmanager/app/db', WithDecryption: true }));
    expect(read.Parameter?.Value).toBe('v1');
    const denied = await rejection(ssm('reader').send(new GetParameterCommand({ Name: '/aws/reference/secretsmanager/app/secret', WithDecryption: true })));
    expect(denied.message).toMatch(/secretsmanager:GetSecretValue on resource: .*app\/secret-\w{6} with an explicit deny/);
    await labPost(lab, '/_lab/iam/policy', {
      accessKeyId: 'ssm-only',
      policy: { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*' } },
    });
    expect(
      (await rejection(ssm('ssm-only').send(new GetParameterCommand({ Name: '/aws/reference/secretsmanager/app/db', WithDecryption: true })))).message,
    ).toMatch(
      /user\/ssm-only is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:app\/db-/,
    );
  });

  it('records per key and action what it allowed and denied; /_lab/iam/policy refuses a bad document, naming the field', async () => {
    const record = (await labGet(lab, '/_lab/iam/record?accessKeyId=reader')) as Record<string, Record<string, { allowed: number; denied: number }>>;
    expect(record.reader!['secretsmanager:DeleteSecret']).toMatchObject({ allowed: 0, denied: 1 });
    expect(record.reader!['secretsmanager:GetSecretValue']!.allowed).toBeGreaterThan(0);
    const bad = await labPost(lab, '/_lab/iam/policy', {
      accessKeyId: 'x',
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'x:Y' }] },
    });
    expect(bad.status).toBe(400);
    expect((bad.json as { error: string }).error).toMatch(/Statement\.0\.Resource: exactly one of Resource or NotResource/);
  });

  it('a policy for every caller binds keys without their own, and unbinding lifts it', async () => {
    await labPost(lab, '/_lab/iam/policy', { policy: { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] } });
    expect((await rejection(smAs('admin').send(new ListSecretsCommand({})))).message).toMatch(/user\/admin .*with an explicit deny/);
    expect((await smAs('reader').send(new DescribeSecretCommand({ SecretId: 'app/db' }))).Name).toBe('app/db');
    await labPost(lab, '/_lab/iam/unbind', {});
    expect((await smAs('admin').send(new ListSecretsCommand({}))).SecretList?.length).toBeGreaterThan(0);
  });
});
