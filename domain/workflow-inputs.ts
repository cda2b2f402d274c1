/**
 * The inputs of the child and helper workflows (status, restore, setup's replicate / batch /
 * conflict children, the failover's chunk children and its pending fence): zod schemas, JSON-plain,
 * parsed first thing by each workflow, so a caller that sends the wrong shape gets a failure that
 * names the field instead of a workflow that misbehaves later. The top-level procedures keep theirs
 * beside their domain (FailoverInput in failover.ts, FailbackInput in failback.ts, ...).
 */
import { z } from 'zod';
import { ConflictPolicy, PlanPayload } from './plan.js';
import { RecordedRotation } from './failover.js';

const prefix = z.string().optional();

export const StatusWorkflowInput = z.object({
  plan: PlanPayload,
  taskQueuePrefix: prefix,
  /** ListSecrets pages per inventory activity (default 10: 1,000 secrets); tests make it small. */
  pagesPerCall: z.number().int().min(1).optional(),
});
export type StatusWorkflowInput = z.input<typeof StatusWorkflowInput>;

export const RestoreInput = z.object({
  plan: PlanPayload,
  backup: z.string().min(1),
  region: z.string().optional(),
  dryRun: z.boolean().optional(),
  taskQueuePrefix: prefix,
});
export type RestoreInput = z.input<typeof RestoreInput>;

export const ReplicateWorkflowInput = z.object({
  plan: PlanPayload,
  taskQueuePrefix: prefix,
  /** Secrets per batch child (default 100). */
  batchSize: z.number().int().min(1).optional(),
  /** Batch children running at once (default 4: enough to keep the write quota busy while others poll). */
  parallelBatches: z.number().int().min(1).optional(),
});
export type ReplicateWorkflowInput = z.input<typeof ReplicateWorkflowInput>;

export const ReplicateBatchInput = z.object({
  plan: PlanPayload,
  names: z.array(z.string()),
  batch: z.number().int().min(0),
  setupWorkflowId: z.string(),
  taskQueuePrefix: prefix,
});
export type ReplicateBatchInput = z.input<typeof ReplicateBatchInput>;

export const ResolveConflictInput = z.object({
  planName: z.string(),
  bus: z.string(),
  primaryRegion: z.string(),
  region: z.string(),
  secret: z.string(),
  policy: ConflictPolicy,
  approvalTimeoutMs: z.number().min(0),
  kmsKeyId: z.string().optional(),
  writeQuotaShare: z.number().positive().max(1),
  writeQuotaShareMode: z.enum(['fixed', 'auto']).optional(),
  taskQueuePrefix: prefix,
  /** The setup workflow to tell when this conflict waits for a person. */
  setupWorkflowId: z.string().optional(),
});
export type ResolveConflictInput = z.input<typeof ResolveConflictInput>;

export const FailoverChunkInput = z.object({
  parentId: z.string(),
  chunk: z.number().int().min(0),
  planName: z.string(),
  from: z.string(),
  to: z.string(),
  failoverId: z.string(),
  names: z.array(z.string()),
  writeQuotaShare: z.number().positive().max(1),
  /** `auto`: writeQuotaShare is the cap of the adaptive governor; absent (recorded runs) = the governor's current mode. */
  writeQuotaShareMode: z.enum(['fixed', 'auto']).optional(),
  taskQueuePrefix: prefix,
  batchSize: z.number().int().min(1).optional(),
  fencedBeforePromotion: z.boolean().optional(),
  /** Rotation schedules recorded from the primary, per secret of this chunk that rotates. */
  rotation: z.record(z.string(), RecordedRotation).optional(),
});
export type FailoverChunkInput = z.input<typeof FailoverChunkInput>;

/** What a failover run hands to the pending fence (first run: the input; later runs: fenceAddSignal). */
export const FenceRequest = z.object({
  failoverId: z.string(),
  to: z.string(),
  /** Absent: every plan secret that is a primary in the fenced Region. */
  names: z.array(z.string()).optional(),
  suffixes: z.record(z.string(), z.string()).optional(),
});
export type FenceRequest = z.infer<typeof FenceRequest>;

export const FenceWorkflowResult = z.object({
  region: z.string(),
  fenced: z.number(),
  alreadyFenced: z.number(),
  failed: z.array(z.object({ name: z.string(), reason: z.string() })),
  attempts: z.number(),
  appliedAt: z.string(),
  /** The failover runs whose secrets this fence covers. */
  failoverIds: z.array(z.string()).optional(),
});
export type FenceWorkflowResult = z.infer<typeof FenceWorkflowResult>;

export const FenceWorkflowInput = z.object({
  plan: PlanPayload,
  region: z.string(),
  to: z.string(),
  failoverId: z.string(),
  taskQueuePrefix: prefix,
  retryInitialMs: z.number().min(0).optional(),
  deadlineMs: z.number().min(0).optional(),
  /** The secrets to fence (those the failover made standalone); absent: every plan primary there. */
  names: z.array(z.string()).optional(),
  /** Per name, its ARN suffix in `to` (the fence skips a same-named secret with another suffix). */
  suffixes: z.record(z.string(), z.string()).optional(),
  /** Carried through continue-as-new: absolute deadline (epoch ms), attempts so far, requests not applied yet, the result so far. */
  deadlineAt: z.number().optional(),
  attemptsSoFar: z.number().int().min(0).optional(),
  queued: z.array(FenceRequest).optional(),
  resultSoFar: FenceWorkflowResult.optional(),
});
export type FenceWorkflowInput = z.input<typeof FenceWorkflowInput>;
