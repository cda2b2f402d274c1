/**
 * SSM Parameter Store references to Secrets Manager secrets (lab/ssm/service.ts), in every Region.
 * The wire shapes, over raw HTTP (helpers.ts rawAwsCall) and through the AWS CLI v1 from the
 * project venv; ssm-sdk.test.ts reads the same references with @aws-sdk/client-ssm.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  StopReplicationToReplicaCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { RunningLab } from '../../lab/server.js';
import { stackEnv } from '../../lab/stack.js';
import { DR, eventually, labGet, labPost, P, rawAwsCall, labPerTest, sm, type RawAnswer } from './helpers.js';

const REF = '/aws/reference/secretsmanager/';
const NEEDS_DECRYPTION = 'WithDecryption flag must be True for retrieving a Secret Manager secret.';
const notFound = (name: string) => `An error occurred (ParameterNotFound) when referencing Secrets Manager: Secret ${name} not found.`;

let lab: RunningLab;
let primary: SecretsManagerClient;
labPerTest((l, client) => ([lab, primary] = [l, client]));

/** One SSM call as the SDKs send it. */
const ssm = (region: string, op: string, body: unknown): Promise<RawAnswer> => rawAwsCall(lab, region, `AmazonSSM.${op}`, 'ssm', body);

/** `withDecryption: 'omit'` sends no WithDecryption at all. */
const getParameter = (region: string, name: string, withDecryption: boolean | 'omit' = true) =>
  ssm(region, 'GetParameter', withDecryption === 'omit' ? { Name: name } : { Name: name, WithDecryption: withDecryption });

describe('GetParameter of /aws/reference/secretsmanager/<id>', () => {
  it("answers the secret's AWSCURRENT as a SecureString, Version 0, with the GetSecretValue answer as SourceResult", async () => {
    const created = await primary.send(new CreateSecretCommand({ Name: 'app/db', SecretString: '{"password":"p1"}' }));
    const got = await primary.send(new GetSecretValueCommand({ SecretId: 'app/db' }));
    const a = await getParameter(P, `${REF}app/db`);
    expect(a.status).toBe(200);
    const p = a.json.Parameter as Record<string, unknown>;
    expect(p).toEqual({
      Name: `${REF}app/db`,
      Type: 'SecureString',
      Value: '{"password":"p1"}',
      Version: 0,
      SourceResult: expect.any(String),
      LastModifiedDate: got.CreatedDate!.getTime() / 1000,
      ARN: created.ARN,
    });
    expect(JSON.parse(p.SourceResult as string)).toEqual({
      ARN: created.ARN,
      Name: 'app/db',
      VersionId: created.VersionId,
      SecretString: '{"password":"p1"}',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: got.CreatedDate!.getTime() / 1000,
    });
  });

  it('selects a version by label or by version id (":<stage>" / ":<versionId>"), reported as Selector', async () => {
    const first = await primary.send(new CreateSecretCommand({ Name: 'app/sel', SecretString: 'first' }));
    await primary.send(new PutSecretValueCommand({ SecretId: 'app/sel', SecretString: 'second' }));
    const prev = (await getParameter(P, `${REF}app/sel:AWSPREVIOUS`)).json.Parameter as Record<string, unknown>;
    expect(prev).toMatchObject({ Name: `${REF}app/sel`, Selector: ':AWSPREVIOUS', Value: 'first' });
    expect(JSON.parse(prev.SourceResult as string).VersionStages).toEqual(['AWSPREVIOUS']);
    expect((await getParameter(P, `${REF}app/sel:${first.VersionId!}`)).json.Parameter).toMatchObject({ Selector: `:${first.VersionId!}`, Value: 'first' });
    expect((await getParameter(P, `${REF}app/sel:AWSCURRENT`)).json.Parameter).toMatchObject({ Value: 'second' });
    // A version id that is not a UUID (any ClientRequestToken) works too.
    const token = 'secrets-dr-token-0123456789abcdef0123456789';
    await primary.send(new PutSecretValueCommand({ SecretId: 'app/sel', SecretString: 'third', ClientRequestToken: token, VersionStages: ['MINE'] }));
    expect((await getParameter(P, `${REF}app/sel:${token}`)).json.Parameter).toMatchObject({ Value: 'third' });

    const none = await getParameter(P, `${REF}app/sel:NOSUCHSTAGE`);
    expect(none).toMatchObject({
      status: 400,
      errorType: 'ParameterNotFound',
      json: { __type: 'ParameterNotFound', message: notFound(`${REF}app/sel:NOSUCHSTAGE`) },
    });
  });

  it('without WithDecryption: ValidationException, before the secret is looked up', async () => {
    await primary.send(new CreateSecretCommand({ Name: 'app/plain', SecretString: 'x' }));
    for (const [name, flag] of [
      [`${REF}app/plain`, false],
      [`${REF}app/plain`, 'omit'],
      [`${REF}app/absent`, false],
    ] as const) {
      const a = await getParameter(P, name, flag);
      expect(a).toEqual({ status: 400, errorType: 'ValidationException', json: { __type: 'ValidationException', message: NEEDS_DECRYPTION } });
    }
  });

  it('a missing secret, another path, a malformed selector, a secret scheduled for deletion, a binary secret', async () => {
    expect(await getParameter(P, `${REF}app/absent`)).toEqual({
      status: 400,
      errorType: 'ParameterNotFound',
      json: { __type: 'ParameterNotFound', message: notFound(`${REF}app/absent`) },
    });
    expect(await getParameter(P, '/my/own/parameter')).toEqual({ status: 400, errorType: 'ParameterNotFound', json: { __type: 'ParameterNotFound' } });
    for (const bad of ['app/x:AWSCURRENT:extra', 'app/x:', `arn:aws:secretsmanager:${P}:123456789012:secret:app/x-AbCdEf`]) {
      const a = await getParameter(P, `${REF}${bad}`, false);
      expect(a.json).toEqual({
        __type: 'ValidationException',
        message: 'Invalid parameter name. Please use correct syntax for referencing a version/label  <name>:<version/label>',
      });
    }
    await primary.send(new CreateSecretCommand({ Name: 'app/gone', SecretString: 'x' }));
    await primary.send(new DeleteSecretCommand({ SecretId: 'app/gone', RecoveryWindowInDays: 7 }));
    expect((await getParameter(P, `${REF}app/gone`)).json).toEqual({ __type: 'ValidationException', message: 'Invalid Request to Secrets Manager' });
    await primary.send(new CreateSecretCommand({ Name: 'app/bin', SecretBinary: Buffer.from('abc') }));
    const bin = (await getParameter(P, `${REF}app/bin`)).json.Parameter as Record<string, unknown>;
    expect(bin.Type).toBe('SecureString');
    expect(bin).not.toHaveProperty('Value');
    expect(JSON.parse(bin.SourceResult as string).SecretBinary).toBe(Buffer.from('abc').toString('base64'));
  });

  it('every Region reads its own copy: a replica in the DR Region, then the standalone secret after promotion', async () => {
    const created = await primary.send(new CreateSecretCommand({ Name: 'app/rep', SecretString: 'v1', AddReplicaRegions: [{ Region: DR }] }));
    expect((await getParameter(DR, `${REF}app/rep`)).json.__type).toBe('ParameterNotFound'); // not replicated yet
    await eventually(async () => (await primary.send(new DescribeSecretCommand({ SecretId: 'app/rep' }))).ReplicationStatus?.[0]?.Status === 'InSync');
    expect((await getParameter(DR, `${REF}app/rep`)).json.Parameter).toMatchObject({ Value: 'v1', ARN: created.ARN!.replace(P, DR) });

    const dr = sm(lab, DR);
    await dr.send(new StopReplicationToReplicaCommand({ SecretId: 'app/rep' }));
    await dr.send(new PutSecretValueCommand({ SecretId: 'app/rep', SecretString: 'written in DR' }));
    dr.destroy();
    expect((await getParameter(DR, `${REF}app/rep`)).json.Parameter).toMatchObject({ Value: 'written in DR' });
    expect((await getParameter(P, `${REF}app/rep`)).json.Parameter).toMatchObject({ Value: 'v1' });
  });

  it('faults and the GetSecretValue quota apply: an outage answers 503; a throttled get-value group answers ThrottlingException; calls are counted as ssm:<Op>', async () => {
    await primary.send(new CreateSecretCommand({ Name: 'app/f', SecretString: 'x' }));
    await labPost(lab, '/_lab/fault/outage', { region: P, mode: 'error' });
    expect(await getParameter(P, `${REF}app/f`)).toMatchObject({ status: 503, json: { __type: 'ServiceUnavailableException' } });
    await labPost(lab, '/_lab/fault/clear', { region: P });

    await labPost(lab, '/_lab/fault/throttle', { region: P, group: 'get-value', tps: 1 });
    const answers = await Promise.all([1, 2, 3].map(() => getParameter(P, `${REF}app/f`)));
    expect(answers.filter((a) => a.status === 200).length).toBe(1);
    expect(answers.filter((a) => a.status === 400).map((a) => a.json)).toEqual([
      { __type: 'ThrottlingException', message: 'Rate exceeded' },
      { __type: 'ThrottlingException', message: 'Rate exceeded' },
    ]);
    const counts = (await labGet(lab, '/_lab/counters')) as Record<string, Record<string, { calls: number; failed: number }>>;
    expect(counts[P]!['ssm:GetParameter']).toMatchObject({ calls: 4, failed: 3 });

    await labPost(lab, '/_lab/fault/clear', {});
    await labPost(lab, '/_lab/fault/fail-next', { region: P, op: 'ssm:GetParameter', error: 'InternalServerError' });
    expect(await getParameter(P, `${REF}app/f`)).toMatchObject({ status: 500, json: { __type: 'InternalServerError' } });
    expect((await getParameter(P, `${REF}app/f`)).status).toBe(200);
  });

  it('other SSM operations are refused with UnknownOperationException', async () => {
    expect((await ssm(P, 'PutParameter', { Name: '/x', Value: 'y', Type: 'String' })).json.__type).toBe('UnknownOperationException');
  });
});

describe('GetParameters', () => {
  it('answers every reference it can (sorted by name) and lists the others in InvalidParameters', async () => {
    await primary.send(new CreateSecretCommand({ Name: 'b/one', SecretString: 'first' }));
    await primary.send(new PutSecretValueCommand({ SecretId: 'b/one', SecretString: 'second' }));
    await primary.send(new CreateSecretCommand({ Name: 'a/two', SecretString: 'two' }));
    const names = [`${REF}b/one`, `${REF}b/one:AWSPREVIOUS`, `${REF}a/two`, `${REF}missing`, `${REF}b/one:NOSUCH`, `${REF}b/one:a:b`, '/plain/param'];
    const a = await ssm(P, 'GetParameters', { Names: names, WithDecryption: true });
    expect(a.status).toBe(200);
    const params = a.json.Parameters as Array<Record<string, unknown>>;
    expect(params.map((p) => [p.Name, p.Selector, p.Value])).toEqual([
      [`${REF}a/two`, undefined, 'two'],
      [`${REF}b/one`, undefined, 'second'],
      [`${REF}b/one`, ':AWSPREVIOUS', 'first'],
    ]);
    expect(a.json.InvalidParameters).toEqual([`${REF}missing`, `${REF}b/one:NOSUCH`, `${REF}b/one:a:b`, '/plain/param']);

    const plain = await ssm(P, 'GetParameters', { Names: [`${REF}a/two`] });
    expect(plain.json).toEqual({ Parameters: [], InvalidParameters: [`${REF}a/two`] });

    const tooMany = await ssm(P, 'GetParameters', { Names: Array.from({ length: 11 }, (_, i) => `${REF}s${i}`), WithDecryption: true });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.__type).toBe('ValidationException');
    expect(tooMany.json.message).toMatch(/at 'names' failed to satisfy constraint: Member must have length less than or equal to 10/);
  });
});

describe('the local stack', () => {
  it('`lab up` / `lab env` export AWS_ENDPOINT_URL_SSM', () => {
    const env = stackEnv({ home: '/tmp/x', startedAt: '', labUrl: lab.url, regions: [P], processes: [] });
    expect(env.AWS_ENDPOINT_URL_SSM).toBe(lab.url);
  });
});

const AWS_CLI = fileURLToPath(new URL('../../.tools/venv/bin/aws', import.meta.url));

describe.skipIf(!existsSync(AWS_CLI))('the AWS CLI v1 (from the project venv) against the lab', () => {
  const run = promisify(execFile);
  const aws = (...args: string[]) =>
    run(AWS_CLI, [...args, '--region', P, '--endpoint-url', lab.url, '--output', 'json'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_MAX_ATTEMPTS: '1' },
    });

  it("ssm get-parameter --with-decryption reads a secret; without it the CLI shows AWS's ValidationException", async () => {
    const created = await primary.send(new CreateSecretCommand({ Name: 'cli/db', SecretString: 'from-cli' }));
    const { stdout } = await aws('ssm', 'get-parameter', '--name', `${REF}cli/db`, '--with-decryption');
    const p = (JSON.parse(stdout) as { Parameter: Record<string, unknown> }).Parameter;
    expect(p).toMatchObject({ Name: `${REF}cli/db`, Type: 'SecureString', Value: 'from-cli', Version: 0, ARN: created.ARN });
    expect(p.LastModifiedDate).toBeGreaterThan(1_600_000_000); // CLI v1 prints timestamps as epoch seconds

    const e = await aws('ssm', 'get-parameter', '--name', `${REF}cli/db`).then(
      () => undefined,
      (err: { stderr: string }) => err,
    );
    expect(e?.stderr).toContain(`An error occurred (ValidationException) when calling the GetParameter operation: ${NEEDS_DECRYPTION}`);
    const missing = await aws('ssm', 'get-parameters', '--names', `${REF}cli/db`, `${REF}cli/none`, '--with-decryption');
    expect(JSON.parse(missing.stdout)).toMatchObject({ Parameters: [{ Value: 'from-cli' }], InvalidParameters: [`${REF}cli/none`] });
  }, 60_000);
});
