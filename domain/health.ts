/**
 * Health of a plan's Regions (the monitor workflow): what one cycle observed per Region, the
 * findings derived from `ListSecrets` pages (replication, parity, rotation freshness, pending
 * fences), and the per-Region health the monitor answers to `secrets-dr status --from-monitor`.
 * Pure and JSON-plain; never a secret value — names, counts, reasons.
 */
import { z } from 'zod';
import type { Plan } from './plan.js';
import { planRegions, PlanPayload } from './plan.js';
import { classifyReplica, FENCE_TAG, type InventoryEntry, type RegionInventory } from './status.js';
import { isCoveredByPlan } from './selection.js';
import { AwsErrorClass } from './aws-error-class.js';
import { rotationLate } from './rotation-schedule.js';
import { AccountHealth } from './account-health.js';

export { AwsErrorClass, classifyAwsErrorName } from './aws-error-class.js';

export const MONITOR_HEALTH_QUERY = 'health';
export const MONITOR_STOP_SIGNAL = 'stop';

export const HealthState = z.enum(['healthy', 'degraded', 'unhealthy']);
export type HealthState = z.infer<typeof HealthState>;

const HealthReasonCode = z.enum([
  'unreachable', // the probe failed (consecutive failures count toward unhealthy)
  'replication-lag', // replicas whose AWSCURRENT differs from the primary's
  'replica-missing', // covered secrets without a replica in this Region
  'replica-conflict', // a same-named secret that is not our replica
  'replica-deleted', // our replica is scheduled for deletion
  'rotation-stale', // rotation enabled, but the scheduled rotation is overdue
  'fence-pending', // promoted elsewhere, not fenced here yet
  'read-path', // applications cannot read the current version through GetSecretValue or Parameter Store here (the slower read-path cycle)
  'access-denied', // the Region answered "denied" (permissions, expired/invalid credentials): not an outage
  'throttled', // the Region answered "slow down": not an outage
  'probe-rejected', // the Region answered with another error: not an outage
]);
type HealthReasonCode = z.infer<typeof HealthReasonCode>;

export const HealthReason = z.object({ code: HealthReasonCode, message: z.string(), count: z.number().int().optional() });
export type HealthReason = z.infer<typeof HealthReason>;

/**
 * Findings that may be transient (a replica being created or catching up) become reasons only
 * after they persisted `unhealthyAfter` cycles; the others count at once.
 */
export const PERSISTENT_ONLY: readonly HealthReasonCode[] = ['replication-lag', 'replica-missing', 'throttled'];

/** The health reason for a probe the Region answered with an error (never an outage). */
export function answeredProbeReason(region: string, kind: Exclude<AwsErrorClass, 'unreachable'>, error: string): HealthReason {
  if (kind === 'denied') {
    return {
      code: 'access-denied',
      message: `${region} refused the probe (${error}): a permission or credentials problem, not an outage; no failover. Check the worker's IAM permissions and credentials for ${region}`,
    };
  }
  if (kind === 'throttled') {
    return {
      code: 'throttled',
      message: `probes of ${region} are throttled (${error}): the ListSecrets quota is shared with applications; not an outage, no failover`,
    };
  }
  return { code: 'probe-rejected', message: `${region} answered the probe with an error (${error}): not an outage; no failover` };
}

/** What the monitor's survey activity returns for one Region. */
/** ListSecrets pages per survey or inventory activity of the monitor: 500 secrets, a result of ~100 KB (Temporal's payloads stay far below their limit). */
export const SURVEY_PAGES = 5;

export const RegionSurvey = z.object({
  region: z.string(),
  /** The Region answered (also with an error: see `problem`). */
  reachable: z.boolean(),
  latencyMs: z.number().optional(),
  error: z.string().optional(),
  /** It answered, but with an error: denied, throttled or rejected (never an outage). */
  problem: AwsErrorClass.exclude(['unreachable']).optional(),
  /** `nextToken`: more pages to read (a large fleet: the monitor reads them with listInventory). */
  inventory: z.custom<RegionInventory & { nextToken?: string }>().optional(),
});
export type RegionSurvey = z.infer<typeof RegionSurvey>;

/** One cycle's observation of one Region, fed to its health machine. */
export interface RegionObservation {
  region: string;
  reachable: boolean;
  latencyMs?: number;
  error?: string;
  /** Undefined: not assessable this cycle (e.g. the primary could not be read, so parity is unknown). */
  findings?: HealthReason[];
}

/**
 * Rotation enabled and late, judged by the real window: the first window of its RotationRules
 * after the last rotation has closed (a `1h` window is late one hour after it opened, not at the
 * end of the day), or NextRotationDate has passed. AWS: "The next rotation is scheduled to occur on
 * or before this date ... the latest date that rotation will occur"; "if rotation is unsuccessful,
 * this date may be in the past" — or move on to the next window, which the rules still catch.
 */
export function rotationOverdue(e: InventoryEntry, nowMs: number): boolean {
  if (!e.rotationEnabled) return false;
  if (rotationLate(e.rotationRules, e.lastRotatedMs, nowMs)) return true;
  return e.nextRotationMs !== undefined && e.nextRotationMs < nowMs;
}

const tagsOf = (e: InventoryEntry) => (e.tags ?? []).map(([Key, Value]) => ({ Key, Value }));
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * Findings per Region from one cycle's surveys. Parity comes from the list pages alone
 * (AWSCURRENT version ids), so a cycle costs list calls, never one describe per secret.
 */
export function assessFleet(plan: Plan, surveys: readonly RegionSurvey[], nowMs: number): RegionObservation[] {
  const byRegion = new Map(surveys.map((s) => [s.region, s]));
  const index = (inv?: RegionInventory) => (inv ? new Map(inv.entries.map((e) => [e.name, e])) : undefined);
  const primary = index(byRegion.get(plan.primaryRegion)?.inventory);
  const covered = (e: InventoryEntry) => isCoveredByPlan(plan, { name: e.name, tags: tagsOf(e) });
  const ours = primary
    ? [...primary.values()].filter((e) => !e.deleted && (e.primaryRegion === undefined || e.primaryRegion === plan.primaryRegion) && covered(e))
    : [];

  const out: RegionObservation[] = [];
  let promotedUnfenced = 0;
  for (const region of planRegions(plan)) {
    const s = byRegion.get(region);
    if (s?.reachable && s.problem) {
      // It answered, with an error: degraded with the reason, never a failed probe (invariant 9).
      out.push({ region, reachable: true, latencyMs: s.latencyMs, findings: [answeredProbeReason(region, s.problem, s.error ?? s.problem)] });
      continue;
    }
    if (s?.reachable && !s.inventory) {
      // The probe answered but a page of the inventory failed (monitor.steps: "inventory incomplete"): reachable, its
      // parity and findings not assessed this cycle (never judged on part of the fleet, and never a failed probe).
      out.push({ region, reachable: true, latencyMs: s.latencyMs, ...(s.error ? { error: s.error } : {}) });
      continue;
    }
    if (!s || !s.reachable || !s.inventory) {
      out.push({ region, reachable: false, error: s?.error ?? 'not surveyed', latencyMs: s?.latencyMs });
      continue;
    }
    const inv = index(s.inventory)!;
    const findings: HealthReason[] = [];
    // Rotation freshness: secrets that rotate in this Region (primaries here, or promoted here).
    const stale = [...inv.values()].filter(
      (e) => !e.deleted && (e.primaryRegion === undefined || e.primaryRegion === region) && covered(e) && rotationOverdue(e, nowMs),
    );
    if (stale.length) {
      const names = stale
        .slice(0, 3)
        .map((e) => e.name)
        .join(', ');
      findings.push({
        code: 'rotation-stale',
        count: stale.length,
        message: `${plural(stale.length, 'secret')} overdue for rotation (${names}${stale.length > 3 ? ', ...' : ''})`,
      });
    }
    if (region !== plan.primaryRegion) {
      if (!primary) {
        // Parity needs the primary's list: unknown this cycle (keep what was known).
        out.push({ region, reachable: true, latencyMs: s.latencyMs, findings: findings.length ? findings : undefined });
        continue;
      }
      const counts = { missing: 0, InProgress: 0, conflict: 0, deleted: 0, Failed: 0 } as Record<string, number>;
      for (const p of ours) {
        const cell = classifyReplica(plan.primaryRegion, p, inv.get(p.name));
        if (cell.state in counts) counts[cell.state]! += 1;
        if (cell.state === 'standalone' && plan.failover.fence && !(p.tags ?? []).some(([k]) => k === FENCE_TAG)) promotedUnfenced++;
      }
      if (counts.missing)
        findings.push({ code: 'replica-missing', count: counts.missing, message: `${plural(counts.missing, 'secret')} without a replica in ${region}` });
      if (counts.InProgress)
        findings.push({
          code: 'replication-lag',
          count: counts.InProgress,
          message: `${plural(counts.InProgress, 'replica')} behind the primary (AWSCURRENT differs)`,
        });
      if (counts.conflict)
        findings.push({
          code: 'replica-conflict',
          count: counts.conflict,
          message: `${plural(counts.conflict, 'same-named secret')} in ${region} that ${counts.conflict === 1 ? 'is' : 'are'} not our replica`,
        });
      if (counts.deleted)
        findings.push({ code: 'replica-deleted', count: counts.deleted, message: `${plural(counts.deleted, 'replica')} scheduled for deletion` });
    }
    out.push({ region, reachable: true, latencyMs: s.latencyMs, findings });
  }
  if (promotedUnfenced > 0) {
    const p = out.find((o) => o.region === plan.primaryRegion);
    if (p?.findings)
      p.findings.push({
        code: 'fence-pending',
        count: promotedUnfenced,
        message: `${plural(promotedUnfenced, 'secret')} promoted in a DR Region but not fenced here`,
      });
  }
  return out;
}

/** One Region's health as the monitor keeps it (the machine's context; carried through continue-as-new). */
export const RegionHealth = z.object({
  region: z.string(),
  state: HealthState,
  /** Consecutive failed probes / consecutive good probes while unhealthy. */
  failures: z.number().int(),
  successes: z.number().int(),
  /** Consecutive cycles each transient finding was seen. */
  streaks: z.record(z.string(), z.number().int()),
  reasons: z.array(HealthReason),
  /** The state before the last change. */
  previous: HealthState.optional(),
  since: z.string(),
  lastProbeAt: z.string().optional(),
  latencyMs: z.number().optional(),
  error: z.string().optional(),
});
export type RegionHealth = z.infer<typeof RegionHealth>;

export const MonitorHealth = z.object({
  plan: z.string(),
  workflowId: z.string(),
  primaryRegion: z.string(),
  /** Cycles since the monitor started (across continue-as-new). */
  cycles: z.number().int(),
  runs: z.number().int(),
  startedAt: z.string(),
  updatedAt: z.string().optional(),
  intervalMs: z.number(),
  regions: z.array(RegionHealth),
  /** Health Changed events published so far. */
  events: z.number().int(),
  /** When the monitor asked the recover workflow to act (automatic failover allowed). */
  recoveryRequestedAt: z.string().optional(),
  /** Account DR: each recovery account's health (absent when the plan lists none). Never starts a failover. */
  accounts: z.array(AccountHealth).optional(),
});
export type MonitorHealth = z.infer<typeof MonitorHealth>;

/** The monitor's read-path cycle state: when it last ran (epoch ms), and its finding per DR Region. */
export const ReadPathState = z.object({ at: z.number(), reasons: z.record(z.string(), HealthReason) });
export type ReadPathState = z.infer<typeof ReadPathState>;

export const MonitorInput = z.object({
  plan: PlanPayload,
  taskQueuePrefix: z.string().optional(),
  /** Continue-as-new after this many cycles (default 50; the history stays around a thousand events). */
  cyclesPerRun: z.number().int().min(1).optional(),
  /**
   * Added to the workflow clock when judging rotation freshness. Tests and drills use it to
   * simulate a rotation schedule that stopped (the lab always rotates on time).
   */
  clockOffsetMs: z.number().optional(),
  /** Carried through continue-as-new. */
  carry: z
    .object({
      cycles: z.number().int(),
      runs: z.number().int(),
      startedAt: z.string(),
      events: z.number().int(),
      regions: z.array(RegionHealth),
      recoveryRequestedAt: z.string().optional(),
      /** The slower read-path cycle: when it last ran, and the reason it found per DR Region. */
      readPaths: ReadPathState.optional(),
      /** Account DR: each recovery account's last health. */
      accounts: z.array(AccountHealth).optional(),
    })
    .optional(),
});
export type MonitorInput = z.input<typeof MonitorInput>;
