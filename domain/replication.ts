/**
 * Replica setup (the replicate and resolveConflict workflows): the payloads that cross workflow and
 * activity boundaries, and the pure helpers that classify what both Regions say. JSON-plain; never
 * a secret value (invariant 1) — versions are named by id, values compared by HMAC.
 */
import { z } from 'zod';
import type { Plan, ConflictPolicy as ConflictPolicyT } from './plan.js';
import { ConflictPolicy } from './plan.js';
import { matchesSelector } from './selection.js';
import { arnSuffix } from './status.js';

/** Why a secret × Region ended Failed. */
export const FailureReason = z.enum([
  'name-conflict', // a same-named secret that is not our replica (and the policy did not resolve it)
  'kms', // KMS access or key state (primary key or the replica's key)
  'region-not-enabled',
  'deleted', // the primary disappeared or is scheduled for deletion
  'throttled', // the write quota stayed exhausted through every retry
  'timeout', // the replica did not reach InSync within plan.setup.inSyncTimeout
  'rejected', // ask: a person rejected the overwrite
  'approval-timeout', // ask: nobody answered within conflicts.approvalTimeout
  'other',
]);
export type FailureReason = z.infer<typeof FailureReason>;

/** The primary's side of one secret (DescribeSecret in the primary Region). */
export const PrimaryView = z.object({
  name: z.string(),
  exists: z.boolean(),
  arn: z.string().optional(),
  deleted: z.boolean().optional(),
  /** A replica of another Region: not ours to replicate. */
  replicaOf: z.string().optional(),
  current: z.string().optional(),
  tags: z.array(z.tuple([z.string(), z.string()])).optional(),
  replication: z
    .record(z.string(), z.object({ status: z.enum(['InProgress', 'InSync', 'Failed']), message: z.string().optional(), kmsKeyId: z.string().optional() }))
    .optional(),
});
export type PrimaryView = z.infer<typeof PrimaryView>;

/** The DR Region's side: whatever holds the name there. */
export const TargetView = z.object({
  name: z.string(),
  exists: z.boolean(),
  arn: z.string().optional(),
  primaryRegion: z.string().optional(),
  deleted: z.boolean().optional(),
  current: z.string().optional(),
});
export type TargetView = z.infer<typeof TargetView>;

/** What inspecting one secret × DR Region found. */
export const Inspection = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('in-sync'), replicaArn: z.string() }),
  z.object({ kind: z.literal('in-progress') }),
  z.object({ kind: z.literal('free') }),
  z.object({ kind: z.literal('retry-failed'), message: z.string().optional() }),
  z.object({ kind: z.literal('conflict'), targetArn: z.string(), detail: z.string() }),
  z.object({ kind: z.literal('blocked'), reason: FailureReason, detail: z.string() }),
]);
export type Inspection = z.infer<typeof Inspection>;

/** Classifies one secret × DR Region from both sides' descriptions (describe, don't assume). */
export function classifyInspection(primaryRegion: string, region: string, p: PrimaryView, t: TargetView): Inspection {
  if (!p.exists || !p.arn) return { kind: 'blocked', reason: 'deleted', detail: `no longer exists in ${primaryRegion}` };
  if (p.deleted) return { kind: 'blocked', reason: 'deleted', detail: `scheduled for deletion in ${primaryRegion}` };
  if (p.replicaOf) return { kind: 'blocked', reason: 'other', detail: `a replica of ${p.replicaOf} in ${primaryRegion}, not a primary` };
  const entry = p.replication?.[region];
  const ours = t.exists && t.arn !== undefined && t.primaryRegion === primaryRegion && arnSuffix(t.arn) === arnSuffix(p.arn);
  if (t.exists && !ours) {
    if (t.arn && t.primaryRegion === undefined && arnSuffix(t.arn) === arnSuffix(p.arn)) {
      return { kind: 'blocked', reason: 'other', detail: `a promoted former replica (standalone) holds the name in ${region}: that is failback's job` };
    }
    const what = t.primaryRegion
      ? `a replica of another secret (primary in ${t.primaryRegion})`
      : t.deleted
        ? 'a secret scheduled for deletion'
        : 'a secret that is not our replica';
    return { kind: 'conflict', targetArn: t.arn ?? '', detail: `${what} already holds the name in ${region}` };
  }
  if (ours && entry?.status === 'InSync' && t.current !== undefined && t.current === p.current) return { kind: 'in-sync', replicaArn: t.arn! };
  // A failed attempt whose cause is gone (the same-named secret was removed, the key fixed): try again.
  if (entry?.status === 'Failed') return { kind: 'retry-failed', message: entry.message };
  if (entry) return { kind: 'in-progress' };
  return { kind: 'free' };
}

/** A replication failure's reason from AWS's StatusMessage or error (never parsed beyond keywords). */
export function reasonOf(text: string | undefined, errorName?: string): FailureReason {
  const s = `${errorName ?? ''} ${text ?? ''}`;
  if (/already exists/i.test(s)) return 'name-conflict';
  if (/throttl|rate exceeded/i.test(s)) return 'throttled';
  if (/kms|encrypt|decrypt|key/i.test(s)) return 'kms';
  if (/not enabled|not a valid region|opt.?in/i.test(s)) return 'region-not-enabled';
  if (/ResourceNotFound|scheduled for deletion|deleted/i.test(s)) return 'deleted';
  return 'other';
}

/** The conflict policy for one secret: the first matching per-secret override, else the plan's. */
export function conflictPolicyFor(plan: Pick<Plan, 'conflicts'>, name: string, tags: ReadonlyArray<readonly [string, string]> = []): ConflictPolicyT {
  const secret = { name, tags: tags.map(([Key, Value]) => ({ Key, Value })) };
  return plan.conflicts.overrides.find((o) => matchesSelector(o.match, secret))?.policy ?? plan.conflicts.policy;
}

/** Result of one item of a batch write. */
export const ItemResult = z.object({
  name: z.string(),
  region: z.string(),
  ok: z.boolean(),
  /** Nothing was written: the describe-first check found the work done. */
  skipped: z.boolean().optional(),
  reason: FailureReason.optional(),
  message: z.string().optional(),
});
export type ItemResult = z.infer<typeof ItemResult>;

export const StatusItem = z.object({
  name: z.string(),
  region: z.string(),
  status: z.enum(['InProgress', 'InSync', 'Failed', 'missing', 'deleted']),
  message: z.string().optional(),
  primaryCurrent: z.string().optional(),
});
export type StatusItem = z.infer<typeof StatusItem>;

const ArnChange = z.object({ from: z.string(), to: z.string() });

/** How a conflict ended (the resolveConflict child workflow's result). */
export const ConflictResolution = z.object({
  secret: z.string(),
  region: z.string(),
  policy: ConflictPolicy,
  result: z.enum(['overwritten', 'skipped', 'failed']),
  identical: z.boolean().optional(),
  reason: FailureReason.optional(),
  detail: z.string().optional(),
  backup: z.string().optional(),
  adopted: z.boolean().optional(),
  arnChange: ArnChange.optional(),
});
export type ConflictResolution = z.infer<typeof ConflictResolution>;

/** One row of setup's outcome table (secret × DR Region). */
export const SecretOutcome = z.object({
  secret: z.string(),
  region: z.string(),
  state: z.enum(['InSync', 'Failed', 'Skipped']),
  /** What setup did: nothing (already protected), replicated, or resolved a conflict (how). */
  action: z.enum(['none', 'replicated', 'backup-then-overwrite', 'overwrite-identical', 'adopted', 'skipped', 'failed']),
  reason: FailureReason.optional(),
  detail: z.string().optional(),
  /** Observed time from the replication request (or the first look) to InSync. */
  lagMs: z.number().optional(),
  backup: z.string().optional(),
  arnChange: ArnChange.optional(),
});
export type SecretOutcome = z.infer<typeof SecretOutcome>;

export const SetupProgress = z.object({
  phase: z.enum(['starting', 'resolving', 'replicating', 'done']),
  total: z.number().int(),
  done: z.number().int(),
  counts: z.record(z.string(), z.number().int()),
  awaitingApproval: z.array(z.object({ workflowId: z.string(), secret: z.string(), region: z.string() })),
});
export type SetupProgress = z.infer<typeof SetupProgress>;

export const SetupReport = z.object({
  plan: z.string(),
  workflowId: z.string(),
  primaryRegion: z.string(),
  drRegions: z.array(z.string()),
  outcomes: z.array(SecretOutcome),
  /** Outcomes left out of `outcomes` (a fleet above SETUP_OUTCOMES_LIMIT: only those not InSync are listed); `counts` has all. */
  omittedOutcomes: z.number().int().optional(),
  counts: z.record(z.string(), z.number().int()),
  attention: z.number().int(),
  durationMs: z.number(),
});
export type SetupReport = z.infer<typeof SetupReport>;

/** Outcomes a setup report lists in full (≈ 150 bytes each: ~300 KB); above it, only those that are not InSync. */
export const SETUP_OUTCOMES_LIMIT = 2_000;

/** The outcomes a setup report carries: all of them up to SETUP_OUTCOMES_LIMIT, else those not InSync (at most the limit). */
export function listedOutcomes(outcomes: SecretOutcome[], limit = SETUP_OUTCOMES_LIMIT): { outcomes: SecretOutcome[]; omittedOutcomes?: number } {
  if (outcomes.length <= limit) return { outcomes };
  const listed = outcomes.filter((o) => o.state !== 'InSync').slice(0, limit);
  return { outcomes: listed, omittedOutcomes: outcomes.length - listed.length };
}

export function countOutcomes(outcomes: readonly SecretOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o.state] = (counts[o.state] ?? 0) + 1;
  return counts;
}

/** Backups (invariants 2 and 8): names, tags and payloads live in domain/backup.ts. */
export { BACKUP_PREFIX, backupPrefix, backupName, BackupTag, BackupInfo, RestoreResult } from './backup.js';
