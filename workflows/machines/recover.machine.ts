/**
 * The recover machine (DESIGN.md "recover"): EventBridge hints in, at most one failover out.
 *
 *   idle ──HINT (new key)──► confirming ──N failed probes of the primary──┬─► vetoWindow ──elapsed──► failingOver ──► idle
 *    ▲                          │ primary answered (flapping)             │      └─VETO─► idle
 *    │                          ▼                                         └─► awaitingApproval ──approve──► failingOver
 *    └──────────────────────── idle ◄── too soon after the last failover,       └─reject / timeout─► idle
 *                                       or no DR Region answers
 *   idle ──IDLE_TIMEOUT / ROLL_OVER──► ended (output: finished | rollOver, continued as new)
 *
 * Events are hints, polling is truth (invariant 7): only the machine's own consecutive failed probes
 * of the primary (`unhealthyAfter`, one interval apart) confirm an outage. A primary that answers
 * with an error (access denied, expired credentials, throttling) answered: it is not an outage and
 * ends the confirmation at once, with the reason in the journal (invariant 9). Duplicate hints (same
 * dedup key; bounded memory) are counted, never acted on; a hint during a confirmation or a
 * failover joins it. `minDelayBetweenFailovers` counts from the start of the last failover.
 */
import { and, assign, not, setup } from 'xstate';
import type { RecoveryHint } from '../../domain/inbound-events.js';
import { DEDUP_MEMORY } from '../../domain/recover.js';

export interface RecoverMachineInput {
  unhealthyAfter: number;
  automatic: boolean;
  minDelayMs: number;
  seen?: string[];
  hints?: number;
  duplicates?: number;
  failovers?: number;
  lastFailoverAtMs?: number;
  lastFailoverId?: string;
  journal?: Array<{ at: string; what: string }>;
}

export interface RecoverContext extends Required<Omit<RecoverMachineInput, 'lastFailoverAtMs' | 'lastFailoverId'>> {
  lastFailoverAtMs?: number;
  lastFailoverId?: string;
  failedProbes: number;
  lastHint?: RecoveryHint;
  /** First DR Region that answered the last probe round: where to fail over. */
  target?: string;
  lastError?: string;
  end?: RecoverEnd;
}

export type RecoverEvent =
  | { type: 'HINT'; hint: RecoveryHint; at: string }
  /** `problem`: the primary answered with an error (denied, throttled): why that is not an outage. */
  | { type: 'PROBED'; at: string; atMs: number; primaryReachable: boolean; error?: string; problem?: string; target?: string }
  | { type: 'VETO'; at: string; by?: string; reason?: string }
  | { type: 'VETO_WINDOW_ELAPSED'; at: string }
  | { type: 'APPROVED'; at: string; by?: string }
  | { type: 'REJECTED'; at: string; by?: string; reason?: string }
  | { type: 'APPROVAL_TIMEOUT'; at: string }
  | { type: 'FAILOVER_STARTED'; at: string; atMs: number; workflowId: string; attached: boolean }
  | { type: 'FAILOVER_FINISHED'; at: string; outcome: string }
  | { type: 'FAILOVER_START_FAILED'; at: string; error: string }
  /** Idle for the whole idle timeout: this run is over (a later hint starts a fresh one). */
  | { type: 'IDLE_TIMEOUT'; at: string }
  /** Idle, and this run's history is long enough: continue as new with the context carried. */
  | { type: 'ROLL_OVER'; at: string };

/** How a run ends (the machine's output): finished after the idle timeout, or continued as new. */
type RecoverEnd = 'finished' | 'rollOver';

const JOURNAL = 20;
const note = (journal: RecoverContext['journal'], at: string, what: string) => [...journal, { at, what }].slice(-JOURNAL);
const probed = (e: RecoverEvent) => (e.type === 'PROBED' ? e : undefined);
/** Who vetoed and why, as the journal keeps it: " by oncall (maintenance)". */
const vetoNote = (e: RecoverEvent) => (e.type === 'VETO' ? `${e.by ? ` by ${e.by}` : ''}${e.reason ? ` (${e.reason})` : ''}` : '');

export const recoverMachine = setup({
  types: { context: {} as RecoverContext, events: {} as RecoverEvent, input: {} as RecoverMachineInput, output: {} as RecoverEnd },
  guards: {
    isDuplicate: ({ context, event }) => event.type === 'HINT' && context.seen.includes(event.hint.dedupKey),
    primaryAnswered: ({ event }) => probed(event)?.primaryReachable === true,
    outageConfirmed: ({ context, event }) => probed(event)?.primaryReachable === false && context.failedProbes + 1 >= context.unhealthyAfter,
    tooSoon: ({ context, event }) =>
      context.lastFailoverAtMs !== undefined && probed(event) !== undefined && probed(event)!.atMs - context.lastFailoverAtMs < context.minDelayMs,
    noTarget: ({ event }) => probed(event)?.target === undefined,
    automatic: ({ context }) => context.automatic,
  },
  actions: {
    countDuplicate: assign({ duplicates: ({ context }) => context.duplicates + 1 }),
    recordHint: assign(({ context, event }) => {
      if (event.type !== 'HINT') return {};
      return {
        seen: [...context.seen, event.hint.dedupKey].slice(-DEDUP_MEMORY),
        hints: context.hints + 1,
        lastHint: event.hint,
        journal: note(context.journal, event.at, `hint: ${event.hint.summary}`),
      };
    }),
    countFailedProbe: assign(({ context, event }) => ({
      failedProbes: context.failedProbes + 1,
      lastError: probed(event)?.error,
      target: probed(event)?.target,
    })),
    resetProbes: assign({ failedProbes: 0 }),
    journal: assign(({ context, event }, params: { what: string }) => ({ journal: note(context.journal, event.at, params.what) })),
    recordFailover: assign(({ context, event }) => {
      if (event.type !== 'FAILOVER_STARTED') return {};
      return {
        failovers: context.failovers + 1,
        lastFailoverAtMs: event.atMs,
        lastFailoverId: event.workflowId,
        journal: note(context.journal, event.at, `${event.attached ? 'attached to the running' : 'started'} failover ${event.workflowId}`),
      };
    }),
    awaitHint: () => undefined,
    probe: () => undefined,
    openVetoWindow: () => undefined,
    requestApproval: () => undefined,
    startFailover: () => undefined,
  },
}).createMachine({
  id: 'recover',
  output: ({ context }) => context.end ?? 'finished',
  context: ({ input }) => ({
    unhealthyAfter: input.unhealthyAfter,
    automatic: input.automatic,
    minDelayMs: input.minDelayMs,
    seen: input.seen ?? [],
    hints: input.hints ?? 0,
    duplicates: input.duplicates ?? 0,
    failovers: input.failovers ?? 0,
    lastFailoverAtMs: input.lastFailoverAtMs,
    lastFailoverId: input.lastFailoverId,
    journal: input.journal ?? [],
    failedProbes: 0,
  }),
  initial: 'idle',
  // Hints are recorded in every state; only a new one in `idle` starts a confirmation.
  on: { HINT: [{ guard: 'isDuplicate', actions: 'countDuplicate' }, { actions: 'recordHint' }] },
  states: {
    idle: {
      entry: 'awaitHint',
      on: {
        HINT: [
          { guard: 'isDuplicate', actions: 'countDuplicate' },
          { target: 'confirming', actions: ['recordHint', 'resetProbes', 'probe'] },
        ],
        IDLE_TIMEOUT: { target: 'ended', actions: assign({ end: 'finished' as const }) },
        ROLL_OVER: { target: 'ended', actions: assign({ end: 'rollOver' as const }) },
      },
    },
    ended: { type: 'final' },
    confirming: {
      on: {
        PROBED: [
          {
            guard: 'primaryAnswered',
            target: 'idle',
            actions: [
              'resetProbes',
              {
                type: 'journal',
                params: ({ event }) => ({
                  what: probed(event)?.problem
                    ? `the primary answered with an error, not an outage: ${probed(event)!.problem}`
                    : 'the primary answered: outage not confirmed',
                }),
              },
            ],
          },
          {
            guard: and(['outageConfirmed', 'tooSoon']),
            target: 'idle',
            actions: [
              'resetProbes',
              { type: 'journal', params: { what: 'outage confirmed, but the last failover is more recent than minDelayBetweenFailovers: no failover' } },
            ],
          },
          {
            guard: and(['outageConfirmed', 'noTarget']),
            target: 'idle',
            actions: ['resetProbes', { type: 'journal', params: { what: 'outage confirmed, but no DR Region answers: no failover' } }],
          },
          {
            guard: and(['outageConfirmed', 'automatic']),
            target: 'vetoWindow',
            actions: ['countFailedProbe', { type: 'journal', params: { what: 'outage confirmed by our own probes: veto window open' } }],
          },
          {
            guard: and(['outageConfirmed', not('automatic')]),
            target: 'awaitingApproval',
            actions: ['countFailedProbe', { type: 'journal', params: { what: 'outage confirmed by our own probes: approval requested' } }],
          },
          { actions: ['countFailedProbe', 'probe'] },
        ],
      },
    },
    vetoWindow: {
      entry: 'openVetoWindow',
      on: {
        VETO: { target: 'idle', actions: ['resetProbes', { type: 'journal', params: ({ event }) => ({ what: `vetoed${vetoNote(event)}: no failover` }) }] },
        VETO_WINDOW_ELAPSED: 'failingOver',
      },
    },
    awaitingApproval: {
      entry: 'requestApproval',
      on: {
        APPROVED: 'failingOver',
        REJECTED: { target: 'idle', actions: ['resetProbes', { type: 'journal', params: { what: 'rejected: no failover' } }] },
        APPROVAL_TIMEOUT: { target: 'idle', actions: ['resetProbes', { type: 'journal', params: { what: 'approval timed out: no failover' } }] },
      },
    },
    failingOver: {
      entry: 'startFailover',
      on: {
        FAILOVER_STARTED: { actions: 'recordFailover' },
        FAILOVER_FINISHED: {
          target: 'idle',
          actions: ['resetProbes', { type: 'journal', params: ({ event }) => ({ what: `failover finished: ${(event as { outcome: string }).outcome}` }) }],
        },
        FAILOVER_START_FAILED: {
          target: 'idle',
          actions: ['resetProbes', { type: 'journal', params: ({ event }) => ({ what: `failover could not start: ${(event as { error: string }).error}` }) }],
        },
      },
    },
  },
});
