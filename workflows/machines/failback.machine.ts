/**
 * The failback machine (DESIGN.md): pure decisions, no effects. The workflow feeds it events
 * (activity and child results, the approval update, timers) through xstate's `transition` and runs
 * the named actions it returns:
 *
 *   preflight ─► awaitingApproval? ─► reconciling ─► reReplicating ─► awaitingInSync ─► verifying
 *       │              └─► rejected        │                                              │
 *       ├─► failed (problems)              └─► deciding (nothing to re-replicate)           ▼
 *       └─► dryRun (--dry-run)       restoringRotation ◄───────────────────────── (not --reverse)
 *                                          ▼
 *                                      unfencing ─► deciding ─► announcing ─► done | partial | failed
 *
 * The outcome is decided once, in `deciding` (context.outcome): the completion event, the final
 * state and the report (the machine's output) all read it. PAUSE / RESUME / CANCEL change context:
 * the batch loop holds between chunks while paused; after CANCEL no further secret is reconciled
 * (those already reconciled are carried through, so none is left half done) and the outcome is at
 * best partial. CANCEL while waiting for approval ends the failback: nothing was changed.
 *
 * Per-secret decisions (what changed where, policy, asks) live in domain/failback.ts and the
 * reconciling step; this machine orders the fleet-wide steps and decides the outcome. With
 * --reverse the DR Region stays primary: rotation already lives there and the old primary's
 * fence disappears with the overwrite, so both steps are skipped.
 */
import { assign, setup } from 'xstate';
import type { FailbackOutcome } from '../../domain/failback.js';
import { ANNOUNCING_STATE, approvalState, CONTROL_TRANSITIONS, controlChange, gateEnded, noop, RUN_FINAL_STATES, runGuards, runOutput } from './run-parts.js';

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
  paused: boolean;
  cancelRequested: boolean;
  outcome?: FailbackOutcome;
}

/** What the machine decided: the report's outcome and why. */
export interface FailbackMachineOutput {
  outcome: FailbackOutcome;
  detail?: string;
}

/** The outcome of a failback that ran: failed when nothing failed back, done when all is well, else partial. */
function decideFailbackOutcome(c: FailbackContext): 'done' | 'partial' | 'failed' {
  if (c.total > 0 && c.verified === 0) return 'failed';
  return !c.cancelRequested && c.attention === 0 && c.verified === c.total && c.unfenceFailed === 0 ? 'done' : 'partial';
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
  | { type: 'ANNOUNCED' }
  | { type: 'PAUSE' }
  | { type: 'RESUME' }
  | { type: 'CANCEL'; reason?: string };

export const failbackMachine = setup({
  types: {
    context: {} as FailbackContext,
    events: {} as FailbackEvent,
    input: {} as FailbackMachineInput,
    output: {} as FailbackMachineOutput,
  },
  guards: {
    ...runGuards,
    preflightFailed: ({ event }) => event.type === 'PREFLIGHT_DONE' && event.problems.length > 0,
    nothingReady: ({ event }) => event.type === 'RECONCILED' && event.ready === 0,
    isReverse: ({ context }) => context.reverse,
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
    control: assign(({ event }) => controlChange(event, ': secrets not reconciled yet were left as they are')),
    endAtGate: assign(({ event }) => gateEnded(event, ': nothing was changed')),
    explainFailed: assign({ detail: ({ context }) => context.detail ?? 'no secret could be failed back' }),
  },
}).createMachine({
  id: 'failback',
  context: ({ input }) => ({ ...input, total: 0, problems: [], ready: 0, verified: 0, attention: 0, unfenceFailed: 0, paused: false, cancelRequested: false }),
  initial: 'preflight',
  output: ({ context }) => runOutput(context),
  on: CONTROL_TRANSITIONS,
  states: {
    preflight: {
      entry: 'runPreflight',
      on: {
        PREFLIGHT_DONE: [
          {
            guard: 'preflightFailed',
            target: 'failed',
            actions: assign({ outcome: 'failed', problems: ({ event }) => event.problems, detail: 'preflight found problems: nothing was changed' }),
          },
          { guard: 'isDryRun', target: 'dryRun', actions: assign({ outcome: 'dry-run', total: ({ event }) => event.total }) },
          { guard: 'approvalRequired', target: 'awaitingApproval', actions: assign({ total: ({ event }) => event.total }) },
          { target: 'reconciling', actions: assign({ total: ({ event }) => event.total }) },
        ],
      },
    },
    awaitingApproval: approvalState('reconciling'),
    reconciling: {
      entry: 'reconcile',
      on: {
        RECONCILED: [
          { guard: 'nothingReady', target: 'deciding', actions: assign({ ready: 0, attention: ({ event }) => event.attention }) },
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
          {
            guard: 'isReverse',
            target: 'deciding',
            actions: assign({ verified: ({ event }) => event.verified, attention: ({ context, event }) => context.attention + event.mismatched }),
          },
          {
            target: 'restoringRotation',
            actions: assign({ verified: ({ event }) => event.verified, attention: ({ context, event }) => context.attention + event.mismatched }),
          },
        ],
      },
    },
    restoringRotation: {
      entry: 'restoreRotation',
      on: { ROTATION_RESTORED: { target: 'unfencing' } },
    },
    unfencing: {
      entry: 'unfence',
      on: { UNFENCED: { target: 'deciding', actions: assign({ unfenceFailed: ({ event }) => event.failed }) } },
    },
    /** Transient: the outcome, decided once. */
    deciding: {
      always: { target: 'announcing', actions: assign({ outcome: ({ context }) => decideFailbackOutcome(context) }) },
    },
    announcing: ANNOUNCING_STATE,
    ...RUN_FINAL_STATES,
  },
});
