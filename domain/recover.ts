/**
 * The recover workflow's contract (DESIGN.md "recover"): hints in (signal-with-start, deduplicated
 * by key), a veto during the veto window, the approval update when the plan does not allow an
 * automatic failover, and the status it answers. JSON-plain; no values.
 */
import { z } from 'zod';
import { PlanPayload } from './plan.js';
import { RecoveryHint } from './inbound-events.js';

export const RECOVER_HINT_SIGNAL = 'hint';
export const VETO_UPDATE = 'veto';
export const RECOVER_STATUS_QUERY = 'recoverStatus';

/** How many recent dedup keys the workflow remembers (bounded memory). */
export const DEDUP_MEMORY = 256;
/** Continue-as-new once this many hints were handled in one run. */
export const HINTS_PER_RUN = 500;

export const VetoRequest = z.object({ by: z.string().max(200).optional(), reason: z.string().max(1_000).optional() });
export type VetoRequest = z.infer<typeof VetoRequest>;

export const RecoverPhase = z.enum(['idle', 'confirming', 'vetoWindow', 'awaitingApproval', 'failingOver']);
export type RecoverPhase = z.infer<typeof RecoverPhase>;

const RecoverEntry = z.object({ at: z.string(), what: z.string() });

export const RecoverCarry = z.object({
  seen: z.array(z.string()),
  hints: z.number().int(),
  duplicates: z.number().int(),
  failovers: z.number().int(),
  lastFailoverAt: z.string().optional(),
  lastFailoverId: z.string().optional(),
  journal: z.array(RecoverEntry),
});
export type RecoverCarry = z.infer<typeof RecoverCarry>;

export const RecoverInput = z.object({
  plan: PlanPayload,
  taskQueuePrefix: z.string().optional(),
  /** Veto window before an automatic failover; default plan.health.interval. */
  vetoWindowMs: z.number().int().min(0).optional(),
  /** Finish after this long without hints (default: max(minDelayBetweenFailovers, 1h)): a later hint starts a fresh run. */
  idleTimeoutMs: z.number().int().min(1).optional(),
  /** The hint that started it (the monitor starts recover as a child with its hint). */
  hint: RecoveryHint.optional(),
  carry: RecoverCarry.optional(),
});
export type RecoverInput = z.input<typeof RecoverInput>;

export const RecoverStatus = z.object({
  plan: z.string(),
  phase: RecoverPhase,
  hints: z.number().int(),
  duplicates: z.number().int(),
  failovers: z.number().int(),
  lastHint: RecoveryHint.optional(),
  /** Consecutive failed probes of the primary in the current confirmation. */
  failedProbes: z.number().int(),
  lastFailoverAt: z.string().optional(),
  failoverWorkflowId: z.string().optional(),
  /** Where the failover would go: the first DR Region that answered the last probe round. */
  target: z.string().optional(),
  /** While the veto window is open: when it closes and the failover starts (`secrets-dr veto` stops it). */
  vetoWindowEndsAt: z.string().optional(),
  journal: z.array(RecoverEntry),
});
export type RecoverStatus = z.infer<typeof RecoverStatus>;
