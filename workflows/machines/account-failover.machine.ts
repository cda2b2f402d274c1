/**
 * Account failover (pure decisions; the workflow runs the named effects):
 *
 *   preflight ─► awaitingApproval? ─► settlingRotations ─► fencing? ─► catchingUp ─► detaching ─► promoting ─► verifying ─► done | partial
 *     (planned: the primary account answers)  └──────────────── (unplanned) ──────────────────────────────┘
 *   preflight problems ─► rejected · REJECTED / APPROVAL_TIMEOUT ─► rejected · STEP_FAILED ─► failed
 *   APPROVED ─► rechecking (preflight again: the gate may have waited long) ─► cutting | rejected | failed (path changed)
 *
 * Fencing first (planned: the primary account answers, and failover.fence), as Region failover
 * does: a deny-writes statement on each primary, so the applications still writing in the primary
 * account are refused instead of losing their writes to a replica that no longer follows; a secret
 * that cannot be fenced needs attention. Then detaching (DisassociateCrossAccountReplica from the
 * primary) is the graceful path: the primary stops sending, both sides agree the link is cut. When the primary account refuses our
 * credentials or does not answer, the replicas are promoted as they stand
 * (StopReplicationToReplica in the recovery account works without the primary) and the report
 * says what that means. A detach that fails for some secrets does not stop promotion. Planned, a
 * rotation in flight is waited for before the fence (which would refuse its last steps) and each
 * replica must catch up with its fenced primary before the detach: a write accepted just before the
 * fence is not cut off. What does not settle in time is neither detached nor promoted (attention).
 */
import { assign, setup } from 'xstate';
import * as outcome from './account-outcome.js';
import type { GateEvent } from '../kit/approval-gate.js';

interface AccountFailoverMachineInput {
  requireApproval: boolean;
  /** failover.fence: fence the primary account's secrets when it answers. */
  fence: boolean;
}

interface AccountFailoverContext extends AccountFailoverMachineInput, outcome.OutcomeContext {
  primaryAnswers: boolean;
  problems: string[];
}

export type AccountFailoverEvent =
  | { type: 'PREFLIGHT_DONE'; problems: string[]; primaryAnswers: boolean; toPromote: number }
  | GateEvent
  | outcome.AttentionEvent<'ROTATIONS_SETTLED'>
  | outcome.AttentionEvent<'FENCED'>
  | outcome.AttentionEvent<'CAUGHT_UP'>
  | outcome.AttentionEvent<'DETACHED'>
  | outcome.AttentionEvent<'PROMOTED'>
  | outcome.AttentionEvent<'VERIFIED'>
  | outcome.StepFailedEvent;

export const accountFailoverMachine = setup({
  types: outcome.accountMachineTypes<AccountFailoverContext, AccountFailoverEvent, AccountFailoverMachineInput>(),
  guards: {
    hasProblems: ({ event }) => event.type === 'PREFLIGHT_DONE' && (event.problems.length > 0 || event.toPromote === 0),
    needsApproval: ({ context }) => context.requireApproval,
    primaryAnswers: ({ context }) => context.primaryAnswers,
    shouldFence: ({ context }) => context.primaryAnswers && context.fence,
    needsAttention: outcome.needsAttention,
    pathChanged: ({ context, event }) => event.type === 'PREFLIGHT_DONE' && event.primaryAnswers !== context.primaryAnswers,
  },
  actions: {
    runPreflight: outcome.effect,
    requestApproval: outcome.effect,
    settleRotations: outcome.effect,
    fence: outcome.effect,
    catchUp: outcome.effect,
    detach: outcome.effect,
    promote: outcome.effect,
    verify: outcome.effect,
    recordPreflight: assign({
      primaryAnswers: ({ event }) => event.type === 'PREFLIGHT_DONE' && event.primaryAnswers,
      problems: ({ event }) => (event.type === 'PREFLIGHT_DONE' ? event.problems : []),
    }),
    addAttention: assign({ attention: ({ context, event }) => outcome.attentionAfter(context, event) }),
    recordOutcome: assign({ outcome: (_, params: outcome.OutcomeParams) => params.outcome }),
    recordPathChange: assign({
      failure: ({ context }) =>
        `the primary account ${context.primaryAnswers ? 'answered at preflight but not after the approval' : 'answers again after the approval'}: the approved ${context.primaryAnswers ? 'planned' : 'unplanned'} path no longer holds; nothing was changed: run the failover again (its dry run shows the new path)`,
    }),
    recordFailure: assign({
      failure: ({ event }) => (event.type === 'STEP_FAILED' ? event.reason : event.type === 'REJECTED' ? event.reason : 'approval timed out'),
    }),
  },
}).createMachine({
  id: 'accountFailover',
  context: ({ input }) => ({ ...input, primaryAnswers: false, problems: [], attention: 0 }),
  initial: 'preflight',
  on: { STEP_FAILED: { target: '.failed', actions: 'recordFailure' } },
  states: {
    preflight: {
      entry: 'runPreflight',
      on: {
        PREFLIGHT_DONE: [
          { guard: 'hasProblems', target: 'rejected', actions: 'recordPreflight' },
          { target: 'approved', actions: 'recordPreflight' },
        ],
      },
    },
    approved: { always: [{ guard: 'needsApproval', target: 'awaitingApproval' }, { target: 'cutting' }] },
    awaitingApproval: outcome.gateState('rechecking'),
    // After the gate (up to failover.approvalTimeout later): probe and inspect again; a path that changed is not acted on.
    rechecking: {
      entry: 'runPreflight',
      on: {
        PREFLIGHT_DONE: [
          { guard: 'hasProblems', target: 'rejected', actions: 'recordPreflight' },
          { guard: 'pathChanged', target: 'failed', actions: 'recordPathChange' },
          { target: 'cutting', actions: 'recordPreflight' },
        ],
      },
    },
    cutting: { always: [{ guard: 'primaryAnswers', target: 'settlingRotations' }, { target: 'promoting' }] },
    settlingRotations: {
      entry: 'settleRotations',
      on: {
        ROTATIONS_SETTLED: [
          { guard: 'shouldFence', target: 'fencing', actions: 'addAttention' },
          { target: 'catchingUp', actions: 'addAttention' },
        ],
      },
    },
    fencing: { entry: 'fence', on: { FENCED: { target: 'catchingUp', actions: 'addAttention' } } },
    catchingUp: { entry: 'catchUp', on: { CAUGHT_UP: { target: 'detaching', actions: 'addAttention' } } },
    detaching: { entry: 'detach', on: { DETACHED: { target: 'promoting', actions: 'addAttention' } } },
    promoting: { entry: 'promote', on: { PROMOTED: { target: 'verifying', actions: 'addAttention' } } },
    verifying: { entry: 'verify', on: { VERIFIED: { target: 'settled', actions: 'addAttention' } } },
    ...outcome.OUTCOME_STATES,
  },
  output: ({ context }) => context.outcome ?? 'failed',
});
