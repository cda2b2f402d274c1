/**
 * One secret × one DR Region of `setup`: inspect both sides → free: replicate | conflict: resolve
 * (a child workflow) → wait for InSync (bounded polling) → verify the replica → InSync | Failed(reason).
 * Pure: guards and assign only; `inspect`, `replicate`, `resolveConflict`, `pollStatus` and
 * `verifyReplica` are named actions the workflow executes (batched across secrets) and answers
 * with events. Time comes in on events (`at`, workflow time), so the machine never reads a clock.
 */
import { assign, setup } from 'xstate';
import type { ConflictPolicy } from '../../domain/plan.js';
import type { ConflictResolution, FailureReason, Inspection, SecretOutcome, StatusItem, TargetView } from '../../domain/replication.js';
import { reasonOf } from '../../domain/replication.js';
import { arnSuffix } from '../../domain/status.js';

interface ReplicateInput {
  secret: string;
  region: string;
  primaryRegion: string;
  kmsKeyId?: string;
  inSyncTimeoutMs: number;
}

export interface ReplicateContext extends ReplicateInput {
  policy: ConflictPolicy;
  action: SecretOutcome['action'];
  /** When the wait for InSync began (workflow time, ms). */
  waitStartedAt?: number;
  primaryArn?: string;
  primaryCurrent?: string;
  targetArn?: string;
  /** A late conflict (found while waiting) is resolved at most once. */
  conflictTried: boolean;
  reason?: FailureReason;
  detail?: string;
  lagMs?: number;
  backup?: string;
  arnChange?: { from: string; to: string };
}

export type ReplicateEvent =
  | { type: 'INSPECTED'; inspection: Inspection; policy: ConflictPolicy; primaryArn?: string; at: number }
  | { type: 'REPLICATED'; at: number }
  | { type: 'REPLICATE_FAILED'; reason: FailureReason; message: string }
  | { type: 'RESOLVED'; resolution: ConflictResolution; at: number }
  | { type: 'STATUS'; status: StatusItem; at: number }
  | { type: 'VERIFIED'; target: TargetView; at: number };

const timedOut = (c: ReplicateContext, at: number) => c.waitStartedAt !== undefined && at - c.waitStartedAt >= c.inSyncTimeoutMs;

export const replicateMachine = setup({
  types: {} as { input: ReplicateInput; context: ReplicateContext; events: ReplicateEvent },
  guards: {
    inSync: ({ event }) => event.type === 'INSPECTED' && event.inspection.kind === 'in-sync',
    inProgress: ({ event }) => event.type === 'INSPECTED' && event.inspection.kind === 'in-progress',
    replicable: ({ event }) => event.type === 'INSPECTED' && (event.inspection.kind === 'free' || event.inspection.kind === 'retry-failed'),
    conflict: ({ event }) => event.type === 'INSPECTED' && event.inspection.kind === 'conflict',
    resolvedByOverwrite: ({ event }) => event.type === 'RESOLVED' && event.resolution.result === 'overwritten',
    resolvedBySkip: ({ event }) => event.type === 'RESOLVED' && event.resolution.result === 'skipped',
    statusInSync: ({ event }) => event.type === 'STATUS' && event.status.status === 'InSync',
    lateConflict: ({ context, event }) =>
      event.type === 'STATUS' && event.status.status === 'Failed' && reasonOf(event.status.message) === 'name-conflict' && !context.conflictTried,
    statusFailed: ({ event }) =>
      event.type === 'STATUS' && (event.status.status === 'Failed' || event.status.status === 'deleted' || event.status.status === 'missing'),
    timedOut: ({ context, event }) => 'at' in event && timedOut(context, event.at),
    replicaMatches: ({ context, event }) =>
      event.type === 'VERIFIED' &&
      event.target.exists &&
      event.target.primaryRegion === context.primaryRegion &&
      (context.primaryArn === undefined || (event.target.arn !== undefined && arnSuffix(event.target.arn) === arnSuffix(context.primaryArn))) &&
      (context.primaryCurrent === undefined || event.target.current === context.primaryCurrent),
  },
  actions: {
    // Side effects: executed by the workflow (batched), answered with events.
    inspect: () => {},
    replicate: () => {},
    resolveConflict: () => {},
    pollStatus: () => {},
    verifyReplica: () => {},
  },
}).createMachine({
  id: 'replicate',
  context: ({ input }) => ({ ...input, policy: 'backup-then-overwrite', action: 'none', conflictTried: false }),
  initial: 'inspecting',
  states: {
    inspecting: {
      entry: { type: 'inspect' },
      on: {
        INSPECTED: [
          {
            guard: 'inSync',
            target: 'inSync',
            actions: assign(({ event }) => (event.inspection.kind === 'in-sync' ? { action: 'none' as const, lagMs: 0 } : {})),
          },
          { guard: 'inProgress', target: 'waitingInSync', actions: assign(({ event }) => ({ waitStartedAt: event.at, primaryArn: event.primaryArn })) },
          { guard: 'replicable', target: 'replicating', actions: assign(({ event }) => ({ policy: event.policy, primaryArn: event.primaryArn })) },
          {
            guard: 'conflict',
            target: 'resolvingConflict',
            actions: assign(({ event }) => ({
              policy: event.policy,
              primaryArn: event.primaryArn,
              targetArn: event.inspection.kind === 'conflict' ? event.inspection.targetArn : undefined,
              detail: event.inspection.kind === 'conflict' ? event.inspection.detail : undefined,
            })),
          },
          {
            target: 'failed',
            actions: assign(({ event }) =>
              event.inspection.kind === 'blocked'
                ? { reason: event.inspection.reason, detail: event.inspection.detail }
                : { reason: 'other' as const, detail: 'unexpected inspection' },
            ),
          },
        ],
      },
    },
    replicating: {
      entry: {
        type: 'replicate',
        params: ({ context }: { context: ReplicateContext }) => ({ secret: context.secret, region: context.region, kmsKeyId: context.kmsKeyId }),
      },
      on: {
        REPLICATED: { target: 'waitingInSync', actions: assign(({ event }) => ({ waitStartedAt: event.at, action: 'replicated' as const })) },
        REPLICATE_FAILED: { target: 'failed', actions: assign(({ event }) => ({ reason: event.reason, detail: event.message })) },
      },
    },
    resolvingConflict: {
      entry: {
        type: 'resolveConflict',
        params: ({ context }: { context: ReplicateContext }) => ({
          secret: context.secret,
          region: context.region,
          policy: context.policy,
          kmsKeyId: context.kmsKeyId,
        }),
      },
      on: {
        RESOLVED: [
          {
            guard: 'resolvedByOverwrite',
            target: 'waitingInSync',
            actions: assign(({ event }) => {
              const r = event.resolution;
              const action = r.adopted
                ? ('adopted' as const)
                : r.backup
                  ? ('backup-then-overwrite' as const)
                  : r.identical
                    ? ('overwrite-identical' as const)
                    : ('replicated' as const);
              return { waitStartedAt: event.at, action, backup: r.backup, arnChange: r.arnChange, detail: r.detail, conflictTried: true };
            }),
          },
          { guard: 'resolvedBySkip', target: 'skipped', actions: assign(({ event }) => ({ action: 'skipped' as const, detail: event.resolution.detail })) },
          {
            target: 'failed',
            actions: assign(({ event }) => ({
              reason: event.resolution.reason ?? 'name-conflict',
              detail: event.resolution.detail,
              backup: event.resolution.backup,
            })),
          },
        ],
      },
    },
    waitingInSync: {
      entry: { type: 'pollStatus', params: ({ context }: { context: ReplicateContext }) => ({ secret: context.secret, region: context.region }) },
      on: {
        STATUS: [
          { guard: 'statusInSync', target: 'verifying', actions: assign(({ event }) => ({ primaryCurrent: event.status.primaryCurrent })) },
          { guard: 'lateConflict', target: 'resolvingConflict', actions: assign({ conflictTried: true }) },
          {
            guard: 'statusFailed',
            target: 'failed',
            actions: assign(({ event }) => ({
              reason: event.status.status === 'Failed' ? reasonOf(event.status.message) : ('deleted' as const),
              detail: event.status.message ?? `the primary is ${event.status.status}`,
            })),
          },
          {
            guard: 'timedOut',
            target: 'failed',
            actions: assign(({ context, event }) => ({
              reason: 'timeout' as const,
              detail: `still InProgress after ${Math.round((event.at - (context.waitStartedAt ?? event.at)) / 1000)}s (limit setup.inSyncTimeout = ${Math.round(context.inSyncTimeoutMs / 1000)}s)`,
            })),
          },
          { target: 'waitingInSync', reenter: true },
        ],
      },
    },
    verifying: {
      entry: { type: 'verifyReplica', params: ({ context }: { context: ReplicateContext }) => ({ secret: context.secret, region: context.region }) },
      on: {
        VERIFIED: [
          {
            guard: 'replicaMatches',
            target: 'inSync',
            actions: assign(({ context, event }) => ({ lagMs: Math.max(0, event.at - (context.waitStartedAt ?? event.at)) })),
          },
          // The primary moved on (a rotation) while we looked: wait for the next sync, within the same bound.
          {
            guard: 'timedOut',
            target: 'failed',
            actions: assign({ reason: 'timeout' as const, detail: 'the replica never matched the primary’s AWSCURRENT' }),
          },
          { target: 'waitingInSync' },
        ],
      },
    },
    inSync: { type: 'final' },
    skipped: { type: 'final' },
    failed: { type: 'final' },
  },
});

/** The row of the outcome table for a machine that reached a final state. */
export function outcomeOf(context: ReplicateContext, state: string): SecretOutcome {
  const base = { secret: context.secret, region: context.region };
  const extra = { ...(context.backup ? { backup: context.backup } : {}), ...(context.arnChange ? { arnChange: context.arnChange } : {}) };
  if (state === 'inSync')
    return {
      ...base,
      state: 'InSync',
      action: context.action,
      ...(context.lagMs !== undefined ? { lagMs: context.lagMs } : {}),
      ...(context.detail ? { detail: context.detail } : {}),
      ...extra,
    };
  if (state === 'skipped')
    return { ...base, state: 'Skipped', action: 'skipped', detail: context.detail ?? `conflict left in place (policy ${context.policy})`, ...extra };
  return { ...base, state: 'Failed', action: 'failed', reason: context.reason ?? 'other', ...(context.detail ? { detail: context.detail } : {}), ...extra };
}
