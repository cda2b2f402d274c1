/**
 * The parts the failover and failback machines share: what a run with an approval gate, control
 * signals and one decided outcome looks like. Plain data and pure functions (no xstate generics):
 * each machine names the actions in its own `setup` (one line each, calling the functions here)
 * and the states below refer to them by name, so both machines still read on one screen.
 *
 * Actions each machine defines (by these names): `requestApproval` (effect), `control`
 * (assign: `controlChange`), `endAtGate` (assign: `gateEnded`), `explainFailed` (assign: the
 * failure's detail when none was given), `announceCompleted` (effect).
 */

/** What a run machine keeps for the parts below. */
interface RunContext<O extends string> {
  outcome?: O;
  detail?: string;
}

/** The events the parts below read: control signals and the approval gate's answers carry an optional reason. */
interface ReasonEvent {
  type: string;
  reason?: string;
}

export const noop = (): undefined => undefined;

const because = (reason?: string) => (reason ? `: ${reason}` : '');

/** Guards by the same name in both machines. */
export const runGuards = {
  isDryRun: ({ context }: { context: { dryRun: boolean } }) => context.dryRun,
  approvalRequired: ({ context }: { context: { requireApproval: boolean } }) => context.requireApproval,
  outcomeFailed: ({ context }: { context: RunContext<string> }) => context.outcome === 'failed',
  outcomeDone: ({ context }: { context: RunContext<string> }) => context.outcome === 'done',
};

/** The machine's output: the outcome decided once (none yet: failed) and why. */
export function runOutput<O extends string>({ outcome, detail }: RunContext<O>): { outcome: O | 'failed'; detail?: string } {
  return { outcome: outcome ?? 'failed', ...(detail ? { detail } : {}) };
}

/**
 * PAUSE / RESUME / CANCEL change context only (the batch loop reads `paused` and `cancelRequested`
 * between batches). `cancelled` ends the detail of a cancel (what a cancel leaves as it is).
 */
export function controlChange(event: ReasonEvent, cancelled = ''): { paused: boolean; cancelRequested?: true; detail?: string } {
  if (event.type === 'PAUSE') return { paused: true };
  if (event.type === 'RESUME') return { paused: false };
  return { cancelRequested: true, paused: false, detail: `cancelled${because(event.reason)}${cancelled}` };
}

/** The root transitions of the control signals (action `control`). */
export const CONTROL_TRANSITIONS = {
  PAUSE: { actions: 'control' },
  RESUME: { actions: 'control' },
  CANCEL: { actions: 'control' },
} as const;

/** A run the approval gate ends (REJECTED, APPROVAL_TIMEOUT or CANCEL): rejected, and why; `unchanged` ends each detail. */
export function gateEnded(event: ReasonEvent, unchanged = ''): { outcome: 'rejected'; detail: string; cancelRequested?: true } {
  if (event.type === 'APPROVAL_TIMEOUT') return { outcome: 'rejected', detail: 'no approval before the timeout: nothing was changed' };
  if (event.type === 'CANCEL') return { outcome: 'rejected', cancelRequested: true, detail: `cancelled before approval${because(event.reason)}${unchanged}` };
  return { outcome: 'rejected', detail: `rejected${because(event.reason)}${unchanged}` };
}

/** Waiting at the approval gate (effect `requestApproval`): approved goes on to `approved`, anything else ends rejected. */
export function approvalState<T extends string>(approved: T) {
  return {
    entry: 'requestApproval',
    on: {
      APPROVED: { target: approved },
      REJECTED: { target: 'rejected', actions: 'endAtGate' },
      APPROVAL_TIMEOUT: { target: 'rejected', actions: 'endAtGate' },
      CANCEL: { target: 'rejected', actions: 'endAtGate' },
    },
  } as const;
}

/** Announcing the outcome decided on the way in (effect `announceCompleted`), then the final state it names. */
export const ANNOUNCING_STATE = {
  entry: 'announceCompleted',
  on: {
    ANNOUNCED: [{ guard: 'outcomeFailed', target: 'failed', actions: 'explainFailed' }, { guard: 'outcomeDone', target: 'done' }, { target: 'partial' }],
  },
} as const;

/** The final states of a run, one per outcome. */
export const RUN_FINAL_STATES = {
  done: { type: 'final' },
  partial: { type: 'final' },
  failed: { type: 'final' },
  rejected: { type: 'final' },
  dryRun: { type: 'final' },
} as const;
