/** Which metric updates a completed activity implies (domain/metrics.ts): labels are Regions, plans, steps, outcomes — never names or values. */
import { describe, expect, it } from 'vitest';
import { activityMetrics, Metric } from '../../domain/metrics.js';

describe('domain metrics from activity results', () => {
  it('promoteBatch counts promoted and failed secrets of the DR Region; already-standalone ones are not counted again', () => {
    const updates = activityMetrics(
      'promoteBatch',
      'ap-northeast-3',
      { planName: 'payments', names: ['a', 'b', 'c', 'd'] },
      {
        outcomes: [
          { name: 'prod/a', status: 'promoted' },
          { name: 'prod/b', status: 'promoted' },
          { name: 'prod/c', status: 'already-standalone' },
          { name: 'prod/d', status: 'failed', reason: 'x' },
        ],
      },
    );
    expect(updates).toEqual([
      { kind: 'counter', name: Metric.promoted, value: 2, tags: { region: 'ap-northeast-3' } },
      { kind: 'counter', name: Metric.failed, value: 1, tags: { region: 'ap-northeast-3', step: 'promote' } },
    ]);
    expect(JSON.stringify(updates)).not.toContain('prod/');
  });

  it('fenceBatch counts new fences and failures of the old primary Region', () => {
    expect(activityMetrics('fenceBatch', 'ap-northeast-1', {}, { fenced: 3, alreadyFenced: 2, failed: [{ name: 'n', reason: 'r' }] })).toEqual([
      { kind: 'counter', name: Metric.fenced, value: 3, tags: { region: 'ap-northeast-1' } },
      { kind: 'counter', name: Metric.failed, value: 1, tags: { region: 'ap-northeast-1', step: 'fence' } },
    ]);
  });

  it('probes set reachability (a problem answer is not up) and latency in seconds', () => {
    expect(activityMetrics('surveyRegion', 'r1', { region: 'r1' }, { region: 'r1', reachable: true, latencyMs: 250 })).toEqual([
      { kind: 'gauge', name: Metric.regionReachable, value: 1, tags: { region: 'r1' } },
      { kind: 'gauge', name: Metric.probeLatency, value: 0.25, tags: { region: 'r1' } },
    ]);
    expect(activityMetrics('probeRegion', 'r1', {}, { reachable: true, problem: 'access-denied', latencyMs: 5 })[0]).toMatchObject({ value: 0 });
  });

  it('published events give health state, drill RTO/RPO and failover outcomes; other events nothing', () => {
    const ev = (detailType: string, detail: object) =>
      activityMetrics('publishEvent', 'r1', { bus: 'default', event: { detailType, detail } }, { eventId: 'e' }, 1_700_000_000_000);
    expect(ev('Health Changed', { plan: 'p', region: 'r2', from: 'healthy', to: 'unhealthy' })).toEqual([
      { kind: 'gauge', name: Metric.regionHealth, value: 2, tags: { plan: 'p', region: 'r2' } },
      { kind: 'gauge', name: Metric.regionHealthChangedAt, value: 1_700_000_000, tags: { plan: 'p', region: 'r2' } },
    ]);
    expect(ev('Drill Completed', { plan: 'p', outcome: 'passed', rtoMs: 1500, rpoMs: 300 })).toEqual([
      { kind: 'counter', name: Metric.drills, value: 1, tags: { plan: 'p', outcome: 'passed' } },
      { kind: 'gauge', name: Metric.drillRto, value: 1.5, tags: { plan: 'p' } },
      { kind: 'gauge', name: Metric.drillRpo, value: 0.3, tags: { plan: 'p' } },
      { kind: 'gauge', name: Metric.drillAt, value: 1_700_000_000, tags: { plan: 'p' } },
    ]);
    expect(ev('Failover Completed', { plan: 'p', from: 'a', to: 'b', outcome: 'done', rtoMs: 2000 })).toEqual([
      { kind: 'counter', name: Metric.failovers, value: 1, tags: { plan: 'p', from: 'a', to: 'b', outcome: 'done' } },
      { kind: 'gauge', name: Metric.failoverRto, value: 2, tags: { plan: 'p' } },
    ]);
    expect(ev('Approval Requested', { plan: 'p' })).toEqual([]);
  });

  it("the drill lag measurement sets each DR Region's replication lag; unknown activities give nothing", () => {
    expect(activityMetrics('writeCanaryAndMeasureLag', 'r1', {}, { lag: [{ region: 'r2', ms: 420, timedOut: false }] })).toEqual([
      { kind: 'gauge', name: Metric.replicationLag, value: 0.42, tags: { region: 'r2' } },
    ]);
    expect(activityMetrics('getSecretValueForSomething', 'r1', {}, { SecretString: 'v' })).toEqual([]);
  });

  it("failback's batches count the secrets that failed, not those skipped, with the activity as the step", () => {
    const result = [
      { name: 'a', ok: true },
      { name: 'b', ok: false, reason: 'denied' },
      { name: 'c', ok: false, skipped: true },
    ];
    expect(activityMetrics('copyBackBatch', 'r1', {}, result)).toEqual([
      { kind: 'counter', name: Metric.failed, value: 1, tags: { region: 'r1', step: 'copyBackBatch' } },
    ]);
    expect(activityMetrics('unfenceBatch', 'r1', {}, [{ name: 'a', ok: true }])).toEqual([]);
  });
});
