/**
 * EventBridge: rules, targets, PutEvents, TestEventPattern, connections and API destinations.
 * Same body against the lab and moto.
 */
import { expect, it } from 'vitest';
import {
  CreateApiDestinationCommand,
  CreateConnectionCommand,
  DeleteRuleCommand,
  DescribeApiDestinationCommand,
  DescribeConnectionCommand,
  DescribeRuleCommand,
  DisableRuleCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { PRIMARY, expectAwsError, forEachTarget } from './targets.js';

/** A rule name is [.\-_A-Za-z0-9]+, max 64: derived from the suite's unique name. */
const ruleName = (unique: string) => unique.replace(/[^.\-_A-Za-z0-9]/g, '-').slice(-64);

const EVENT = JSON.stringify({
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'Health Changed',
  source: 'secrets-dr',
  account: '123456789012',
  time: '2024-05-01T12:00:00Z',
  region: PRIMARY,
  resources: ['arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:prod/App/Mysql-AbCdEf'],
  detail: { plan: 'payments', state: 'unhealthy', region: 'ap-northeast-1', failedProbes: 5 },
});

forEachTarget('eventbridge', (env) => {
  const eb = () => env.eb(PRIMARY);

  it('PutRule / DescribeRule / ListRules / DeleteRule', async () => {
    const name = ruleName(env.name('rule'));
    const pattern = { source: ['secrets-dr'], 'detail-type': ['Health Changed'] };
    const put = await eb().send(new PutRuleCommand({ Name: name, EventPattern: JSON.stringify(pattern), State: 'ENABLED', Description: 'health' }));
    expect(put.RuleArn).toMatch(new RegExp(`^arn:aws:events:${PRIMARY}:\\d{12}:rule/${name}$`));

    const d = await eb().send(new DescribeRuleCommand({ Name: name }));
    expect(d).toMatchObject({ Name: name, Arn: put.RuleArn, State: 'ENABLED', Description: 'health', EventBusName: 'default' });
    expect(JSON.parse(d.EventPattern!)).toEqual(pattern);

    // PutRule again updates in place (same ARN)
    const again = await eb().send(new PutRuleCommand({ Name: name, EventPattern: JSON.stringify(pattern), State: 'DISABLED' }));
    expect(again.RuleArn).toBe(put.RuleArn);
    expect((await eb().send(new DescribeRuleCommand({ Name: name }))).State).toBe('DISABLED');

    const other = ruleName(env.name('zzz'));
    await eb().send(new PutRuleCommand({ Name: other, ScheduleExpression: 'rate(5 minutes)' }));
    const listed = await eb().send(new ListRulesCommand({ NamePrefix: name }));
    expect((listed.Rules ?? []).map((r) => r.Name)).toEqual([name]);
    expect(listed.Rules?.[0]).toMatchObject({ Arn: put.RuleArn, State: 'DISABLED', EventBusName: 'default' });
    const all = await eb().send(new ListRulesCommand({}));
    expect((all.Rules ?? []).map((r) => r.Name).sort()).toEqual([name, other].sort());
    const scheduled = await eb().send(new DescribeRuleCommand({ Name: other }));
    expect(scheduled.ScheduleExpression).toBe('rate(5 minutes)');

    await eb().send(new DeleteRuleCommand({ Name: name }));
    await expectAwsError(eb().send(new DescribeRuleCommand({ Name: name })), 'ResourceNotFoundException');
    expect(((await eb().send(new ListRulesCommand({ NamePrefix: name }))).Rules ?? []).length).toBe(0);
  });

  it('DisableRule flips State', async () => {
    const name = ruleName(env.name('disable'));
    await eb().send(new PutRuleCommand({ Name: name, EventPattern: JSON.stringify({ source: ['secrets-dr'] }) }));
    expect((await eb().send(new DescribeRuleCommand({ Name: name }))).State).toBe('ENABLED');
    await eb().send(new DisableRuleCommand({ Name: name }));
    expect((await eb().send(new DescribeRuleCommand({ Name: name }))).State).toBe('DISABLED');
  });

  it('PutTargets / ListTargetsByRule / RemoveTargets', async () => {
    const name = ruleName(env.name('targets'));
    await eb().send(new PutRuleCommand({ Name: name, EventPattern: JSON.stringify({ source: ['aws.health'] }) }));
    const queue = `arn:aws:sqs:${PRIMARY}:123456789012:secrets-dr-events`;
    const bus = `arn:aws:events:${PRIMARY}:123456789012:event-bus/central`;
    const put = await eb().send(
      new PutTargetsCommand({
        Rule: name,
        Targets: [
          { Id: 'queue', Arn: queue, Input: '{"fixed":true}' },
          { Id: 'bus', Arn: bus },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);
    expect(put.FailedEntries ?? []).toEqual([]);

    const listed = await eb().send(new ListTargetsByRuleCommand({ Rule: name }));
    const byId = Object.fromEntries((listed.Targets ?? []).map((t) => [t.Id, t]));
    expect(Object.keys(byId).sort()).toEqual(['bus', 'queue']);
    expect(byId.queue).toMatchObject({ Arn: queue, Input: '{"fixed":true}' });
    expect(byId.bus).toMatchObject({ Arn: bus });

    // same Id again replaces the target
    await eb().send(new PutTargetsCommand({ Rule: name, Targets: [{ Id: 'queue', Arn: queue }] }));
    const replaced = await eb().send(new ListTargetsByRuleCommand({ Rule: name }));
    expect(replaced.Targets).toHaveLength(2);
    expect((replaced.Targets ?? []).find((t) => t.Id === 'queue')?.Input).toBeUndefined();

    const removed = await eb().send(new RemoveTargetsCommand({ Rule: name, Ids: ['queue', 'bus'] }));
    expect(removed.FailedEntryCount).toBe(0);
    expect((await eb().send(new ListTargetsByRuleCommand({ Rule: name }))).Targets ?? []).toEqual([]);

    await expectAwsError(
      eb().send(new PutTargetsCommand({ Rule: ruleName(env.name('no-rule')), Targets: [{ Id: 'x', Arn: queue }] })),
      'ResourceNotFoundException',
    );
  });

  it('PutEvents returns one result per entry: EventId, or ErrorCode for a malformed Detail', async () => {
    const ok = await eb().send(
      new PutEventsCommand({
        Entries: [
          { Source: 'secrets-dr', DetailType: 'Drill Completed', Detail: JSON.stringify({ plan: 'payments', rtoMs: 1200 }) },
          { Source: 'secrets-dr', DetailType: 'Health Changed', Detail: '{}', Resources: ['arn:aws:secretsmanager:x'] },
        ],
      }),
    );
    expect(ok.FailedEntryCount).toBe(0);
    expect(ok.Entries).toHaveLength(2);
    for (const e of ok.Entries ?? []) {
      expect(e.EventId).toMatch(/^[0-9a-f-]{36}$/);
      expect(e.ErrorCode).toBeUndefined();
    }
    expect(ok.Entries?.[0]?.EventId).not.toBe(ok.Entries?.[1]?.EventId);

    const mixed = await eb().send(
      new PutEventsCommand({
        Entries: [
          { Source: 'secrets-dr', DetailType: 'Drill Completed', Detail: '{"a":1}' },
          { Source: 'secrets-dr', DetailType: 'Drill Completed', Detail: 'not json' },
        ],
      }),
    );
    expect(mixed.FailedEntryCount).toBe(1);
    expect(mixed.Entries?.[0]?.EventId).toBeDefined();
    expect(mixed.Entries?.[1]).toMatchObject({ ErrorCode: 'MalformedDetail' });
    expect(mixed.Entries?.[1]?.EventId).toBeUndefined();
  });

  it('TestEventPattern evaluates patterns (exact, prefix, numeric, anything-but, exists)', async (ctx) => {
    const cases: [unknown, boolean][] = [
      [{ source: ['secrets-dr'] }, true],
      [{ source: ['aws.health'] }, false],
      [{ 'detail-type': ['Health Changed'], detail: { plan: ['payments'] } }, true],
      [{ detail: { state: [{ prefix: 'unh' }] } }, true],
      [{ detail: { failedProbes: [{ numeric: ['>', 3] }] } }, true],
      [{ detail: { failedProbes: [{ numeric: ['>=', 10] }] } }, false],
      [{ detail: { state: [{ 'anything-but': 'healthy' }] } }, true],
      [{ detail: { state: [{ 'anything-but': ['unhealthy', 'degraded'] }] } }, false],
      [{ detail: { approver: [{ exists: false }] } }, true],
      [{ detail: { plan: [{ exists: true }] } }, true],
      [{ resources: [{ prefix: 'arn:aws:secretsmanager:ap-northeast-1:' }] }, true],
    ];
    const stub = env.target.quirks.testEventPatternStub;
    if (stub) ctx.annotate(`${env.target.name}: ${stub}`);
    for (const [pattern, expected] of cases) {
      const r = await eb().send(new TestEventPatternCommand({ EventPattern: JSON.stringify(pattern), Event: EVENT }));
      if (stub)
        expect(r.Result, JSON.stringify(pattern)).toBeUndefined(); // asserted difference
      else expect(r.Result, JSON.stringify(pattern)).toBe(expected);
    }
  });

  it('a misspelled pattern operator is rejected with InvalidEventPatternException', async (ctx) => {
    const bad = JSON.stringify({ detail: { state: [{ prefx: 'unh' }] } });
    const name = ruleName(env.name('bad-pattern'));
    const put = eb().send(new PutRuleCommand({ Name: name, EventPattern: bad }));
    if (env.target.quirks.misspelledPatternOperatorAccepted) {
      ctx.annotate(`${env.target.name}: ${env.target.quirks.misspelledPatternOperatorAccepted}`);
      await expect(put).resolves.toMatchObject({ RuleArn: expect.stringContaining(name) }); // asserted difference
    } else {
      await expectAwsError(put, 'InvalidEventPatternException');
      await expectAwsError(eb().send(new DescribeRuleCommand({ Name: name })), 'ResourceNotFoundException');
    }
    const test = eb().send(new TestEventPatternCommand({ EventPattern: bad, Event: EVENT }));
    if (env.target.quirks.testEventPatternStub) {
      await expect(test).resolves.toMatchObject({}); // asserted difference: the stub accepts anything
    } else {
      await expectAwsError(test, 'InvalidEventPatternException');
    }
    // malformed JSON is rejected everywhere
    await expectAwsError(eb().send(new PutRuleCommand({ Name: ruleName(env.name('bad-json')), EventPattern: '{not json' })), 'InvalidEventPatternException');
  });

  it('CreateConnection / DescribeConnection (API key auth; the key value is never returned)', async () => {
    const name = ruleName(env.name('conn'));
    const created = await eb().send(
      new CreateConnectionCommand({
        Name: name,
        Description: 'receiver auth',
        AuthorizationType: 'API_KEY',
        AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-secrets-dr-key', ApiKeyValue: 'do-not-echo' } },
      }),
    );
    expect(created.ConnectionArn).toMatch(new RegExp(`^arn:aws:events:${PRIMARY}:\\d{12}:connection/${name}/[0-9a-f-]+$`));
    expect(created.ConnectionState).toMatch(/^(AUTHORIZED|AUTHORIZING|CREATING)$/);
    expect(created.CreationTime).toBeInstanceOf(Date);

    const d = await eb().send(new DescribeConnectionCommand({ Name: name }));
    expect(d).toMatchObject({
      ConnectionArn: created.ConnectionArn,
      Name: name,
      AuthorizationType: 'API_KEY',
      AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-secrets-dr-key' } },
    });
    expect(d.ConnectionState).toMatch(/^(AUTHORIZED|AUTHORIZING|CREATING)$/);
    expect(d.SecretArn).toMatch(new RegExp(`^arn:aws:secretsmanager:${PRIMARY}:\\d{12}:secret:events!connection/${name}/`));
    expect(JSON.stringify(d)).not.toContain('do-not-echo');
    await expectAwsError(eb().send(new DescribeConnectionCommand({ Name: ruleName(env.name('nope')) })), 'ResourceNotFoundException');
  });

  it('CreateApiDestination / DescribeApiDestination', async () => {
    const conn = await eb().send(
      new CreateConnectionCommand({
        Name: ruleName(env.name('dest-conn')),
        AuthorizationType: 'API_KEY',
        AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-key', ApiKeyValue: 'v' } },
      }),
    );
    const name = ruleName(env.name('dest'));
    const created = await eb().send(
      new CreateApiDestinationCommand({
        Name: name,
        ConnectionArn: conn.ConnectionArn,
        InvocationEndpoint: 'https://receiver.example.com/events',
        HttpMethod: 'POST',
        InvocationRateLimitPerSecond: 10,
      }),
    );
    expect(created.ApiDestinationArn).toMatch(new RegExp(`^arn:aws:events:${PRIMARY}:\\d{12}:api-destination/${name}/[0-9a-f-]+$`));
    expect(created.ApiDestinationState).toBe('ACTIVE');
    const d = await eb().send(new DescribeApiDestinationCommand({ Name: name }));
    expect(d).toMatchObject({
      ApiDestinationArn: created.ApiDestinationArn,
      Name: name,
      ApiDestinationState: 'ACTIVE',
      ConnectionArn: conn.ConnectionArn,
      InvocationEndpoint: 'https://receiver.example.com/events',
      HttpMethod: 'POST',
      InvocationRateLimitPerSecond: 10,
    });
  });
});
