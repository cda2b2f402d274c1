/**
 * Failover payloads (DESIGN.md "failover"): the workflow input, the per-secret outcome table, the
 * progress answered to `watch`, and the report. JSON-plain zod schemas; never a secret value
 * (invariant 1) — names, version ids, counts, durations and reasons only.
 */
import { z } from 'zod';
import { FailoverMode } from './plan.js';
import type { Plan } from './plan.js';

/** The shared, non-adjustable write bucket of a Region (AWS-FACTS.md). */
export const REGION_WRITE_TPS = 50;

export const FAILOVER_PROGRESS_QUERY = 'progress';
export const PAUSE_SIGNAL = 'pause';
export const RESUME_SIGNAL = 'resume';
export const CANCEL_SIGNAL = 'cancel';
/** Children report each finished batch to their parent with this signal. */
export const BATCH_PROGRESS_SIGNAL = 'batchProgress';

export const ControlRequest = z.object({ by: z.string().max(200).optional(), reason: z.string().max(1_000).optional() });
export type ControlRequest = z.infer<typeof ControlRequest>;

export const FailoverInput = z.object({
  plan: z.custom<Plan>((v) => typeof v === 'object' && v !== null),
  to: z.string(),
  mode: FailoverMode,
  reason: z.string().max(1_000).optional(),
  requestedBy: z.string().max(200).optional(),
  /** `--yes`: the runbook already decided; skip the plan's approval gate. */
  skipApproval: z.boolean().default(false),
  /** `--dry-run`: preflight only, zero writes. */
  dryRun: z.boolean().default(false),
  taskQueuePrefix: z.string().optional(),
  /** Tests shorten the pending fence's retry interval (ms, default 5 s doubling to 1 min). */
  fenceRetryInitialMs: z.number().int().positive().optional(),
  /** Secrets per promotion activity (default 100); tests make it small to see pause/cancel between batches. */
  batchSize: z.number().int().min(1).max(500).optional(),
});
export type FailoverInput = z.input<typeof FailoverInput>;

/** What preflight decided for one secret. */
export const PlannedAction = z.enum(['promote', 'already-standalone', 'skip']);
export type PlannedAction = z.infer<typeof PlannedAction>;

/** One secret of the fleet as preflight saw it (compact: fleets of 10,000 travel through history). */
export const FleetItem = z.object({
  name: z.string(),
  /** Index into plan.failover.groups; groups.length = "everything else". */
  group: z.number().int(),
  action: PlannedAction,
  reason: z.string().optional(),
  /** The replica's AWSCURRENT differs from the primary's (replication lag at preflight). */
  lagging: z.boolean().optional(),
});
export type FleetItem = z.infer<typeof FleetItem>;

export const OutcomeStatus = z.enum(['promoted', 'already-standalone', 'failed', 'skipped']);
export type OutcomeStatus = z.infer<typeof OutcomeStatus>;

export const SecretOutcome = z.object({
  name: z.string(),
  status: OutcomeStatus,
  reason: z.string().optional(),
  /** Read back after promotion: standalone in the target Region. */
  standalone: z.boolean().optional(),
  /** AWSCURRENT could be read back (inside the activity; the value never leaves it). */
  readable: z.boolean().optional(),
  /** A metadata write (tag) was accepted: writable without creating a version. */
  writable: z.boolean().optional(),
  /** Rotation was enabled on the replica (to be re-homed). */
  rotation: z.boolean().optional(),
});
export type SecretOutcome = z.infer<typeof SecretOutcome>;

export const OutcomeCounts = z.object({
  promoted: z.number().int(),
  alreadyStandalone: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
});
export type OutcomeCounts = z.infer<typeof OutcomeCounts>;

export const emptyCounts = (): OutcomeCounts => ({ promoted: 0, alreadyStandalone: 0, failed: 0, skipped: 0 });

export function countOutcomes(outcomes: readonly Pick<SecretOutcome, 'status'>[], into: OutcomeCounts = emptyCounts()): OutcomeCounts {
  for (const o of outcomes) {
    if (o.status === 'promoted') into.promoted++;
    else if (o.status === 'already-standalone') into.alreadyStandalone++;
    else if (o.status === 'failed') into.failed++;
    else into.skipped++;
  }
  return into;
}

export function addCounts(a: OutcomeCounts, b: OutcomeCounts): OutcomeCounts {
  return { promoted: a.promoted + b.promoted, alreadyStandalone: a.alreadyStandalone + b.alreadyStandalone, failed: a.failed + b.failed, skipped: a.skipped + b.skipped };
}

/** Needs a person: failed, skipped, or promoted but not verified readable/writable. */
export function needsAttention(o: SecretOutcome): boolean {
  if (o.status === 'failed' || o.status === 'skipped') return true;
  return o.standalone === false || o.readable === false || o.writable === false;
}

export const FenceState = z.enum(['not-requested', 'applied', 'pending', 'partial']);
export type FenceState = z.infer<typeof FenceState>;

export const FenceReport = z.object({
  state: FenceState,
  fenced: z.number().int(),
  failed: z.number().int(),
  /** Where the pending fence went (the fence workflow that applies it when the Region answers). */
  handedTo: z.string().optional(),
  detail: z.string().optional(),
});
export type FenceReport = z.infer<typeof FenceReport>;

export const FailoverOutcome = z.enum(['done', 'partial', 'failed', 'rejected', 'dry-run']);
export type FailoverOutcome = z.infer<typeof FailoverOutcome>;

export const FailoverProgress = z.object({
  workflowId: z.string(),
  plan: z.string(),
  from: z.string(),
  to: z.string(),
  mode: FailoverMode,
  step: z.string(),
  paused: z.boolean(),
  cancelRequested: z.boolean(),
  total: z.number().int(),
  /** Secrets finished (any outcome) / promoted or already standalone. */
  processed: z.number().int(),
  counts: OutcomeCounts,
  /** Secrets per second over the promoting time so far. */
  ratePerSecond: z.number(),
  etaMs: z.number().optional(),
  expectedMs: z.number().optional(),
  startedAt: z.string(),
  fence: FenceReport,
});
export type FailoverProgress = z.infer<typeof FailoverProgress>;

export const RotationReport = z.object({
  lambdaArn: z.string().optional(),
  /** Secrets whose replica had rotation enabled. */
  withRotation: z.number().int(),
  rehomed: z.number().int(),
  failed: z.number().int(),
  detail: z.string(),
});
export type RotationReport = z.infer<typeof RotationReport>;

export const FailoverReport = z.object({
  workflowId: z.string(),
  failoverId: z.string(),
  plan: z.string(),
  from: z.string(),
  to: z.string(),
  mode: FailoverMode,
  reason: z.string().optional(),
  outcome: FailoverOutcome,
  /** Why the whole failover failed/was rejected/cancelled. */
  detail: z.string().optional(),
  cancelled: z.boolean(),
  total: z.number().int(),
  counts: OutcomeCounts,
  /** Secrets that need a person (failed, skipped, not verified), with reasons. */
  attention: z.array(SecretOutcome),
  /** Per secret, only for fleets up to FULL_OUTCOMES_LIMIT (the lineage records hold every promoted secret). */
  outcomes: z.array(SecretOutcome).optional(),
  /** Dry run: what would happen per secret. */
  preview: z.array(FleetItem).optional(),
  problems: z.array(z.string()),
  warnings: z.array(z.string()),
  fence: FenceReport,
  rotation: RotationReport.optional(),
  lineage: z.object({ prefix: z.string(), records: z.number().int(), hmacs: z.boolean(), detail: z.string().optional() }).optional(),
  expectedMs: z.number(),
  durationMs: z.number(),
  /** Trigger → last promotion, minus the time spent waiting for approval. */
  rtoMs: z.number().optional(),
  startedAt: z.string(),
  finishedAt: z.string(),
});
export type FailoverReport = z.infer<typeof FailoverReport>;

export const FULL_OUTCOMES_LIMIT = 2_000;

/** Expected promotion time from the quota alone: N / (writeQuotaShare × 50 TPS). */
export function expectedPromotionMs(secrets: number, writeQuotaShare: number): number {
  return Math.ceil((secrets / (writeQuotaShare * REGION_WRITE_TPS)) * 1_000);
}

/** Where a failover's lineage records live (JSON secrets in the target Region; HMACs, never values). */
export function lineageRecordPrefix(planName: string): string {
  return `secrets-dr/${planName}/lineage/`;
}

export function lineageRecordName(planName: string, failoverId: string, batch: string): string {
  return `${lineageRecordPrefix(planName)}${failoverId}/${batch}`;
}

export const LineageRecord = z.object({
  kind: z.literal('secrets-dr/failover-lineage'),
  plan: z.string(),
  failoverId: z.string(),
  from: z.string(),
  to: z.string(),
  batch: z.string(),
  hmacs: z.boolean(),
  secrets: z.array(
    z.object({
      name: z.string(),
      arn: z.string(),
      promotedAt: z.string(),
      versions: z.array(z.object({ versionId: z.string(), stages: z.array(z.string()), hmac: z.string().optional(), createdDate: z.string().optional() })),
    }),
  ),
});
export type LineageRecord = z.infer<typeof LineageRecord>;

/** The Sid of the fence statement in a secret's resource policy (other statements are kept). */
export const FENCE_SID = 'SecretsDrFenceDenyWrites';
/** Writes the fence denies to everyone. Policy operations stay allowed, so failback can unfence. */
export const FENCED_ACTIONS = [
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecret',
  'secretsmanager:UpdateSecretVersionStage',
  'secretsmanager:RotateSecret',
  'secretsmanager:CancelRotateSecret',
  'secretsmanager:DeleteSecret',
  'secretsmanager:RestoreSecret',
  'secretsmanager:ReplicateSecretToRegions',
] as const;

/** One covered secret as a Region lists it (compact; read by the `inspectFleet` activity). */
export const FleetEntry = z.object({
  name: z.string(),
  group: z.number().int(),
  /** The 6-character ARN suffix (same lineage = same suffix across Regions). */
  suffix: z.string(),
  primaryRegion: z.string().optional(),
  current: z.string().optional(),
  deleted: z.boolean().optional(),
  fenced: z.boolean().optional(),
});
export type FleetEntry = z.infer<typeof FleetEntry>;

/**
 * Preflight's decision per secret, from what both Regions list (the primary's list is absent when
 * it does not answer). Sorted by plan group (tier0 first), then name. Pure.
 */
export function planFleet(plan: { primaryRegion: string }, to: string, primary: readonly FleetEntry[] | undefined, dr: readonly FleetEntry[]): FleetItem[] {
  const drByName = new Map(dr.map((e) => [e.name, e]));
  const items: FleetItem[] = [];
  const fromDr = (d: FleetEntry): FleetItem => {
    if (d.deleted) return { name: d.name, group: d.group, action: 'skip', reason: `scheduled for deletion in ${to}` };
    if (d.primaryRegion === plan.primaryRegion) return { name: d.name, group: d.group, action: 'promote' };
    if (d.primaryRegion === undefined) return { name: d.name, group: d.group, action: 'already-standalone' };
    return { name: d.name, group: d.group, action: 'skip', reason: `in ${to} it is a replica of ${d.primaryRegion}, not of ${plan.primaryRegion}` };
  };
  if (primary) {
    for (const p of primary) {
      if (p.primaryRegion !== undefined && p.primaryRegion !== plan.primaryRegion) continue; // a replica of elsewhere: not ours
      const d = drByName.get(p.name);
      if (!d) {
        items.push({ name: p.name, group: p.group, action: 'skip', reason: `no replica in ${to} (run \`secrets-dr setup\`)` });
      } else if (d.suffix !== p.suffix) {
        items.push({ name: p.name, group: p.group, action: 'skip', reason: `the secret of that name in ${to} is not our replica (conflict)` });
      } else {
        const item = fromDr({ ...d, group: p.group });
        if (item.action === 'promote' && p.current !== undefined && d.current !== p.current) item.lagging = true;
        items.push(item);
      }
    }
  } else {
    for (const d of dr) if (d.primaryRegion === plan.primaryRegion || d.primaryRegion === undefined) items.push(fromDr(d));
  }
  return items.sort((a, b) => a.group - b.group || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
