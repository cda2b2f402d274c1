/**
 * What the incident-room dashboard shows, as one JSON-plain document (the `/api/state` endpoint and
 * the data inlined in an exported page). Built only from the workflows' own queries and results:
 * names, counts, steps, durations and reasons — never a secret value (invariant 1).
 */
import { z } from 'zod';
import type { MonitorHealth } from '../domain/health.js';
import type { DrillReport } from '../domain/drill.js';

/** The operations the page lists, by the workflow type that runs them. */
export const OPERATION_KINDS = {
  replicateWorkflow: 'setup',
  failoverWorkflow: 'failover',
  failbackWorkflow: 'failback',
  drillWorkflow: 'drill',
  recoverWorkflow: 'recover',
  restoreBackupWorkflow: 'restore',
  fenceWorkflow: 'fence',
} as const;
export type OperationKind = (typeof OPERATION_KINDS)[keyof typeof OPERATION_KINDS];

export const OperationView = z.object({
  kind: z.string(),
  workflowId: z.string(),
  runId: z.string(),
  startedAt: z.string(),
  /** The workflow's own step or phase (from its progress/status query). */
  step: z.string().optional(),
  /** Secrets finished of the total, when the workflow reports it. */
  done: z.number().int().optional(),
  total: z.number().int().optional(),
  /** Per-secret outcomes so far, counted by outcome (`promoted: 12`, `failed: 1`, ...). */
  counts: z.record(z.string(), z.number()).optional(),
  /** One line each: rate, ETA, fence, paused, asks... */
  notes: z.array(z.string()),
  /** Commands that act on it (`secrets-dr watch ID`, ...). */
  commands: z.array(z.string()),
  /** Per-secret outcomes settled so far (from its progress answer). */
  rows: z.array(z.object({ secret: z.string(), region: z.string().optional(), status: z.string(), detail: z.string().optional() })).optional(),
});
export type OperationView = z.infer<typeof OperationView>;

export const ApprovalView = z.object({
  workflowId: z.string(),
  kind: z.string(),
  step: z.string(),
  subject: z.string().optional(),
  requestedAt: z.string(),
  timeoutMs: z.number(),
  approve: z.string(),
  reject: z.string(),
});
export type ApprovalView = z.infer<typeof ApprovalView>;

/** One secret's outcome in a finished operation (never its value). */
export const OutcomeRow = z.object({ secret: z.string(), region: z.string().optional(), status: z.string(), detail: z.string().optional() });
export type OutcomeRow = z.infer<typeof OutcomeRow>;

export const FinishedView = z.object({
  kind: z.string(),
  workflowId: z.string(),
  runId: z.string(),
  status: z.string(),
  closedAt: z.string().optional(),
  outcome: z.string().optional(),
  counts: z.record(z.string(), z.number()).optional(),
  summary: z.string().optional(),
  rows: z.array(OutcomeRow),
  /** Rows left out of `rows` (the page shows at most OUTCOME_ROWS_LIMIT per operation). */
  more: z.number().int(),
});
export type FinishedView = z.infer<typeof FinishedView>;

export const OUTCOME_ROWS_LIMIT = 200;

export interface DrillView {
  workflowId: string;
  startedAt: string;
  status: string;
  report?: DrillReport;
}

export type HealthView = { available: true; monitor: MonitorHealth } | { available: false; reason: string; command: string };

export interface DashboardState {
  generatedAt: string;
  plan: { name: string; primaryRegion: string; drRegions: string[]; rtoTargetMs: number };
  health: HealthView;
  operations: OperationView[];
  approvals: ApprovalView[];
  finished: FinishedView[];
  drills: DrillView[];
  /** What could not be read this time (a query that timed out, ...): shown, never hidden. */
  problems: string[];
}
