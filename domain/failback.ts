/**
 * Failback payloads and the pure decisions behind them (DESIGN.md "failback"): per secret, what
 * changed where since the failover (from the lineage recorded at promotion vs. both Regions now),
 * and what failback does about it. JSON-plain zod schemas; never a secret value (invariant 1) —
 * version ids and HMACs only.
 */
import { z } from 'zod';
import type { Plan } from './plan.js';
import { FailbackPolicy, PlanPayload } from './plan.js';
import { RecordedRotation, SettledSecret } from './failover.js';

export const FailbackInput = z.object({
  plan: PlanPayload,
  /** `--reverse`: keep the DR Region as the primary; replicate into the original Region instead. */
  reverse: z.boolean().default(false),
  /** `--dry-run`: every decision per secret, zero writes. */
  dryRun: z.boolean().default(false),
  /** `--yes`: skip the plan's approval gate (plan.failover.requireApproval). Per-secret asks still ask. */
  skipApproval: z.boolean().default(false),
  /** Only this failover's promotions (default: every failover since the failback that last verified each secret). */
  failoverId: z.string().optional(),
  requestedBy: z.string().max(200).optional(),
  taskQueuePrefix: z.string().optional(),
  /** Secrets per activity (default 50); tests make it small. */
  batchSize: z.number().int().min(1).max(500).optional(),
  /** Secrets per child workflow (default 500); tests make it small to see pause/cancel between chunks. */
  /** Chunk children running at once (default 4); tests make it 1 to see pause and cancel land between chunks. */
  chunksInFlight: z.number().int().min(1).max(16).optional(),
  chunkSize: z.number().int().min(1).max(500).optional(),
});
export type FailbackInput = z.input<typeof FailbackInput>;

/** One side of a secret as an activity saw it: ids and HMACs, never a value. */
export const SideFacts = z.object({
  exists: z.boolean(),
  arn: z.string().optional(),
  /** Set when the secret is a replica there (the Region of its primary). */
  primaryRegion: z.string().optional(),
  deleted: z.boolean().optional(),
  current: z.string().optional(),
  currentHmac: z.string().optional(),
  /** HMACs of every labelled version (AWSCURRENT, AWSPREVIOUS, ...). */
  hmacs: z.array(z.string()).default([]),
  fenced: z.boolean().optional(),
  rotation: z.boolean().optional(),
  /** The secret's KMS key there (absent: the AWS managed key). */
  kmsKeyId: z.string().optional(),
  /** Replication status of the other side, as this side (the primary) lists it. */
  replication: z.enum(['InProgress', 'InSync', 'Failed']).optional(),
});
export type SideFacts = z.infer<typeof SideFacts>;

export const SecretFacts = z.object({
  name: z.string(),
  /** AWSCURRENT at promotion (from the lineage record in the DR Region). */
  recorded: z
    .object({ versionId: z.string(), hmac: z.string().optional(), failoverId: z.string().optional(), rotation: RecordedRotation.optional() })
    .optional(),
  original: SideFacts,
  dr: SideFacts,
});
export type SecretFacts = z.infer<typeof SecretFacts>;

const Change = z.enum([
  'unchanged', // neither side changed since the failover
  'dr-changed', // rotated/written in the DR Region during the outage
  'original-changed', // a stray write to the old primary
  'both-changed',
  'in-agreement', // both hold the same AWSCURRENT value already (e.g. copied back by an earlier run)
  'already-replicated', // the DR Region holds our replica again: nothing to reconcile
  'blocked', // cannot fail back (missing, deleted, someone else's replica, no lineage)
]);
type Change = z.infer<typeof Change>;

/** What failback does with one secret. */
const Resolution = z.enum([
  'replicate', // values agree: re-replicate (force) from the original
  'copy-back', // the DR value wins: copied into the original as its AWSCURRENT, then re-replicated
  'keep-original', // the original's value wins: re-replicated over the DR standalone (after a backup if needed)
  'ask', // a person decides (approval update, subject = secret)
  'reverse', // --reverse: the original is backed up and overwritten by replication from the DR Region
  'verify', // already replicated: only InSync + HMACs are checked
  'skip',
]);
type Resolution = z.infer<typeof Resolution>;

const ItemStatus = z.enum(['planned', 'awaiting-approval', 'reconciled', 'replicating', 'in-sync', 'verified', 'failed', 'skipped']);
type ItemStatus = z.infer<typeof ItemStatus>;

/** One secret of the failback (compact: it travels through history, never with a value). */
export const FailbackItem = z.object({
  name: z.string(),
  change: Change,
  resolution: Resolution,
  status: ItemStatus,
  reason: z.string().optional(),
  /** The stray value of the original is backed up before it stops being AWSCURRENT. */
  backupOriginal: z.boolean().optional(),
  /** The side that is overwritten by replication holds values the survivor lacks: back it up first. */
  backupOverwritten: z.boolean().optional(),
  backups: z.array(z.string()).optional(),
  /** HMAC of the value that must end as AWSCURRENT on both sides (checked at verification). */
  expectHmac: z.string().optional(),
  copiedBack: z.boolean().optional(),
  rotation: z.boolean().optional(),
  /** The schedule the failover recorded from the primary at promotion: failback restores it. */
  rotationRules: RecordedRotation.optional(),
  fenced: z.boolean().optional(),
  /** Verified: same AWSCURRENT HMAC in both Regions. */
  hmacMatch: z.boolean().optional(),
  /** The DR Region the secret was promoted in (when failovers went to more than one). */
  dr: z.string().optional(),
  /** The failover whose promotion is this secret's baseline (the earliest since its last failback). */
  failoverId: z.string().optional(),
  /** The KMS key of the replica failback creates (the plan's for that Region, else the secret's own there). */
  kmsKeyId: z.string().optional(),
  /** The side replication overwrites carries failback's deny-writes fence (lifted again if the secret does not fail back). */
  targetFenced: z.boolean().optional(),
  /** The copy-back left the original's fence statement lifted for the re-replication that follows at once (fused chunk). */
  sourceOpen: z.boolean().optional(),
});
export type FailbackItem = z.infer<typeof FailbackItem>;

/**
 * Items in transit between the failback parent and its chunk children (inputs and results): grouped by
 * everything but the name, so a chunk of alike secrets costs its names and a few templates in the
 * parent's history instead of one object per secret (issue 18: no history above 2 MB at 10,000 secrets).
 */
export const PackedItems = z.array(z.object({ item: FailbackItem.omit({ name: true }), names: z.array(z.string()) }));
export type PackedItems = z.infer<typeof PackedItems>;

/** Groups items by their fields but the name (key order ignored at the top level). Pure. */
export function packItems(items: readonly FailbackItem[]): PackedItems {
  const groups = new Map<string, PackedItems[number]>();
  for (const { name, ...item } of items) {
    const key = JSON.stringify(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const g = groups.get(key);
    if (g) g.names.push(name);
    else groups.set(key, { item, names: [name] });
  }
  return [...groups.values()];
}

/** The items of `packItems`, group by group. Pure. */
function unpackItems(packed: PackedItems): FailbackItem[] {
  return packed.flatMap(({ item, names }) => names.map((name) => ({ ...item, name })));
}

/** Names sharing a long prefix (the lineage records a failover left: `secrets-dr/<plan>/lineage/<id>/…`), sent as the prefix once. */
export interface PackedNames {
  prefix: string;
  rest: string[];
}
export function packNames(names: readonly string[]): PackedNames {
  let prefix = names[0] ?? '';
  for (const n of names) while (!n.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return { prefix, rest: names.map((n) => n.slice(prefix.length)) };
}
export const unpackNames = (p: PackedNames): string[] => p.rest.map((r) => p.prefix + r);

/** The items of a child's input or result: packed, or (histories recorded before packing) as a list. Pure. */
export const itemsOf = (x: { items?: FailbackItem[]; packed?: PackedItems }): FailbackItem[] => (x.packed ? unpackItems(x.packed) : (x.items ?? []));

const has = (list: readonly string[], h: string | undefined) => h !== undefined && list.includes(h);
const changedFrom = (side: SideFacts, recorded: NonNullable<SecretFacts['recorded']>): boolean =>
  side.currentHmac !== undefined && recorded.hmac !== undefined ? side.currentHmac !== recorded.hmac : side.current !== recorded.versionId;

/** What changed where since the failover. `from` = the original Region, `to` = the DR Region. Pure. */
export function classifyChange(f: SecretFacts, from: string, to: string): { change: Change; reason?: string } {
  const o = f.original;
  const d = f.dr;
  if (!o.exists || o.deleted) return { change: 'blocked', reason: `no live secret of that name in ${from}` };
  if (!d.exists || d.deleted) return { change: 'blocked', reason: `no live secret of that name in ${to}` };
  if (d.primaryRegion === from && o.primaryRegion === undefined && o.replication !== undefined && o.replication !== 'Failed')
    return { change: 'already-replicated' };
  if (o.primaryRegion === to && d.primaryRegion === undefined && d.replication !== undefined && d.replication !== 'Failed')
    return { change: 'already-replicated' };
  if (d.primaryRegion !== undefined)
    return { change: 'blocked', reason: `in ${to} it is a replica of ${d.primaryRegion}, not the standalone secret failover promoted` };
  if (o.primaryRegion !== undefined) return { change: 'blocked', reason: `in ${from} it is a replica of ${o.primaryRegion}` };
  const agree = o.currentHmac !== undefined && o.currentHmac === d.currentHmac;
  if (!f.recorded) {
    if (agree) return { change: 'in-agreement' };
    return { change: 'blocked', reason: 'no lineage recorded at failover for this secret: cannot tell which side changed (resolve by hand, then re-run)' };
  }
  const oc = changedFrom(o, f.recorded);
  const dc = changedFrom(d, f.recorded);
  if (!oc && !dc) return { change: 'unchanged' };
  if (agree) return { change: 'in-agreement' };
  if (oc && dc) return { change: 'both-changed' };
  if (oc) return { change: 'original-changed' };
  if (dc) return { change: 'dr-changed' };
  return { change: 'unchanged' };
}

/** `keep-dr` / `keep-original` as a resolution. */
function byPolicy(policy: FailbackPolicy): Resolution {
  return policy === 'keep-dr' ? 'copy-back' : policy === 'keep-original' ? 'keep-original' : 'ask';
}

/**
 * The plan's answer for one secret, and which backups it needs (invariant 2: before replication
 * overwrites a side, every labelled value there must exist on the surviving side or in a backup).
 */
export function planItem(f: SecretFacts, plan: Pick<Plan, 'failback'>, from: string, to: string, reverse: boolean): FailbackItem {
  const { change, reason } = classifyChange(f, from, to);
  const item: FailbackItem = { name: f.name, change, resolution: 'skip', status: 'planned', ...(reason ? { reason } : {}) };
  if (f.original.fenced) item.fenced = true;
  if (f.dr.rotation || f.original.rotation || f.recorded?.rotation) item.rotation = true;
  if (f.recorded?.rotation) item.rotationRules = f.recorded.rotation;
  if (change === 'blocked') return { ...item, status: 'skipped' };
  if (change === 'already-replicated') return { ...item, resolution: 'verify', expectHmac: (reverse ? f.dr : f.original).currentHmac };
  if (reverse) {
    // The DR Region stays primary: the original's stale secret is always backed up, then overwritten.
    return { ...item, resolution: 'reverse', backupOverwritten: true, expectHmac: f.dr.currentHmac };
  }
  let resolution: Resolution;
  if (change === 'unchanged' || change === 'in-agreement') resolution = 'replicate';
  else if (change === 'dr-changed') resolution = 'copy-back';
  else if (change === 'original-changed') resolution = byPolicy(plan.failback.onOriginalChanged);
  else resolution = byPolicy(plan.failback.onBothChanged);
  return resolve({ ...item, resolution }, f, resolution);
}

/** Fills in backups and the expected final value once the resolution is known (also after an answer). */
export function resolve(item: FailbackItem, f: SecretFacts, resolution: Resolution): FailbackItem {
  const out: FailbackItem = { ...item, resolution };
  delete out.backupOriginal;
  delete out.backupOverwritten;
  if (resolution === 'ask' || resolution === 'skip') {
    delete out.expectHmac;
    return out;
  }
  const o = f.original;
  const d = f.dr;
  if (resolution === 'copy-back') {
    // The original's AWSCURRENT becomes AWSPREVIOUS; a stray value (changed since failover) is saved first.
    if (item.change === 'original-changed' || item.change === 'both-changed') out.backupOriginal = true;
    // The copy moves AWSPREVIOUS onto the original's old AWSCURRENT: whatever held it (any labelled value but AWSCURRENT) is saved first.
    else if (o.hmacs.some((h) => h !== (o.currentHmac ?? `version:${o.current}`))) out.backupOriginal = true;
    // After PutSecretValue the original labels only the copied value (AWSCURRENT) and its old AWSCURRENT (AWSPREVIOUS).
    const survivor = [d.currentHmac, o.currentHmac].filter((h): h is string => h !== undefined);
    out.backupOverwritten = !d.hmacs.every((h) => has(survivor, h));
    out.expectHmac = d.currentHmac;
  } else {
    // replicate / keep-original: the original's values survive; the DR standalone is overwritten.
    out.backupOverwritten = !d.hmacs.every((h) => has(o.hmacs, h));
    out.expectHmac = o.currentHmac;
  }
  return out;
}

/** An answer to an `ask`: approve = the DR value wins (keep-dr), unless the reason says keep-original; reject = skip. */
export function answerToResolution(decision: 'approve' | 'reject', reason?: string): Resolution {
  if (decision === 'reject') return 'skip';
  return /keep-original/i.test(reason ?? '') ? 'keep-original' : 'copy-back';
}

const ItemCounts = z.record(z.string(), z.number().int());
export function countItems(items: readonly Pick<FailbackItem, 'status'>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[i.status] = (out[i.status] ?? 0) + 1;
  return out;
}

/** Needs a person: skipped, failed, or not verified at the end. */
export function itemNeedsAttention(i: FailbackItem): boolean {
  return i.status !== 'verified';
}

export const FailbackOutcome = z.enum(['done', 'partial', 'failed', 'rejected', 'dry-run']);
export type FailbackOutcome = z.infer<typeof FailbackOutcome>;

export const PendingAsk = z.object({ subject: z.string(), change: Change, requestedAt: z.string(), timeoutMs: z.number() });
export type PendingAsk = z.infer<typeof PendingAsk>;

export const FailbackProgress = z.object({
  workflowId: z.string(),
  plan: z.string(),
  from: z.string(),
  to: z.string(),
  reverse: z.boolean(),
  step: z.string(),
  paused: z.boolean(),
  cancelRequested: z.boolean(),
  total: z.number().int(),
  counts: ItemCounts,
  pendingAsks: z.array(PendingAsk),
  startedAt: z.string(),
  /** Per-secret states past planning (names and states only; the latest PROGRESS_SETTLED_LIMIT). */
  settled: z.array(SettledSecret).optional(),
});
export type FailbackProgress = z.infer<typeof FailbackProgress>;

export const PlanChange = z.object({
  primaryRegion: z.object({ from: z.string(), to: z.string() }),
  /** `kmsKeyId`: the key for the new DR Region's entry (the old primaryKmsKeyId). */
  drRegion: z.object({ from: z.string(), to: z.string(), kmsKeyId: z.string().optional() }),
  /** The old DR Region's kmsKeyId, a key of the new primary Region. */
  primaryKmsKeyId: z.string().optional(),
  note: z.string(),
});
export type PlanChange = z.infer<typeof PlanChange>;

/** One failover run failback reconciles: as its lineage records in the DR Region tell it. */
export const FailoverRun = z.object({ failoverId: z.string(), region: z.string(), from: z.string().optional(), secrets: z.number().int(), hmacs: z.boolean() });
export type FailoverRun = z.infer<typeof FailoverRun>;

export const FailbackReport = z.object({
  workflowId: z.string(),
  plan: z.string(),
  failoverId: z.string().optional(),
  /** Every failover since the last completed failback (per secret: since the failback that last verified it), oldest first. */
  failovers: z.array(FailoverRun).optional(),
  /** The original primary Region (where secrets are primary again, unless reverse). */
  from: z.string(),
  /** The DR Region the failover went to. */
  to: z.string(),
  reverse: z.boolean(),
  outcome: FailbackOutcome,
  detail: z.string().optional(),
  /** `secrets-dr cancel`: secrets not reconciled by then were left as they are (skipped, with the reason). */
  cancelled: z.boolean().optional(),
  total: z.number().int(),
  counts: ItemCounts,
  /** Per secret (up to FULL_ITEMS_LIMIT). */
  items: z.array(FailbackItem),
  attention: z.array(FailbackItem),
  problems: z.array(z.string()),
  warnings: z.array(z.string()),
  rotation: z.object({ lambdaArn: z.string().optional(), restored: z.number().int(), failed: z.number().int(), detail: z.string() }).optional(),
  unfenced: z.number().int().optional(),
  /** --reverse: the plan change to make (or made, with --write-plan). */
  planChange: PlanChange.optional(),
  writes: z.object({ expected: z.number().int(), expectedMs: z.number() }),
  durationMs: z.number(),
  startedAt: z.string(),
  finishedAt: z.string(),
});
export type FailbackReport = z.infer<typeof FailbackReport>;

/**
 * Items listed in a report (each of `items` and `attention`): the report is one payload, and Temporal
 * refuses one above 256 KB (an item is ≤ ~400 bytes). The counts cover every secret; `--json` lists these.
 */
export const FULL_ITEMS_LIMIT = 250;

/**
 * What a failback leaves in AWS for the next one (JSON secrets next to the failover's lineage records
 * in the DR Region, names only): the secrets it verified. A failover's promotion of a secret counts
 * until a failback verifies that secret; Temporal history may be gone by then, these records are not.
 */
export const FailbackRecord = z.object({
  kind: z.literal('secrets-dr/failback-record'),
  plan: z.string(),
  /** The failback's start stamp (same format as a failover id, so the two sort together). */
  failbackId: z.string(),
  from: z.string(),
  to: z.string(),
  reverse: z.boolean(),
  part: z.string(),
  names: z.array(z.string()),
});
export type FailbackRecord = z.infer<typeof FailbackRecord>;

export function failbackRecordPrefix(planName: string): string {
  return `secrets-dr/${planName}/failback/`;
}
export function failbackRecordName(planName: string, failbackId: string, part: string): string {
  return `${failbackRecordPrefix(planName)}${failbackId}/${part}`;
}

/**
 * The failovers failback reconciles, per secret: every promotion since the failback that last
 * verified that secret; the baseline ("what the secret was when replication stopped") is the
 * earliest of them — a re-run finds the secret already standalone and may record a value the
 * application wrote in the DR Region since. Ids are UTC stamps (`20261202T045524Z`): they sort
 * as text. Pure.
 */
export function secretsInScope<T extends { name: string }>(
  failovers: ReadonlyArray<{ failoverId: string; secrets: readonly T[] }>,
  failbacks: ReadonlyArray<{ failbackId: string; names: readonly string[] }>,
): Map<string, { failoverId: string; entry: T }> {
  const lastFailback = lastFailbacks(failbacks);
  const out = new Map<string, { failoverId: string; entry: T }>();
  for (const fo of [...failovers].sort((a, b) => (a.failoverId < b.failoverId ? -1 : a.failoverId > b.failoverId ? 1 : 0))) {
    for (const entry of fo.secrets) {
      if (fo.failoverId <= (lastFailback.get(entry.name) ?? '')) continue; // failed back since
      if (!out.has(entry.name)) out.set(entry.name, { failoverId: fo.failoverId, entry });
    }
  }
  return out;
}

function lastFailbacks(failbacks: ReadonlyArray<{ failbackId: string; names: readonly string[] }>): Map<string, string> {
  const last = new Map<string, string>();
  for (const f of failbacks) for (const n of f.names) if ((last.get(n) ?? '') < f.failbackId) last.set(n, f.failbackId);
  return last;
}

/** The failovers with a promotion no later failback verified ("every failover since the last failback"), oldest first. Pure. */
export function openFailovers<T extends { name: string }>(
  failovers: ReadonlyArray<{ failoverId: string; secrets: readonly T[] }>,
  failbacks: ReadonlyArray<{ failbackId: string; names: readonly string[] }>,
): string[] {
  const last = lastFailbacks(failbacks);
  return failovers
    .filter((fo) => fo.secrets.some((e) => fo.failoverId > (last.get(e.name) ?? '')))
    .map((fo) => fo.failoverId)
    .sort();
}

/** Failback's own deny-writes fence on the side replication overwrites, from reconciliation until the overwrite. */
export const FAILBACK_FENCE_SID = 'SecretsDrFailbackDenyWrites';
export const FAILBACK_FENCE_TAG = 'secrets-dr:failback-fenced';
/**
 * What applications could change on a standalone secret. DeleteSecret stays allowed: the
 * force-overwriting replication deletes the secret it replaces (whether AWS evaluates the
 * target's resource policy for that is undocumented; the lab does not).
 */
export const FAILBACK_FENCED_ACTIONS = [
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecret',
  'secretsmanager:UpdateSecretVersionStage',
  'secretsmanager:RotateSecret',
  'secretsmanager:CancelRotateSecret',
] as const;

type PolicyDoc = { Version?: string; Statement?: unknown };
const statementsOf = (doc: PolicyDoc): unknown[] => (Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : []);
/** A statement's Sid; undefined for anything that is not a statement object (a malformed policy never throws). */
const sidOf = (x: unknown): unknown => (typeof x === 'object' && x !== null ? (x as { Sid?: unknown }).Sid : undefined);
const parsePolicy = (text: string | undefined): PolicyDoc => {
  if (!text) return {};
  try {
    const doc: unknown = JSON.parse(text);
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as PolicyDoc) : {};
  } catch {
    return {};
  }
};

/** A resource policy with a deny-to-everyone statement `sid` for `actions` (other statements kept). Pure. */
export function policyWithDeny(existing: string | undefined, sid: string, actions: readonly string[]): string {
  const doc = parsePolicy(existing);
  const others = statementsOf(doc).filter((x) => sidOf(x) !== sid);
  return JSON.stringify({
    Version: doc.Version ?? '2012-10-17',
    Statement: [...others, { Sid: sid, Effect: 'Deny', Principal: '*', Action: [...actions], Resource: '*' }],
  });
}

/** The policy without statement `sid`; undefined when nothing else is left. Pure. */
export function policyWithout(existing: string, sid: string): string | undefined {
  const doc = parsePolicy(existing);
  const rest = statementsOf(doc).filter((x) => sidOf(x) !== sid);
  return rest.length === 0 ? undefined : JSON.stringify({ ...doc, Statement: rest });
}

export const hasStatement = (policy: string | undefined, sid: string): boolean => statementsOf(parsePolicy(policy)).some((x) => sidOf(x) === sid);

/**
 * Whether statement `sid` is still a deny to everyone of every one of `actions` (what policyWithDeny wrote). A fence
 * is judged by this, never by its tag alone: someone may have replaced or edited the policy since. Judged on the
 * parsed statement: Effect Deny; Principal "*" (or {"AWS":"*"}); Resource "*"; every action named (IAM action names
 * are case-insensitive) or covered by "*" / "secretsmanager:*" (no other wildcard is trusted to cover them); and no
 * Condition, NotPrincipal, NotAction or NotResource, each of which narrows the deny. A malformed policy is no fence. Pure.
 */
export function hasDenyStatement(policy: string | undefined, sid: string, actions: readonly string[]): boolean {
  return statementsOf(parsePolicy(policy)).some((x) => sidOf(x) === sid && isFullDeny(x as Record<string, unknown>, actions));
}

const anyOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
const isStar = (v: unknown): boolean => v === '*' || (Array.isArray(v) && v.includes('*'));
function isFullDeny(st: Record<string, unknown>, actions: readonly string[]): boolean {
  if (st.Effect !== 'Deny') return false;
  if (['Condition', 'NotPrincipal', 'NotAction', 'NotResource'].some((k) => k in st)) return false;
  const p = st.Principal;
  const everyone = p === '*' || (typeof p === 'object' && p !== null && !Array.isArray(p) && isStar((p as { AWS?: unknown }).AWS));
  const denied = new Set(anyOf(st.Action).flatMap((a) => (typeof a === 'string' ? [a.toLowerCase()] : [])));
  const covered = denied.has('*') || denied.has('secretsmanager:*') || actions.every((a) => denied.has(a.toLowerCase()));
  return everyone && isStar(st.Resource) && covered;
}

/**
 * The KMS key of the replica failback creates in `target`: the key the plan names for that Region
 * (a DR Region's `kmsKeyId`, or `primaryKmsKeyId` for the primary Region), else the key the secret
 * had there before it was overwritten; undefined only when both are the AWS managed key.
 */
export function replicaKmsKey(plan: RegionKeys, target: string, had: string | undefined): string | undefined {
  const named = target === plan.primaryRegion ? plan.primaryKmsKeyId : plan.drRegions.find((d) => d.region === target)?.kmsKeyId;
  if (named) return named;
  return had && had !== DEFAULT_KMS_KEY ? had : undefined;
}
const DEFAULT_KMS_KEY = 'aws/secretsmanager';
/** The plan's Regions and the KMS key it names for each. */
type RegionKeys = { primaryRegion: string; primaryKmsKeyId?: string; drRegions: ReadonlyArray<{ region: string; kmsKeyId?: string }> };

/** Writes in the Region's shared 50 TPS bucket a plan of items needs (replicate + copy-backs). */
export function expectedWrites(items: readonly FailbackItem[]): number {
  let n = 0;
  for (const i of items) {
    if (i.resolution === 'skip' || i.resolution === 'verify' || i.resolution === 'ask') continue;
    n += 1; // ReplicateSecretToRegions
    if (i.resolution === 'copy-back') n += 1; // PutSecretValue
  }
  return n;
}

export function reversePlanChange(plan: RegionKeys, dr: string): PlanChange {
  const drKey = plan.drRegions.find((d) => d.region === dr)?.kmsKeyId;
  const keys = [
    plan.primaryKmsKeyId
      ? `kmsKeyId: ${plan.primaryKmsKeyId} on that entry (the key its replicas now use)`
      : `no kmsKeyId on that entry (${dr}'s kmsKeyId does not apply to ${plan.primaryRegion}: name a key of ${plan.primaryRegion} there, or its replicas keep the key each secret had)`,
    drKey ? `primaryKmsKeyId: ${drKey}` : undefined,
  ].filter(Boolean);
  return {
    primaryRegion: { from: plan.primaryRegion, to: dr },
    drRegion: { from: dr, to: plan.primaryRegion, ...(plan.primaryKmsKeyId ? { kmsKeyId: plan.primaryKmsKeyId } : {}) },
    ...(drKey ? { primaryKmsKeyId: drKey } : {}),
    note: `set primaryRegion: ${dr} and list ${plan.primaryRegion} under drRegions instead of ${dr}, with ${keys.join('; ')}`,
  };
}
