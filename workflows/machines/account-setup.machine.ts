/**
 * Account setup and account failback (pure decisions; the workflow runs the named effects):
 *
 *   setup:    inspecting ─► creatingReplicas ─► associating ─► awaitingInSync ─► done | partial
 *   failback: preflight ─► awaitingApproval? ─► (preflight again) ─► reconciling ─► creatingReplicas ─► ...   (same tail: re-associate)
 *   REJECTED / APPROVAL_TIMEOUT ─► rejected (nothing written)
 *   STEP_FAILED (an account or the Region did not answer, a bad plan) from any step ─► failed
 *   preflight problems ─► rejected (nothing written)
 *
 * The outcome is decided once, here: `partial` when any secret needs attention (conflict,
 * failed, never reached InSync), which the CLI turns into exit code 3.
 */
import { assign, setup } from 'xstate';
import * as outcome from './account-outcome.js';
import type { GateEvent } from '../kit/approval-gate.js';

interface AccountSetupMachineInput {
  /** failback: reconcile both sides first (and refuse on preflight problems). */
  failback: boolean;
  /** failback: the plan's approval gate (failover.requireApproval, unless answered at start). */
  requireApproval?: boolean;
}

interface AccountSetupContext extends AccountSetupMachineInput, outcome.OutcomeContext {
  problems: string[];
}

export type AccountSetupEvent =
  | { type: 'PREFLIGHT_DONE'; problems: string[] }
  | GateEvent
  | outcome.AttentionEvent<'RECONCILED'>
  | { type: 'INSPECTED'; toSetUp: number }
  | outcome.AttentionEvent<'REPLICAS_CREATED'>
  | outcome.AttentionEvent<'ASSOCIATED'>
  | outcome.AttentionEvent<'SETTLED'>
  | outcome.StepFailedEvent;

export const accountSetupMachine = setup({
  types: outcome.accountMachineTypes<AccountSetupContext, AccountSetupEvent, AccountSetupMachineInput>(),
  guards: {
    isFailback: ({ context }) => context.failback,
    hasProblems: ({ event }) => event.type === 'PREFLIGHT_DONE' && event.problems.length > 0,
    needsApproval: ({ context }) => context.requireApproval === true,
    nothingToSetUp: ({ event }) => event.type === 'INSPECTED' && event.toSetUp === 0,
    needsAttention: outcome.needsAttention,
  },
  actions: {
    preflight: outcome.effect,
    requestApproval: outcome.effect,
    reconcile: outcome.effect,
    inspect: outcome.effect,
    createReplicas: outcome.effect,
    associate: outcome.effect,
    awaitInSync: outcome.effect,
    addAttention: assign({ attention: ({ context, event }) => outcome.attentionAfter(context, event) }),
    recordOutcome: assign({ outcome: (_, params: outcome.OutcomeParams) => params.outcome }),
    recordFailure: assign({
      failure: ({ event }) =>
        event.type === 'STEP_FAILED' || event.type === 'REJECTED' ? event.reason : event.type === 'APPROVAL_TIMEOUT' ? 'approval timed out' : undefined,
    }),
  },
}).createMachine({
  id: 'accountSetup',
  context: ({ input }) => ({ ...input, problems: [], attention: 0 }),
  initial: 'starting',
  on: { STEP_FAILED: { target: '.failed', actions: 'recordFailure' } },
  states: {
    starting: { always: [{ guard: 'isFailback', target: 'preflight' }, { target: 'inspecting' }] },
    preflight: {
      entry: 'preflight',
      on: {
        PREFLIGHT_DONE: [
          { guard: 'hasProblems', target: 'rejected', actions: assign({ problems: ({ event }) => event.problems }) },
          { guard: 'needsApproval', target: 'awaitingApproval' },
          { target: 'reconciling' },
        ],
      },
    },
    awaitingApproval: outcome.gateState('rechecking'),
    // After the gate (up to failback.approvalTimeout later): both accounts are probed and the promoted copies found again.
    rechecking: {
      entry: 'preflight',
      on: {
        PREFLIGHT_DONE: [{ guard: 'hasProblems', target: 'rejected', actions: assign({ problems: ({ event }) => event.problems }) }, { target: 'reconciling' }],
      },
    },
    reconciling: { entry: 'reconcile', on: { RECONCILED: { target: 'inspecting', actions: 'addAttention' } } },
    inspecting: {
      entry: 'inspect',
      on: { INSPECTED: [{ guard: 'nothingToSetUp', target: 'settled' }, { target: 'creatingReplicas' }] },
    },
    creatingReplicas: { entry: 'createReplicas', on: { REPLICAS_CREATED: { target: 'associating', actions: 'addAttention' } } },
    associating: { entry: 'associate', on: { ASSOCIATED: { target: 'awaitingInSync', actions: 'addAttention' } } },
    awaitingInSync: { entry: 'awaitInSync', on: { SETTLED: { target: 'settled', actions: 'addAttention' } } },
    ...outcome.OUTCOME_STATES,
  },
  output: ({ context }) => context.outcome ?? 'failed',
});
