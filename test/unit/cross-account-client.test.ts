/**
 * The signed cross-account client (worker/cross-account-client.ts) and the STS client
 * (worker/sts-client.ts) against a fake HTTP server: what goes on the wire (AWS JSON 1.1 target and
 * content type, a SigV4 Authorization header whose signature verifies, the session token), where
 * it goes (endpoint variables), and how answers and failures come back (the SDK's error classes,
 * classified like SDK errors; no answer = unreachable).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { InvalidRequestException, ResourceNotFoundException, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classifyAwsError, isUnreachable } from '../../activities/aws-errors.js';
import { createCrossAccountClient, NodeSha256, secretsManagerEndpoint } from '../../worker/cross-account-client.js';
import { assumeRole, assumeRoleProvider, stsEndpoint } from '../../worker/sts-client.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
type Reply = { status: number; headers?: Record<string, string>; body: string } | 'hang';

let server: Server;
let url: string;
let seen: Seen[] = [];
let replies: Reply[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const r = replies.shift() ?? { status: 200, body: '{}' };
      if (r === 'hang') return;
      res.writeHead(r.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'req-1', ...r.headers });
      res.end(r.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
afterEach(() => {
  seen = [];
  replies = [];
});

const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'token-1' };
const NOW = new Date('2026-12-02T12:00:00Z');

/** Recomputes the signature of a seen request with the same keys: the server-side check AWS makes. */
async function signatureOf(s: Seen, service: string, region: string): Promise<string> {
  const u = new URL(url);
  const headers: Record<string, string> = {};
  const signedNames = /SignedHeaders=([^,]+)/.exec(String(s.headers.authorization))![1]!.split(';');
  for (const n of signedNames) headers[n] = String(s.headers[n]);
  const signer = new SignatureV4({ service, region, credentials: CREDS, sha256: NodeSha256, applyChecksum: false });
  const signed = await signer.sign(
    { method: s.method, protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: s.url, query: {}, headers, body: s.body },
    { signingDate: NOW },
  );
  return /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization))![1]!;
}

describe('the signed cross-account client', () => {
  it('sends AWS JSON 1.1 with the target, a verifiable SigV4 signature for secretsmanager, and the session token', async () => {
    replies.push({ status: 200, body: JSON.stringify({ ARN: 'arn:p', CrossAccountReplicaARN: 'arn:r', ReplicationStatus: 'InProgress' }) });
    const c = createCrossAccountClient({ region: 'ap-northeast-1', endpoint: url, credentials: CREDS, now: () => NOW });
    const out = await c.associateCrossAccountReplica({ SecretId: 'prod/db', CrossAccountReplicaARN: 'arn:r', ReplicaRestriction: 'NoRestriction' });
    expect(out).toEqual({ ARN: 'arn:p', CrossAccountReplicaARN: 'arn:r', ReplicationStatus: 'InProgress' });
    const s = seen[0]!;
    expect(s.method).toBe('POST');
    expect(s.headers['x-amz-target']).toBe('secretsmanager.AssociateCrossAccountReplica');
    expect(s.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(s.headers['x-amz-security-token']).toBe('token-1');
    expect(s.headers['x-amz-date']).toBe('20261202T120000Z');
    expect(JSON.parse(s.body)).toEqual({ SecretId: 'prod/db', CrossAccountReplicaARN: 'arn:r', ReplicaRestriction: 'NoRestriction' });
    const auth = String(s.headers.authorization);
    expect(auth).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261202\/ap-northeast-1\/secretsmanager\/aws4_request, SignedHeaders=[^,]*x-amz-target[^,]*, Signature=/,
    );
    expect(/Signature=([0-9a-f]{64})$/.exec(auth)![1]).toBe(await signatureOf(s, 'secretsmanager', 'ap-northeast-1'));
  });

  it('CreateSecret for a replica carries an idempotency token; DescribeSecret keeps the cross-account members and turns dates into Date', async () => {
    replies.push({ status: 200, body: JSON.stringify({ ARN: 'arn:r', Name: 'dr/db' }) });
    replies.push({
      status: 200,
      body: JSON.stringify({
        ARN: 'arn:r',
        CreatedDate: 1764676800,
        CrossAccountPrimary: { PrimarySecretARN: 'arn:p', ReplicationStatus: 'InSync' },
        CrossAccountReplicas: [{ ReplicaSecretARN: 'arn:x', ReplicationStatus: 'Detached' }],
      }),
    });
    const c = createCrossAccountClient({ region: 'ap-northeast-1', endpoint: url, credentials: async () => CREDS });
    await c.createCrossAccountReplica({ Name: 'dr/db', CrossAccountPrimaryARN: 'arn:p', KmsKeyId: 'alias/k' });
    expect(JSON.parse(seen[0]!.body).ClientRequestToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[0]!.headers['x-amz-target']).toBe('secretsmanager.CreateSecret');
    const d = await c.describeSecretCrossAccount({ SecretId: 'arn:r' });
    expect(d.CreatedDate).toEqual(new Date(1764676800 * 1000));
    expect(d.CrossAccountPrimary).toEqual({ PrimarySecretARN: 'arn:p', ReplicationStatus: 'InSync' });
    expect(d.CrossAccountReplicas?.[0]?.ReplicationStatus).toBe('Detached');
  });

  it("errors come back as the SDK's classes, with name, message and status, and classify like SDK errors", async () => {
    replies.push({
      status: 400,
      headers: { 'x-amzn-errortype': 'ResourceNotFoundException' },
      body: JSON.stringify({ __type: 'ResourceNotFoundException', Message: 'gone' }),
    });
    replies.push({ status: 400, body: JSON.stringify({ __type: 'com.amazonaws.secretsmanager#InvalidRequestException', message: 'no' }) });
    replies.push({
      status: 400,
      headers: { 'x-amzn-errortype': 'UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/' },
      body: JSON.stringify({
        __type: 'com.amazon.coral.service#UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      }),
    });
    replies.push({ status: 503, body: JSON.stringify({ __type: 'ServiceUnavailableException', message: 'down' }) });
    const c = createCrossAccountClient({ region: 'ap-northeast-1', endpoint: url, credentials: CREDS });
    const call = () =>
      c.disassociateCrossAccountReplica({ SecretId: 's', CrossAccountReplicaARN: 'arn:r' }).then(
        () => new Error('expected a failure'),
        (e: unknown) => e as Error,
      );
    const notFound = await call();
    expect(notFound).toBeInstanceOf(ResourceNotFoundException);
    expect(notFound).toMatchObject({ name: 'ResourceNotFoundException', message: 'gone', $metadata: { httpStatusCode: 400, requestId: 'req-1' } });
    const invalid = await call();
    expect(invalid).toBeInstanceOf(InvalidRequestException);
    expect(classifyAwsError(invalid)).toBe('rejected');
    const revoked = await call();
    expect(revoked).toBeInstanceOf(SecretsManagerServiceException);
    expect(revoked.name).toBe('UnrecognizedClientException');
    expect(classifyAwsError(revoked)).toBe('denied');
    const down = await call();
    expect(isUnreachable(down)).toBe(true);
  });

  it('no answer is unreachable: a refused connection and a timeout', async () => {
    const spare = createServer();
    await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
    const closedPort = (spare.address() as AddressInfo).port;
    await new Promise((r) => spare.close(r));
    const closed = createCrossAccountClient({ region: 'ap-northeast-1', endpoint: `http://127.0.0.1:${closedPort}`, credentials: CREDS });
    const refused = await closed.describeSecretCrossAccount({ SecretId: 's' }).catch((e: unknown) => e);
    expect(isUnreachable(refused)).toBe(true);
    expect(classifyAwsError(refused)).toBe('unreachable');
    replies.push('hang');
    const slow = createCrossAccountClient({ region: 'ap-northeast-1', endpoint: url, credentials: CREDS, requestTimeoutMs: 200 });
    const timedOut = await slow.describeSecretCrossAccount({ SecretId: 's' }).catch((e: unknown) => e);
    expect(isUnreachable(timedOut)).toBe(true);
  });

  it('endpoint: explicit, then AWS_ENDPOINT_URL_SECRETS_MANAGER, then AWS_ENDPOINT_URL, then the Region', () => {
    expect(secretsManagerEndpoint('eu-west-1', 'http://x', { AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://y' })).toBe('http://x');
    expect(secretsManagerEndpoint('eu-west-1', undefined, { AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://y', AWS_ENDPOINT_URL: 'http://z' })).toBe('http://y');
    expect(secretsManagerEndpoint('eu-west-1', undefined, { AWS_ENDPOINT_URL: 'http://z' })).toBe('http://z');
    expect(secretsManagerEndpoint('eu-west-1', undefined, {})).toBe('https://secretsmanager.eu-west-1.amazonaws.com');
    expect(secretsManagerEndpoint('cn-north-1', undefined, {})).toBe('https://secretsmanager.cn-north-1.amazonaws.com.cn');
    expect(stsEndpoint('eu-west-1', undefined, { AWS_ENDPOINT_URL_STS: 'http://s' })).toBe('http://s');
    expect(stsEndpoint('eu-west-1', undefined, {})).toBe('https://sts.eu-west-1.amazonaws.com');
  });
});

const ASSUMED = (key: string, expiration: string) =>
  `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${key}</AccessKeyId>` +
  `<SecretAccessKey>s&amp;k</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
  `<AssumedRoleUser><AssumedRoleId>AROA:x</AssumedRoleId><Arn>arn:aws:sts::222222222222:assumed-role/r/x</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>`;

describe('the STS client', () => {
  it('AssumeRole: a signed Query request for sts; the credentials parsed (XML entities decoded)', async () => {
    replies.push({ status: 200, headers: { 'content-type': 'text/xml' }, body: ASSUMED('ASIA1', '2026-12-02T13:00:00Z') });
    const c = await assumeRole(
      { region: 'us-east-1', endpoint: url, credentials: CREDS },
      { RoleArn: 'arn:aws:iam::222222222222:role/r', RoleSessionName: 'x', ExternalId: 'e-1', DurationSeconds: 900 },
    );
    expect(c).toEqual({
      accessKeyId: 'ASIA1',
      secretAccessKey: 's&k',
      sessionToken: 'tok',
      expiration: new Date('2026-12-02T13:00:00Z'),
      assumedRoleArn: 'arn:aws:sts::222222222222:assumed-role/r/x',
    });
    const s = seen[0]!;
    expect(Object.fromEntries(new URLSearchParams(s.body))).toEqual({
      Action: 'AssumeRole',
      Version: '2011-06-15',
      RoleArn: 'arn:aws:iam::222222222222:role/r',
      RoleSessionName: 'x',
      ExternalId: 'e-1',
      DurationSeconds: '900',
    });
    expect(String(s.headers.authorization)).toMatch(/Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/sts\/aws4_request/);
  });

  it("AccessDenied comes back with STS's code and status", async () => {
    replies.push({
      status: 403,
      headers: { 'content-type': 'text/xml' },
      body: '<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: u is not authorized to perform: sts:AssumeRole</Message></Error><RequestId>r</RequestId></ErrorResponse>',
    });
    const e = (await assumeRole({ region: 'us-east-1', endpoint: url, credentials: CREDS }, { RoleArn: 'arn:aws:iam::1:role/r', RoleSessionName: 'x' }).then(
      () => new Error('expected a failure'),
      (x: unknown) => x,
    )) as Error & { $metadata: { httpStatusCode: number } };
    expect(e.name).toBe('AccessDenied');
    expect(e.$metadata.httpStatusCode).toBe(403);
    expect(e.message).toMatch(/not authorized to perform: sts:AssumeRole/);
  });

  it('the provider shares one call between concurrent callers and refreshes inside the margin only', async () => {
    let now = Date.parse('2026-12-02T12:00:00Z');
    replies.push({ status: 200, body: ASSUMED('ASIA1', '2026-12-02T13:00:00Z') }, { status: 200, body: ASSUMED('ASIA2', '2026-12-02T14:00:00Z') });
    const p = assumeRoleProvider(
      { region: 'us-east-1', endpoint: url, credentials: CREDS },
      { RoleArn: 'arn:aws:iam::1:role/r', RoleSessionName: 'x' },
      300_000,
      () => now,
    );
    const [a, b] = await Promise.all([p(), p()]);
    expect(a.accessKeyId).toBe('ASIA1');
    expect(b).toBe(a);
    expect(seen).toHaveLength(1);
    now = Date.parse('2026-12-02T12:54:00Z'); // 6 minutes left: still good
    expect((await p()).accessKeyId).toBe('ASIA1');
    now = Date.parse('2026-12-02T12:56:00Z'); // 4 minutes left: refreshed
    expect((await p()).accessKeyId).toBe('ASIA2');
    expect(seen).toHaveLength(2);
  });
});
