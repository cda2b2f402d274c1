/**
 * Account setup and account failback (pure decisions; the workflow runs the named effects):
 *
 *   setup:    inspecting ─► creatingReplicas ─► associating ─► awaitingInSync ─► done | partial
 *   failback: preflight ─► reconciling ─► creatingReplicas ─► ...            (same tail: re-associate)
 *   STEP_FAILED (an account or the Region did not answer, a bad plan) from any step ─► failed
 *   preflight problems ─► rejected (nothing written)
 *
 * The outcome is decided once, here: `partial` when any secret needs attention (conflict,
 * failed, never reached InSync), which the CLI turns into exit code 3.
 */
import { assign, setup } from 'xstate';
import type { AccountOperationOutcome } from '../../domain/account-dr.js';

interface AccountSetupMachineInput {
  /** failback: reconcile both sides first (and refuse on preflight problems). */
  failback: boolean;
}

interface AccountSetupContext extends AccountSetupMachineInput {
  problems: string[];
  attention: number;
  failure?: string;
  /** Decided once, on entering a final state; the output reads it. */
  outcome?: AccountOperationOutcome;
}

export type AccountSetupEvent =
  | { type: 'PREFLIGHT_DONE'; problems: string[] }
  | { type: 'RECONCILED'; attention: number }
  | { type: 'INSPECTED'; toSetUp: number }
  | { type: 'REPLICAS_CREATED'; attention: number }
  | { type: 'ASSOCIATED'; attention: number }
  | { type: 'SETTLED'; attention: number }
  | { type: 'STEP_FAILED'; reason: string };

const noop = () => undefined;

export const accountSetupMachine = setup({
  types: {
    context: {} as AccountSetupContext,
    events: {} as AccountSetupEvent,
    input: {} as AccountSetupMachineInput,
    output: {} as AccountOperationOutcome,
  },
  guards: {
    isFailback: ({ context }) => context.failback,
    hasProblems: ({ event }) => event.type === 'PREFLIGHT_DONE' && event.problems.length > 0,
    nothingToSetUp: ({ event }) => event.type === 'INSPECTED' && event.toSetUp === 0,
    needsAttention: ({ context }) => context.attention > 0,
  },
  actions: {
    preflight: noop,
    reconcile: noop,
    inspect: noop,
    createReplicas: noop,
    associate: noop,
    awaitInSync: noop,
    addAttention: assign({ attention: ({ context, event }) => context.attention + ('attention' in event ? event.attention : 0) }),
    recordOutcome: assign({ outcome: (_, params: { outcome: AccountOperationOutcome }) => params.outcome }),
    recordFailure: assign({ failure: ({ event }) => (event.type === 'STEP_FAILED' ? event.reason : undefined) }),
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
    settled: { always: [{ guard: 'needsAttention', target: 'partial' }, { target: 'done' }] },
    done: { type: 'final', entry: { type: 'recordOutcome', params: { outcome: 'done' } } },
    partial: { type: 'final', entry: { type: 'recordOutcome', params: { outcome: 'partial' } } },
    failed: { type: 'final', entry: { type: 'recordOutcome', params: { outcome: 'failed' } } },
    rejected: { type: 'final', entry: { type: 'recordOutcome', params: { outcome: 'rejected' } } },
  },
  output: ({ context }) => context.outcome ?? 'failed',
});
