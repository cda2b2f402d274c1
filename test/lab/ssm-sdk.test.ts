/**
 * Parameter Store references through the real SDK client (@aws-sdk/client-ssm), as applications
 * read secrets: `GetParameter /aws/reference/secretsmanager/<id>[:stage|:versionId]` with decryption,
 * in the caller's Region. The wire shapes are pinned in ssm.test.ts (raw JSON and the AWS CLI).
 */
import { Agent } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CreateSecretCommand, PutSecretValueCommand, ReplicateSecretToRegionsCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { RunningLab } from '../../lab/server.js';
import { DR, eventually, labPost, P, sm, withLab } from './helpers.js';

const REF = '/aws/reference/secretsmanager/';
let lab: RunningLab;
let primary: SecretsManagerClient;
const clients: SSMClient[] = [];

function ssm(region: string): SSMClient {
  const c = new SSMClient({
    region,
    endpoint: lab.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: { httpAgent: new Agent({ keepAlive: true }) },
  });
  clients.push(c);
  return c;
}

async function rejection(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

beforeEach(async () => {
  lab = await withLab();
  primary = sm(lab, P);
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  primary.destroy();
  await lab.close();
});

describe('SSM references with @aws-sdk/client-ssm', () => {
  it("GetParameter with decryption answers the current value as a SecureString with the secret's ARN; a label or version id selects another", async () => {
    const created = await primary.send(new CreateSecretCommand({ Name: 'app/db', SecretString: 'v1' }));
    const second = await primary.send(new PutSecretValueCommand({ SecretId: 'app/db', SecretString: 'v2' }));
    const { Parameter: cur } = await ssm(P).send(new GetParameterCommand({ Name: `${REF}app/db`, WithDecryption: true }));
    expect(cur).toMatchObject({ Name: `${REF}app/db`, Type: 'SecureString', Value: 'v2', Version: 0, ARN: created.ARN });
    expect(JSON.parse(cur!.SourceResult!)).toMatchObject({ Name: 'app/db', VersionId: second.VersionId, VersionStages: ['AWSCURRENT'] });
    expect(cur!.LastModifiedDate).toBeInstanceOf(Date);
    const { Parameter: prev } = await ssm(P).send(new GetParameterCommand({ Name: `${REF}app/db:AWSPREVIOUS`, WithDecryption: true }));
    expect(prev).toMatchObject({ Value: 'v1', Selector: ':AWSPREVIOUS' });
    const { Parameter: byId } = await ssm(P).send(new GetParameterCommand({ Name: `${REF}app/db:${second.VersionId!}`, WithDecryption: true }));
    expect(byId).toMatchObject({ Value: 'v2', Selector: `:${second.VersionId!}` });
  });

  it('without decryption the SDK raises ValidationException; a missing secret raises ParameterNotFound', async () => {
    await primary.send(new CreateSecretCommand({ Name: 'app/db', SecretString: 'v1' }));
    expect(await rejection(ssm(P).send(new GetParameterCommand({ Name: `${REF}app/db` })))).toMatchObject({
      name: 'ValidationException',
      message: 'WithDecryption flag must be True for retrieving a Secret Manager secret.',
      status: 400,
    });
    expect(await rejection(ssm(P).send(new GetParameterCommand({ Name: `${REF}app/none`, WithDecryption: true })))).toMatchObject({
      name: 'ParameterNotFound',
      status: 400,
    });
  });

  it('GetParameters answers what it can and lists the rest in InvalidParameters', async () => {
    await primary.send(new CreateSecretCommand({ Name: 'app/a', SecretString: 'A' }));
    const out = await ssm(P).send(new GetParametersCommand({ Names: [`${REF}app/a`, `${REF}app/missing`], WithDecryption: true }));
    expect(out.Parameters?.map((p) => [p.Name, p.Value])).toEqual([[`${REF}app/a`, 'A']]);
    expect(out.InvalidParameters).toEqual([`${REF}app/missing`]);
  });

  it('the DR Region answers from its replica (the read path applications use after failover)', async () => {
    await primary.send(new CreateSecretCommand({ Name: 'app/db', SecretString: 'v1' }));
    await primary.send(new ReplicateSecretToRegionsCommand({ SecretId: 'app/db', AddReplicaRegions: [{ Region: DR }] }));
    const value = await eventually(async () => {
      const { Parameter } = await ssm(DR).send(new GetParameterCommand({ Name: `${REF}app/db`, WithDecryption: true }));
      return Parameter?.Value;
    });
    expect(value).toBe('v1');
  });

  it('a permission fault on the read path surfaces as AccessDeniedException in the SDK, not as an outage', async () => {
    await primary.send(new CreateSecretCommand({ Name: 'app/db', SecretString: 'v1' }));
    await labPost(lab, '/_lab/fault/deny', { region: P, op: 'ssm:GetParameter' });
    const e = await rejection(ssm(P).send(new GetParameterCommand({ Name: `${REF}app/db`, WithDecryption: true })));
    expect(e).toMatchObject({ name: 'AccessDeniedException', status: 400 });
    expect(e.message).toMatch(/not authorized to perform: ssm:GetParameter/);
  });
});
