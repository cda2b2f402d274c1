/**
 * The failback machine (DESIGN.md): pure decisions, no effects. The workflow feeds it events
 * (activity and child results, the approval update, timers) through xstate's `transition` and runs
 * the named actions it returns:
 *
 *   preflight ─► awaitingApproval? ─► reconciling ─► reReplicating ─► awaitingInSync ─► verifying
 *       │              └─► rejected        │                                              │
 *       ├─► failed (problems)              └─► announcing (nothing to re-replicate)         ▼
 *       └─► dryRun (--dry-run)       restoringRotation ◄───────────────────────── (not --reverse)
 *                                          ▼
 *                                      unfencing ─► announcing ─► done | partial | failed
 *
 * Per-secret decisions (what changed where, policy, asks) live in domain/failback.ts and the
 * reconciling step; this machine orders the fleet-wide steps and decides the outcome. With
 * --reverse the DR Region stays primary: rotation already lives there and the old primary's
 * fence disappears with the overwrite, so both steps are skipped.
 */
import { assign, setup } from 'xstate';

export interface FailbackMachineInput {
  reverse: boolean;
  dryRun: boolean;
  /** plan.failover.requireApproval and not `--yes`. */
  requireApproval: boolean;
}

export interface FailbackContext extends FailbackMachineInput {
  total: number;
  problems: string[];
  /** Secrets reconciled and ready to (re-)replicate or verify. */
  ready: number;
  verified: number;
  /** Secrets skipped or failed so far. */
  attention: number;
  unfenceFailed: number;
  detail?: string;
}

export type FailbackEvent =
  | { type: 'PREFLIGHT_DONE'; problems: string[]; total: number }
  | { type: 'APPROVED'; by?: string }
  | { type: 'REJECTED'; reason?: string }
  | { type: 'APPROVAL_TIMEOUT' }
  | { type: 'RECONCILED'; ready: number; attention: number }
  | { type: 'REREPLICATED'; failed: number }
  | { type: 'IN_SYNC'; notInSync: number }
  | { type: 'VERIFIED'; verified: number; mismatched: number }
  | { type: 'ROTATION_RESTORED' }
  | { type: 'UNFENCED'; failed: number }
  | { type: 'ANNOUNCED' };

/** Named effects the workflow executes (each produces the event that moves the machine on). */
export type FailbackEffect =
  | 'runPreflight'
  | 'requestApproval'
  | 'reconcile'
  | 'reReplicate'
  | 'awaitInSync'
  | 'verify'
  | 'restoreRotation'
  | 'unfence'
  | 'announceCompleted';

export const FAILBACK_FINAL_STATES = ['done', 'partial', 'failed', 'rejected', 'dryRun'] as const;

const noop = () => undefined;

export const failbackMachine = setup({
  types: {
    context: {} as FailbackContext,
    events: {} as FailbackEvent,
    input: {} as FailbackMachineInput,
  },
  guards: {
    preflightFailed: ({ event }) => event.type === 'PREFLIGHT_DONE' && event.problems.length > 0,
    isDryRun: ({ context }) => context.dryRun,
    approvalRequired: ({ context }) => context.requireApproval,
    nothingReady: ({ event }) => event.type === 'RECONCILED' && event.ready === 0,
    isReverse: ({ context }) => context.reverse,
    nothingFailedBack: ({ context }) => context.total > 0 && context.verified === 0,
    allWell: ({ context }) => context.attention === 0 && context.verified === context.total && context.unfenceFailed === 0,
  },
  actions: {
    runPreflight: noop,
    requestApproval: noop,
    reconcile: noop,
    reReplicate: noop,
    awaitInSync: noop,
    verify: noop,
    restoreRotation: noop,
    unfence: noop,
    announceCompleted: noop,
  },
}).createMachine({
  id: 'failback',
  context: ({ input }) => ({ ...input, total: 0, problems: [], ready: 0, verified: 0, attention: 0, unfenceFailed: 0 }),
  initial: 'preflight',
  states: {
    preflight: {
      entry: 'runPreflight',
      on: {
        PREFLIGHT_DONE: [
          { guard: 'preflightFailed', target: 'failed', actions: assign({ problems: ({ event }) => event.problems, detail: 'preflight found problems: nothing was changed' }) },
          { guard: 'isDryRun', target: 'dryRun', actions: assign({ total: ({ event }) => event.total }) },
          { guard: 'approvalRequired', target: 'awaitingApproval', actions: assign({ total: ({ event }) => event.total }) },
          { target: 'reconciling', actions: assign({ total: ({ event }) => event.total }) },
        ],
      },
    },
    awaitingApproval: {
      entry: 'requestApproval',
      on: {
        APPROVED: { target: 'reconciling' },
        REJECTED: { target: 'rejected', actions: assign({ detail: ({ event }) => `rejected${event.reason ? `: ${event.reason}` : ''}: nothing was changed` }) },
        APPROVAL_TIMEOUT: { target: 'rejected', actions: assign({ detail: 'no approval before the timeout: nothing was changed' }) },
      },
    },
    reconciling: {
      entry: 'reconcile',
      on: {
        RECONCILED: [
          { guard: 'nothingReady', target: 'announcing', actions: assign({ ready: 0, attention: ({ event }) => event.attention }) },
          { target: 'reReplicating', actions: assign({ ready: ({ event }) => event.ready, attention: ({ event }) => event.attention }) },
        ],
      },
    },
    reReplicating: {
      entry: 'reReplicate',
      on: { REREPLICATED: { target: 'awaitingInSync', actions: assign({ attention: ({ context, event }) => context.attention + event.failed }) } },
    },
    awaitingInSync: {
      entry: 'awaitInSync',
      on: { IN_SYNC: { target: 'verifying', actions: assign({ attention: ({ context, event }) => context.attention + event.notInSync }) } },
    },
    verifying: {
      entry: 'verify',
      on: {
        VERIFIED: [
          { guard: 'isReverse', target: 'announcing', actions: assign({ verified: ({ event }) => event.verified, attention: ({ context, event }) => context.attention + event.mismatched }) },
          { target: 'restoringRotation', actions: assign({ verified: ({ event }) => event.verified, attention: ({ context, event }) => context.attention + event.mismatched }) },
        ],
      },
    },
    restoringRotation: {
      entry: 'restoreRotation',
      on: { ROTATION_RESTORED: { target: 'unfencing' } },
    },
    unfencing: {
      entry: 'unfence',
      on: { UNFENCED: { target: 'announcing', actions: assign({ unfenceFailed: ({ event }) => event.failed }) } },
    },
    announcing: {
      entry: 'announceCompleted',
      on: {
        ANNOUNCED: [
          { guard: 'nothingFailedBack', target: 'failed', actions: assign({ detail: ({ context }) => context.detail ?? 'no secret could be failed back' }) },
          { guard: 'allWell', target: 'done' },
          { target: 'partial' },
        ],
      },
    },
    done: { type: 'final' },
    partial: { type: 'final' },
    failed: { type: 'final' },
    rejected: { type: 'final' },
    dryRun: { type: 'final' },
  },
});

export type FailbackMachine = typeof failbackMachine;
