/**
 * The domain metrics (`secrets_dr_*`): their names, and the pure mapping from what an activity
 * was asked and answered to metric updates. The worker (worker/metrics.ts) applies them to the
 * Temporal runtime's meter, so they come out of the same Prometheus endpoint as the SDK's own.
 * Labels are Regions, plan names, steps and outcomes only: never a secret's name or value.
 */

export const Metric = {
  promoted: 'secrets_dr_secrets_promoted_total',
  failed: 'secrets_dr_secrets_failed_total',
  fenced: 'secrets_dr_secrets_fenced_total',
  throttles: 'secrets_dr_write_throttles_total',
  governorWait: 'secrets_dr_governor_wait_seconds',
  regionHealth: 'secrets_dr_region_health_state',
  accountHealth: 'secrets_dr_account_health_state',
  accountReachable: 'secrets_dr_account_reachable',
  crossAccountReplicas: 'secrets_dr_cross_account_replicas',
  regionHealthChangedAt: 'secrets_dr_region_health_changed_timestamp_seconds',
  regionReachable: 'secrets_dr_region_reachable',
  probeLatency: 'secrets_dr_region_probe_latency_seconds',
  replicationLag: 'secrets_dr_replication_lag_seconds',
  drills: 'secrets_dr_drills_total',
  drillRto: 'secrets_dr_drill_rto_seconds',
  drillRpo: 'secrets_dr_drill_rpo_seconds',
  drillAt: 'secrets_dr_drill_timestamp_seconds',
  failovers: 'secrets_dr_failovers_total',
  failoverRto: 'secrets_dr_failover_rto_seconds',
} as const;
export type MetricName = (typeof Metric)[keyof typeof Metric];

/** One line each, shown as the metric's HELP. */
export const METRIC_HELP: Record<MetricName, string> = {
  [Metric.promoted]: 'Secrets this worker promoted (StopReplicationToReplica sent by this run) per DR Region',
  [Metric.failed]:
    'Secrets a step could not finish (promote, fence; failback: backupBatch, copyBackBatch, reReplicateBatch, unfenceBatch), per Region and step',
  [Metric.fenced]: 'Secrets newly fenced (deny-write policy + tag) in the old primary Region',
  [Metric.throttles]: 'ThrottlingException answers to writes, per Region and write bucket',
  [Metric.governorWait]: 'Time a write waited for the write governor (quota share), per Region and bucket',
  [Metric.regionHealth]: "The monitor's health state of a Region at its last change: 0 healthy, 1 degraded, 2 unhealthy",
  [Metric.accountHealth]: "The monitor's health state of a recovery account at its last change: 0 healthy, 1 degraded (denied included), 2 unreachable",
  [Metric.accountReachable]:
    "1 when the account's last probe answered (account: primary or the recovery account's id), 0 otherwise (denied, unreachable, throttled)",
  [Metric.crossAccountReplicas]: 'Plan secrets per cross-account replica status at the last inspection of a recovery account (InSync, Failed, Detached, ...)',
  [Metric.regionHealthChangedAt]:
    "When this worker published the Region's last health change (Unix seconds): with several workers, the newest one holds the current state",
  [Metric.regionReachable]: "1 when the Region's last probe answered without a problem, 0 otherwise",
  [Metric.probeLatency]: "Latency of the Region's last probe (one ListSecrets call)",
  [Metric.replicationLag]: 'Replication lag the last drill measured into a DR Region (canary write → visible there)',
  [Metric.drills]: 'Drills completed, per plan and outcome',
  [Metric.drillRto]: "The last drill's RTO (time to writable in the DR Region)",
  [Metric.drillRpo]: "The last drill's RPO (replication lag of its canary write)",
  [Metric.drillAt]: "When this worker published its last drill's result (Unix seconds)",
  [Metric.failovers]: 'Failovers completed, per plan, Regions and outcome',
  [Metric.failoverRto]: "The last failover's RTO",
};

const HEALTH_STATE_VALUE: Record<string, number> = { healthy: 0, degraded: 1, unhealthy: 2 };
const ACCOUNT_STATE_VALUE: Record<string, number> = { healthy: 0, degraded: 1, unreachable: 2 };
/** Every cross-account status a gauge is set for (0 when none): a status that emptied must not keep its old count. */
const CROSS_ACCOUNT_STATUSES = ['InSync', 'InProgress', 'Pending', 'Failed', 'Detached', 'absent', 'standalone', 'foreign', 'deleted'];

/** Bucket bounds (seconds) of the governor wait histogram: a write waits ms normally, seconds when the share is exhausted. */
export const GOVERNOR_WAIT_BUCKETS = [0.001, 0.005, 0.02, 0.1, 0.5, 1, 2, 5, 10, 30];

type MetricTags = Record<string, string>;
export type MetricUpdate =
  { kind: 'counter'; name: MetricName; value: number; tags: MetricTags } | { kind: 'gauge'; name: MetricName; value: number; tags: MetricTags };

const counter = (name: MetricName, value: number, tags: MetricTags): MetricUpdate[] => (value > 0 ? [{ kind: 'counter', name, value, tags }] : []);
const gauge = (name: MetricName, value: number | undefined, tags: MetricTags): MetricUpdate[] =>
  typeof value === 'number' && Number.isFinite(value) ? [{ kind: 'gauge', name, value, tags }] : [];
const seconds = (ms: number | undefined) => (typeof ms === 'number' ? ms / 1000 : undefined);

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const str = (v: unknown, fallback = 'unknown'): string => (typeof v === 'string' && v ? v : fallback);

/**
 * Published events carry the fleet-level figures (health changes, drill and failover results).
 * The gauges they set stay in the process that published them, so each comes with the time it
 * was set: across several workers, the series with the newest timestamp is the current one.
 */
function fromEvent(event: Obj, nowMs: number): MetricUpdate[] {
  const d = obj(event.detail);
  const plan = str(d.plan);
  switch (event.detailType) {
    case 'Health Changed':
      if (typeof d.account === 'string') return gauge(Metric.accountHealth, ACCOUNT_STATE_VALUE[str(d.to)], { plan, account: d.account });
      return [
        ...gauge(Metric.regionHealth, HEALTH_STATE_VALUE[str(d.to)], { plan, region: str(d.region) }),
        ...gauge(Metric.regionHealthChangedAt, nowMs / 1000, { plan, region: str(d.region) }),
      ];
    case 'Drill Completed': {
      // An account drill's figures are that account's: labelled with it, apart from the Region drills'.
      const tags: MetricTags = typeof d.recoveryAccountId === 'string' ? { plan, account: d.recoveryAccountId } : { plan };
      return [
        ...counter(Metric.drills, 1, { ...tags, outcome: str(d.outcome) }),
        ...gauge(Metric.drillRto, seconds(num(d.rtoMs)), tags),
        ...gauge(Metric.drillRpo, seconds(num(d.rpoMs)), tags),
        ...gauge(Metric.drillAt, nowMs / 1000, tags),
      ];
    }
    case 'Failover Completed':
      return [
        ...counter(Metric.failovers, 1, { plan, from: str(d.from), to: str(d.to), outcome: str(d.outcome) }),
        ...gauge(Metric.failoverRto, seconds(num(d.rtoMs)), { plan }),
      ];
    default:
      return [];
  }
}

/**
 * The metric updates one completed activity implies. `region` is the Region of the worker that
 * ran it. Only a result counts: a failed attempt is retried and its work shows in the result of
 * the attempt that finishes, so nothing is counted twice.
 */
export function activityMetrics(activityType: string, region: string, input: unknown, result: unknown, nowMs = Date.now()): MetricUpdate[] {
  const i = obj(input);
  const r = obj(result);
  switch (activityType) {
    case 'promoteBatch': {
      const outcomes = arr(r.outcomes);
      return [
        ...counter(Metric.promoted, outcomes.filter((o) => o.status === 'promoted').length, { region }),
        ...counter(Metric.failed, outcomes.filter((o) => o.status === 'failed').length, { region, step: 'promote' }),
      ];
    }
    // Failback's per-secret batches answer one { ok, skipped? } per secret: the step is the activity.
    case 'backupBatch':
    case 'copyBackBatch':
    case 'reReplicateBatch':
    case 'unfenceBatch':
      return counter(Metric.failed, (Array.isArray(result) ? arr(result) : []).filter((o) => o.ok === false && !o.skipped).length, {
        region,
        step: activityType,
      });
    case 'fenceBatch':
      return [...counter(Metric.fenced, num(r.fenced) ?? 0, { region }), ...counter(Metric.failed, arr(r.failed).length, { region, step: 'fence' })];
    case 'probeRegion':
    case 'surveyRegion':
      return [
        ...gauge(Metric.regionReachable, r.reachable === true && !r.problem ? 1 : 0, { region }),
        ...gauge(Metric.probeLatency, seconds(num(r.latencyMs)), { region }),
      ];
    case 'probeAccount':
      return gauge(Metric.accountReachable, r.reach === 'answers' ? 1 : 0, { region, account: str(i.accountId, 'primary') });
    case 'inspectAccountPairs': {
      const secrets = Array.isArray(result) ? arr(result) : [];
      const status = (s: Obj) => str(s.primaryView, str(s.replicaView, str(s.replica)));
      return CROSS_ACCOUNT_STATUSES.flatMap((st) =>
        gauge(Metric.crossAccountReplicas, secrets.filter((s) => status(s) === st).length, { region, account: str(i.accountId), status: st }),
      );
    }
    case 'writeCanaryAndMeasureLag':
      return arr(r.lag).flatMap((l) => gauge(Metric.replicationLag, seconds(num(l.ms)), { region: str(l.region) }));
    case 'publishEvent':
      return fromEvent(obj(i.event), nowMs);
    default:
      return [];
  }
}
