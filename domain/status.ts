/**
 * The status table (secret × Region) and the pure logic that builds it from per-Region inventories.
 * An inventory is what one pass of `ListSecrets` returns (name, ARN, PrimaryRegion, the version
 * holding AWSCURRENT, tags), so a fleet of N secrets costs about ⌈N/100⌉ list calls per Region.
 * Invariant 1: nothing here ever holds a secret value.
 */
import { z } from 'zod';
import { AwsErrorClass } from './aws-error-class.js';

import type { Plan } from './plan.js';
import { planRegions } from './plan.js';
import { groupIndexOf, isCoveredByPlan } from './selection.js';
import { keptRecords } from './cost.js';
import { nextWindow, RotationRules, scheduleText } from './rotation-schedule.js';

/** How a Region that answered with an error could not be read. */
const RegionProblem = AwsErrorClass.exclude(['unreachable']);
type RegionProblem = z.infer<typeof RegionProblem>;

export const InventoryEntry = z.object({
  name: z.string(),
  arn: z.string(),
  /** Set on replicas (and, in the lab and AWS, on primaries that have replicas). */
  primaryRegion: z.string().optional(),
  /** Version id holding AWSCURRENT. */
  current: z.string().optional(),
  /** Scheduled for deletion. */
  deleted: z.boolean().optional(),
  tags: z.array(z.tuple([z.string(), z.string()])).optional(),
  /** Rotation is enabled (only set when true). Optional fields: older producers omit them. */
  rotationEnabled: z.boolean().optional(),
  /** LastRotatedDate, epoch ms. */
  lastRotatedMs: z.number().optional(),
  /** NextRotationDate, epoch ms: the latest moment of the next rotation window, as AWS reports it. */
  nextRotationMs: z.number().optional(),
  /** RotationRules as listed (only on secrets that rotate). */
  rotationRules: RotationRules.optional(),
  /** The KMS key, only when it is a customer managed key (absent: the AWS managed aws/secretsmanager). */
  kmsKeyId: z.string().optional(),
});
export type InventoryEntry = z.infer<typeof InventoryEntry>;

export const RegionInventory = z.object({
  region: z.string(),
  entries: z.array(InventoryEntry),
  listCalls: z.number().int(),
});
export type RegionInventory = z.infer<typeof RegionInventory>;

/** What the primary Region says about replication of one secret to one Region (DescribeSecret). */
export const ReplicationState = z.object({
  region: z.string(),
  status: z.enum(['InProgress', 'InSync', 'Failed']),
  message: z.string().optional(),
});
export type ReplicationState = z.infer<typeof ReplicationState>;

const CellState = z.enum([
  'primary', // primary Region: the secret is a primary there
  'replica-elsewhere', // primary Region: the secret there is a replica of another Region
  'InSync', // DR Region: a replica whose AWSCURRENT matches the primary's
  'InProgress', // DR Region: a replica that has not caught up yet
  'Failed', // DR Region: replication failed (reason in detail)
  'missing', // no such secret in this Region
  'standalone', // DR Region: our former replica, promoted (same ARN suffix, no PrimaryRegion)
  'conflict', // DR Region: a same-named secret that is not our replica
  'deleted', // scheduled for deletion
  'unknown', // the Region could not be read
]);
type CellState = z.infer<typeof CellState>;

export const StatusCell = z.object({ state: CellState, detail: z.string().optional(), fenced: z.boolean().optional() });
export type StatusCell = z.infer<typeof StatusCell>;

/** A secret's rotation as its primary (or, during an outage, its promoted copy) lists it. */
export const RotationView = z.object({
  region: z.string(),
  schedule: z.string(),
  rules: RotationRules.optional(),
  lastRotatedMs: z.number().optional(),
  /** The next window by the rules (start and end, epoch ms); NextRotationDate when the rules cannot be read. */
  nextWindow: z.object({ start: z.number().optional(), end: z.number() }).optional(),
});
export type RotationView = z.infer<typeof RotationView>;

const StatusRow = z.object({
  name: z.string(),
  group: z.string().optional(),
  cells: z.record(z.string(), StatusCell),
  rotation: RotationView.optional(),
  /** The primary's customer managed KMS key (absent: AWS managed key). */
  kmsKeyId: z.string().optional(),
});
type StatusRow = z.infer<typeof StatusRow>;

export const StatusReport = z.object({
  plan: z.string(),
  primaryRegion: z.string(),
  drRegions: z.array(z.string()),
  generatedAt: z.string(),
  regions: z.array(
    z.object({
      region: z.string(),
      role: z.enum(['primary', 'dr']),
      reachable: z.boolean(),
      error: z.string().optional(),
      /** Not read, but it answered: denied, throttled or rejected — degraded, not an outage (invariant 9). */
      problem: RegionProblem.optional(),
      listCalls: z.number().int(),
      describeCalls: z.number().int(),
    }),
  ),
  rows: z.array(StatusRow),
  /**
   * Rows left out of `rows` so the report stays one small payload (a large fleet: `trimStatusReport`): those
   * that need no attention first; `counts` and `attention` still count every secret.
   */
  omittedRows: z.number().int().optional(),
  /** Per Region: state → count. */
  counts: z.record(z.string(), z.record(z.string(), z.number().int())),
  /** Secrets that need a person's attention (anything but primary/InSync). */
  attention: z.number().int(),
  /** Secrets secrets-dr keeps for the plan in the Regions read (billed like any secret). */
  kept: z.object({ backups: z.number().int(), lineage: z.number().int() }).optional(),
});
export type StatusReport = z.infer<typeof StatusReport>;

export const FENCE_TAG = 'secrets-dr:fenced';

/** The 6-character suffix AWS appends to a secret's name in its ARN; equal suffixes = same lineage. */
export function arnSuffix(arn: string): string {
  const m = /-([A-Za-z0-9]{6})$/.exec(arn);
  return m ? m[1]! : arn;
}

function tagsOf(e: InventoryEntry): Array<{ Key: string; Value: string }> {
  return (e.tags ?? []).map(([Key, Value]) => ({ Key, Value }));
}

const isFenced = (e: InventoryEntry | undefined) => (e?.tags ?? []).some(([k]) => k === FENCE_TAG);

/** The DR cell for one secret from its primary entry and what the DR Region lists under that name. */
export function classifyReplica(primaryRegion: string, primary: InventoryEntry | undefined, dr: InventoryEntry | undefined): StatusCell {
  if (!dr) return { state: 'missing' };
  if (dr.deleted) return { state: 'deleted' };
  const sameLineage = primary ? arnSuffix(dr.arn) === arnSuffix(primary.arn) : dr.primaryRegion === primaryRegion;
  if (!sameLineage) return { state: 'conflict', detail: 'a same-named secret that is not our replica' };
  if (dr.primaryRegion === undefined) return { state: 'standalone', fenced: isFenced(dr) };
  if (dr.primaryRegion !== primaryRegion) return { state: 'conflict', detail: `a replica of ${dr.primaryRegion}` };
  if (!primary) return { state: 'InSync', detail: 'primary Region not readable: parity unknown' };
  return dr.current !== undefined && dr.current === primary.current
    ? { state: 'InSync' }
    : { state: 'InProgress', detail: 'AWSCURRENT differs from the primary (replication lag)' };
}

export interface StatusInput {
  plan: Plan;
  generatedAt: string;
  /** One per plan Region; `undefined` when that Region could not be read (with the error). */
  inventories: Record<string, { inventory?: RegionInventory; error?: string; problem?: RegionProblem }>;
  /** Replication states from the primary for secrets whose DR cell was missing/conflict. */
  replication?: Record<string, ReplicationState[]>;
  describeCalls?: number;
}

/** Secrets whose DR cells are `missing` or `conflict`: the only ones worth a DescribeSecret on the primary. */
export function secretsNeedingDescribe(plan: Plan, inventories: StatusInput['inventories']): string[] {
  const primary = inventories[plan.primaryRegion]?.inventory;
  if (!primary) return [];
  const byRegion = indexInventories(inventories);
  const out: string[] = [];
  for (const entry of primary.entries) {
    if (entry.primaryRegion !== undefined && entry.primaryRegion !== plan.primaryRegion) continue;
    if (!isCoveredByPlan(plan, { name: entry.name, tags: tagsOf(entry) })) continue;
    const anomalous = plan.drRegions.some(({ region }) => {
      const inv = byRegion.get(region);
      if (!inv) return false;
      const cell = classifyReplica(plan.primaryRegion, entry, inv.get(entry.name));
      return cell.state === 'missing' || cell.state === 'conflict';
    });
    if (anomalous) out.push(entry.name);
  }
  return out;
}

function indexInventories(inventories: StatusInput['inventories']): Map<string, Map<string, InventoryEntry>> {
  const out = new Map<string, Map<string, InventoryEntry>>();
  for (const [region, { inventory }] of Object.entries(inventories)) {
    if (inventory) out.set(region, new Map(inventory.entries.map((e) => [e.name, e])));
  }
  return out;
}

/** The copy of a secret that rotates: a writable one (the primary, or after failover the promoted copy) before a fenced one. */
function rotatingCopy(plan: Plan, name: string, byRegion: Map<string, Map<string, InventoryEntry>>): { region: string; entry: InventoryEntry } | undefined {
  const copies = planRegions(plan)
    .map((region) => ({ region, entry: byRegion.get(region)?.get(name) }))
    .filter(
      (c): c is { region: string; entry: InventoryEntry } =>
        !!c.entry && !c.entry.deleted && !!c.entry.rotationEnabled && (c.entry.primaryRegion === undefined || c.entry.primaryRegion === c.region),
    );
  return copies.find((c) => !isFenced(c.entry)) ?? copies[0];
}

/** Schedule and next window of a rotating secret, from its rules (AWS's NextRotationDate when they cannot be read). */
function rotationView(region: string, e: InventoryEntry, nowMs: number): RotationView {
  const w = nextWindow(e.rotationRules, Math.max(e.lastRotatedMs ?? 0, nowMs));
  const next = w ?? (e.nextRotationMs !== undefined ? { end: e.nextRotationMs } : undefined);
  return {
    region,
    schedule: scheduleText(e.rotationRules),
    ...(e.rotationRules ? { rules: e.rotationRules } : {}),
    ...(e.lastRotatedMs !== undefined ? { lastRotatedMs: e.lastRotatedMs } : {}),
    ...(next ? { nextWindow: next } : {}),
  };
}

export function buildStatusReport(input: StatusInput): StatusReport {
  const { plan } = input;
  const regions = planRegions(plan);
  const byRegion = indexInventories(input.inventories);
  const primaryInv = byRegion.get(plan.primaryRegion);

  // The secret set: from the primary when it answers; during an outage, from the DR Regions'
  // replicas that name our primary (and their former replicas, now standalone, that carry the plan's tags).
  const names = new Map<string, InventoryEntry>();
  const consider = (e: InventoryEntry) => {
    if (!names.has(e.name) && isCoveredByPlan(plan, { name: e.name, tags: tagsOf(e) })) names.set(e.name, e);
  };
  if (primaryInv) {
    for (const e of primaryInv.values()) consider(e);
  } else {
    for (const { region } of plan.drRegions) {
      for (const e of byRegion.get(region)?.values() ?? []) if (e.primaryRegion === plan.primaryRegion || e.primaryRegion === undefined) consider(e);
    }
  }

  const rows: StatusRow[] = [];
  for (const name of [...names.keys()].sort()) {
    const identity = names.get(name)!;
    const primary = primaryInv?.get(name);
    const cells: Record<string, StatusCell> = {};
    if (!primaryInv) cells[plan.primaryRegion] = { state: 'unknown', detail: 'Region not readable' };
    else if (!primary) cells[plan.primaryRegion] = { state: 'missing' };
    else if (primary.deleted) cells[plan.primaryRegion] = { state: 'deleted' };
    else if (primary.primaryRegion !== undefined && primary.primaryRegion !== plan.primaryRegion)
      cells[plan.primaryRegion] = { state: 'replica-elsewhere', detail: `a replica of ${primary.primaryRegion}` };
    else cells[plan.primaryRegion] = { state: 'primary', fenced: isFenced(primary) };

    for (const { region } of plan.drRegions) {
      const inv = byRegion.get(region);
      if (!inv) {
        cells[region] = { state: 'unknown', detail: 'Region not readable' };
        continue;
      }
      let cell = classifyReplica(plan.primaryRegion, primary, inv.get(name));
      const replication = input.replication?.[name]?.find((r) => r.region === region);
      if (replication?.status === 'Failed') {
        cell = { state: cell.state === 'conflict' ? 'conflict' : 'Failed', detail: replication.message ?? 'replication failed' };
      } else if (cell.state === 'missing' && replication?.status === 'InProgress') {
        cell = { state: 'InProgress', detail: 'replica being created' };
      }
      cells[region] = cell;
    }
    const g = groupIndexOf(plan, { name, tags: tagsOf(identity) });
    const rotating = rotatingCopy(plan, name, byRegion);
    rows.push({
      name,
      group: plan.failover.groups[g]?.name,
      cells,
      ...(rotating ? { rotation: rotationView(rotating.region, rotating.entry, Date.parse(input.generatedAt)) } : {}),
      ...(primary?.kmsKeyId ? { kmsKeyId: primary.kmsKeyId } : {}),
    });
  }

  const counts: Record<string, Record<string, number>> = {};
  for (const region of regions) counts[region] = {};
  let attention = 0;
  for (const row of rows) {
    let needs = false;
    for (const [region, cell] of Object.entries(row.cells)) {
      const c = counts[region]!;
      c[cell.state] = (c[cell.state] ?? 0) + 1;
      if (cell.state !== 'primary' && cell.state !== 'InSync') needs = true;
    }
    if (needs) attention++;
  }

  return {
    plan: plan.name,
    primaryRegion: plan.primaryRegion,
    drRegions: plan.drRegions.map((d) => d.region),
    generatedAt: input.generatedAt,
    regions: regions.map((region) => {
      const r = input.inventories[region];
      return {
        region,
        role: region === plan.primaryRegion ? ('primary' as const) : ('dr' as const),
        reachable: r?.inventory !== undefined,
        error: r?.error,
        ...(r?.problem ? { problem: r.problem } : {}),
        listCalls: r?.inventory?.listCalls ?? 0,
        describeCalls: region === plan.primaryRegion ? (input.describeCalls ?? 0) : 0,
      };
    }),
    rows,
    counts,
    attention,
    kept: keptRecords(
      plan.name,
      regions.map((r) => input.inventories[r]?.inventory),
    ),
  };
}

/** Rows a status report carries at most (≈ 150 bytes each: ~150 KB, under the 256 KB payload budget). */
export const STATUS_ROWS_LIMIT = 1_000;

const needsAttention = (row: StatusRow) => Object.values(row.cells).some((c) => c.state !== 'primary' && c.state !== 'InSync');

/**
 * A report of at most `limit` rows: beyond it, the rows that need attention (in order), then none of the
 * healthy ones; `omittedRows` says how many were left out. Counts and `attention` are the whole fleet's.
 */
export function trimStatusReport(report: StatusReport, limit = STATUS_ROWS_LIMIT): StatusReport {
  if (report.rows.length <= limit) return report;
  const kept = report.rows.filter(needsAttention).slice(0, limit);
  return { ...report, rows: kept, omittedRows: report.rows.length - kept.length };
}
