/**
 * The lab's EventBridge through the real `@aws-sdk/client-eventbridge` client against the lab
 * server: rules, targets, connections, API destinations, delivery (HTTP receiver in the test),
 * input transformation, retries, cross-Region forwarding, injected Health and alarm events.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateApiDestinationCommand,
  CreateConnectionCommand,
  CreateEventBusCommand,
  DeleteConnectionCommand,
  DeleteRuleCommand,
  DescribeConnectionCommand,
  DescribeEventBusCommand,
  DescribeRuleCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  ListConnectionsCommand,
  ListEventBusesCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  TestEventPatternCommand,
  type PutEventsRequestEntry,
  type Target,
} from '@aws-sdk/client-eventbridge';
import type { RunningLab } from '../../lab/server.js';
import type { DeliveryRecord, EventBridgeService, LoggedEvent } from '../../lab/eventbridge/service.js';
import { DR, OTHER, P, eventually, labGet, labPost, rejection, withLab } from './helpers.js';

// ---------------------------------------------------------------------------------------------
// Fixtures

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A tiny HTTP receiver on 127.0.0.1; `status(n)` decides the answer to the n-th request (1-based). */
async function startReceiver(status: (n: number) => number = () => 200) {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(status(requests.length), { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let lab: RunningLab;
let service: EventBridgeService;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}`;

const eb = (region: string) =>
  new EventBridgeClient({
    region,
    endpoint: lab.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });

beforeAll(async () => {
  lab = await withLab();
  service = lab.eventBridge as unknown as EventBridgeService;
  receiver = await startReceiver();
});

afterAll(async () => {
  await receiver?.close();
  await lab?.close();
});

/** An API-key connection + API destination in `region` pointing at `endpoint`. */
async function apiDestination(region: string, endpoint: string, method = 'POST') {
  const client = eb(region);
  const conn = await client.send(
    new CreateConnectionCommand({
      Name: unique('conn'),
      AuthorizationType: 'API_KEY',
      AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-secrets-dr-key', ApiKeyValue: 'k3y-value' } },
    }),
  );
  const dest = await client.send(
    new CreateApiDestinationCommand({
      Name: unique('dest'),
      ConnectionArn: conn.ConnectionArn,
      InvocationEndpoint: endpoint,
      HttpMethod: method as 'POST',
      InvocationRateLimitPerSecond: 10,
    }),
  );
  return { connectionArn: conn.ConnectionArn!, destinationArn: dest.ApiDestinationArn! };
}

/** A rule with the given targets; returns its name and ARN. */
async function ruleWithTargets(region: string, pattern: unknown, targets: Target[], bus?: string) {
  const client = eb(region);
  const name = unique('rule');
  const { RuleArn } = await client.send(new PutRuleCommand({ Name: name, EventPattern: JSON.stringify(pattern), EventBusName: bus }));
  const put = await client.send(new PutTargetsCommand({ Rule: name, EventBusName: bus, Targets: targets }));
  expect(put.FailedEntryCount).toBe(0);
  return { name, arn: RuleArn! };
}

async function putEvent(region: string, entry: Partial<PutEventsRequestEntry>): Promise<string> {
  const out = await eb(region).send(
    new PutEventsCommand({
      Entries: [{ Source: 'secrets-dr', DetailType: 'Health Changed', Detail: '{}', ...entry }],
    }),
  );
  expect(out.FailedEntryCount).toBe(0);
  return out.Entries![0]!.EventId!;
}

const requestsTo = (path: string) => receiver.requests.filter((r) => r.url.startsWith(path));
const deliveriesOf = (eventId: string): DeliveryRecord[] => service.deliveries().filter((d) => d.eventId === eventId);

// ---------------------------------------------------------------------------------------------

describe('rules', () => {
  it('PutRule / DescribeRule / ListRules (prefix, pagination) / Enable / Disable / DeleteRule', async () => {
    const client = eb(P);
    const prefix = unique('crud');
    const pattern = { source: ['secrets-dr'], detail: { state: [{ 'anything-but': 'healthy' }] } };
    const created = await client.send(new PutRuleCommand({ Name: `${prefix}-a`, EventPattern: JSON.stringify(pattern), Description: 'd' }));
    expect(created.RuleArn).toBe(`arn:aws:events:${P}:123456789012:rule/${prefix}-a`);
    await client.send(new PutRuleCommand({ Name: `${prefix}-b`, ScheduleExpression: 'rate(5 minutes)', State: 'DISABLED' }));

    const described = await client.send(new DescribeRuleCommand({ Name: `${prefix}-a` }));
    expect(described).toMatchObject({
      Name: `${prefix}-a`,
      Arn: created.RuleArn,
      State: 'ENABLED',
      Description: 'd',
      EventBusName: 'default',
      CreatedBy: '123456789012',
    });
    expect(JSON.parse(described.EventPattern!)).toEqual(pattern);

    const page1 = await client.send(new ListRulesCommand({ NamePrefix: prefix, Limit: 1 }));
    expect(page1.Rules?.map((r) => r.Name)).toEqual([`${prefix}-a`]);
    expect(page1.NextToken).toBeDefined();
    const page2 = await client.send(new ListRulesCommand({ NamePrefix: prefix, Limit: 1, NextToken: page1.NextToken }));
    expect(page2.Rules?.map((r) => r.Name)).toEqual([`${prefix}-b`]);
    expect(page2.Rules?.[0]).toMatchObject({ State: 'DISABLED', ScheduleExpression: 'rate(5 minutes)' });
    expect(page2.NextToken).toBeUndefined();

    await client.send(new DisableRuleCommand({ Name: `${prefix}-a` }));
    expect((await client.send(new DescribeRuleCommand({ Name: `${prefix}-a` }))).State).toBe('DISABLED');
    await client.send(new EnableRuleCommand({ Name: `${prefix}-a` }));
    expect((await client.send(new DescribeRuleCommand({ Name: `${prefix}-a` }))).State).toBe('ENABLED');

    // PutRule again replaces the definition, keeps the ARN (and the targets)
    await client.send(new PutTargetsCommand({ Rule: `${prefix}-a`, Targets: [{ Id: 't', Arn: `arn:aws:sqs:${P}:123456789012:q` }] }));
    const again = await client.send(new PutRuleCommand({ Name: `${prefix}-a`, EventPattern: '{"source":["x"]}' }));
    expect(again.RuleArn).toBe(created.RuleArn);
    expect((await client.send(new DescribeRuleCommand({ Name: `${prefix}-a` }))).Description).toBeUndefined();
    expect((await client.send(new ListTargetsByRuleCommand({ Rule: `${prefix}-a` }))).Targets).toHaveLength(1);

    const refused = await rejection(client.send(new DeleteRuleCommand({ Name: `${prefix}-a` })));
    expect(refused.name).toBe('ValidationException');
    expect(refused.message).toMatch(/has targets/);
    await client.send(new DeleteRuleCommand({ Name: `${prefix}-a`, Force: true }));
    await client.send(new DeleteRuleCommand({ Name: `${prefix}-a` })); // idempotent
    expect((await rejection(client.send(new DescribeRuleCommand({ Name: `${prefix}-a` })))).name).toBe('ResourceNotFoundException');
  });

  it('validates: pattern (InvalidEventPatternException), missing pattern and schedule, unknown bus', async () => {
    const client = eb(P);
    const bad = await rejection(client.send(new PutRuleCommand({ Name: unique('bad'), EventPattern: '{"source":[{"prefixx":"a"}]}' })));
    expect(bad.name).toBe('InvalidEventPatternException');
    expect(bad.$metadata?.httpStatusCode).toBe(400);
    expect((await rejection(client.send(new PutRuleCommand({ Name: unique('bad'), EventPattern: '{}' })))).name).toBe('InvalidEventPatternException');
    expect((await rejection(client.send(new PutRuleCommand({ Name: unique('none') })))).name).toBe('ValidationException');
    expect((await rejection(client.send(new PutRuleCommand({ Name: 'bad name!', EventPattern: '{"source":["x"]}' })))).name).toBe('ValidationException');
    const noBus = await rejection(client.send(new PutRuleCommand({ Name: unique('r'), EventPattern: '{"source":["x"]}', EventBusName: 'nope' })));
    expect(noBus.name).toBe('ResourceNotFoundException');
  });

  it('custom event buses: create, describe, list, rules addressed by bus name or ARN', async () => {
    const client = eb(P);
    const busName = unique('bus');
    const { EventBusArn } = await client.send(new CreateEventBusCommand({ Name: busName }));
    expect(EventBusArn).toBe(`arn:aws:events:${P}:123456789012:event-bus/${busName}`);
    expect((await rejection(client.send(new CreateEventBusCommand({ Name: busName })))).name).toBe('ResourceAlreadyExistsException');
    expect(await client.send(new DescribeEventBusCommand({ Name: EventBusArn }))).toMatchObject({ Name: busName, Arn: EventBusArn });
    const buses = (await client.send(new ListEventBusesCommand({}))).EventBuses?.map((b) => b.Name);
    expect(buses).toEqual(expect.arrayContaining(['default', busName]));
    const { RuleArn } = await client.send(new PutRuleCommand({ Name: 'r1', EventPattern: '{"source":["x"]}', EventBusName: EventBusArn }));
    expect(RuleArn).toBe(`arn:aws:events:${P}:123456789012:rule/${busName}/r1`);
    expect((await client.send(new ListRulesCommand({ EventBusName: busName }))).Rules?.map((r) => r.Name)).toEqual(['r1']);
  });

  it('TestEventPattern', async () => {
    const client = eb(P);
    const event = JSON.stringify({
      id: '1',
      account: '123456789012',
      source: 'secrets-dr',
      time: '2024-01-01T00:00:00Z',
      region: P,
      resources: [],
      'detail-type': 'x',
      detail: { n: 7 },
    });
    const yes = await client.send(new TestEventPatternCommand({ Event: event, EventPattern: '{"detail":{"n":[{"numeric":[">",5]}]}}' }));
    expect(yes.Result).toBe(true);
    const no = await client.send(new TestEventPatternCommand({ Event: event, EventPattern: '{"detail":{"n":[{"numeric":["<",5]}]}}' }));
    expect(no.Result).toBe(false);
    expect((await rejection(client.send(new TestEventPatternCommand({ Event: event, EventPattern: '{"x":"y"}' })))).name).toBe('InvalidEventPatternException');
    expect((await rejection(client.send(new TestEventPatternCommand({ Event: '{"source":"x"}', EventPattern: '{"source":["x"]}' })))).name).toBe(
      'ValidationException',
    );
  });
});

describe('PutEvents', () => {
  it('per-entry results: EventId, InvalidArgument, MalformedDetail, reserved aws.* source', async () => {
    const out = await eb(P).send(
      new PutEventsCommand({
        Entries: [
          { Source: 'secrets-dr', DetailType: 'Drill Completed', Detail: '{"plan":"payments"}' },
          { DetailType: 'x', Detail: '{}' },
          { Source: 'secrets-dr', DetailType: 'x', Detail: '[1,2]' },
          { Source: 'secrets-dr', DetailType: 'x', Detail: 'not json' },
          { Source: 'aws.secretsmanager', DetailType: 'x', Detail: '{}' },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(4);
    expect(out.Entries?.[0]?.EventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.Entries?.slice(1).map((e) => e.ErrorCode)).toEqual(['InvalidArgument', 'MalformedDetail', 'MalformedDetail', 'NotAuthorizedForSourceException']);
    const logged = service.eventLog({ region: P, detailType: 'Drill Completed' }).find((e) => e.id === out.Entries?.[0]?.EventId);
    expect(logged).toMatchObject({
      version: '0',
      source: 'secrets-dr',
      account: '123456789012',
      region: P,
      resources: [],
      detail: { plan: 'payments' },
      eventBusName: 'default',
    });
    expect(logged?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('more than 10 entries is a ValidationException; a missing bus accepts and drops (as AWS does)', async () => {
    const entries = Array.from({ length: 11 }, () => ({ Source: 's', DetailType: 'd', Detail: '{}' }));
    expect((await rejection(eb(P).send(new PutEventsCommand({ Entries: entries })))).name).toBe('ValidationException');
    const id = await putEvent(P, { EventBusName: 'no-such-bus' });
    expect(service.eventLog().some((e) => e.id === id)).toBe(false);
  });

  it('honours Time and Resources', async () => {
    const id = await putEvent(P, { Time: new Date('2024-02-03T04:05:06Z'), Resources: ['arn:aws:secretsmanager:x'] });
    expect(service.eventLog().find((e) => e.id === id)).toMatchObject({ time: '2024-02-03T04:05:06Z', resources: ['arn:aws:secretsmanager:x'] });
  });
});

describe('delivery to API destinations', () => {
  it('POSTs the event with the connection API-key header, Content-Type JSON and HttpParameters; a DISABLED rule never matches', async () => {
    const plan = unique('plan');
    const { destinationArn } = await apiDestination(P, `${receiver.url}/hooks/*/events`);
    const rule = await ruleWithTargets(P, { source: ['secrets-dr'], detail: { plan: [plan] } }, [
      {
        Id: 'receiver',
        Arn: destinationArn,
        RoleArn: 'arn:aws:iam::123456789012:role/eb-invoke',
        HttpParameters: {
          PathParameterValues: ['$.detail.plan'],
          HeaderParameters: { 'x-static': 'yes', 'x-state': '$.detail.state' },
          QueryStringParameters: { source: '$.source', fixed: '1' },
        },
      },
    ]);

    const id = await putEvent(P, { DetailType: 'Failover Started', Detail: JSON.stringify({ plan, state: 'promoting' }) });
    const [req] = await eventually(async () => requestsTo(`/hooks/${plan}/`).length === 1 && requestsTo(`/hooks/${plan}/`));
    expect(req!.method).toBe('POST');
    expect(req!.url).toBe(`/hooks/${plan}/events?source=secrets-dr&fixed=1`);
    expect(req!.headers['x-secrets-dr-key']).toBe('k3y-value');
    expect(req!.headers['content-type']).toMatch(/^application\/json/);
    expect(req!.headers['x-static']).toBe('yes');
    expect(req!.headers['x-state']).toBe('promoting');
    const body = JSON.parse(req!.body) as LoggedEvent;
    expect(body).toEqual({
      version: '0',
      id,
      'detail-type': 'Failover Started',
      source: 'secrets-dr',
      account: '123456789012',
      time: expect.stringMatching(/Z$/),
      region: P,
      resources: [],
      detail: { plan, state: 'promoting' },
    });
    await eventually(async () => deliveriesOf(id).length === 1);
    expect(deliveriesOf(id)[0]).toMatchObject({
      ruleArn: rule.arn,
      targetId: 'receiver',
      targetArn: destinationArn,
      kind: 'api-destination',
      attempt: 1,
      status: 200,
      outcome: 'delivered',
      method: 'POST',
    });

    // disabled: the event is accepted on the bus but nothing is delivered
    await eb(P).send(new DisableRuleCommand({ Name: rule.name }));
    const quiet = await putEvent(P, { Detail: JSON.stringify({ plan }) });
    await service.whenIdle();
    expect(service.eventLog().some((e) => e.id === quiet)).toBe(true);
    expect(deliveriesOf(quiet)).toEqual([]);
    expect(requestsTo(`/hooks/${plan}/`)).toHaveLength(1);
  });

  it('honours Input, InputPath and InputTransformer', async () => {
    const plan = unique('plan');
    const { destinationArn } = await apiDestination(P, `${receiver.url}/t/*`);
    const rule = await ruleWithTargets(P, { detail: { plan: [plan] } }, [
      { Id: 'input', Arn: destinationArn, Input: '{"fixed":true}', HttpParameters: { PathParameterValues: [`${plan}-input`] } },
      { Id: 'path', Arn: destinationArn, InputPath: '$.detail.counts', HttpParameters: { PathParameterValues: [`${plan}-path`] } },
      {
        Id: 'transform',
        Arn: destinationArn,
        HttpParameters: { PathParameterValues: [`${plan}-transform`] },
        InputTransformer: {
          InputPathsMap: { plan: '$.detail.plan', failed: '$.detail.counts.failed', region: '$.region', first: '$.resources[0]', missing: '$.detail.nope' },
          InputTemplate:
            '{"text": "<plan> in <region> failed <failed>", "plan": <plan>, "failed": <failed>, "first": <first>, "missing": <missing>, "rule": "<aws.events.rule-name>", "event": <aws.events.event.json>}',
        },
      },
      {
        Id: 'text',
        Arn: destinationArn,
        HttpParameters: { PathParameterValues: [`${plan}-text`] },
        InputTransformer: { InputPathsMap: { plan: '$.detail.plan' }, InputTemplate: '"Plan <plan> is failing over"' },
      },
    ]);

    const id = await putEvent(P, { Resources: ['arn:aws:secretsmanager:r1'], Detail: JSON.stringify({ plan, counts: { failed: 2, ok: 8 } }) });
    await eventually(async () => receiver.requests.filter((r) => r.url.includes(plan)).length === 4);
    const bodyOf = (suffix: string) => requestsTo(`/t/${plan}-${suffix}`)[0]!.body;
    expect(JSON.parse(bodyOf('input'))).toEqual({ fixed: true });
    expect(JSON.parse(bodyOf('path'))).toEqual({ failed: 2, ok: 8 });
    const transformed = JSON.parse(bodyOf('transform')) as Record<string, unknown>;
    expect(transformed).toMatchObject({
      text: `${plan} in ${P} failed 2`,
      plan,
      failed: 2,
      first: 'arn:aws:secretsmanager:r1',
      missing: null,
      rule: rule.name,
    });
    expect((transformed.event as { id: string }).id).toBe(id);
    expect(bodyOf('text')).toBe(`"Plan ${plan} is failing over"`);
  });

  it('retries 500 with backoff, then succeeds; gives up after 3 attempts; does not retry 400', async () => {
    const flaky = await startReceiver((n) => (n <= 2 ? 500 : 200));
    const down = await startReceiver(() => 503);
    const refusing = await startReceiver(() => 400);
    try {
      const plan = unique('plan');
      const targets: Target[] = [];
      for (const [id, r] of [
        ['flaky', flaky],
        ['down', down],
        ['refusing', refusing],
      ] as const) {
        targets.push({ Id: id, Arn: (await apiDestination(P, `${r.url}/in`)).destinationArn });
      }
      await ruleWithTargets(P, { detail: { plan: [plan] } }, targets);
      const id = await putEvent(P, { Detail: JSON.stringify({ plan }) });
      await service.whenIdle();
      const byTarget = (t: string) =>
        deliveriesOf(id)
          .filter((d) => d.targetId === t)
          .map((d) => [d.attempt, d.status, d.outcome]);
      expect(byTarget('flaky')).toEqual([
        [1, 500, 'retrying'],
        [2, 500, 'retrying'],
        [3, 200, 'delivered'],
      ]);
      expect(byTarget('down')).toEqual([
        [1, 503, 'retrying'],
        [2, 503, 'retrying'],
        [3, 503, 'failed'],
      ]);
      expect(byTarget('refusing')).toEqual([[1, 400, 'failed']]);
      expect(flaky.requests).toHaveLength(3);
      expect(new Set(flaky.requests.map((r) => r.body)).size).toBe(1); // same event every time
      const times = deliveriesOf(id)
        .filter((d) => d.targetId === 'flaky')
        .map((d) => Date.parse(d.time));
      expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(250); // 100 ms + 200 ms backoff (lab clock at speed 1)
    } finally {
      await Promise.all([flaky.close(), down.close(), refusing.close()]);
    }
  });

  it('records a network error as a retried failure', async () => {
    const gone = await startReceiver();
    const url = gone.url;
    await gone.close();
    const plan = unique('plan');
    const { destinationArn } = await apiDestination(P, `${url}/x`);
    await ruleWithTargets(P, { detail: { plan: [plan] } }, [{ Id: 'gone', Arn: destinationArn, RetryPolicy: { MaximumRetryAttempts: 1 } }]);
    const id = await putEvent(P, { Detail: JSON.stringify({ plan }) });
    await service.whenIdle();
    const attempts = deliveriesOf(id);
    expect(attempts.map((d) => [d.attempt, d.outcome])).toEqual([
      [1, 'retrying'],
      [2, 'failed'],
    ]); // RetryPolicy caps at 1 retry
    expect(attempts[0]!.error).toMatch(/fetch failed|ECONNREFUSED/);
    expect(attempts[0]!.status).toBeUndefined();
  });

  it('records targets it cannot emulate as unsupported-target', async () => {
    const plan = unique('plan');
    await ruleWithTargets(P, { detail: { plan: [plan] } }, [{ Id: 'q', Arn: `arn:aws:sqs:${P}:123456789012:queue` }]);
    const id = await putEvent(P, { Detail: JSON.stringify({ plan }) });
    await service.whenIdle();
    expect(deliveriesOf(id)).toEqual([expect.objectContaining({ targetId: 'q', kind: 'unsupported', outcome: 'unsupported-target' })]);
  });
});

describe('targets', () => {
  it('PutTargets reports per-entry failures and keeps the valid targets; at most 5 targets; RemoveTargets', async () => {
    const client = eb(P);
    const name = unique('rule');
    await client.send(new PutRuleCommand({ Name: name, EventPattern: '{"source":["x"]}' }));
    const arn = `arn:aws:sqs:${P}:123456789012:q`;
    const out = await client.send(
      new PutTargetsCommand({
        Rule: name,
        Targets: [
          { Id: 'ok', Arn: arn },
          { Id: 'bad-input', Arn: arn, Input: '{not json' },
          { Id: 'two-inputs', Arn: arn, Input: '{}', InputPath: '$.detail' },
          { Id: 'bad-path', Arn: arn, InputPath: 'detail' },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(3);
    expect(out.FailedEntries?.map((f) => f.TargetId)).toEqual(['bad-input', 'two-inputs', 'bad-path']);
    expect((await client.send(new ListTargetsByRuleCommand({ Rule: name }))).Targets?.map((t) => t.Id)).toEqual(['ok']);

    const many = Array.from({ length: 5 }, (_, i) => ({ Id: `t${i}`, Arn: arn }));
    expect((await rejection(client.send(new PutTargetsCommand({ Rule: name, Targets: many })))).name).toBe('LimitExceededException');
    await client.send(new RemoveTargetsCommand({ Rule: name, Ids: ['ok'] }));
    expect((await client.send(new ListTargetsByRuleCommand({ Rule: name }))).Targets).toEqual([]);
  });
});

describe('connections', () => {
  it('DescribeConnection never returns the key; List and Delete', async () => {
    const client = eb(P);
    const name = unique('conn');
    const created = await client.send(
      new CreateConnectionCommand({
        Name: name,
        AuthorizationType: 'API_KEY',
        AuthParameters: {
          ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: 'super-secret-value' },
          InvocationHttpParameters: {
            HeaderParameters: [
              { Key: 'x-tenant', Value: 'hidden-tenant', IsValueSecret: true },
              { Key: 'x-env', Value: 'lab', IsValueSecret: false },
            ],
          },
        },
      }),
    );
    expect(created.ConnectionState).toBe('AUTHORIZED');
    expect(created.CreationTime).toBeInstanceOf(Date);
    const d = await client.send(new DescribeConnectionCommand({ Name: name }));
    expect(d).toMatchObject({
      Name: name,
      ConnectionArn: created.ConnectionArn,
      ConnectionState: 'AUTHORIZED',
      AuthorizationType: 'API_KEY',
      AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-api-key' } },
    });
    expect(d.AuthParameters?.InvocationHttpParameters?.HeaderParameters).toEqual([
      { Key: 'x-tenant', IsValueSecret: true },
      { Key: 'x-env', Value: 'lab', IsValueSecret: false },
    ]);
    expect(JSON.stringify(d)).not.toContain('super-secret-value');
    expect(JSON.stringify(d)).not.toContain('hidden-tenant');
    expect(JSON.stringify(await labGet(lab, '/_lab/events'))).not.toContain('super-secret-value');

    expect(
      (
        await rejection(
          client.send(
            new CreateConnectionCommand({
              Name: name,
              AuthorizationType: 'API_KEY',
              AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'a', ApiKeyValue: 'b' } },
            }),
          ),
        )
      ).name,
    ).toBe('ResourceAlreadyExistsException');
    expect((await client.send(new ListConnectionsCommand({ NamePrefix: name }))).Connections?.map((c) => c.Name)).toEqual([name]);
    expect((await client.send(new DeleteConnectionCommand({ Name: name }))).ConnectionState).toBe('DELETING');
    expect((await rejection(client.send(new DescribeConnectionCommand({ Name: name })))).name).toBe('ResourceNotFoundException');
  });

  it('BASIC auth sends an Authorization header', async () => {
    const client = eb(P);
    const conn = await client.send(
      new CreateConnectionCommand({
        Name: unique('basic'),
        AuthorizationType: 'BASIC',
        AuthParameters: { BasicAuthParameters: { Username: 'u', Password: 'p' } },
      }),
    );
    const dest = await client.send(
      new CreateApiDestinationCommand({ Name: unique('d'), ConnectionArn: conn.ConnectionArn, InvocationEndpoint: `${receiver.url}/basic`, HttpMethod: 'PUT' }),
    );
    const plan = unique('plan');
    await ruleWithTargets(P, { detail: { plan: [plan] } }, [{ Id: 'b', Arn: dest.ApiDestinationArn }]);
    await putEvent(P, { Detail: JSON.stringify({ plan }) });
    const req = await eventually(async () => receiver.requests.find((r) => r.url === '/basic' && r.body.includes(plan)));
    expect(req.method).toBe('PUT');
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    const d = await client.send(new DescribeConnectionCommand({ Name: conn.ConnectionArn!.split('/')[1] }));
    expect(d.AuthParameters?.BasicAuthParameters).toEqual({ Username: 'u' });
  });
});

describe('cross-Region forwarding', () => {
  it('a rule targeting an event bus in another Region re-publishes the event there, where its rules match', async () => {
    const plan = unique('plan');
    await ruleWithTargets(P, { source: ['secrets-dr'], detail: { plan: [plan] } }, [
      { Id: 'to-dr', Arn: `arn:aws:events:${DR}:123456789012:event-bus/default`, RoleArn: 'arn:aws:iam::123456789012:role/fwd' },
    ]);
    const { destinationArn } = await apiDestination(DR, `${receiver.url}/dr`);
    await ruleWithTargets(DR, { region: [P], detail: { plan: [plan] } }, [{ Id: 'recv', Arn: destinationArn }]);

    const id = await putEvent(P, { Detail: JSON.stringify({ plan }) });
    const req = await eventually(async () => receiver.requests.find((r) => r.url === '/dr' && r.body.includes(plan)));
    expect(JSON.parse(req.body)).toMatchObject({ id, region: P, detail: { plan } }); // envelope unchanged
    const copies = service.eventLog().filter((e) => e.id === id);
    expect(copies.map((e) => [e.busRegion, e.eventBusName])).toEqual([
      [P, 'default'],
      [DR, 'default'],
    ]);
    expect(deliveriesOf(id).map((d) => [d.targetId, d.outcome])).toEqual([
      ['to-dr', 'forwarded'],
      ['recv', 'delivered'],
    ]);
  });

  it('a target bus that does not exist is a failed delivery', async () => {
    const plan = unique('plan');
    await ruleWithTargets(P, { detail: { plan: [plan] } }, [{ Id: 'nowhere', Arn: `arn:aws:events:${DR}:123456789012:event-bus/missing` }]);
    const id = await putEvent(P, { Detail: JSON.stringify({ plan }) });
    await service.whenIdle();
    expect(deliveriesOf(id)).toEqual([expect.objectContaining({ outcome: 'failed', error: expect.stringMatching(/does not exist/) })]);
  });
});

describe('injected AWS events', () => {
  it('injectHealth: aws.health event in the affected Region and its backup Region; a rule on detail.eventRegion matches', async () => {
    // us-west-2 is the Health backup Region of every other Region: a rule there watches the primary
    const { destinationArn } = await apiDestination(OTHER, `${receiver.url}/health`);
    await ruleWithTargets(
      OTHER,
      {
        source: ['aws.health'],
        'detail-type': ['AWS Health Event'],
        detail: { service: ['SECRETSMANAGER'], eventTypeCategory: ['issue'], eventRegion: [P], statusCode: ['open'] },
      },
      [{ Id: 'h', Arn: destinationArn }],
    );

    const r = await labPost(lab, '/_lab/inject/health', { eventRegion: P });
    expect(r.status).toBe(200);
    const copies = await eventually(async () => {
      const list = service.eventLog({ source: 'aws.health' }).filter((e) => e.detail.eventRegion === P);
      return list.length === 2 && list;
    });
    expect(copies.map((e) => e.region).sort()).toEqual([P, OTHER].sort());
    const [inPrimary] = copies.filter((e) => e.region === P);
    expect(inPrimary).toMatchObject({
      version: '0',
      'detail-type': 'AWS Health Event',
      source: 'aws.health',
      account: '123456789012',
      resources: [],
      detail: {
        service: 'SECRETSMANAGER',
        eventTypeCode: 'AWS_SECRETSMANAGER_OPERATIONAL_ISSUE',
        eventTypeCategory: 'issue',
        eventScopeCode: 'PUBLIC',
        statusCode: 'open',
        eventRegion: P,
        eventDescription: [{ language: 'en_US', latestDescription: expect.any(String) }],
        affectedEntities: [],
      },
    });
    expect(inPrimary!.detail.eventArn).toMatch(new RegExp(`^arn:aws:health:${P}::event/SECRETSMANAGER/AWS_SECRETSMANAGER_OPERATIONAL_ISSUE/`));
    expect(inPrimary!.detail.startTime).toMatch(/^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
    expect(copies[0]!.detail.eventArn).toBe(copies[1]!.detail.eventArn); // same Health event, two deliveries
    expect(copies[0]!.id).not.toBe(copies[1]!.id);

    const req = await eventually(async () => receiver.requests.find((q) => q.url === '/health' && q.body.includes(P)));
    expect(JSON.parse(req.body)).toMatchObject({ source: 'aws.health', region: OTHER, detail: { eventRegion: P } });

    // closed events, other services and explicit delivery Regions
    service.injectHealth({ eventRegion: DR, deliverTo: [DR], statusCode: 'closed', service: 'EC2' });
    const closed = service.eventLog({ source: 'aws.health', region: DR }).at(-1)!;
    expect(closed.detail).toMatchObject({
      statusCode: 'closed',
      service: 'EC2',
      eventTypeCode: 'AWS_EC2_OPERATIONAL_ISSUE',
      eventRegion: DR,
      endTime: expect.any(String),
    });
  });

  it('injectAlarm: a CloudWatch Alarm State Change event that rules match on detail.state.value', async () => {
    const alarmName = unique('payments-sm-errors');
    const { destinationArn } = await apiDestination(P, `${receiver.url}/alarm`);
    await ruleWithTargets(
      P,
      { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { alarmName: [alarmName], state: { value: ['ALARM'] } } },
      [{ Id: 'a', Arn: destinationArn }],
    );

    expect((await labPost(lab, '/_lab/inject/alarm', { region: P, alarmName, state: 'ALARM' })).status).toBe(200);
    service.injectAlarm({ region: P, alarmName, state: 'OK', reason: 'recovered' });
    const events = service.eventLog({ source: 'aws.cloudwatch', region: P }).filter((e) => e.detail.alarmName === alarmName);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      'detail-type': 'CloudWatch Alarm State Change',
      region: P,
      resources: [`arn:aws:cloudwatch:${P}:123456789012:alarm:${alarmName}`],
      detail: { alarmName, state: { value: 'ALARM' }, previousState: { value: 'OK' }, configuration: { metrics: expect.any(Array) } },
    });
    expect(events[1]!.detail).toMatchObject({ state: { value: 'OK', reason: 'recovered' }, previousState: { value: 'ALARM' } });
    await service.whenIdle();
    const alarmed = receiver.requests.filter((q) => q.url === '/alarm' && q.body.includes(alarmName));
    expect(alarmed).toHaveLength(1); // only the ALARM transition matched
    expect(JSON.parse(alarmed[0]!.body).detail.state.value).toBe('ALARM');
  });

  it('GET /_lab/events filters and /_lab/deliveries lists attempts', async () => {
    const events = (await labGet(lab, `/_lab/events?region=${P}&source=aws.cloudwatch`)) as LoggedEvent[];
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.source === 'aws.cloudwatch' && e.busRegion === P)).toBe(true);
    const deliveries = (await labGet(lab, '/_lab/deliveries')) as DeliveryRecord[];
    expect(deliveries.some((d) => d.outcome === 'delivered')).toBe(true);
  });
});
