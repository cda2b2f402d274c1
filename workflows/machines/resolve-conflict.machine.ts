/**
 * A same-named secret in a DR Region that is not our replica. compare (HMACs of both sides' AWSCURRENT,
 * computed in activities) → by policy:
 *   fail → Failed(name-conflict) · skip → Skipped · overwrite-if-identical → overwrite only when equal
 *   backup-then-overwrite → backup → overwrite · adopt → backup → copy the target's value into the
 *   primary → overwrite · ask → wait for the approval update (timeout) → as backup-then-overwrite.
 * Invariant 2 lives in the graph: `forceReplicate` is reachable only from `backingUp`/`adopting`
 * (a backup exists), from `comparing` when the values are identical under overwrite-if-identical,
 * or when the conflicting secret is already gone.
 */
import { assign, setup } from 'xstate';
import type { ConflictPolicy } from '../../domain/plan.js';
import type { ConflictResolution, FailureReason } from '../../domain/replication.js';

export interface ResolveInput {
  secret: string;
  region: string;
  policy: ConflictPolicy;
  approvalTimeoutMs: number;
}

export interface ResolveContext extends ResolveInput {
  identical?: boolean;
  targetArn?: string;
  targetGone: boolean;
  backup?: string;
  adopted: boolean;
  reason?: FailureReason;
  detail?: string;
  replicaArn?: string;
  /** How it ended, set on entering a final state: the machine's output (the resolution) reads it. */
  result?: ConflictResolution['result'];
}

export type ResolveEvent =
  | { type: 'COMPARED'; identical?: boolean; targetArn?: string; targetExists: boolean }
  | { type: 'APPROVED'; by?: string }
  | { type: 'REJECTED'; reason?: string; by?: string }
  | { type: 'APPROVAL_TIMEOUT' }
  | { type: 'BACKED_UP'; backup: string }
  | { type: 'ADOPTED' }
  | { type: 'OVERWRITTEN'; replicaArn: string }
  | { type: 'STEP_FAILED'; reason: FailureReason; message: string };

const policyIs =
  (p: ConflictPolicy) =>
  ({ context }: { context: ResolveContext }) =>
    context.policy === p;

/** STEP_FAILED in any step: the run fails; `what` says what was (not) done. */
const stepFailed = (what: string) => ({ target: 'failed', actions: { type: 'recordStepFailure', params: { what } } }) as const;

export const resolveConflictMachine = setup({
  types: {} as { input: ResolveInput; context: ResolveContext; events: ResolveEvent; output: ConflictResolution },
  guards: {
    targetGone: ({ event }) => event.type === 'COMPARED' && !event.targetExists,
    policyFail: policyIs('fail'),
    policySkip: policyIs('skip'),
    policyAsk: policyIs('ask'),
    identicalAllowed: ({ context, event }) => context.policy === 'overwrite-if-identical' && event.type === 'COMPARED' && event.identical === true,
    policyIdenticalOnly: policyIs('overwrite-if-identical'),
    needsAdopt: ({ context }) => context.policy === 'adopt' && context.identical !== true,
  },
  actions: {
    compare: () => {},
    announceConflict: () => {},
    requestApproval: () => {},
    backup: () => {},
    adopt: () => {},
    forceReplicate: () => {},
    /** What the comparison found (HMACs equal? the target's ARN). */
    recordCompared: assign(({ event }) => (event.type === 'COMPARED' ? { identical: event.identical, targetArn: event.targetArn } : {})),
    /** A step that failed ends the run: its reason, and `what` it left as it was. */
    recordStepFailure: assign(({ event }, { what }: { what: string }) =>
      event.type === 'STEP_FAILED' ? { reason: event.reason, detail: `${what}: ${event.message}` } : {},
    ),
  },
}).createMachine({
  id: 'resolveConflict',
  output: ({ context }) => resolutionOf(context),
  context: ({ input }) => ({ ...input, targetGone: false, adopted: false }),
  initial: 'comparing',
  states: {
    comparing: {
      entry: { type: 'compare' },
      on: {
        COMPARED: [
          // Nothing left to destroy: a plain replication, no backup needed.
          {
            guard: 'targetGone',
            target: 'overwriting',
            actions: assign({ targetGone: true, detail: 'the conflicting secret disappeared before it was touched' }),
          },
          {
            guard: 'policyFail',
            target: 'failed',
            actions: [
              'recordCompared',
              assign({ reason: 'name-conflict' as const, detail: 'a same-named secret exists; policy fail leaves it untouched' }),
              { type: 'announceConflict' },
            ],
          },
          {
            guard: 'policySkip',
            target: 'skipped',
            actions: ['recordCompared', assign({ detail: 'a same-named secret exists; policy skip leaves it untouched' }), { type: 'announceConflict' }],
          },
          { guard: 'identicalAllowed', target: 'overwriting', actions: ['recordCompared', { type: 'announceConflict' }] },
          {
            guard: 'policyIdenticalOnly',
            target: 'failed',
            actions: [
              'recordCompared',
              assign(({ event }) => ({
                reason: 'name-conflict' as const,
                detail:
                  event.identical === false
                    ? 'values differ; policy overwrite-if-identical leaves it untouched'
                    : 'values could not be compared; nothing overwritten',
              })),
              { type: 'announceConflict' },
            ],
          },
          { guard: 'policyAsk', target: 'awaitingApproval', actions: ['recordCompared', { type: 'announceConflict' }] },
          { target: 'backingUp', actions: ['recordCompared', { type: 'announceConflict' }] },
        ],
        STEP_FAILED: stepFailed('could not compare the two sides, nothing changed'),
      },
    },
    awaitingApproval: {
      entry: { type: 'requestApproval', params: ({ context }: { context: ResolveContext }) => ({ timeoutMs: context.approvalTimeoutMs }) },
      on: {
        APPROVED: { target: 'backingUp', actions: assign(({ event }) => ({ detail: `approved${event.by ? ` by ${event.by}` : ''}` })) },
        REJECTED: {
          target: 'failed',
          actions: assign(({ event }) => ({
            reason: 'rejected' as const,
            detail: `rejected${event.by ? ` by ${event.by}` : ''}: ${event.reason ?? 'no reason given'}; nothing changed`,
          })),
        },
        APPROVAL_TIMEOUT: {
          target: 'failed',
          actions: assign(({ context }) => ({
            reason: 'approval-timeout' as const,
            detail: `no answer within ${Math.round(context.approvalTimeoutMs / 1000)}s; nothing changed`,
          })),
        },
      },
    },
    backingUp: {
      entry: { type: 'backup' },
      on: {
        BACKED_UP: [
          { guard: 'needsAdopt', target: 'adopting', actions: assign(({ event }) => ({ backup: event.backup })) },
          { target: 'overwriting', actions: assign(({ event }) => ({ backup: event.backup })) },
        ],
        STEP_FAILED: stepFailed('backup failed, nothing overwritten'),
      },
    },
    adopting: {
      entry: { type: 'adopt' },
      on: {
        ADOPTED: { target: 'overwriting', actions: assign({ adopted: true }) },
        STEP_FAILED: stepFailed('adopt failed (backup kept)'),
      },
    },
    overwriting: {
      entry: {
        type: 'forceReplicate',
        params: ({ context }: { context: ResolveContext }) => ({ force: !context.targetGone, backup: context.backup, identical: context.identical === true }),
      },
      on: {
        OVERWRITTEN: { target: 'done', actions: assign(({ event }) => ({ replicaArn: event.replicaArn })) },
        STEP_FAILED: stepFailed('overwrite failed'),
      },
    },
    done: { type: 'final', entry: assign({ result: 'overwritten' as const }) },
    skipped: { type: 'final', entry: assign({ result: 'skipped' as const }) },
    failed: { type: 'final', entry: assign({ result: 'failed' as const }) },
  },
});

/** The resolution a finished run reports (its `result` was set by the final state it reached). */
function resolutionOf(c: ResolveContext): ConflictResolution {
  const base = {
    secret: c.secret,
    region: c.region,
    policy: c.policy,
    ...(c.identical !== undefined ? { identical: c.identical } : {}),
    ...(c.backup ? { backup: c.backup } : {}),
    ...(c.detail ? { detail: c.detail } : {}),
  };
  if (c.result === 'overwritten') {
    return {
      ...base,
      result: 'overwritten',
      ...(c.adopted ? { adopted: true } : {}),
      ...(c.targetArn && c.replicaArn && c.targetArn !== c.replicaArn && !c.targetGone ? { arnChange: { from: c.targetArn, to: c.replicaArn } } : {}),
    };
  }
  if (c.result === 'skipped') return { ...base, result: 'skipped' };
  return { ...base, result: 'failed', reason: c.reason ?? 'other' };
}
