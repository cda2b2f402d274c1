import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { RotateSecretCommandInput } from '@aws-sdk/client-secrets-manager';
import { nextWindow, rotationLate, rulesToRehome, scheduleText } from '../../domain/rotation-schedule.js';
import { rotationOverdue } from '../../domain/health.js';
import { planFleet, recordedRotations, rulesByName, type FleetEntry } from '../../domain/failover.js';
import { planItem, type SecretFacts } from '../../domain/failback.js';
import { PlanSchema } from '../../domain/plan.js';
import { createFailoverActivities } from '../../activities/failover.activities.js';
import type { RegionClients } from '../../activities/clients.js';

const H = 3_600_000;
const day = Date.UTC(2026, 11, 2); // 2026-12-02 00:00 UTC
const CRON_1H = { ScheduleExpression: 'cron(0 7 * * ? *)', Duration: '1h' };

describe('rotation windows (domain/rotation-schedule.ts)', () => {
  it('cron(0 7 * * ? *) with 1h: the next window is 07:00–08:00 UTC', () => {
    expect(nextWindow(CRON_1H, day + 9 * H)).toEqual({ start: day + 24 * H + 7 * H, end: day + 24 * H + 8 * H });
    expect(scheduleText(CRON_1H)).toBe('cron(0 7 * * ? *), 1h window');
  });

  it('rules to re-home: the ScheduleExpression with its Duration, never together with the AutomaticallyAfterDays DescribeSecret adds', () => {
    expect(rulesToRehome({ AutomaticallyAfterDays: 1, ...CRON_1H })).toEqual(CRON_1H);
    expect(rulesToRehome({ AutomaticallyAfterDays: 30 })).toEqual({ AutomaticallyAfterDays: 30 });
    expect(rulesToRehome({ AutomaticallyAfterDays: 7, Duration: '4h' })).toEqual({ AutomaticallyAfterDays: 7, Duration: '4h' });
    expect(rulesToRehome(undefined)).toBeUndefined();
  });

  it('a 1-hour window is late one hour after it opened, not at the end of the day', () => {
    const lastRotated = day - 24 * H + 7.5 * H; // yesterday 07:30
    expect(rotationLate(CRON_1H, lastRotated, day + 7.9 * H)).toBeUndefined();
    expect(rotationLate(CRON_1H, lastRotated, day + 8 * H + 60_000)).toEqual({ start: day + 7 * H, end: day + 8 * H });
    // Without a Duration, a schedule in days keeps its window to the end of the UTC day.
    expect(rotationLate({ ScheduleExpression: 'cron(0 7 * * ? *)' }, lastRotated, day + 8 * H + 60_000)).toBeUndefined();
  });

  it('the monitor flags it even when NextRotationDate has moved on to the next window', () => {
    const entry = {
      name: 's',
      arn: 'arn',
      rotationEnabled: true,
      rotationRules: CRON_1H,
      lastRotatedMs: day - 24 * H + 7.5 * H,
      nextRotationMs: day + 24 * H + 8 * H - 1000,
    };
    expect(rotationOverdue(entry, day + 8 * H + 60_000)).toBe(true);
    expect(rotationOverdue(entry, day + 7.5 * H)).toBe(false);
    expect(rotationOverdue({ ...entry, rotationEnabled: undefined }, day + 12 * H)).toBe(false);
  });
});

describe('rotation rules through failover and failback', () => {
  const plan = { primaryRegion: 'ap-northeast-1' };
  const entry = (over: Partial<FleetEntry>): FleetEntry => ({ name: 'prod/a', group: 0, suffix: 'AbCdEf', current: 'v1', rotation: true, ...over });

  it('preflight takes the schedule from the primary, not from what the replica lists', () => {
    const primary = [entry({ rotationRules: CRON_1H })];
    const replica = [entry({ primaryRegion: 'ap-northeast-1', rotationRules: { AutomaticallyAfterDays: 30 } })];
    const [item] = planFleet(plan, 'ap-northeast-3', primary, replica);
    expect(item!.rotationRules).toEqual({ rules: CRON_1H, source: 'primary' });
    expect(rulesByName([item!], ['prod/a'])).toEqual({ 'prod/a': CRON_1H });
  });

  it("with the primary unreadable, the replica's schedule is used and marked as such (reported unverified)", () => {
    const [item] = planFleet(plan, 'ap-northeast-3', undefined, [entry({ primaryRegion: 'ap-northeast-1', rotationRules: CRON_1H })]);
    expect(item!.rotationRules).toEqual({ rules: CRON_1H, source: 'replica' });
    expect(recordedRotations([item!, { name: 'other' }])).toEqual({ 'prod/a': { rules: CRON_1H, source: 'replica' } });
  });

  it("a chunk's name → schedule record narrows to a batch's names like a list of items does (one reshaping, in domain/)", () => {
    const record = { 'prod/a': { rules: CRON_1H, source: 'primary' as const }, 'prod/b': { source: 'replica' as const } };
    const items = Object.entries(record).map(([name, rotationRules]) => ({ name, rotationRules }));
    expect(recordedRotations(record, ['prod/a', 'prod/c'])).toEqual({ 'prod/a': record['prod/a'] });
    expect(recordedRotations(record, ['prod/a', 'prod/b'])).toEqual(recordedRotations(items, ['prod/a', 'prod/b']));
    expect(recordedRotations(record, ['prod/c'])).toBeUndefined();
    expect(rulesByName(record, ['prod/a', 'prod/b'])).toEqual({ 'prod/a': CRON_1H });
  });

  it('failback restores the schedule recorded at promotion', () => {
    const side = { exists: true, hmacs: ['h1'], current: 'v1', currentHmac: 'h1' };
    const facts: SecretFacts = {
      name: 'prod/a',
      recorded: { versionId: 'v1', hmac: 'h1', rotation: { rules: CRON_1H, source: 'primary' } },
      original: { ...side, fenced: true },
      dr: { ...side, rotation: true },
    };
    const p = PlanSchema.parse({
      name: 'p',
      primaryRegion: 'ap-northeast-1',
      drRegions: [{ region: 'ap-northeast-3' }],
      secrets: { include: [{ prefix: 'prod/' }] },
    });
    const item = planItem(facts, p, 'ap-northeast-1', 'ap-northeast-3', false);
    expect(item.rotation).toBe(true);
    expect(rulesByName([item], ['prod/a'])).toEqual({ 'prod/a': CRON_1H });
  });

  it('rehomeRotationBatch passes the recorded RotationRules explicitly, whatever the copy in the Region describes', async () => {
    // Prepare: the promoted copy describes another schedule (what it carried as a replica) and another Lambda.
    const calls: RotateSecretCommandInput[] = [];
    const arn = 'arn:aws:secretsmanager:ap-northeast-3:123456789012:secret:prod/a-AbCdEf';
    const secretsManager = {
      describeSecret: async () => ({
        ARN: arn,
        Name: 'prod/a',
        RotationEnabled: true,
        RotationLambdaARN: 'arn:aws:lambda:ap-northeast-1:123456789012:function:rotate',
        RotationRules: { AutomaticallyAfterDays: 30 },
        VersionIdsToStages: { v1: ['AWSCURRENT'] },
      }),
      rotateSecret: async (input: RotateSecretCommandInput) => {
        calls.push(input);
        return { ARN: arn };
      },
    };
    const acts = createFailoverActivities({ region: 'ap-northeast-3', secretsManager, eventBridge: {} } as unknown as RegionClients);
    const lambdaArn = 'arn:aws:lambda:ap-northeast-3:123456789012:function:rotate';
    // Act
    const r = await new MockActivityEnvironment().run(() =>
      acts.rehomeRotationBatch({
        region: 'ap-northeast-3',
        names: ['prod/a'],
        lambdaArn,
        writeQuotaShare: 0.6,
        rules: { 'prod/a': { AutomaticallyAfterDays: 1, ...CRON_1H } },
      }),
    );
    // Assess
    expect(r).toEqual({ rehomed: 1, failed: [] });
    expect(calls).toEqual([{ SecretId: arn, RotationLambdaARN: lambdaArn, RotationRules: CRON_1H, RotateImmediately: false }]);
  });

  it("a copy already on the Region's Lambda but on another schedule is re-homed again; one on both is left alone", async () => {
    const calls: RotateSecretCommandInput[] = [];
    const lambdaArn = 'arn:aws:lambda:ap-northeast-3:123456789012:function:rotate';
    let rules: Record<string, unknown> = { AutomaticallyAfterDays: 30 };
    const secretsManager = {
      describeSecret: async () => ({ ARN: 'arn:x', RotationEnabled: true, RotationLambdaARN: lambdaArn, RotationRules: rules, VersionIdsToStages: {} }),
      rotateSecret: async (input: RotateSecretCommandInput) => void calls.push(input),
    };
    const acts = createFailoverActivities({ region: 'ap-northeast-3', secretsManager, eventBridge: {} } as unknown as RegionClients);
    const run = () =>
      new MockActivityEnvironment().run(() =>
        acts.rehomeRotationBatch({ region: 'ap-northeast-3', names: ['a'], lambdaArn, writeQuotaShare: 0.6, rules: { a: CRON_1H } }),
      );
    await run();
    expect(calls).toHaveLength(1);
    rules = { AutomaticallyAfterDays: 1, ...CRON_1H };
    await run();
    expect(calls).toHaveLength(1);
  });
});
