/**
 * The failover machine (DESIGN.md): pure decisions, no effects. The workflow feeds it events
 * (activity results, signals, updates, timers) through xstate's `transition` and runs the named
 * actions it returns:
 *
 *   preflight ─► awaitingApproval? ─► settlingRotations? ─► fencing? ─► promoting ─► verifying ─► rehoming ─► announcing ─► done | partial | failed
 *       │              └─► rejected (reject / timeout / cancel)
 *       ├─► failed (preflight problems)      fencing only in planned mode with the old primary reachable;
 *       └─► dryRun (--dry-run)               unplanned: the fence is recorded as pending and handed off.
 *
 * settlingRotations (planned, old primary reachable, some secret with AWSPENDING on a version that
 * is not AWSCURRENT): wait, bounded, for those rotations to finish on the primary before fencing
 * (a fence would deny the rotation's last steps); what does not finish is not fenced nor promoted.
 *
 * PAUSE / RESUME / CANCEL only change context: the workflow's promotion loop reads `paused` and
 * `cancelRequested` between batches, so what is promoted stays promoted and is reported.
 */
import { assign, setup } from 'xstate';
import type { FailoverMode } from '../../domain/plan.js';
import type { FenceReport, OutcomeCounts } from '../../domain/failover.js';
import { emptyCounts } from '../../domain/failover.js';

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
}

export type FailoverEvent =
  | { type: 'PREFLIGHT_DONE'; problems: string[]; primaryReachable: boolean; toPromote: number; rotationsInFlight?: number }
  | { type: 'ROTATIONS_SETTLED'; refused: number }
  | { type: 'APPROVED'; by?: string }
  | { type: 'REJECTED'; reason?: string }
  | { type: 'APPROVAL_TIMEOUT' }
  | { type: 'FENCE_DONE'; fence: FenceReport }
  | { type: 'PROMOTION_DONE'; counts: OutcomeCounts }
  | { type: 'VERIFY_DONE'; unverified: number }
  | { type: 'REHOME_DONE' }
  | { type: 'ANNOUNCED' }
  | { type: 'PAUSE' }
  | { type: 'RESUME' }
  | { type: 'CANCEL'; reason?: string };

/** Named effects the workflow executes (each produces the event that moves the machine on). */
export type FailoverEffect =
  | 'runPreflight'
  | 'requestApproval'
  | 'announceStarted'
  | 'settleRotations'
  | 'applyFence'
  | 'promote'
  | 'verify'
  | 'rehomeRotation'
  | 'handOffFence'
  | 'announceCompleted';

export const FINAL_STATES = ['done', 'partial', 'failed', 'rejected', 'dryRun'] as const;
export type FailoverFinalState = (typeof FINAL_STATES)[number];

const noop = () => undefined;

export const failoverMachine = setup({
  types: {
    context: {} as FailoverContext,
    events: {} as FailoverEvent,
    input: {} as FailoverMachineInput,
  },
  guards: {
    preflightFailed: ({ event }) => event.type === 'PREFLIGHT_DONE' && event.problems.length > 0,
    isDryRun: ({ context }) => context.dryRun,
    approvalRequired: ({ context }) => context.requireApproval,
    /** Planned mode with the old primary reachable: fence before the first promotion. */
    fenceFirst: ({ context }) => context.fence && context.mode === 'planned' && context.primaryReachable,
    /** Planned mode with the old primary reachable and a rotation in flight there: let it finish first (invariant 11). */
    settleFirst: ({ context }) => context.mode === 'planned' && context.primaryReachable && context.rotationsInFlight > 0,
    fencePending: ({ context }) => context.fenceReport.state === 'pending' || context.fenceReport.state === 'partial',
    nothingStandalone: ({ context }) => context.toPromote > 0 && context.counts.promoted + context.counts.alreadyStandalone === 0,
    allWell: ({ context }) =>
      !context.cancelRequested && context.counts.failed === 0 && context.counts.skipped === 0 && context.unverified === 0 && context.fenceReport.state !== 'partial',
  },
  actions: {
    runPreflight: noop,
    requestApproval: noop,
    announceStarted: noop,
    settleRotations: noop,
    applyFence: noop,
    promote: noop,
    verify: noop,
    rehomeRotation: noop,
    handOffFence: noop,
    announceCompleted: noop,
    /** Unplanned (or the primary did not answer): the fence waits for the old primary. */
    recordPendingFence: assign({
      fenceReport: ({ context }) =>
        context.fence ? { state: 'pending' as const, fenced: 0, failed: 0, detail: `${context.primaryReachable ? 'unplanned mode' : 'the old primary does not answer'}: applied when it answers again` } : context.fenceReport,
    }),
    recordPreflight: assign(({ event }) => {
      if (event.type !== 'PREFLIGHT_DONE') return {};
      return { problems: event.problems, primaryReachable: event.primaryReachable, toPromote: event.toPromote, rotationsInFlight: event.rotationsInFlight ?? 0 };
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
  on: {
    PAUSE: { actions: assign({ paused: true }) },
    RESUME: { actions: assign({ paused: false }) },
    CANCEL: { actions: assign({ cancelRequested: true, paused: false, detail: ({ event }) => `cancelled${event.reason ? `: ${event.reason}` : ''}` }) },
  },
  states: {
    preflight: {
      entry: 'runPreflight',
      on: {
        PREFLIGHT_DONE: [
          { guard: 'preflightFailed', target: 'failed', actions: ['recordPreflight', assign({ detail: 'preflight found problems' })] },
          { guard: 'isDryRun', target: 'dryRun', actions: 'recordPreflight' },
          { guard: 'approvalRequired', target: 'awaitingApproval', actions: 'recordPreflight' },
          { target: 'starting', actions: 'recordPreflight' },
        ],
      },
    },
    awaitingApproval: {
      entry: 'requestApproval',
      on: {
        APPROVED: { target: 'starting' },
        REJECTED: { target: 'rejected', actions: assign({ detail: ({ event }) => `rejected${event.reason ? `: ${event.reason}` : ''}` }) },
        APPROVAL_TIMEOUT: { target: 'rejected', actions: assign({ detail: 'no approval before the timeout: nothing was changed' }) },
        CANCEL: { target: 'rejected', actions: assign({ cancelRequested: true, detail: ({ event }) => `cancelled before approval${event.reason ? `: ${event.reason}` : ''}` }) },
      },
    },
    /** Transient: announce, then let rotations in flight settle and fence first (planned) or record the fence as pending. */
    starting: {
      always: [
        { guard: 'settleFirst', target: 'settlingRotations', actions: 'announceStarted' },
        { guard: 'fenceFirst', target: 'fencing', actions: 'announceStarted' },
        { target: 'promoting', actions: ['announceStarted', 'recordPendingFence'] },
      ],
    },
    settlingRotations: {
      entry: 'settleRotations',
      on: {
        ROTATIONS_SETTLED: [
          { guard: 'fenceFirst', target: 'fencing' },
          { target: 'promoting', actions: 'recordPendingFence' },
        ],
      },
    },
    fencing: {
      entry: 'applyFence',
      on: { FENCE_DONE: { target: 'promoting', actions: assign({ fenceReport: ({ event }) => event.fence }) } },
    },
    promoting: {
      entry: 'promote',
      on: { PROMOTION_DONE: { target: 'verifying', actions: assign({ counts: ({ event }) => event.counts }) } },
    },
    verifying: {
      entry: 'verify',
      on: { VERIFY_DONE: { target: 'rehoming', actions: assign({ unverified: ({ event }) => event.unverified }) } },
    },
    rehoming: {
      entry: 'rehomeRotation',
      on: {
        REHOME_DONE: [
          { guard: 'fencePending', target: 'announcing', actions: 'handOffFence' },
          { target: 'announcing' },
        ],
      },
    },
    announcing: {
      entry: 'announceCompleted',
      on: {
        ANNOUNCED: [
          { guard: 'nothingStandalone', target: 'failed', actions: assign({ detail: ({ context }) => context.detail ?? 'no secret could be promoted' }) },
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

export type FailoverMachine = typeof failoverMachine;
