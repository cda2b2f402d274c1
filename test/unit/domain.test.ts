import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../domain/duration.js';
import { parsePlanText } from '../../cli/plan-file.js';
import { groupIndexOf, isCoveredByPlan, isRecoveryCopyOfPlan } from '../../domain/selection.js';
import { buildStatusReport, classifyReplica, secretsNeedingDescribe, type InventoryEntry } from '../../domain/status.js';
import { runStamp } from '../../domain/ids.js';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['60s', 60_000],
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['1.5s', 1_500],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', 'soon', '10', '5 m', 'm5', '1x'])('%j is not a duration', (text) => expect(parseDuration(text)).toBeUndefined());
  it('formats back readably', () => {
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(2.5 * 1000)).toBe('2.5s');
  });
});

const plan = parsePlanText(`
name: payments
primaryRegion: ap-northeast-1
drRegions: [{ region: ap-northeast-3 }]
secrets:
  include: [{ prefix: prod/payments/ }, { tag: { key: dr-tier, value: "0" } }, { name: prod/App/Mysql }]
  exclude: [{ prefix: prod/payments/scratch/ }]
failover:
  groups: [{ name: tier0, match: { tag: { key: dr-tier, value: "0" } } }]
`).plan!;

describe('secret selection', () => {
  it.each([
    ['prod/payments/db', [], true],
    ['prod/payments/scratch/x', [], false],
    ['prod/App/Mysql', [], true],
    ['prod/App/Mysql2', [], false],
    ['other/thing', [{ Key: 'dr-tier', Value: '0' }], true],
    ['other/thing', [{ Key: 'dr-tier', Value: '1' }], false],
    ['secrets-dr-backup/payments/prod/payments/db/2026', [], false],
  ])('%s (tags %j) covered: %s', (name, tags, covered) => expect(isCoveredByPlan(plan, { name, tags })).toBe(covered));

  // In a recovery account the plan's secrets are found by setup's tag; the tool's backups there carry it too.
  const planTag = { Key: 'secrets-dr:plan', Value: 'payments' };
  it.each([
    ['prod/payments/db', [planTag], true],
    ['prod/payments/db', [{ Key: 'secrets-dr:plan', Value: 'other-plan' }], false],
    ['prod/payments/db', [], false],
    ['secrets-dr-backup/payments/prod/payments/db/20261202T120000Z', [planTag, { Key: 'secrets-dr:role', Value: 'backup' }], false],
    ['renamed-by-hand', [planTag, { Key: 'secrets-dr:role', Value: 'backup' }], false],
    ['secrets-dr/payments/lineage/x', [planTag], false],
  ])('recovery side: %s (tags %j) is a plan secret: %s', (name, tags, expected) => expect(isRecoveryCopyOfPlan('payments', { name, tags })).toBe(expected));

  it('puts tagged secrets in their group and the rest last', () => {
    expect(groupIndexOf(plan, { name: 'x', tags: [{ Key: 'dr-tier', Value: '0' }] })).toBe(0);
    expect(groupIndexOf(plan, { name: 'prod/payments/db' })).toBe(1);
  });
});

const e = (name: string, suffix: string, extra: Partial<InventoryEntry> = {}, region = 'ap-northeast-1'): InventoryEntry => ({
  name,
  arn: `arn:aws:secretsmanager:${region}:123456789012:secret:${name}-${suffix}`,
  current: 'v1',
  ...extra,
});

describe('classifying a DR Region cell', () => {
  const primary = e('prod/payments/db', 'AbCdEf', { primaryRegion: 'ap-northeast-1' });
  it.each([
    ['no secret there', undefined, 'missing'],
    ['our replica, same AWSCURRENT', e('prod/payments/db', 'AbCdEf', { primaryRegion: 'ap-northeast-1' }, 'ap-northeast-3'), 'InSync'],
    ['our replica, lagging', e('prod/payments/db', 'AbCdEf', { primaryRegion: 'ap-northeast-1', current: 'v0' }, 'ap-northeast-3'), 'InProgress'],
    ['our former replica, promoted', e('prod/payments/db', 'AbCdEf', {}, 'ap-northeast-3'), 'standalone'],
    ['a same-named secret of its own', e('prod/payments/db', 'ZzZzZz', {}, 'ap-northeast-3'), 'conflict'],
    ['a replica of another Region', e('prod/payments/db', 'AbCdEf', { primaryRegion: 'us-east-1' }, 'ap-northeast-3'), 'conflict'],
    ['scheduled for deletion', e('prod/payments/db', 'AbCdEf', { deleted: true }, 'ap-northeast-3'), 'deleted'],
  ] as const)('%s → %s', (_what, dr, state) => expect(classifyReplica('ap-northeast-1', primary, dr).state).toBe(state));
});

describe('the status report', () => {
  const inventories = {
    'ap-northeast-1': {
      inventory: {
        region: 'ap-northeast-1',
        listCalls: 1,
        entries: [e('prod/payments/a', 'AAAAAA'), e('prod/payments/b', 'BBBBBB'), e('prod/payments/c', 'CCCCCC'), e('unrelated/x', 'XXXXXX')],
      },
    },
    'ap-northeast-3': {
      inventory: {
        region: 'ap-northeast-3',
        listCalls: 1,
        entries: [e('prod/payments/a', 'AAAAAA', { primaryRegion: 'ap-northeast-1' }, 'ap-northeast-3'), e('prod/payments/b', 'QQQQQQ', {}, 'ap-northeast-3')],
      },
    },
  };

  it('asks DescribeSecret only for anomalies', () => {
    expect(secretsNeedingDescribe(plan, inventories)).toEqual(['prod/payments/b', 'prod/payments/c']);
  });

  it('builds one row per covered secret with counts and attention', () => {
    const report = buildStatusReport({
      plan,
      generatedAt: 'now',
      inventories,
      replication: { 'prod/payments/c': [{ region: 'ap-northeast-3', status: 'Failed', message: 'Access to KMS is not allowed' }] },
      describeCalls: 2,
    });
    expect(report.rows.map((r) => [r.name, r.cells['ap-northeast-3']?.state])).toEqual([
      ['prod/payments/a', 'InSync'],
      ['prod/payments/b', 'conflict'],
      ['prod/payments/c', 'Failed'],
    ]);
    expect(report.rows[2]?.cells['ap-northeast-3']?.detail).toContain('KMS');
    expect(report.counts['ap-northeast-3']).toEqual({ InSync: 1, conflict: 1, Failed: 1 });
    expect(report.attention).toBe(2);
    expect(report.regions[0]).toMatchObject({ region: 'ap-northeast-1', role: 'primary', reachable: true, describeCalls: 2 });
  });

  it('during a primary outage, resolves the fleet from the DR Region and marks the primary unknown', () => {
    const report = buildStatusReport({
      plan,
      generatedAt: 'now',
      inventories: { 'ap-northeast-1': { error: 'connect ECONNREFUSED' }, 'ap-northeast-3': inventories['ap-northeast-3'] },
    });
    expect(report.rows.map((r) => r.name)).toEqual(['prod/payments/a', 'prod/payments/b']);
    expect(report.rows[0]?.cells['ap-northeast-1']).toEqual({ state: 'unknown', detail: 'Region not readable' });
    expect(report.regions[0]?.error).toBe('connect ECONNREFUSED');
    expect(report.regions[0]?.reachable).toBe(false);
  });
});

describe('run ids', () => {
  it('two runs started within the same second get different, sortable ids', () => {
    const a = runStamp(new Date('2026-12-02T06:15:00.120Z'));
    const b = runStamp(new Date('2026-12-02T06:15:00.870Z'));
    expect(a).toBe('20261202T061500.120Z');
    expect(a).not.toBe(b);
    expect([b, a].sort()).toEqual([a, b]);
    expect(a).toMatch(/^[A-Za-z0-9/_+=.@-]+$/); // usable in secret names and tag values
    expect(runStamp(new Date('2026-12-02T06:15:00.120Z'), false)).toBe('20261202T061500Z'); // runs recorded before the patch
  });
});
