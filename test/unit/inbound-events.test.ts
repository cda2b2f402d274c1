import { describe, expect, it } from 'vitest';
import { hintFromEvent, InboundEvent } from '../../domain/inbound-events.js';
import { eventJsonSchemas, EventDetails } from '../../domain/events.js';
import { alarmPattern, eventsInstallNames, healthPattern } from '../../domain/events-install.js';
import { validatePlan } from '../../domain/plan.js';
import { apiKeyMatches } from '../../cli/receiver-server.js';

const parsed = validatePlan({
  name: 'payments',
  primaryRegion: 'ap-northeast-1',
  drRegions: [{ region: 'ap-northeast-3' }],
  secrets: { include: [{ prefix: 'p/' }] },
  health: { alarms: ['payments-sm-errors'] },
});
if (!parsed.ok) throw new Error('plan');
const plan = parsed.plan;
const at = '2026-01-01T00:00:00.000Z';
const health = (eventRegion: string, deliveredIn: string, over: Record<string, unknown> = {}) => ({
  id: `h-${deliveredIn}`,
  source: 'aws.health',
  'detail-type': 'AWS Health Event',
  region: deliveredIn,
  detail: {
    eventArn: 'arn:aws:health:ap-northeast-1::event/SECRETSMANAGER/X/1',
    service: 'SECRETSMANAGER',
    eventTypeCategory: 'issue',
    eventRegion,
    communicationId: 'c1',
    statusCode: 'open',
    ...over,
  },
});

describe('inbound events → hints', () => {
  it('AWS Health: the affected Region is detail.eventRegion; both delivered copies share one dedup key', () => {
    const a = hintFromEvent(plan, InboundEvent.parse(health('ap-northeast-1', 'ap-northeast-1')), at);
    const b = hintFromEvent(plan, InboundEvent.parse(health('ap-northeast-1', 'us-west-2')), at);
    expect(a).toMatchObject({ hint: { region: 'ap-northeast-1', deliveredIn: 'ap-northeast-1', kind: 'health' } });
    expect(b).toMatchObject({ hint: { region: 'ap-northeast-1', deliveredIn: 'us-west-2' } });
    expect('hint' in a && 'hint' in b && a.hint.dedupKey === b.hint.dedupKey).toBe(true);
  });

  it('ignores what is not an outage hint for this plan', () => {
    expect(hintFromEvent(plan, InboundEvent.parse(health('eu-west-1', 'eu-west-1')), at)).toMatchObject({
      ignored: expect.stringMatching(/not a Region of plan/),
    });
    expect(hintFromEvent(plan, InboundEvent.parse(health('ap-northeast-1', 'ap-northeast-1', { service: 'EC2' })), at)).toMatchObject({
      ignored: expect.stringMatching(/EC2/),
    });
    expect(hintFromEvent(plan, InboundEvent.parse(health('ap-northeast-1', 'ap-northeast-1', { statusCode: 'closed' })), at)).toMatchObject({
      ignored: expect.stringMatching(/closed/),
    });
    const alarm = (name: string, value: string) =>
      InboundEvent.parse({
        id: 'a',
        source: 'aws.cloudwatch',
        'detail-type': 'CloudWatch Alarm State Change',
        region: 'ap-northeast-3',
        detail: { alarmName: name, state: { value } },
      });
    expect(hintFromEvent(plan, alarm('payments-sm-errors', 'OK'), at)).toMatchObject({ ignored: expect.stringMatching(/not ALARM/) });
    expect(hintFromEvent(plan, alarm('other', 'ALARM'), at)).toMatchObject({ ignored: expect.stringMatching(/not one of/) });
    expect(hintFromEvent(plan, alarm('payments-sm-errors', 'ALARM'), at)).toMatchObject({ hint: { kind: 'alarm', region: 'ap-northeast-3' } });
  });

  it('rejects events of other sources and oversized fields', () => {
    expect(InboundEvent.safeParse({ id: 'x', source: 'aws.ec2', 'detail-type': 'x', region: 'r', detail: {} }).success).toBe(false);
    expect(InboundEvent.safeParse({ ...health('a', 'b'), id: 'x'.repeat(500) }).success).toBe(false);
  });

  it('compares API keys in constant time and never accepts an empty or missing key', () => {
    expect(apiKeyMatches('k'.repeat(20), 'k'.repeat(20))).toBe(true);
    expect(apiKeyMatches('k'.repeat(19), 'k'.repeat(20))).toBe(false);
    expect(apiKeyMatches(undefined, 'k')).toBe(false);
    expect(apiKeyMatches(['a', 'b'], 'a')).toBe(false);
    expect(apiKeyMatches('', '')).toBe(false);
  });
});

describe('events out / install', () => {
  it('exports a JSON Schema for every detail-type of DESIGN.md', () => {
    const schemas = eventJsonSchemas() as Record<string, { properties: { detail: { properties: Record<string, unknown> } } }>;
    expect(Object.keys(schemas).sort()).toEqual(Object.keys(EventDetails).sort());
    expect(Object.keys(schemas).length).toBe(8);
    expect(schemas['Health Changed']!.properties.detail.properties).toHaveProperty('reasons');
  });

  it('install names fit EventBridge limits; patterns select the plan alarms in ALARM and Secrets Manager Health issues', () => {
    const names = eventsInstallNames('x'.repeat(63));
    for (const n of Object.values(names)) expect(n.length).toBeLessThanOrEqual(64);
    expect(new Set(Object.values(names)).size).toBe(4);
    expect(alarmPattern(['a'])).toEqual({
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: { alarmName: ['a'], state: { value: ['ALARM'] } },
    });
    expect(healthPattern()).toMatchObject({ detail: { service: ['SECRETSMANAGER'], eventTypeCategory: ['issue'] } });
  });
});
