/**
 * The monitor's account DR health (domain/account-health.ts), its metrics and events (domain/metrics.ts,
 * domain/events.ts), and the account drill's report (domain/drill-report.ts): a denied primary is degraded,
 * never an outage; a change is announced once; nothing carries a secret's value.
 */
import { describe, expect, it } from 'vitest';
import { nextAccountHealth, crossAccountReplicaCounts } from '../../domain/account-health.js';
import type { AccountPairState, AccountProbe } from '../../domain/account-dr.js';
import { activityMetrics, Metric } from '../../domain/metrics.js';
import { EventDetails } from '../../domain/events.js';
import { DrillReport } from '../../domain/drill.js';
import { renderDrillMarkdown, renderDrillSvg } from '../../domain/drill-report.js';
import { accountDrillCanaryName, accountDrillCanaryPrefix } from '../../domain/account-drill.js';
import { drillCanaryPrefix } from '../../domain/drill.js';
import { renderSections } from '../../dashboard/sections.js';
import type { MonitorHealth } from '../../domain/health.js';
import { renderHealth } from '../../cli/commands/monitor.js';

const ok: AccountProbe = { reach: 'answers' };
const pair = (name: string, over: Partial<AccountPairState> = {}): AccountPairState => ({ name, replica: 'replica', primaryView: 'InSync', ...over });
const report = (primary: AccountProbe, secrets: AccountPairState[], recovery: AccountProbe = ok) => ({
  primaryAccount: primary,
  recoveryAccount: recovery,
  secrets,
});

describe('account health (monitor)', () => {
  it('healthy when both accounts answer and every replica is InSync; a first healthy check is no change', () => {
    const { health, changed } = nextAccountHealth(undefined, { accountId: '210987654321', report: report(ok, [pair('a'), pair('b')]) }, 't0');
    expect(changed).toBe(false);
    expect(health).toMatchObject({
      state: 'healthy',
      primaryReach: 'answers',
      recoveryReach: 'answers',
      inSync: 2,
      total: 2,
      replicas: { InSync: 2 },
      since: 't0',
    });
  });

  it('a revoked primary (denied) is degraded with the reason, not unreachable; the change is announced once, then kept', () => {
    const prev = nextAccountHealth(undefined, { accountId: '2', report: report(ok, [pair('a')]) }, 't0').health;
    const denied = report({ reach: 'denied', error: 'UnrecognizedClientException' }, [pair('a', { primaryView: undefined, replicaView: 'InSync' })]);
    const first = nextAccountHealth(prev, { accountId: '2', report: denied }, 't1');
    expect(first.changed).toBe(true);
    expect(first.health).toMatchObject({ state: 'degraded', previous: 'healthy', primaryReach: 'denied', since: 't1' });
    expect(first.health.reasons[0]).toMatch(/^primary account: denied \(UnrecognizedClientException\)/);
    const again = nextAccountHealth(first.health, { accountId: '2', report: denied }, 't2');
    expect(again.changed).toBe(false);
    expect(again.health).toMatchObject({ state: 'degraded', since: 't1', checkedAt: 't2', previous: 'healthy' });
  });

  it('only an account that does not answer is unreachable; Failed and Detached replicas degrade and are counted', () => {
    expect(nextAccountHealth(undefined, { accountId: '2', report: report(ok, [], { reach: 'unreachable' }) }, 't').health.state).toBe('unreachable');
    const h = nextAccountHealth(
      undefined,
      { accountId: '2', report: report(ok, [pair('a'), pair('b', { primaryView: 'Failed' }), pair('c', { primaryView: 'Detached' })]) },
      't',
    );
    expect(h).toMatchObject({ changed: true, health: { state: 'degraded', replicas: { InSync: 1, Failed: 1, Detached: 1 } } });
    expect(crossAccountReplicaCounts([pair('x', { primaryView: undefined, replica: 'absent' })])).toEqual({ absent: 1 });
  });

  it('a check that could not be read is degraded (with why), never unreachable: it is not an observation of an outage', () => {
    const prev = nextAccountHealth(undefined, { accountId: '2', report: report(ok, [pair('a')]) }, 't0').health;
    const h = nextAccountHealth(prev, { accountId: '2', error: 'activity timed out' }, 't1').health;
    expect(h).toMatchObject({ state: 'degraded', reasons: ['account status not read this cycle: activity timed out'], replicas: { InSync: 1 }, inSync: 1 });
  });

  it('metrics: account health from its Health Changed (not a Region gauge), reach per account, replicas per status', () => {
    const event = {
      detailType: 'Health Changed',
      detail: { plan: 'p', workflowId: 'w', account: '210987654321', region: 'r1', from: 'healthy', to: 'degraded', reasons: [] },
    };
    expect(EventDetails['Health Changed'].strict().safeParse(event.detail).success).toBe(true);
    expect(activityMetrics('publishEvent', 'r1', { event }, {}, 0)).toEqual([
      { kind: 'gauge', name: Metric.accountHealth, value: 1, tags: { plan: 'p', account: '210987654321' } },
    ]);
    expect(activityMetrics('probeAccount', 'r1', { accountId: '2' }, { reach: 'denied' })).toEqual([
      { kind: 'gauge', name: Metric.accountReachable, value: 0, tags: { region: 'r1', account: '2' } },
    ]);
    expect(activityMetrics('probeAccount', 'r1', {}, { reach: 'answers' })[0]).toMatchObject({ value: 1, tags: { account: 'primary' } });
    const replicas = activityMetrics('inspectAccountPairs', 'r1', { accountId: '2' }, [pair('a'), pair('b', { primaryView: 'Failed' })]);
    expect(replicas.find((u) => u.tags.status === 'InSync')?.value).toBe(1);
    expect(replicas.find((u) => u.tags.status === 'Failed')?.value).toBe(1);
    expect(replicas.find((u) => u.tags.status === 'Detached')?.value).toBe(0);
    expect(JSON.stringify(replicas)).not.toMatch(/"a"|"b"/);
  });
});

describe('account health where people read it', () => {
  const monitor: MonitorHealth = {
    plan: 'payments',
    workflowId: 'secrets-dr/payments/monitor',
    primaryRegion: 'ap-northeast-1',
    cycles: 3,
    runs: 1,
    startedAt: '2026-12-02T08:00:00.000Z',
    intervalMs: 60_000,
    regions: [],
    events: 1,
    accounts: [
      {
        accountId: '210987654321',
        state: 'degraded',
        primaryReach: 'denied',
        recoveryReach: 'answers',
        reasons: ['primary account: denied (UnrecognizedClientException)'],
        inSync: 2,
        total: 2,
        replicas: { InSync: 2 },
        previous: 'healthy',
        since: '2026-12-02T08:01:00.000Z',
        checkedAt: '2026-12-02T08:02:00.000Z',
      },
    ],
  };

  it('the dashboard shows each recovery account: state, reach of both accounts, replicas per status, reasons', () => {
    const html = renderSections({
      generatedAt: '2026-12-02T08:00:00.000Z',
      plan: { name: 'payments', primaryRegion: 'ap-northeast-1', drRegions: [], rtoTargetMs: 300_000 },
      health: { available: true, monitor },
      operations: [],
      approvals: [],
      finished: [],
      drills: [],
      problems: [],
    }).health;
    expect(html).toContain('<table id="account-health">');
    expect(html).toMatch(/data-account="210987654321" data-state="degraded"/);
    expect(html).toContain('primary denied, recovery answers');
    expect(html).toContain('2 InSync');
    expect(html).toContain('primary account: denied (UnrecognizedClientException)');
  });

  it('status --from-monitor prints a recovery account table', () => {
    const lines: string[] = [];
    renderHealth(monitor, { out: (l: string) => lines.push(l), err: () => undefined, json: false } as unknown as Parameters<typeof renderHealth>[1]);
    const text = lines.join('\n');
    expect(text).toMatch(/RECOVERY ACCOUNT\s+HEALTH\s+REACH/);
    expect(text).toMatch(/210987654321\s+DEGRADED\s+primary denied, recovery answers\s+2 InSync/);
  });
});

describe('account drill', () => {
  it("canaries live under the plan's drill prefix (covered by the IAM policies) in a sub-prefix the Region drill's sweep skips", () => {
    expect(accountDrillCanaryName('payments', '210987654321', 0)).toBe('secrets-dr-drill/payments/account/210987654321/0');
    expect(accountDrillCanaryPrefix('payments').startsWith(drillCanaryPrefix('payments'))).toBe(true);
  });

  it('its report renders with the account lanes (Markdown, SVG)', () => {
    const r = DrillReport.parse({
      workflowId: 'secrets-dr/payments/drill/account-210987654321-20250104T030000.000Z',
      plan: 'payments',
      trigger: 'manual',
      primaryRegion: 'ap-northeast-1',
      drRegions: ['ap-northeast-1@210987654321'],
      recoveryAccountId: '210987654321',
      canaries: ['secrets-dr-drill/payments/account/210987654321/0'],
      startedAt: '2025-01-04T03:00:00.000Z',
      endedAt: '2025-01-04T03:00:05.000Z',
      durationMs: 5_000,
      outcome: 'passed',
      rtoMs: 900,
      withinTarget: true,
      rpoMs: 300,
      rtoTargetMs: 300_000,
      regions: [{ region: 'ap-northeast-1@210987654321', rpoMs: 300, rtoMs: 900, promoteMs: 200, verified: true }],
      steps: [
        { step: 'create', region: 'ap-northeast-1', startedAt: '2025-01-04T03:00:00.000Z', endedAt: '2025-01-04T03:00:01.000Z', durationMs: 1000, ok: true },
        {
          step: 'promote',
          region: 'ap-northeast-1@210987654321',
          startedAt: '2025-01-04T03:00:02.000Z',
          endedAt: '2025-01-04T03:00:03.000Z',
          durationMs: 900,
          ok: true,
        },
      ],
      cleanup: { leftoversRemoved: 0, deleted: 2, remaining: [] },
      warnings: [],
    });
    expect(renderDrillMarkdown(r)).toMatch(/- accounts: primary account \(lane ap-northeast-1\) → recovery account 210987654321/);
    const svg = renderDrillSvg(r);
    expect(svg).toContain('data-region="ap-northeast-1@210987654321"');
    expect(svg).toContain('>recovery account<');
  });
});
