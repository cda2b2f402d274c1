/**
 * The drill machine (DESIGN.md): pure decisions, no effects. The workflow runs the named effect of
 * each state and feeds back the result as an event:
 *
 *   working: preparing ─► cleaningLeftovers ─► creating ─► replicating ─► measuringRpo ─► promoting ─► verifying ─┐
 *      └── STEP_FAILED / CANCEL from any step ──────────────────────────────────────────────────────────────────────┤
 *                                                                                                                   ▼
 *                                        cleaningUp (always) ─► reporting ─► passed | missedTarget | failed | cancelled
 *
 * The outcome is decided once, when the clean-up reports (`recordOutcome`): the Drill Completed
 * event, the final state and the machine's output (the report's outcome) all read that one value.
 *
 * Clean-up is not optional: every way out of a working state goes through `cleaningUp`, which the
 * workflow runs outside cancellation (compensations, then a sweep of every Region).
 */
import { assign, setup } from 'xstate';
import { drillOutcome, type DrillOutcome, type DrillStep } from '../../domain/drill.js';

interface DrillMachineInput {
  rtoTargetMs: number;
}

export interface DrillContext extends DrillMachineInput {
  failure?: { step: DrillStep; region?: string; reason: string };
  cancelled: boolean;
  leftoversRemoved: number;
  rpoMs?: number;
  rtoMs?: number;
  /** Canaries still present after the clean-up. */
  remaining: number;
  /** Decided once, when the clean-up reports: the event, the final state and the report all read it. */
  outcome?: DrillOutcome;
}

export type DrillEvent =
  | { type: 'PREPARED' }
  | { type: 'LEFTOVERS_CLEANED'; removed: number }
  | { type: 'CREATED' }
  | { type: 'REPLICATED' }
  | { type: 'RPO_MEASURED'; rpoMs: number }
  | { type: 'PROMOTED'; rtoMs: number }
  | { type: 'VERIFIED'; problems: string[] }
  | { type: 'STEP_FAILED'; step: DrillStep; region?: string; reason: string }
  | { type: 'CANCEL'; step: DrillStep; reason?: string }
  | { type: 'CLEANED_UP'; remaining: number }
  | { type: 'REPORTED' };

const noop = () => undefined;

export const drillMachine = setup({
  types: {
    context: {} as DrillContext,
    events: {} as DrillEvent,
    input: {} as DrillMachineInput,
    output: {} as DrillOutcome,
  },
  guards: {
    outcomeIs: ({ context }, params: { outcome: DrillOutcome }) => context.outcome === params.outcome,
    verifyFailed: ({ event }) => event.type === 'VERIFIED' && event.problems.length > 0,
  },
  actions: {
    prepare: noop,
    cleanLeftovers: noop,
    createCanaries: noop,
    replicateCanaries: noop,
    measureRpo: noop,
    promoteCanaries: noop,
    verifyCanaries: noop,
    cleanUp: noop,
    report: noop,
    recordOutcome: assign({
      outcome: ({ context: c }) =>
        drillOutcome({
          cancelled: c.cancelled,
          failed: c.failure !== undefined,
          remaining: c.remaining,
          ...(c.rtoMs !== undefined ? { rtoMs: c.rtoMs } : {}),
          rtoTargetMs: c.rtoTargetMs,
        }),
    }),
    recordCancel: assign({
      cancelled: true,
      failure: ({ event }) => (event.type === 'CANCEL' ? { step: event.step, reason: `cancelled${event.reason ? `: ${event.reason}` : ''}` } : undefined),
    }),
    recordFailure: assign({
      failure: ({ event }) =>
        event.type === 'STEP_FAILED' ? { step: event.step, ...(event.region ? { region: event.region } : {}), reason: event.reason } : undefined,
    }),
  },
}).createMachine({
  id: 'drill',
  output: ({ context }) => context.outcome!,
  context: ({ input }) => ({ ...input, cancelled: false, leftoversRemoved: 0, remaining: 0 }),
  initial: 'working',
  states: {
    /** The drill proper; a failure or a cancel in any of its steps goes to the clean-up. */
    working: {
      initial: 'preparing',
      on: {
        STEP_FAILED: { target: 'cleaningUp', actions: 'recordFailure' },
        CANCEL: { target: 'cleaningUp', actions: 'recordCancel' },
      },
      states: {
        preparing: { entry: 'prepare', on: { PREPARED: 'cleaningLeftovers' } },
        cleaningLeftovers: {
          entry: 'cleanLeftovers',
          on: { LEFTOVERS_CLEANED: { target: 'creating', actions: assign({ leftoversRemoved: ({ event }) => event.removed }) } },
        },
        creating: { entry: 'createCanaries', on: { CREATED: 'replicating' } },
        replicating: { entry: 'replicateCanaries', on: { REPLICATED: 'measuringRpo' } },
        measuringRpo: { entry: 'measureRpo', on: { RPO_MEASURED: { target: 'promoting', actions: assign({ rpoMs: ({ event }) => event.rpoMs }) } } },
        promoting: { entry: 'promoteCanaries', on: { PROMOTED: { target: 'verifying', actions: assign({ rtoMs: ({ event }) => event.rtoMs }) } } },
        verifying: {
          entry: 'verifyCanaries',
          on: {
            VERIFIED: [
              {
                guard: 'verifyFailed',
                target: '#drill.cleaningUp',
                actions: assign({ failure: ({ event }) => ({ step: 'verify' as const, reason: event.type === 'VERIFIED' ? event.problems.join('; ') : '' }) }),
              },
              { target: '#drill.cleaningUp' },
            ],
          },
        },
      },
    },
    cleaningUp: {
      entry: 'cleanUp',
      // A cancel during the clean-up changes nothing: the clean-up runs to its end.
      on: { CLEANED_UP: { target: 'reporting', actions: [assign({ remaining: ({ event }) => event.remaining }), 'recordOutcome'] }, CANCEL: {} },
    },
    reporting: {
      entry: 'report',
      on: {
        REPORTED: [
          { guard: { type: 'outcomeIs', params: { outcome: 'cancelled' } }, target: 'cancelled' },
          { guard: { type: 'outcomeIs', params: { outcome: 'failed' } }, target: 'failed' },
          { guard: { type: 'outcomeIs', params: { outcome: 'missed-target' } }, target: 'missedTarget' },
          { target: 'passed' },
        ],
        CANCEL: {},
      },
    },
    passed: { type: 'final' },
    missedTarget: { type: 'final' },
    failed: { type: 'final' },
    cancelled: { type: 'final' },
  },
});
