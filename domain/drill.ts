/**
 * Drills (DESIGN.md): a rehearsal of failover on canary secrets `secrets-dr-drill/<plan>/<n>`,
 * with RTO and RPO measured and everything cleaned up afterwards. Payloads (input, the report, the
 * activities' answers) are JSON-plain zod schemas: names, timestamps, durations and HMACs only,
 * never a canary value (invariant 1).
 */
import { z } from 'zod';
import { PlanPayload } from './plan.js';

/** All canaries of a plan live under this prefix, in every plan Region. */
export function drillCanaryPrefix(planName: string): string {
  return `secrets-dr-drill/${planName}/`;
}

export function drillCanaryName(planName: string, n: number): string {
  return `${drillCanaryPrefix(planName)}${n}`;
}

/** Tags on every canary, so an operator (and the leftover sweep) can tell what it is. */
export const DRILL_ROLE_TAG = 'secrets-dr:role';
export const DRILL_ROLE = 'drill-canary';
export const DRILL_ID_TAG = 'secrets-dr:drill';

export const DrillStep = z.enum(['prepare', 'cleanLeftovers', 'create', 'replicate', 'measureRpo', 'promote', 'verify', 'cleanUp']);
export type DrillStep = z.infer<typeof DrillStep>;

/** Steps in the order they run, with the words a person reads in reports. */
export const DRILL_STEPS: ReadonlyArray<{ step: DrillStep; label: string }> = [
  { step: 'prepare', label: 'prepare (HMAC key)' },
  { step: 'cleanLeftovers', label: 'remove leftovers' },
  { step: 'create', label: 'create canaries' },
  { step: 'replicate', label: 'replicate → InSync' },
  { step: 'measureRpo', label: 'canary write → replicas (RPO)' },
  { step: 'promote', label: 'promote (RTO)' },
  { step: 'verify', label: 'verify' },
  { step: 'cleanUp', label: 'clean up' },
];

export const DrillInput = z.object({
  plan: PlanPayload,
  /** Worker task queue prefix (tests run their own workers). */
  taskQueuePrefix: z.string().optional(),
  trigger: z.enum(['schedule', 'manual', 'demo', 'test']).default('manual'),
  /** How long the replicas may take to become InSync before the drill fails (default 2 min). */
  inSyncTimeoutMs: z.number().int().positive().default(120_000),
  /**
   * How long the clean-up waits for a replica removed from replication to disappear before it
   * deletes the primary canary (default 2 min; AWS takes tens of seconds). A primary whose replica
   * is still there is kept, reported, and removed by the next drill.
   */
  replicaRemovalTimeoutMs: z.number().int().positive().default(120_000),
});
export type DrillInput = z.input<typeof DrillInput>;

export const StepTiming = z.object({
  step: DrillStep,
  region: z.string(),
  startedAt: z.string(),
  endedAt: z.string(),
  durationMs: z.number(),
  ok: z.boolean(),
  detail: z.string().optional(),
});
export type StepTiming = z.infer<typeof StepTiming>;

export const DrillOutcome = z.enum(['passed', 'missed-target', 'failed', 'cancelled']);
export type DrillOutcome = z.infer<typeof DrillOutcome>;

/**
 * The RTO an application sees through one read path: from the promote decision until a reader in
 * the DR Region reads, through that path, the version it has just written there (so the secret is
 * promoted, readable and writable), for the slowest canary; `current`: every canary answered with it.
 */
export const PathRto = z.object({ rtoMs: z.number().optional(), current: z.boolean(), error: z.string().optional() });
export type PathRto = z.infer<typeof PathRto>;
export const ReadPathRtos = z.object({ GetSecretValue: PathRto, ParameterStore: PathRto });
export type ReadPathRtos = z.infer<typeof ReadPathRtos>;

export const RegionFigures = z.object({
  region: z.string(),
  /** Canary write acknowledged in the primary → the last canary's version visible in this Region. */
  rpoMs: z.number().optional(),
  /**
   * The RTO an application sees here: the promote decision → the last canary read through both
   * read paths at the version just written in this Region (else, not measured that way: first
   * StopReplicationToReplica → the last canary standalone and readable).
   */
  rtoMs: z.number().optional(),
  /** First StopReplicationToReplica → the last canary standalone and readable (the promote calls' own share). */
  promoteMs: z.number().optional(),
  readPaths: ReadPathRtos.optional(),
  verified: z.boolean().optional(),
});
export type RegionFigures = z.infer<typeof RegionFigures>;

export const DrillReport = z.object({
  workflowId: z.string(),
  plan: z.string(),
  trigger: z.string(),
  primaryRegion: z.string(),
  drRegions: z.array(z.string()),
  /** An account drill (domain/account-drill.ts): the recovery account drilled; `drRegions` then holds its lane (`<region>@<accountId>`). */
  recoveryAccountId: z.string().optional(),
  canaries: z.array(z.string()),
  startedAt: z.string(),
  endedAt: z.string(),
  durationMs: z.number(),
  outcome: DrillOutcome,
  /** The worst Region's figures (the plan's RTO/RPO are as good as its slowest DR Region). */
  rtoMs: z.number().optional(),
  rpoMs: z.number().optional(),
  rtoTargetMs: z.number(),
  withinTarget: z.boolean().optional(),
  regions: z.array(RegionFigures),
  steps: z.array(StepTiming),
  failure: z.object({ step: DrillStep, region: z.string().optional(), reason: z.string() }).optional(),
  cleanup: z.object({
    leftoversRemoved: z.number().int(),
    deleted: z.number().int(),
    /** `<region>:<name>` still present after the clean-up (empty when the drill left nothing behind). */
    remaining: z.array(z.string()),
  }),
  warnings: z.array(z.string()),
});
export type DrillReport = z.infer<typeof DrillReport>;

// ---- activity payloads

export const SweepResult = z.object({
  region: z.string(),
  found: z.array(z.string()),
  deleted: z.array(z.string()),
  /** Replicas removed from a primary's replication (RemoveRegionsFromReplication) before its deletion. */
  replicasRemoved: z.number().int(),
  remaining: z.array(z.string()),
  /** `Region:name` of replicas still on their way out when the wait ended: their primaries were kept for the next drill. */
  lingering: z.array(z.string()).optional(),
});
export type SweepResult = z.infer<typeof SweepResult>;

export const CanaryWriteResult = z.object({
  /** Per DR Region: write acknowledged → last canary version visible there. */
  lag: z.array(z.object({ region: z.string(), ms: z.number(), timedOut: z.boolean() })),
  versions: z.array(z.object({ name: z.string(), versionId: z.string(), alreadyWritten: z.boolean() })),
  writtenAt: z.string(),
});
export type CanaryWriteResult = z.infer<typeof CanaryWriteResult>;

export const PromoteResult = z.object({
  region: z.string(),
  /** First StopReplicationToReplica → every canary standalone and readable (the promotion's own time). */
  rtoMs: z.number(),
  stoppedAt: z.string(),
  readableAt: z.string(),
  alreadyStandalone: z.number().int(),
  /** Per read path, from the promote decision (absent when the decision time was not given). */
  readPaths: ReadPathRtos.optional(),
});
export type PromoteResult = z.infer<typeof PromoteResult>;

// ---- pure helpers

/** A Region's RTO as an application sees it: the slower read path, when both were measured and current. */
export function applicationRto(p: Pick<PromoteResult, 'rtoMs' | 'readPaths'>): number {
  const paths = p.readPaths ? [p.readPaths.GetSecretValue, p.readPaths.ParameterStore] : [];
  const measured = paths.map((x) => x.rtoMs).filter((x): x is number => x !== undefined);
  return paths.length > 0 && measured.length === paths.length ? Math.max(...measured) : p.rtoMs;
}

/** Warnings for read paths that did not serve the canaries' current version after promotion. */
export function readPathWarnings(region: string, p: Pick<PromoteResult, 'readPaths'>): string[] {
  if (!p.readPaths) return [];
  return (['GetSecretValue', 'ParameterStore'] as const)
    .filter((k) => !p.readPaths![k].current)
    .map(
      (k) =>
        `${region}: applications reading through ${k === 'ParameterStore' ? 'Parameter Store (/aws/reference/secretsmanager/<name>)' : 'GetSecretValue'} did not get the canaries' current version after promotion${p.readPaths![k].error ? `: ${p.readPaths![k].error}` : ''}`,
    );
}

/** The outcome of a drill from what happened: any failure wins, then the RTO against the target. */
export function drillOutcome(r: { cancelled: boolean; failed: boolean; remaining: number; rtoMs?: number; rtoTargetMs: number }): DrillOutcome {
  if (r.cancelled) return 'cancelled';
  if (r.failed || r.remaining > 0) return 'failed';
  if (r.rtoMs !== undefined && r.rtoMs > r.rtoTargetMs) return 'missed-target';
  return 'passed';
}

/** Compact UTC timestamp for drill ids: 20250104T030000.123Z. */
export function drillStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '');
}
