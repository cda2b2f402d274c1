/**
 * The EventBridge service class on its own (no HTTP server): injected fetch, delivery options,
 * timeouts, snapshot/restore, reset, forwarding loops, Health delivery Regions, and the input
 * transformation helpers.
 */
import { describe, expect, it } from 'vitest';
import { LabError, type LabClock, type RequestContext } from '../../lab/types.js';
import { EventBridgeService, type EventBridgeServiceOptions } from '../../lab/eventbridge/service.js';
import { evaluateJsonPath, renderInputTransformer } from '../../lab/eventbridge/transform.js';
import { healthBackupRegion } from '../../lab/eventbridge/aws-events.js';

const ACCOUNT = '123456789012';
const REGIONS = ['ap-northeast-1', 'ap-northeast-3', 'us-east-1', 'us-west-2'];
const clock: LabClock = { now: () => Date.now(), speed: 1 };
const ctx = (region = 'ap-northeast-1'): RequestContext => ({ region, accountId: ACCOUNT, requestId: 'r', clock });

interface Call {
  url: string;
  init: RequestInit;
}

/** A fetch that records calls and answers with the given statuses in turn (last one repeats). */
function fakeFetch(statuses: number[] = [200]) {
  const calls: Call[] = [];
  const impl = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    const status = statuses[Math.min(calls.length - 1, statuses.length - 1)]!;
    return new Response('{}', { status });
  }) as typeof fetch;
  return { calls, impl };
}

function service(opts: Partial<EventBridgeServiceOptions> = {}): EventBridgeService {
  return new EventBridgeService({ accountId: ACCOUNT, regions: REGIONS, clock, delivery: { backoffMs: 1 }, ...opts });
}

async function failure(p: Promise<unknown>): Promise<LabError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof LabError) return e;
    throw e;
  }
  throw new Error('expected a LabError');
}

/** Connection + API destination + rule + target, all through handle(). */
async function wire(
  eb: EventBridgeService,
  opts: { method?: string; auth?: 'API_KEY' | 'OAUTH_CLIENT_CREDENTIALS'; endpoint?: string; target?: Record<string, unknown> } = {},
) {
  const auth = opts.auth ?? 'API_KEY';
  const conn = (await eb.handle(
    'CreateConnection',
    {
      Name: 'c',
      AuthorizationType: auth,
      AuthParameters:
        auth === 'API_KEY'
          ? {
              ApiKeyAuthParameters: { ApiKeyName: 'X-Api-Key', ApiKeyValue: 'v4lue' },
              InvocationHttpParameters: { BodyParameters: [{ Key: 'tenant', Value: 't1' }] },
            }
          : {
              OAuthParameters: {
                ClientParameters: { ClientID: 'id', ClientSecret: 's' },
                AuthorizationEndpoint: 'https://auth.example.com/token',
                HttpMethod: 'POST',
              },
            },
    },
    ctx(),
  )) as { ConnectionArn: string };
  const dest = (await eb.handle(
    'CreateApiDestination',
    {
      Name: 'd',
      ConnectionArn: conn.ConnectionArn,
      InvocationEndpoint: opts.endpoint ?? 'https://receiver.example.com/events',
      HttpMethod: opts.method ?? 'POST',
    },
    ctx(),
  )) as { ApiDestinationArn: string };
  await eb.handle('PutRule', { Name: 'r', EventPattern: '{"source":["secrets-dr"]}' }, ctx());
  await eb.handle('PutTargets', { Rule: 'r', Targets: [{ Id: 't', Arn: dest.ApiDestinationArn, ...opts.target }] }, ctx());
  return { connectionArn: conn.ConnectionArn, destinationArn: dest.ApiDestinationArn };
}

const put = (eb: EventBridgeService, detail: unknown = { plan: 'payments' }, region = 'ap-northeast-1') =>
  eb.handle('PutEvents', { Entries: [{ Source: 'secrets-dr', DetailType: 'Health Changed', Detail: JSON.stringify(detail) }] }, ctx(region)) as Promise<{
    Entries: Array<{ EventId: string }>;
  }>;

describe('EventBridgeService (direct)', () => {
  it('delivers through the injected fetch, never inside PutEvents', async () => {
    const f = fakeFetch();
    const eb = service({ fetchImpl: f.impl });
    await wire(eb);
    const out = await put(eb);
    expect(f.calls).toHaveLength(0); // PutEvents returned before any delivery
    await eb.whenIdle();
    expect(f.calls).toHaveLength(1);
    const { url, init } = f.calls[0]!;
    expect(url).toBe('https://receiver.example.com/events');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>)['x-api-key']).toBe('v4lue');
    const body = JSON.parse(init.body as string) as Record<string, unknown>;
    expect(body).toMatchObject({ id: out.Entries[0]!.EventId, detail: { plan: 'payments' }, tenant: 't1' }); // connection BodyParameters merged
  });

  it('GET destinations send no body', async () => {
    const f = fakeFetch();
    const eb = service({ fetchImpl: f.impl });
    await wire(eb, { method: 'GET' });
    await put(eb);
    await eb.whenIdle();
    expect(f.calls[0]!.init.method).toBe('GET');
    expect(f.calls[0]!.init.body).toBeUndefined();
  });

  it('honours delivery.maxAttempts and RetryPolicy.MaximumRetryAttempts: 0', async () => {
    const f = fakeFetch([500]);
    const eb = service({ fetchImpl: f.impl, delivery: { maxAttempts: 2, backoffMs: 0 } });
    await wire(eb);
    await put(eb);
    await eb.whenIdle();
    expect(eb.deliveries().map((d) => d.outcome)).toEqual(['retrying', 'failed']);

    const g = fakeFetch([429]);
    const eb2 = service({ fetchImpl: g.impl });
    await wire(eb2, { target: { RetryPolicy: { MaximumRetryAttempts: 0 } } });
    await put(eb2);
    await eb2.whenIdle();
    expect(eb2.deliveries().map((d) => [d.status, d.outcome])).toEqual([[429, 'failed']]);
  });

  it('times out a hanging endpoint and retries', async () => {
    const hang = (async (_url: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error));
      })) as typeof fetch;
    const eb = service({ fetchImpl: hang, delivery: { timeoutMs: 30, maxAttempts: 2, backoffMs: 0 } });
    await wire(eb);
    await put(eb);
    await eb.whenIdle();
    expect(eb.deliveries().map((d) => [d.outcome, d.error])).toEqual([
      ['retrying', 'timeout after 30 ms'],
      ['failed', 'timeout after 30 ms'],
    ]);
  });

  it('OAuth connections are accepted but their deliveries fail with a clear reason', async () => {
    const f = fakeFetch();
    const eb = service({ fetchImpl: f.impl });
    await wire(eb, { auth: 'OAUTH_CLIENT_CREDENTIALS' });
    await put(eb);
    await eb.whenIdle();
    expect(f.calls).toHaveLength(0);
    expect(eb.deliveries()[0]).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/OAUTH_CLIENT_CREDENTIALS/) });
  });

  it('publish() delivers lab events exactly like PutEvents (aws.* sources allowed)', async () => {
    const f = fakeFetch();
    const eb = service({ fetchImpl: f.impl });
    const { destinationArn } = await wire(eb);
    await eb.handle('PutRule', { Name: 'ct', EventPattern: '{"source":["aws.secretsmanager"],"detail":{"eventName":["PutSecretValue"]}}' }, ctx());
    await eb.handle('PutTargets', { Rule: 'ct', Targets: [{ Id: 'x', Arn: destinationArn, InputPath: '$.detail' }] }, ctx());
    eb.publish({ source: 'aws.secretsmanager', detailType: 'AWS API Call via CloudTrail', detail: { eventName: 'PutSecretValue' }, region: 'ap-northeast-1' });
    eb.publish({ source: 'aws.secretsmanager', detailType: 'AWS API Call via CloudTrail', detail: { eventName: 'GetSecretValue' }, region: 'ap-northeast-1' });
    await eb.whenIdle();
    expect(f.calls.map((c) => c.init.body)).toEqual(['{"eventName":"PutSecretValue","tenant":"t1"}']);
    expect(eb.eventLog({ source: 'aws.secretsmanager' })).toHaveLength(2);
  });

  it('snapshot() is JSON-plain and restore() brings back buses, rules, targets, connections and destinations', async () => {
    const f = fakeFetch();
    const eb = service({ fetchImpl: f.impl });
    await wire(eb);
    await eb.handle('CreateEventBus', { Name: 'central' }, ctx('us-east-1'));
    const snap = JSON.parse(JSON.stringify(eb.snapshot())) as unknown;

    const restored = service({ fetchImpl: f.impl });
    restored.restore(snap);
    expect(await restored.handle('DescribeRule', { Name: 'r' }, ctx())).toMatchObject({ Name: 'r', EventPattern: '{"source":["secrets-dr"]}' });
    expect(await restored.handle('DescribeEventBus', { Name: 'central' }, ctx('us-east-1'))).toMatchObject({ Name: 'central' });
    await put(restored);
    await restored.whenIdle();
    expect(f.calls).toHaveLength(1);
    expect((f.calls[0]!.init.headers as Record<string, string>)['x-api-key']).toBe('v4lue');
  });

  it('reset() drops everything but the default buses, and stops pending retries', async () => {
    const f = fakeFetch([500]);
    const eb = service({ fetchImpl: f.impl, delivery: { backoffMs: 50 } });
    await wire(eb);
    await put(eb);
    await new Promise((r) => setTimeout(r, 10));
    eb.reset();
    await new Promise((r) => setTimeout(r, 200));
    expect(f.calls).toHaveLength(1); // the retry after reset() never happened
    expect(eb.deliveries()).toEqual([]);
    expect(eb.eventLog()).toEqual([]);
    expect((await failure(eb.handle('DescribeRule', { Name: 'r' }, ctx()))).type).toBe('ResourceNotFoundException');
    expect(await eb.handle('ListEventBuses', {}, ctx())).toMatchObject({ EventBuses: [{ Name: 'default' }] });
  });

  it('a forwarding loop between two buses stops after a bounded number of hops', async () => {
    const eb = service();
    await eb.handle('PutRule', { Name: 'a-to-b', EventPattern: '{"source":["loop"]}' }, ctx('ap-northeast-1'));
    await eb.handle(
      'PutTargets',
      { Rule: 'a-to-b', Targets: [{ Id: 'b', Arn: `arn:aws:events:ap-northeast-3:${ACCOUNT}:event-bus/default` }] },
      ctx('ap-northeast-1'),
    );
    await eb.handle('PutRule', { Name: 'b-to-a', EventPattern: '{"source":["loop"]}' }, ctx('ap-northeast-3'));
    await eb.handle(
      'PutTargets',
      { Rule: 'b-to-a', Targets: [{ Id: 'a', Arn: `arn:aws:events:ap-northeast-1:${ACCOUNT}:event-bus/default` }] },
      ctx('ap-northeast-3'),
    );
    await eb.handle('PutEvents', { Entries: [{ Source: 'loop', DetailType: 'x', Detail: '{}' }] }, ctx());
    await eb.whenIdle();
    const d = eb.deliveries();
    expect(d.filter((x) => x.outcome === 'forwarded')).toHaveLength(5);
    expect(d.at(-1)).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/hops/) });
    expect(eb.eventLog()).toHaveLength(6);
  });

  it('rejects unknown operations and validates inputs with AWS error types', async () => {
    const eb = service();
    expect((await failure(eb.handle('PutPermission', {}, ctx()))).type).toBe('UnknownOperationException');
    expect((await failure(eb.handle('PutRule', { Name: 'x', ScheduleExpression: 'every 5 minutes' }, ctx()))).type).toBe('ValidationException');
    await eb.handle('CreateEventBus', { Name: 'custom' }, ctx());
    const sched = await failure(eb.handle('PutRule', { Name: 'x', ScheduleExpression: 'rate(5 minutes)', EventBusName: 'custom' }, ctx()));
    expect(sched.message).toMatch(/only on the default event bus/);
    expect((await failure(eb.handle('DeleteEventBus', { Name: 'default' }, ctx()))).type).toBe('ValidationException');
    expect((await failure(eb.handle('EnableRule', { Name: 'missing' }, ctx()))).type).toBe('ResourceNotFoundException');
    expect(
      (
        await failure(
          eb.handle(
            'CreateApiDestination',
            { Name: 'd', ConnectionArn: 'arn:aws:events:ap-northeast-1:123456789012:connection/x/y', InvocationEndpoint: 'https://e', HttpMethod: 'POST' },
            ctx(),
          ),
        )
      ).type,
    ).toBe('ResourceNotFoundException');
    expect(
      (
        await failure(
          eb.handle('CreateConnection', { Name: 'c', AuthorizationType: 'API_KEY', AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'k' } } }, ctx()),
        )
      ).type,
    ).toBe('ValidationException');
    expect((await failure(eb.handle('ListRules', { Limit: 0 }, ctx()))).type).toBe('ValidationException');
    // a bus ARN of another Region is not this Region's bus
    const foreign = `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default`;
    expect((await failure(eb.handle('PutRule', { Name: 'x', EventPattern: '{"source":["x"]}', EventBusName: foreign }, ctx()))).type).toBe(
      'ResourceNotFoundException',
    );
    const own = `arn:aws:events:ap-northeast-1:${ACCOUNT}:event-bus/default`;
    expect(await eb.handle('PutRule', { Name: 'x', EventPattern: '{"source":["x"]}', EventBusName: own }, ctx())).toEqual({
      RuleArn: `arn:aws:events:ap-northeast-1:${ACCOUNT}:rule/x`,
    });
  });

  it("state is per Region: a rule in one Region does not see another Region's events", async () => {
    const eb = service();
    await eb.handle('PutRule', { Name: 'r', EventPattern: '{"source":["secrets-dr"]}' }, ctx('ap-northeast-3'));
    await eb.handle('PutTargets', { Rule: 'r', Targets: [{ Id: 'q', Arn: 'arn:aws:sqs:ap-northeast-3:123456789012:q' }] }, ctx('ap-northeast-3'));
    await put(eb, {}, 'ap-northeast-1');
    await eb.whenIdle();
    expect(eb.deliveries()).toEqual([]);
    await put(eb, {}, 'ap-northeast-3');
    await eb.whenIdle();
    expect(eb.deliveries()).toHaveLength(1);
    expect((await failure(eb.handle('DescribeRule', { Name: 'r' }, ctx('ap-northeast-1')))).type).toBe('ResourceNotFoundException');
  });

  it('tags are set at creation only (PutRule updates ignore them) and managed with Tag/Untag/ListTags', async () => {
    const eb = service();
    const { RuleArn } = (await eb.handle('PutRule', { Name: 'r', EventPattern: '{"source":["x"]}', Tags: [{ Key: 'owner', Value: 'sre' }] }, ctx())) as {
      RuleArn: string;
    };
    await eb.handle('PutRule', { Name: 'r', EventPattern: '{"source":["x"]}', Tags: [{ Key: 'other', Value: 'v' }] }, ctx());
    expect(await eb.handle('ListTagsForResource', { ResourceARN: RuleArn }, ctx())).toEqual({ Tags: [{ Key: 'owner', Value: 'sre' }] });
    await eb.handle('TagResource', { ResourceARN: RuleArn, Tags: [{ Key: 'dr-tier', Value: '0' }] }, ctx());
    await eb.handle('UntagResource', { ResourceARN: RuleArn, TagKeys: ['owner'] }, ctx());
    expect(await eb.handle('ListTagsForResource', { ResourceARN: RuleArn }, ctx())).toEqual({ Tags: [{ Key: 'dr-tier', Value: '0' }] });
  });

  it('UpdateConnection rotates the API key used by later deliveries', async () => {
    const f = fakeFetch();
    const eb = service({ fetchImpl: f.impl });
    await wire(eb);
    await eb.handle('UpdateConnection', { Name: 'c', AuthParameters: { ApiKeyAuthParameters: { ApiKeyValue: 'rotated' } } }, ctx());
    expect(JSON.stringify(await eb.handle('DescribeConnection', { Name: 'c' }, ctx()))).not.toContain('rotated');
    await put(eb);
    await eb.whenIdle();
    expect((f.calls[0]!.init.headers as Record<string, string>)['x-api-key']).toBe('rotated');
  });
});

describe('AWS Health delivery Regions', () => {
  it('the backup Region is us-west-2, and us-east-1 for us-west-2 itself', () => {
    expect(healthBackupRegion('ap-northeast-1')).toBe('us-west-2');
    expect(healthBackupRegion('us-east-1')).toBe('us-west-2');
    expect(healthBackupRegion('us-west-2')).toBe('us-east-1');
  });

  it('skips Regions the lab does not serve, and deliverTo overrides the default', () => {
    const eb = new EventBridgeService({ accountId: ACCOUNT, regions: ['ap-northeast-1', 'ap-northeast-3'], clock });
    eb.injectHealth({ eventRegion: 'ap-northeast-1' });
    expect(eb.eventLog().map((e) => e.region)).toEqual(['ap-northeast-1']);
    eb.injectHealth({ eventRegion: 'ap-northeast-1', deliverTo: ['ap-northeast-3'], eventTypeCode: 'AWS_SECRETSMANAGER_API_ISSUE' });
    expect(eb.eventLog().at(-1)).toMatchObject({
      region: 'ap-northeast-3',
      detail: { eventRegion: 'ap-northeast-1', eventTypeCode: 'AWS_SECRETSMANAGER_API_ISSUE' },
    });
    expect(() => eb.injectHealth({ eventRegion: '' })).toThrow(LabError);
  });
});

describe('input transformation', () => {
  const event = {
    id: 'e1',
    source: 'secrets-dr',
    region: 'ap-northeast-1',
    resources: ['arn:a', 'arn:b'],
    detail: { plan: 'payments', 'failed-count': 2, nested: { a: 1 }, list: [{ n: 'x' }, { n: 'y' }], 'with space': 'ok', quote: 'say "hi"' },
  };
  const tctx = { ruleArn: 'arn:aws:events:ap-northeast-1:123456789012:rule/r', ruleName: 'r', ingestionTime: '2024-01-01T00:00:00.000Z' };

  it.each([
    ['$', event],
    ['$.detail.plan', 'payments'],
    ['$.detail.failed-count', 2],
    ['$.resources[1]', 'arn:b'],
    ['$.detail.list[0].n', 'x'],
    ['$.detail.list[*].n', ['x', 'y']],
    ["$.detail['with space']", 'ok'],
    ['$.detail.missing', undefined],
    ['$.resources[5]', undefined],
  ])('JSONPath %s', (path, expected) => {
    expect(evaluateJsonPath(path, event)).toEqual(expected);
  });

  it('JSON templates: JSON values outside quotes, raw text inside quotes, objects lose inner quotes', () => {
    const out = renderInputTransformer(
      {
        InputPathsMap: { plan: '$.detail.plan', n: '$.detail.failed-count', obj: '$.detail.nested', res: '$.resources', gone: '$.detail.missing' },
        InputTemplate:
          '{"p": <plan>, "n": <n>, "o": <obj>, "r": <res>, "g": <gone>, "s": "plan <plan> has <n> failures, nested <obj>, gone=<gone>", "rule": "<aws.events.rule-arn>", "keep": "<b>"}',
      },
      event,
      tctx,
    );
    expect(JSON.parse(out)).toEqual({
      p: 'payments',
      n: 2,
      o: { a: 1 },
      r: ['arn:a', 'arn:b'],
      g: null,
      s: 'plan payments has 2 failures, nested {a:1}, gone=',
      rule: tctx.ruleArn,
      keep: '<b>',
    });
  });

  it('plain-text and quoted-string templates get raw values; values are not escaped', () => {
    expect(renderInputTransformer({ InputPathsMap: { p: '$.detail.plan' }, InputTemplate: '<p> is failing over' }, event, tctx)).toBe(
      'payments is failing over',
    );
    expect(renderInputTransformer({ InputPathsMap: { q: '$.detail.quote' }, InputTemplate: '"<q>"' }, event, tctx)).toBe('"say "hi""');
  });

  it('aws.events.event is the event without detail; aws.events.event.json the whole event', () => {
    const out = JSON.parse(
      renderInputTransformer(
        { InputTemplate: '{"a": <aws.events.event>, "b": <aws.events.event.json>, "t": "<aws.events.event.ingestion-time>"}' },
        event,
        tctx,
      ),
    ) as Record<string, Record<string, unknown>>;
    expect(out.a).not.toHaveProperty('detail');
    expect(out.a!.id).toBe('e1');
    expect(out.b).toEqual(event);
    expect(out.t).toBe('2024-01-01T00:00:00.000Z');
  });
});
