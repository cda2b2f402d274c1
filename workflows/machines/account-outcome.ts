/**
 * What the account machines (setup/failback, failover) share: how a run ends. Steps report how many
 * secrets need attention; `settled` decides done or partial from their sum; every final state
 * records its outcome once, on entry (the machine's output reads it), so the outcome is decided in
 * one place, never again in the workflow.
 */
import type { AccountOperationOutcome } from '../../domain/account-dr.js';

/** The context every account machine keeps for its outcome. */
export interface OutcomeContext {
  attention: number;
  failure?: string;
  outcome?: AccountOperationOutcome;
}

/** A step's answer: how many secrets it left needing attention. */
export type AttentionEvent<T extends string> = { type: T; attention: number };
/** Any step that could not run (an account or the Region did not answer, a bad plan): the run fails. */
export type StepFailedEvent = { type: 'STEP_FAILED'; reason: string };

/** The machine's types: its context, events and input; the output is always the outcome. */
export const accountMachineTypes = <C extends OutcomeContext, E extends { type: string }, I>() => ({
  context: {} as C,
  events: {} as E,
  input: {} as I,
  output: {} as AccountOperationOutcome,
});

/** An effect the workflow runs: the machine only names it. */
export const effect = () => undefined;

/** The run's attention after a step's answer (its count added). */
export const attentionAfter = (context: OutcomeContext, event: { type: string }) =>
  context.attention + ('attention' in event && typeof event.attention === 'number' ? event.attention : 0);

/** The params of `recordOutcome`, the action each final state runs on entry. */
export type OutcomeParams = { outcome: AccountOperationOutcome };

/** The approval gate's state (approval-gate.ts): approved goes to `next` (a re-check), rejected or timed out ends rejected. */
export const gateState = (next: string) =>
  ({
    entry: 'requestApproval',
    on: {
      APPROVED: next,
      REJECTED: { target: 'rejected', actions: 'recordFailure' },
      APPROVAL_TIMEOUT: { target: 'rejected', actions: 'recordFailure' },
    },
  }) as const;

/** `settled` (done, or partial when any secret needs attention) and the final states, each recording its outcome. */
export const OUTCOME_STATES = {
  settled: { always: [{ guard: 'needsAttention', target: 'partial' }, { target: 'done' }] },
  done: { type: 'final', entry: { type: 'recordOutcome', params: { outcome: 'done' } } },
  partial: { type: 'final', entry: { type: 'recordOutcome', params: { outcome: 'partial' } } },
  failed: { type: 'final', entry: { type: 'recordOutcome', params: { outcome: 'failed' } } },
  rejected: { type: 'final', entry: { type: 'recordOutcome', params: { outcome: 'rejected' } } },
} as const;

/** Whether any step left a secret needing attention. */
export const needsAttention = ({ context }: { context: OutcomeContext }) => context.attention > 0;
