/**
 * Faults, quotas and counters as the SDK sees them, plus the protocol edges (Region routing,
 * error shapes) and the CloudTrail-style events the lab publishes.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  SecretsManagerServiceException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { EventBridgeClient, ListRulesCommand, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SECRETS_MANAGER_QUOTAS, type RunningLab } from '../../lab/server.js';
import { DR, labGet, labPost, P, rawAwsCall, rejection, sleep, labPerTest, sm, withLab } from './helpers.js';

let lab: RunningLab;
let c: SecretsManagerClient;
labPerTest(
  async (l, client) => {
    [lab, c] = [l, client];
    await c.send(new CreateSecretCommand({ Name: 'f/s', SecretString: 'x' }));
  },
  { maxAttempts: 1 },
);

describe('outage modes seen from the SDK', () => {
  it('refuse: the connection is dropped without a response', async () => {
    await labPost(lab, '/_lab/fault/outage', { region: P, mode: 'refuse' });
    const e = await rejection(c.send(new DescribeSecretCommand({ SecretId: 'f/s' })));
    expect(e).not.toBeInstanceOf(SecretsManagerServiceException);
    expect(`${e.name} ${(e as { code?: string }).code ?? ''} ${e.message}`).toMatch(/ECONNRESET|socket hang up|EPIPE/);
    expect(e.$metadata?.httpStatusCode).toBeUndefined();
    // Other Regions keep working.
    const d = sm(lab, DR, { maxAttempts: 1 });
    await d.send(new CreateSecretCommand({ Name: 'ok', SecretString: 'x' }));
    d.destroy();
  });

  it('error: HTTP 503 ServiceUnavailableException, which the SDK retries as transient', async () => {
    await labPost(lab, '/_lab/fault/outage', { region: P, mode: 'error' });
    const e = await rejection(c.send(new DescribeSecretCommand({ SecretId: 'f/s' })));
    expect(e.name).toBe('ServiceUnavailableException');
    expect(e.$metadata?.httpStatusCode).toBe(503);
    const retrying = sm(lab, P, { maxAttempts: 2 });
    const e2 = await rejection(retrying.send(new DescribeSecretCommand({ SecretId: 'f/s' })));
    expect((e2 as { $metadata: { attempts?: number } }).$metadata.attempts).toBe(2);
    retrying.destroy();
  });

  it('hang: the request times out on the client, and a held request completes after clear', async () => {
    await labPost(lab, '/_lab/fault/outage', { region: P, mode: 'hang' });
    const impatient = sm(lab, P, { maxAttempts: 1, requestTimeout: 300 });
    const t0 = Date.now();
    const e = await rejection(impatient.send(new DescribeSecretCommand({ SecretId: 'f/s' })));
    expect(e.name).toBe('TimeoutError');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    impatient.destroy();

    const held = c.send(new DescribeSecretCommand({ SecretId: 'f/s' }));
    let settled = false;
    void held.then(
      () => (settled = true),
      () => (settled = true),
    );
    await sleep(300);
    expect(settled).toBe(false);
    expect(((await labGet(lab, '/_lab/status')) as { hangingRequests: number }).hangingRequests).toBe(1);
    await labPost(lab, '/_lab/fault/clear', { region: P });
    expect((await held).Name).toBe('f/s');
  });

  it('hang: closing the lab lets held requests go (no leak)', async () => {
    await labPost(lab, '/_lab/fault/outage', { region: P, mode: 'hang' });
    const held = c.send(new DescribeSecretCommand({ SecretId: 'f/s' }));
    await sleep(100);
    await lab.close();
    await expect(held).rejects.toBeInstanceOf(Error);
  });
});

describe('latency, fail-next, throttling', () => {
  it('latency slows every call in the Region', async () => {
    const t0 = performance.now();
    await c.send(new DescribeSecretCommand({ SecretId: 'f/s' }));
    const base = performance.now() - t0;
    await labPost(lab, '/_lab/fault/latency', { region: P, ms: 250, jitter: 20 });
    const t1 = performance.now();
    await c.send(new DescribeSecretCommand({ SecretId: 'f/s' }));
    const slow = performance.now() - t1;
    expect(slow).toBeGreaterThanOrEqual(225);
    expect(slow).toBeGreaterThan(base + 200);
  });

  it('fail-next fails the next N calls of one operation (optionally for one secret prefix), then stops', async () => {
    await labPost(lab, '/_lab/fault/fail-next', { region: P, op: 'GetSecretValue', count: 2 });
    for (let i = 0; i < 2; i++) {
      const e = await rejection(c.send(new GetSecretValueCommand({ SecretId: 'f/s' })));
      expect(e.name).toBe('InternalServiceError');
      expect(e.$metadata?.httpStatusCode).toBe(500);
    }
    expect((await c.send(new GetSecretValueCommand({ SecretId: 'f/s' }))).SecretString).toBe('x');
    await c.send(new CreateSecretCommand({ Name: 'other/s', SecretString: 'y' }));
    await labPost(lab, '/_lab/fault/fail-next', { region: P, op: 'PutSecretValue', error: 'ResourceNotFoundException', secretIdPrefix: 'f/' });
    await c.send(new PutSecretValueCommand({ SecretId: 'other/s', SecretString: 'z' }));
    const e = await rejection(c.send(new PutSecretValueCommand({ SecretId: 'f/s', SecretString: 'z' })));
    expect(e.name).toBe('ResourceNotFoundException');
    await c.send(new PutSecretValueCommand({ SecretId: 'f/s', SecretString: 'z' }));
  });

  it('a burst of 100 writes in one second: about 50 succeed, the rest get ThrottlingException "Rate exceeded"', async () => {
    const started = performance.now();
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) => c.send(new PutSecretValueCommand({ SecretId: 'f/s', SecretString: `v${i}` }))),
    );
    const seconds = (performance.now() - started) / 1000;
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const throttled = results.filter((r) => r.status === 'rejected' && (r.reason as Error).name === 'ThrottlingException');
    expect(ok).toBeGreaterThanOrEqual(48);
    // The bucket holds 50 and refills 50 per second: while the burst is being served (longer on a
    // busy machine) a few more tokens arrive, never more than 50 per second of the burst's span.
    expect(seconds).toBeLessThan(0.9);
    expect(ok).toBeLessThanOrEqual(50 + Math.ceil(50 * seconds) + 1);
    expect(throttled.length).toBe(100 - ok);
    const e = (throttled[0] as PromiseRejectedResult).reason as Error & { $metadata: { httpStatusCode: number } };
    expect(e.message).toBe('Rate exceeded');
    expect(e.$metadata.httpStatusCode).toBe(400);
    const counts = (await labGet(lab, '/_lab/counters')) as Record<string, Record<string, { calls: number; throttled: number }>>;
    expect(counts[P]!.PutSecretValue).toEqual({ calls: 100, throttled: 100 - ok, failed: 0 });
  });

  it("with the SDK's default retries, the throttled writes of a burst eventually succeed", async () => {
    const retrying = sm(lab, P); // maxAttempts 3, standard retry strategy
    // The bucket is shared by the whole write group: the same 50 TPS for every call.
    await c.send(new CreateSecretCommand({ Name: 'f/t', SecretString: 'x' }));
    // 75 writes against a 50-token bucket: the 25 throttled ones are retried with jittered backoff
    // (up to 3 attempts); 100 made the outcome depend on the jitter when the machine is busy.
    const results = await Promise.allSettled(
      Array.from({ length: 75 }, (_, i) => retrying.send(new PutSecretValueCommand({ SecretId: i % 2 ? 'f/s' : 'f/t', SecretString: `v${i}` }))),
    );
    const failures = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as Error);
    expect(failures).toEqual([]);
    const counts = (await labGet(lab, '/_lab/counters')) as Record<string, Record<string, { calls: number; throttled: number }>>;
    expect(counts[P]!.PutSecretValue!.throttled).toBeGreaterThan(0);
    retrying.destroy();
  });

  it("the throttle fault overrides a group's rate", async () => {
    await labPost(lab, '/_lab/fault/throttle', { region: P, group: 'describe', tps: 5 });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => c.send(new DescribeSecretCommand({ SecretId: 'f/s' }))));
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeLessThanOrEqual(6);
    await labPost(lab, '/_lab/fault/clear', { region: P });
    await c.send(new DescribeSecretCommand({ SecretId: 'f/s' }));
  });

  it('quotas:false switches the AWS quotas off', async () => {
    const free = await withLab({ quotas: false });
    const fc = sm(free, P, { maxAttempts: 1 });
    await fc.send(new CreateSecretCommand({ Name: 'q', SecretString: 'x' }));
    const results = await Promise.allSettled(
      Array.from({ length: 120 }, (_, i) => fc.send(new PutSecretValueCommand({ SecretId: 'q', SecretString: `v${i}` }))),
    );
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    fc.destroy();
    await free.close();
  });

  it('exports the quota table as data', () => {
    const write = SECRETS_MANAGER_QUOTAS.find((g) => g.group === 'write')!;
    expect(write.ratePerSecond).toBe(50);
    expect([...write.operations].sort()).toEqual([
      'PutSecretValue',
      'RemoveRegionsFromReplication',
      'ReplicateSecretToRegions',
      'StopReplicationToReplica',
      'UpdateSecret',
      'UpdateSecretVersionStage',
    ]);
    expect(SECRETS_MANAGER_QUOTAS.find((g) => g.group === 'describe')!.ratePerSecond).toBe(40_000);
  });
});

describe('counters, status and the lab API', () => {
  it('counts calls, failures and throttles per Region per operation, and resets', async () => {
    await c.send(new DescribeSecretCommand({ SecretId: 'f/s' }));
    await rejection(c.send(new DescribeSecretCommand({ SecretId: 'missing' })));
    const counts = (await labGet(lab, '/_lab/counters')) as Record<string, Record<string, unknown>>;
    expect(counts[P]!.DescribeSecret).toEqual({ calls: 2, throttled: 0, failed: 1 });
    expect(counts[P]!.CreateSecret).toEqual({ calls: 1, throttled: 0, failed: 0 });
    await labPost(lab, '/_lab/counters/reset');
    expect(await labGet(lab, '/_lab/counters')).toEqual({});
  });

  it('reports status and validates lab calls with {error} + 400', async () => {
    await labPost(lab, '/_lab/fault/latency', { region: DR, ms: 10 });
    const status = (await labGet(lab, '/_lab/status')) as {
      regions: string[];
      quotas: boolean;
      secrets: Record<string, number>;
      faults: Record<string, unknown>;
    };
    expect(status.regions).toContain(P);
    expect(status.quotas).toBe(true);
    expect(status.secrets[P]).toBe(1);
    expect(status.faults[DR]).toMatchObject({ latency: { ms: 10, jitter: 0 } });
    expect(await labGet(lab, '/_lab/health')).toEqual({ ok: true });
    const bad = await labPost(lab, '/_lab/fault/outage', { region: 'mars-1', mode: 'refuse' });
    expect(bad.status).toBe(400);
    expect((bad.json as { error: string }).error).toMatch(/region/);
    const badMode = await labPost(lab, '/_lab/fault/outage', { region: P, mode: 'explode' });
    expect(badMode.status).toBe(400);
    const reset = await labPost(lab, '/_lab/reset');
    expect(reset.status).toBe(200);
    const after = (await labGet(lab, '/_lab/status')) as { secrets: Record<string, number>; faults: Record<string, unknown> };
    expect(after.secrets[P]).toBe(0);
    expect(after.faults).toEqual({});
  });

  it('seeds many real secrets quickly, with replication', async () => {
    const secrets = Array.from({ length: 2000 }, (_, i) => ({ name: `seed/${i}`, value: `v${i}`, replicaRegions: [DR] }));
    const r = await labPost(lab, '/_lab/seed', { region: P, secrets });
    expect(r.status).toBe(200);
    expect((r.json as { created: number }).created).toBe(2000);
    const d = sm(lab, DR);
    const replica = await (async () => {
      for (let i = 0; i < 100; i++) {
        try {
          return await d.send(new GetSecretValueCommand({ SecretId: 'seed/1999' }));
        } catch {
          await sleep(50);
        }
      }
      throw new Error('never replicated');
    })();
    expect(replica.SecretString).toBe('v1999');
    d.destroy();
    const dup = await labPost(lab, '/_lab/seed', { region: P, secrets: [{ name: 'seed/1' }] });
    expect(dup.status).toBe(400);
  });

  it('routes by the SigV4 Region and rejects a Region the lab does not serve', async () => {
    const outside = sm(lab, 'eu-central-1', { maxAttempts: 1 });
    const e = await rejection(outside.send(new DescribeSecretCommand({ SecretId: 'f/s' })));
    expect(e.name).toBe('UnrecognizedClientException');
    expect(e.message).toMatch(/eu-central-1/);
    outside.destroy();
  });
});

describe('CloudTrail-style events', () => {
  it('publishes one event per successful write, without the secret value', async () => {
    await c.send(new PutSecretValueCommand({ SecretId: 'f/s', SecretString: 'TOP-SECRET-VALUE' }));
    await rejection(c.send(new PutSecretValueCommand({ SecretId: 'missing', SecretString: 'TOP-SECRET-VALUE' })));
    await c.send(new DescribeSecretCommand({ SecretId: 'f/s' }));
    const events = (await labGet(lab, `/_lab/events?region=${P}&source=aws.secretsmanager`)) as unknown[];
    const text = JSON.stringify(events);
    expect(text).not.toContain('TOP-SECRET-VALUE');
    expect(text).not.toContain('"x"'); // the CreateSecret value
    const names = events.map((e) => JSON.stringify(e).match(/"eventName":"(\w+)"/)?.[1]);
    expect(names).toEqual(['CreateSecret', 'PutSecretValue']);
    expect(text).toContain('AWS API Call via CloudTrail');
    expect(text).toContain('secretsmanager.amazonaws.com');
  });
});

describe('incident errors: deny (persistent) and fail-next answer as AWS does', () => {
  const CALLER = 'arn:aws:sts::123456789012:assumed-role/secrets-dr-lab/lab-session';
  const TEXT = {
    ExpiredTokenException: 'The security token included in the request is expired',
    UnrecognizedClientException: 'The security token included in the request is invalid.',
    ThrottlingException: 'Rate exceeded',
  } as const;
  const callsOf = async (op: string): Promise<number> =>
    ((await labGet(lab, '/_lab/counters')) as Record<string, Record<string, { calls: number }>>)[P]?.[op]?.calls ?? 0;

  it('AccessDeniedException: 400, "User: … is not authorized to perform: secretsmanager:<Op> on resource: <ARN> because no identity-based policy allows …", not retried', async () => {
    const arn = (await c.send(new DescribeSecretCommand({ SecretId: 'f/s' }))).ARN!;
    expect((await labPost(lab, '/_lab/fault/deny', { region: P })).status).toBe(200);
    await labPost(lab, '/_lab/counters/reset', {});
    const retrying = sm(lab, P, { maxAttempts: 3 });
    const e = await rejection(retrying.send(new GetSecretValueCommand({ SecretId: 'f/s' })));
    retrying.destroy();
    expect(e.name).toBe('AccessDeniedException');
    expect(e).toBeInstanceOf(SecretsManagerServiceException);
    expect(e.$metadata?.httpStatusCode).toBe(400);
    expect(e.message).toBe(
      `User: ${CALLER} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${arn} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
    );
    expect(await callsOf('GetSecretValue')).toBe(1);
    const list = await rejection(c.send(new ListSecretsCommand({})));
    expect(list.message).toMatch(/secretsmanager:ListSecrets on resource: \* because/);
    // Persistent until cleared; other Regions are not touched.
    expect((await rejection(c.send(new DescribeSecretCommand({ SecretId: 'f/s' })))).name).toBe('AccessDeniedException');
    const d = sm(lab, DR, { maxAttempts: 1 });
    await d.send(new ListSecretsCommand({}));
    d.destroy();
    expect(((await labGet(lab, '/_lab/status')) as { faults: Record<string, { deny?: unknown }> }).faults[P]?.deny).toEqual([
      { error: 'AccessDeniedException' },
    ]);
    await labPost(lab, '/_lab/fault/clear', { region: P });
    await c.send(new DescribeSecretCommand({ SecretId: 'f/s' }));
  });

  for (const error of ['ExpiredTokenException', 'UnrecognizedClientException'] as const) {
    it(`${error}: 400 with AWS's text (a front-end error: namespaced __type), not retried`, async () => {
      await labPost(lab, '/_lab/fault/deny', { region: P, error });
      await labPost(lab, '/_lab/counters/reset', {});
      const retrying = sm(lab, P, { maxAttempts: 3 });
      const e = await rejection(retrying.send(new DescribeSecretCommand({ SecretId: 'f/s' })));
      retrying.destroy();
      expect(e.name).toBe(error);
      expect(e.$metadata?.httpStatusCode).toBe(400);
      expect(e.message).toBe(TEXT[error]);
      expect(await callsOf('DescribeSecret')).toBe(1);
      const raw = await rawAwsCall(lab, P, 'secretsmanager.DescribeSecret', 'secretsmanager', { SecretId: 'f/s' });
      expect(raw).toEqual({
        status: 400,
        errorType: `${error}:http://internal.amazon.com/coral/com.amazon.coral.service/`,
        json: { __type: `com.amazon.coral.service#${error}`, message: TEXT[error] },
      });
    });
  }

  it('ThrottlingException: 400 "Rate exceeded", and the SDK retries it (every attempt reaches the lab)', async () => {
    await labPost(lab, '/_lab/fault/deny', { region: P, op: 'GetSecretValue', error: 'ThrottlingException' });
    await labPost(lab, '/_lab/counters/reset', {});
    const retrying = sm(lab, P, { maxAttempts: 3 });
    const e = await rejection(retrying.send(new GetSecretValueCommand({ SecretId: 'f/s' })));
    retrying.destroy();
    expect(e.name).toBe('ThrottlingException');
    expect(e.message).toBe('Rate exceeded');
    expect(e.$metadata?.httpStatusCode).toBe(400);
    expect((e as { $metadata: { attempts?: number } }).$metadata.attempts).toBe(3);
    expect(await callsOf('GetSecretValue')).toBe(3);
    // Only that operation: the others answer.
    await c.send(new DescribeSecretCommand({ SecretId: 'f/s' }));
  });

  it('deny --op applies to one operation of EventBridge or SSM too; denying GetSecretValue denies the SSM reference read', async () => {
    await labPost(lab, '/_lab/fault/deny', { region: P, op: 'events:PutEvents' });
    const eb = new EventBridgeClient({ region: P, endpoint: lab.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    const e = await rejection(eb.send(new PutEventsCommand({ Entries: [{ Source: 'x', DetailType: 'y', Detail: '{}' }] })));
    expect(e.name).toBe('AccessDeniedException');
    expect(e.message).toBe(
      `User: ${CALLER} is not authorized to perform: events:PutEvents on resource: arn:aws:events:${P}:123456789012:event-bus/default because no identity-based policy allows the events:PutEvents action`,
    );
    await eb.send(new ListRulesCommand({}));
    eb.destroy();

    const ref = { Name: '/aws/reference/secretsmanager/f/s', WithDecryption: true };
    expect((await rawAwsCall(lab, P, 'AmazonSSM.GetParameter', 'ssm', ref)).status).toBe(200);
    await labPost(lab, '/_lab/fault/deny', { region: P, op: 'ssm:GetParameter', error: 'ExpiredTokenException' });
    expect((await rawAwsCall(lab, P, 'AmazonSSM.GetParameter', 'ssm', ref)).json).toEqual({
      __type: 'com.amazon.coral.service#ExpiredTokenException',
      message: TEXT.ExpiredTokenException,
    });
    await labPost(lab, '/_lab/fault/clear', { region: P });
    await labPost(lab, '/_lab/fault/deny', { region: P, op: 'GetSecretValue' });
    const viaSsm = await rawAwsCall(lab, P, 'AmazonSSM.GetParameter', 'ssm', ref);
    expect(viaSsm.status).toBe(400);
    expect(viaSsm.json.__type).toBe('AccessDeniedException');
    expect(String(viaSsm.json.message ?? viaSsm.json.Message)).toMatch(
      /secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:f\/s-/,
    );
  });

  it('fail-next with an incident error answers the same texts, once', async () => {
    await labPost(lab, '/_lab/fault/fail-next', { region: P, op: 'PutSecretValue', error: 'UnrecognizedClientException' });
    const e = await rejection(c.send(new PutSecretValueCommand({ SecretId: 'f/s', SecretString: 'y' })));
    expect([e.name, e.message, e.$metadata?.httpStatusCode]).toEqual(['UnrecognizedClientException', TEXT.UnrecognizedClientException, 400]);
    await labPost(lab, '/_lab/fault/fail-next', { region: P, op: 'PutSecretValue', error: 'AccessDeniedException' });
    expect((await rejection(c.send(new PutSecretValueCommand({ SecretId: 'f/s', SecretString: 'y' })))).message).toMatch(
      /^User: .* is not authorized to perform: secretsmanager:PutSecretValue on resource: arn:aws:secretsmanager:/,
    );
    await c.send(new PutSecretValueCommand({ SecretId: 'f/s', SecretString: 'y' }));
  });

  it('a deny fault with an unknown error is refused, naming the choices', async () => {
    const bad = await labPost(lab, '/_lab/fault/deny', { region: P, error: 'Nope' });
    expect(bad.status).toBe(400);
    expect((bad.json as { error: string }).error).toMatch(/AccessDeniedException, ExpiredTokenException, UnrecognizedClientException, ThrottlingException/);
  });

  const AWS_CLI = fileURLToPath(new URL('../../.tools/venv/bin/aws', import.meta.url));
  it.skipIf(!existsSync(AWS_CLI))(
    'botocore (AWS CLI v1) parses them to the same codes and texts',
    async () => {
      await labPost(lab, '/_lab/fault/deny', { region: P, error: 'ExpiredTokenException' });
      const e = await promisify(execFile)(AWS_CLI, ['secretsmanager', 'describe-secret', '--secret-id', 'f/s', '--region', P, '--endpoint-url', lab.url], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_MAX_ATTEMPTS: '1',
        },
      }).then(
        () => undefined,
        (err: { stderr: string }) => err,
      );
      expect(e?.stderr).toContain(`An error occurred (ExpiredTokenException) when calling the DescribeSecret operation: ${TEXT.ExpiredTokenException}`);
    },
    60_000,
  );
});
