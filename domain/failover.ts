/**
 * Failover payloads (DESIGN.md "failover"): the workflow input, the per-secret outcome table, the
 * progress answered to `watch`, and the report. JSON-plain zod schemas; never a secret value
 * (invariant 1) — names, version ids, counts, durations and reasons only.
 */
import { z } from 'zod';
import { RotationRules } from './rotation-schedule.js';
import { FailoverMode, PlanPayload } from './plan.js';

/** The shared, non-adjustable write bucket of a Region (AWS-FACTS.md). */
export const REGION_WRITE_TPS = 50;

/** A failover run hands its promoted secrets to the pending fence workflow of an earlier run with this signal. */
export const FENCE_ADD_SIGNAL = 'fenceAdd';
/** Children report each finished batch to their parent with this signal. */
export const BATCH_PROGRESS_SIGNAL = 'batchProgress';

export const FailoverInput = z.object({
  plan: PlanPayload,
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
  /** Planned mode: how long to wait for rotations in flight on the old primary before fencing (default 5 min). */
  rotationWaitMs: z.number().int().min(0).max(86_400_000).optional(),
});
export type FailoverInput = z.input<typeof FailoverInput>;

/** Planned mode waits this long by default for a rotation in flight to finish on the old primary. */
export const DEFAULT_ROTATION_WAIT_MS = 5 * 60_000;

/**
 * Tag the failover writes on every secret it promoted (never overwritten by a later run): the
 * failover id of the run that sent StopReplicationToReplica. It is how a later run (or a retried
 * attempt) knows a standalone secret is ours and who promoted it.
 */
export const PROMOTED_BY_TAG = 'secrets-dr:promoted-by';

/** A rotation cut off: AWSPENDING on a version that is not AWSCURRENT (full version ids). */
const RotationInFlight = z.object({ pending: z.string(), current: z.string().optional() });
type RotationInFlight = z.infer<typeof RotationInFlight>;

/** The rotation in flight of a version→stages map, if any. */
export function rotationInFlightOf(versions: Record<string, readonly string[] | undefined> | undefined): RotationInFlight | undefined {
  let pending: string | undefined;
  let current: string | undefined;
  for (const [v, stages] of Object.entries(versions ?? {})) {
    if (stages?.includes('AWSCURRENT')) current = v;
    if (stages?.includes('AWSPENDING') && !stages.includes('AWSCURRENT')) pending = v;
  }
  return pending === undefined ? undefined : { pending, ...(current ? { current } : {}) };
}

/**
 * A secret's rotation schedule as a failover recorded it: read from the primary at preflight, or
 * (the primary could not be read) as the replica lists it, which is reported as unverified.
 */
export const RecordedRotation = z.object({ rules: RotationRules.optional(), source: z.enum(['primary', 'replica']) });
export type RecordedRotation = z.infer<typeof RecordedRotation>;

/** Recorded schedules as they travel: per secret (outcomes, fleet items), or already as name → schedule. */
type RotationSource = ReadonlyArray<{ name: string; rotationRules?: RecordedRotation }> | Readonly<Record<string, RecordedRotation>>;

/** name → recorded schedule, for the given names that rotate (undefined when none does: nothing travels). */
export function recordedRotations(source: RotationSource, names?: readonly string[]): Record<string, RecordedRotation> | undefined {
  const items = Array.isArray(source)
    ? (source as ReadonlyArray<{ name: string; rotationRules?: RecordedRotation }>)
    : Object.entries(source).map(([name, rotationRules]) => ({ name, rotationRules }));
  const wanted = names ? new Set(names) : undefined;
  const out = Object.fromEntries(items.filter((i) => i.rotationRules && (!wanted || wanted.has(i.name))).map((i) => [i.name, i.rotationRules!]));
  return Object.keys(out).length ? out : undefined;
}

/** name → the rules to pass to RotateSecret, for the given outcomes/items with a recorded schedule. */
export function rulesByName(source: RotationSource, names: readonly string[]): Record<string, RotationRules> | undefined {
  const all = recordedRotations(source, names);
  const out = Object.fromEntries(
    Object.entries(all ?? {})
      .filter(([, r]) => r.rules)
      .map(([n, r]) => [n, r.rules!]),
  );
  return Object.keys(out).length ? out : undefined;
}

/** Secrets whose schedule could not be read from the primary: re-homed with the replica's, to be checked. */
export function unverifiedScheduleWarnings(items: ReadonlyArray<{ name: string; rotationRules?: RecordedRotation }>, region: string): string[] {
  const names = items.filter((i) => i.rotationRules?.source === 'replica').map((i) => i.name);
  if (names.length === 0) return [];
  return [
    `${names.length} secret(s) rotate in ${region} on the schedule their replica listed, because the primary could not be read at preflight (not verified; compare after failback): ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}`,
  ];
}

/** What preflight decided for one secret. */
const PlannedAction = z.enum(['promote', 'already-standalone', 'skip']);
type PlannedAction = z.infer<typeof PlannedAction>;

/** One secret of the fleet as preflight saw it (compact: fleets of 10,000 travel through history). */
export const FleetItem = z.object({
  name: z.string(),
  /** Index into plan.failover.groups; groups.length = "everything else". */
  group: z.number().int(),
  action: PlannedAction,
  reason: z.string().optional(),
  /** The replica's AWSCURRENT differs from the primary's (replication lag at preflight). */
  lagging: z.boolean().optional(),
  /** ARN suffix of the secret in the target Region: the fence only touches the primary with the same suffix. */
  suffix: z.string().optional(),
  /** Already standalone: the failover run that promoted it (its PROMOTED_BY_TAG). */
  by: z.string().optional(),
  /** The old primary's copy carries our fence already. */
  fencedAtPrimary: z.boolean().optional(),
  rotation: z.boolean().optional(),
  /** The schedule to re-home with (from the primary; see RecordedRotation). */
  rotationRules: RecordedRotation.optional(),
  rotationInFlight: RotationInFlight.optional(),
  /** A same-named secret in the target Region that is not (known to be) our replica. */
  notOurs: z.boolean().optional(),
});
export type FleetItem = z.infer<typeof FleetItem>;

const OutcomeStatus = z.enum(['promoted', 'already-standalone', 'failed', 'skipped']);
type OutcomeStatus = z.infer<typeof OutcomeStatus>;

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
  /** The schedule recorded in the lineage at promotion (from the primary), passed explicitly when rotation is re-homed. */
  rotationRules: RecordedRotation.optional(),
  /** The failover run (failover id) that promoted it; absent when no run of secrets-dr recorded it. */
  by: z.string().optional(),
  /** ARN of the secret in the target Region (for the next steps an operator types). */
  arn: z.string().optional(),
  /** ARN suffix in the target Region (the fence checks the old primary's copy is the same secret). */
  suffix: z.string().optional(),
  /** AWSPENDING on a version that is not AWSCURRENT: a rotation cut off (DESIGN invariant 11). */
  rotationInFlight: RotationInFlight.optional(),
  /** Skipped: the secret of that name in the target Region is not (known to be) our replica. */
  notOurs: z.boolean().optional(),
  /** The old primary's copy: fenced now, pending (the fence workflow), or could not be fenced. */
  fence: z.enum(['applied', 'pending', 'failed']).optional(),
  /** What is left for a person (or a later run) to do about this secret; exact commands, never a value. */
  remains: z.array(z.string()).optional(),
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
  return {
    promoted: a.promoted + b.promoted,
    alreadyStandalone: a.alreadyStandalone + b.alreadyStandalone,
    failed: a.failed + b.failed,
    skipped: a.skipped + b.skipped,
  };
}

/** Needs a person: failed, skipped, or promoted but not verified readable/writable. */
export function needsAttention(o: SecretOutcome): boolean {
  if (o.status === 'failed' || o.status === 'skipped') return true;
  if (o.rotationInFlight) return true;
  return o.standalone === false || o.readable === false || o.writable === false;
}

const FenceState = z.enum(['not-requested', 'applied', 'pending', 'partial']);
type FenceState = z.infer<typeof FenceState>;

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

/** One secret's outcome as progress shows it: its name and outcome, never a value. */
export const SettledSecret = z.object({ name: z.string(), status: z.string(), reason: z.string().optional() });
export type SettledSecret = z.infer<typeof SettledSecret>;
export const settledOf = (o: { name: string; status: string; reason?: string }): SettledSecret => ({
  name: o.name,
  status: o.status,
  ...(o.reason ? { reason: o.reason } : {}),
});

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
  /** Per-secret outcomes settled so far (names and outcomes only; the latest PROGRESS_SETTLED_LIMIT). */
  settled: z.array(SettledSecret).optional(),
});
export type FailoverProgress = z.infer<typeof FailoverProgress>;

/** How many settled per-secret outcomes a progress answer carries (the dashboard's live table). */
export const PROGRESS_SETTLED_LIMIT = 100;

export const RotationReport = z.object({
  lambdaArn: z.string().optional(),
  /** Secrets whose replica had rotation enabled. */
  withRotation: z.number().int(),
  rehomed: z.number().int(),
  failed: z.number().int(),
  /** Not re-homed on purpose: a rotation is in flight (RotateSecret would fail; see the secret's next steps). */
  heldBack: z.number().int().optional(),
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
  /** Every failover run that promoted a secret of this fleet (this run and earlier ones), with how many. */
  runs: z.array(z.object({ failoverId: z.string(), promoted: z.number().int() })).optional(),
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

/**
 * Per-secret lists in a report (outcomes, attention, preview): the report is one payload, and Temporal
 * refuses one above 256 KB (an annotated outcome is ~400 bytes: 2,000 of them made 837 KB). Above it
 * the report lists the secrets that need attention; the lineage records hold every promoted secret.
 */
export const FULL_OUTCOMES_LIMIT = 250;

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
      /** The rotation schedule at promotion (from the primary at preflight); failback restores it. */
      rotation: RecordedRotation.optional(),
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
  /** Its PROMOTED_BY_TAG: the failover run that promoted it. */
  promotedBy: z.string().optional(),
  rotation: z.boolean().optional(),
  /** RotationRules as this Region lists them (only on secrets that rotate). */
  rotationRules: RotationRules.optional(),
  rotationInFlight: RotationInFlight.optional(),
});
export type FleetEntry = z.infer<typeof FleetEntry>;

/**
 * Preflight's decision per secret, from what both Regions list (the primary's list is absent when
 * it does not answer). Sorted by plan group (tier0 first), then name. Pure.
 *
 * "Ours" is decided from what setup and failover recorded, never from a name alone: with the
 * primary readable, the same ARN suffix (a replica keeps its primary's); with the primary down, a
 * replica of our primary, or a standalone secret a failover run tagged PROMOTED_BY_TAG. A
 * standalone secret of that name with neither is a conflict setup left alone: it needs a person,
 * and it is never fenced on the primary's side.
 */
export function planFleet(plan: { primaryRegion: string }, to: string, primary: readonly FleetEntry[] | undefined, dr: readonly FleetEntry[]): FleetItem[] {
  const drByName = new Map(dr.map((e) => [e.name, e]));
  const items: FleetItem[] = [];
  const fromDr = (d: FleetEntry, p?: FleetEntry): FleetItem => {
    const base = { name: d.name, group: d.group };
    if (d.deleted) return { ...base, action: 'skip', reason: `scheduled for deletion in ${to}` };
    if (d.primaryRegion !== undefined && d.primaryRegion !== plan.primaryRegion)
      return { ...base, action: 'skip', reason: `in ${to} it is a replica of ${d.primaryRegion}, not of ${plan.primaryRegion}` };
    // The schedule comes from the primary; only when it does not answer, from the replica (reported as unverified).
    const schedule = p ?? (d.primaryRegion === plan.primaryRegion ? d : undefined);
    const about = {
      suffix: d.suffix,
      ...(d.rotation || p?.rotation ? { rotation: true } : {}),
      ...(schedule?.rotation
        ? { rotationRules: { ...(schedule.rotationRules ? { rules: schedule.rotationRules } : {}), source: p ? ('primary' as const) : ('replica' as const) } }
        : {}),
      ...(p?.fenced ? { fencedAtPrimary: true } : {}),
    };
    if (d.primaryRegion === plan.primaryRegion) {
      // The primary is the truth about a rotation in flight; the replica's copy when it does not answer.
      const inFlight = p ? p.rotationInFlight : d.rotationInFlight;
      return { ...base, ...about, action: 'promote', ...(inFlight ? { rotationInFlight: inFlight } : {}) };
    }
    if (!p && d.promotedBy === undefined) {
      return {
        ...base,
        action: 'skip',
        notOurs: true,
        reason: `not known to be our replica: ${to} holds a standalone secret of that name that no failover recorded promoting (no ${PROMOTED_BY_TAG} tag), and ${plan.primaryRegion} does not answer to compare ARNs — not fenced; check it, or run the failover again once ${plan.primaryRegion} answers`,
      };
    }
    return {
      ...base,
      ...about,
      action: 'already-standalone',
      ...(d.promotedBy ? { by: d.promotedBy } : {}),
      ...(d.rotationInFlight ? { rotationInFlight: d.rotationInFlight } : {}),
    };
  };
  if (primary) {
    for (const p of primary) {
      if (p.primaryRegion !== undefined && p.primaryRegion !== plan.primaryRegion) continue; // a replica of elsewhere: not ours
      const d = drByName.get(p.name);
      if (!d) {
        items.push({ name: p.name, group: p.group, action: 'skip', reason: `no replica in ${to} (run \`secrets-dr setup\`)` });
      } else if (d.suffix !== p.suffix) {
        items.push({
          name: p.name,
          group: p.group,
          action: 'skip',
          notOurs: true,
          reason: `the secret of that name in ${to} is not our replica (conflict: ARN suffix ${d.suffix} there, ${p.suffix} in ${plan.primaryRegion}) — not fenced`,
        });
      } else {
        const item = fromDr({ ...d, group: p.group }, p);
        if (item.action === 'promote' && p.current !== undefined && d.current !== p.current) item.lagging = true;
        items.push(item);
      }
    }
  } else {
    for (const d of dr) if (d.primaryRegion === plan.primaryRegion || d.primaryRegion === undefined) items.push(fromDr(d));
  }
  return items.sort((a, b) => a.group - b.group || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** What the next steps of a secret are told with. */
interface RemainsContext {
  from: string;
  to: string;
  mode: FailoverMode;
  /** The fence workflow that holds the pending fence. */
  fenceHandedTo?: string;
  /** The plan's rotation Lambda in the target Region. */
  lambdaArn?: string;
}

/**
 * Exact next steps for a rotation cut off in the Region that now holds the writable copy: finish
 * it with the rotation function (the database may already use the pending password), or roll the
 * pending version back; then re-home rotation. Version ids and ARNs only, never a value.
 */
function rotationNextSteps(o: Pick<SecretOutcome, 'name' | 'arn'>, r: RotationInFlight, region: string, lambdaArn: string | undefined): string[] {
  const id = o.arn ?? o.name;
  const steps = [
    `rotation in flight in ${region}: AWSPENDING on version ${r.pending}, AWSCURRENT on ${r.current ?? '(none)'}; the database may already use the pending password`,
  ];
  if (lambdaArn) {
    const invoke = (step: string) =>
      `aws lambda invoke --region ${region} --function-name ${lambdaArn} --cli-binary-format raw-in-base64-out --payload '{"SecretId":"${id}","ClientRequestToken":"${r.pending}","Step":"${step}"}' /dev/null`;
    steps.push(`to finish it with the rotation function of ${region}: ${['setSecret', 'testSecret', 'finishSecret'].map(invoke).join(' && ')}`);
  } else {
    steps.push(
      `to finish it: configure rotation.${region} in the plan, then run that rotation function's setSecret, testSecret and finishSecret steps with ClientRequestToken ${r.pending}`,
    );
  }
  steps.push(
    `or, if the database still uses the current password, roll it back: aws secretsmanager update-secret-version-stage --region ${region} --secret-id ${id} --version-stage AWSPENDING --remove-from-version-id ${r.pending}`,
  );
  if (lambdaArn)
    steps.push(
      `then re-home rotation: aws secretsmanager rotate-secret --region ${region} --secret-id ${id} --rotation-lambda-arn ${lambdaArn} --no-rotate-immediately`,
    );
  return steps;
}

/** What is left to do about one secret after this run (the report's per-secret `remains`). Pure. */
function remainsOf(o: SecretOutcome, c: RemainsContext): string[] {
  const out: string[] = [];
  if (o.status === 'promoted' || o.status === 'already-standalone') {
    if (o.fence === 'pending')
      out.push(`fence of ${o.name} on ${c.from} pending: applied when ${c.from} answers${c.fenceHandedTo ? ` (${c.fenceHandedTo})` : ''}`);
    if (o.fence === 'failed') out.push(`not fenced on ${c.from}: writable on both sides until it is fenced (run the failover again)`);
    if (o.rotationInFlight) out.push(...rotationNextSteps(o, o.rotationInFlight, c.to, c.lambdaArn));
    if (o.standalone === false) out.push(`still a replica in ${c.to}: run the failover again`);
    else if (o.readable === false || o.writable === false) out.push(`check ${o.name} in ${c.to}: ${o.reason ?? 'not verified readable and writable'}`);
  } else if (o.status === 'failed') {
    out.push(`not promoted (${c.from} stays its only writable copy): fix the cause, then run the failover again`);
  } else if (o.notOurs) {
    out.push(
      `not failed over: the secret named ${o.name} in ${c.to} is not (known to be) the replica of the one in ${c.from}, so it was neither counted nor fenced`,
      `compare both (aws secretsmanager describe-secret --region ${c.to} --secret-id ${o.name}; the same in ${c.from} once it answers), then resolve the conflict with \`secrets-dr setup\` (the plan's conflicts.policy) and run the failover again`,
    );
  } else if (o.rotationInFlight) {
    out.push(
      `let the rotation finish on ${c.from}, or roll it back there: aws secretsmanager update-secret-version-stage --region ${c.from} --secret-id ${o.name} --version-stage AWSPENDING --remove-from-version-id ${o.rotationInFlight.pending}`,
      'then run the failover again',
    );
  } else {
    out.push('not promoted by this run: see the reason');
  }
  return out;
}

/** Every failover run that promoted secrets of this fleet, with how many (this run's and earlier ones, from PROMOTED_BY_TAG). */
export function runsOf(outcomes: readonly SecretOutcome[]): Array<{ failoverId: string; promoted: number }> {
  const runs = new Map<string, number>();
  for (const o of outcomes) if (o.by && (o.status === 'promoted' || o.status === 'already-standalone')) runs.set(o.by, (runs.get(o.by) ?? 0) + 1);
  return [...runs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([failoverId, promoted]) => ({ failoverId, promoted }));
}

/**
 * The report's per-secret view: the fence of the old primary's copy (applied by this run or found
 * fenced, pending in the fence workflow, or not fenced) and what remains. Mutates and returns `o`.
 */
export function annotateOutcome(o: SecretOutcome, c: RemainsContext & { fencedAtPrimary: ReadonlySet<string>; fenceRequested: boolean }): SecretOutcome {
  if (o.status === 'promoted' || o.status === 'already-standalone') {
    if (c.fencedAtPrimary.has(o.name)) o.fence = 'applied';
    else if (c.fenceHandedTo) o.fence = 'pending';
    else if (c.fenceRequested) o.fence = 'failed';
  }
  const remains = remainsOf(o, c);
  if (remains.length) o.remains = remains;
  return o;
}
