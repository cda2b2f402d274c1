/**
 * The failover machine (DESIGN.md): pure decisions, no effects. The workflow feeds it events
 * (activity results, signals, updates, timers) through xstate's `transition` and runs the named
 * actions it returns:
 *
 *   preflight ─► awaitingApproval? ─► settlingRotations? ─► fencing? ─► catchingUp? ─► promoting ─► liftingFences?
 *       │              └─► rejected (reject / timeout / cancel)                                              │
 *       ├─► failed (preflight problems)            done | partial | failed ◄─ announcing ◄─ rehoming ◄─ verifying
 *       └─► dryRun (--dry-run)
 *
 * fencing only in planned mode with the old primary reachable; unplanned: the fence is recorded as
 * pending and handed off. catchingUp and liftingFences only in planned mode: wait (bounded) until
 * the replicas hold the fenced primary's AWSCURRENT; lift the fence of what was not promoted.
 * The outcome is decided once, on the way into `announcing` (context.outcome): the event, the
 * final state and the report (the machine's output) all read it.
 *
 * settlingRotations (planned, old primary reachable, some secret with AWSPENDING on a version that
 * is not AWSCURRENT): wait, bounded, for those rotations to finish on the primary before fencing
 * (a fence would deny the rotation's last steps); what does not finish is not fenced nor promoted.
 *
 * PAUSE / RESUME / CANCEL only change context: the batch loop (kit/batch-loop.ts) reads `paused`
 * and `cancelRequested` between batches, so what is promoted stays promoted and is reported.
 */
import { assign, setup } from 'xstate';
import type { FailoverMode } from '../../domain/plan.js';
import type { FailoverOutcome, FenceReport, OutcomeCounts } from '../../domain/failover.js';
import { emptyCounts } from '../../domain/failover.js';
import { ANNOUNCING_STATE, approvalState, CONTROL_TRANSITIONS, controlChange, gateEnded, noop, RUN_FINAL_STATES, runGuards, runOutput } from './run-parts.js';

export interface FailoverMachineInput {
  mode: FailoverMode;
  dryRun: boolean;
  /** plan.failover.requireApproval and not `--yes`. */
  requireApproval: boolean;
  /** plan.failover.fence */
  fence: boolean;
}

export interface FailoverContext extends FailoverMachineInput {
  primaryReachable: boolean;
  toPromote: number;
  /** Secrets to promote with a rotation in flight on the primary at preflight. */
  rotationsInFlight: number;
  problems: string[];
  detail?: string;
  fenceReport: FenceReport;
  counts: OutcomeCounts;
  /** Promoted secrets that verification did not find standalone/readable/writable. */
  unverified: number;
  paused: boolean;
  cancelRequested: boolean;
  /** Decided once: on the way into `announcing`, or by the final transition (rejected, dry run, preflight failure). */
  outcome?: FailoverOutcome;
}

/** What the machine decided: the report's outcome and why. */
export interface FailoverMachineOutput {
  outcome: FailoverOutcome;
  detail?: string;
}

export type FailoverEvent =
  | { type: 'PREFLIGHT_DONE'; problems: string[]; primaryReachable: boolean; toPromote: number; rotationsInFlight?: number }
  | { type: 'ROTATIONS_SETTLED'; refused: number }
  | { type: 'APPROVED'; by?: string }
  | { type: 'REJECTED'; reason?: string }
  | { type: 'APPROVAL_TIMEOUT' }
  | { type: 'FENCE_DONE'; fence: FenceReport }
  | { type: 'CAUGHT_UP' }
  | { type: 'PROMOTION_DONE'; counts: OutcomeCounts }
  | { type: 'FENCES_LIFTED' }
  | { type: 'VERIFY_DONE'; unverified: number }
  | { type: 'REHOME_DONE' }
  | { type: 'ANNOUNCED' }
  | { type: 'PAUSE' }
  | { type: 'RESUME' }
  | { type: 'CANCEL'; reason?: string };

/** The outcome of a failover that ran: failed when nothing is standalone, done when all is well, else partial. */
function decideOutcome(c: FailoverContext): 'done' | 'partial' | 'failed' {
  if (c.toPromote > 0 && c.counts.promoted + c.counts.alreadyStandalone === 0) return 'failed';
  const allWell = !c.cancelRequested && c.counts.failed === 0 && c.counts.skipped === 0 && c.unverified === 0 && c.fenceReport.state !== 'partial';
  return allWell ? 'done' : 'partial';
}

export const failoverMachine = setup({
  types: {
    context: {} as FailoverContext,
    events: {} as FailoverEvent,
    input: {} as FailoverMachineInput,
    output: {} as FailoverMachineOutput,
  },
  guards: {
    ...runGuards,
    preflightFailed: ({ event }) => event.type === 'PREFLIGHT_DONE' && event.problems.length > 0,
    /** Planned mode with the old primary reachable: fence before the first promotion. */
    fenceFirst: ({ context }) => context.fence && context.mode === 'planned' && context.primaryReachable,
    /** Planned mode with the old primary reachable and a rotation in flight there: let it finish first (invariant 11). */
    settleFirst: ({ context }) => context.mode === 'planned' && context.primaryReachable && context.rotationsInFlight > 0,
    isPlanned: ({ context }) => context.mode === 'planned',
    fencePending: ({ context }) => context.fenceReport.state === 'pending' || context.fenceReport.state === 'partial',
  },
  actions: {
    runPreflight: noop,
    requestApproval: noop,
    announceStarted: noop,
    settleRotations: noop,
    applyFence: noop,
    awaitReplicasCaughtUp: noop,
    promote: noop,
    liftFencesNotPromoted: noop,
    verify: noop,
    rehomeRotation: noop,
    handOffFence: noop,
    announceCompleted: noop,
    control: assign(({ event }) => controlChange(event)),
    endAtGate: assign(({ event }) => gateEnded(event)),
    explainFailed: assign({ detail: ({ context }) => context.detail ?? 'no secret could be promoted' }),
    /** Unplanned (or the primary did not answer): the fence waits for the old primary. */
    recordPendingFence: assign({
      fenceReport: ({ context }) =>
        context.fence
          ? {
              state: 'pending' as const,
              fenced: 0,
              failed: 0,
              detail: `${context.primaryReachable ? 'unplanned mode' : 'the old primary does not answer'}: applied when it answers again`,
            }
          : context.fenceReport,
    }),
    decideOutcome: assign({ outcome: ({ context }) => decideOutcome(context) }),
    recordPreflight: assign(({ event }) => {
      if (event.type !== 'PREFLIGHT_DONE') return {};
      return {
        problems: event.problems,
        primaryReachable: event.primaryReachable,
        toPromote: event.toPromote,
        rotationsInFlight: event.rotationsInFlight ?? 0,
      };
    }),
  },
}).createMachine({
  id: 'failover',
  context: ({ input }) => ({
    ...input,
    primaryReachable: false,
    toPromote: 0,
    rotationsInFlight: 0,
    problems: [],
    fenceReport: { state: 'not-requested', fenced: 0, failed: 0 },
    counts: emptyCounts(),
    unverified: 0,
    paused: false,
    cancelRequested: false,
  }),
  initial: 'preflight',
  output: ({ context }) => runOutput(context),
  on: CONTROL_TRANSITIONS,
  states: {
    preflight: {
      entry: 'runPreflight',
      on: {
        PREFLIGHT_DONE: [
          { guard: 'preflightFailed', target: 'failed', actions: ['recordPreflight', assign({ outcome: 'failed', detail: 'preflight found problems' })] },
          { guard: 'isDryRun', target: 'dryRun', actions: ['recordPreflight', assign({ outcome: 'dry-run' })] },
          { guard: 'approvalRequired', target: 'awaitingApproval', actions: 'recordPreflight' },
          { target: 'starting', actions: 'recordPreflight' },
        ],
      },
    },
    awaitingApproval: approvalState('starting'),
    /** Transient: announce, then let rotations in flight settle and fence first (planned) or record the fence as pending. */
    starting: {
      always: [
        { guard: 'settleFirst', target: 'settlingRotations', actions: 'announceStarted' },
        { guard: 'fenceFirst', target: 'fencing', actions: 'announceStarted' },
        { target: 'beforePromotion', actions: ['announceStarted', 'recordPendingFence'] },
      ],
    },
    settlingRotations: {
      entry: 'settleRotations',
      on: {
        ROTATIONS_SETTLED: [
          { guard: 'fenceFirst', target: 'fencing' },
          { target: 'beforePromotion', actions: 'recordPendingFence' },
        ],
      },
    },
    fencing: {
      entry: 'applyFence',
      on: { FENCE_DONE: { target: 'beforePromotion', actions: assign({ fenceReport: ({ event }) => event.fence }) } },
    },
    /** Transient: planned mode lets the replicas catch up with the (fenced) primary first. */
    beforePromotion: {
      always: [{ guard: 'isPlanned', target: 'catchingUp' }, { target: 'promoting' }],
    },
    catchingUp: {
      entry: 'awaitReplicasCaughtUp',
      on: { CAUGHT_UP: { target: 'promoting' } },
    },
    promoting: {
      entry: 'promote',
      on: {
        PROMOTION_DONE: [
          { guard: 'isPlanned', target: 'liftingFences', actions: assign({ counts: ({ event }) => event.counts }) },
          { target: 'verifying', actions: assign({ counts: ({ event }) => event.counts }) },
        ],
      },
    },
    /** Planned: a secret fenced but not promoted must not stay fenced (its only writable copy is the old primary). */
    liftingFences: {
      entry: 'liftFencesNotPromoted',
      on: { FENCES_LIFTED: { target: 'verifying' } },
    },
    verifying: {
      entry: 'verify',
      on: { VERIFY_DONE: { target: 'rehoming', actions: assign({ unverified: ({ event }) => event.unverified }) } },
    },
    rehoming: {
      entry: 'rehomeRotation',
      on: {
        REHOME_DONE: [
          { guard: 'fencePending', target: 'announcing', actions: ['handOffFence', 'decideOutcome'] },
          { target: 'announcing', actions: 'decideOutcome' },
        ],
      },
    },
    announcing: ANNOUNCING_STATE,
    ...RUN_FINAL_STATES,
  },
});
