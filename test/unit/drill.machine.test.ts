import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { drillMachine, type DrillEvent } from '../../workflows/machines/drill.machine.js';
import { drillOutcome } from '../../domain/drill.js';

/** Runs events from the initial state; returns the state value and every effect, in order. */
function run(events: DrillEvent[], rtoTargetMs = 60_000) {
  let [snap, actions] = initialTransition(drillMachine, { rtoTargetMs });
  const types = actions.map((a) => a.type);
  for (const ev of events) {
    [snap, actions] = transition(drillMachine, snap as never, ev);
    types.push(...actions.map((a) => a.type));
  }
  const s = snap as AnyMachineSnapshot;
  return {
    state: JSON.stringify(s.value),
    actions: types.filter((t) => !t.startsWith('xstate.') && !t.startsWith('record')),
    context: s.context,
    status: s.status,
    output: s.output as unknown,
  };
}

const upTo: Record<string, DrillEvent[]> = {};
const happy: DrillEvent[] = [
  { type: 'PREPARED' },
  { type: 'LEFTOVERS_CLEANED', removed: 2 },
  { type: 'CREATED' },
  { type: 'REPLICATED' },
  { type: 'RPO_MEASURED', rpoMs: 2_100 },
  { type: 'PROMOTED', rtoMs: 450 },
  { type: 'VERIFIED', problems: [] },
];
const tail: DrillEvent[] = [{ type: 'CLEANED_UP', remaining: 0 }, { type: 'REPORTED' }];
const ALL = ['prepare', 'cleanLeftovers', 'createCanaries', 'replicateCanaries', 'measureRpo', 'promoteCanaries', 'verifyCanaries', 'cleanUp', 'report'];
const steps = ['prepare', 'cleanLeftovers', 'create', 'replicate', 'measureRpo', 'promote', 'verify'] as const;
steps.forEach((s, i) => (upTo[s] = happy.slice(0, i)));

describe('drill machine (pure; no Temporal)', () => {
  it('starts by preparing', () => {
    const r = run([]);
    expect(r.state).toBe('{"working":"preparing"}');
    expect(r.actions).toEqual(['prepare']);
  });

  const table: Array<{ name: string; events: DrillEvent[]; state: string; actions: string[]; rtoTargetMs?: number }> = [
    { name: 'every step succeeds within the RTO target: passed', events: [...happy, ...tail], state: '"passed"', actions: ALL },
    {
      name: 'RTO above the target: missedTarget (still cleaned up and reported)',
      events: [...happy, ...tail],
      rtoTargetMs: 100,
      state: '"missedTarget"',
      actions: ALL,
    },
    {
      name: 'verification finds problems: failed, cleaned up',
      events: [...happy.slice(0, 6), { type: 'VERIFIED', problems: ['x in r: still a replica'] }, ...tail],
      state: '"failed"',
      actions: ALL,
    },
    {
      name: 'clean-up leaves canaries behind: failed',
      events: [...happy, { type: 'CLEANED_UP', remaining: 1 }, { type: 'REPORTED' }],
      state: '"failed"',
      actions: ALL,
    },
    ...steps.map((s, i) => ({
      name: `${s} fails: straight to the clean-up, then failed`,
      events: [...upTo[s]!, { type: 'STEP_FAILED' as const, step: s, region: 'r', reason: 'boom' }, ...tail],
      state: '"failed"',
      actions: [...ALL.slice(0, i + 1), 'cleanUp', 'report'],
    })),
    ...steps.map((s, i) => ({
      name: `cancelled during ${s}: cleaned up, then cancelled`,
      events: [...upTo[s]!, { type: 'CANCEL' as const, step: s }, ...tail],
      state: '"cancelled"',
      actions: [...ALL.slice(0, i + 1), 'cleanUp', 'report'],
    })),
  ];
  it.each(table)('$name', ({ events, state, actions, rtoTargetMs }) => {
    const r = run(events, rtoTargetMs);
    expect(r.state).toBe(state);
    expect(r.actions).toEqual(actions);
    expect(r.status).toBe('done');
  });

  it('decides the outcome once: the context the report event reads, the final state and the output agree', () => {
    for (const [events, rtoTargetMs, outcome] of [
      [[...happy, ...tail], 60_000, 'passed'],
      [[...happy, ...tail], 100, 'missed-target'],
      [[...upTo.promote!, { type: 'CANCEL', step: 'promote' }, ...tail], 60_000, 'cancelled'],
    ] as const) {
      const r = run([...events], rtoTargetMs);
      expect(r.context.outcome).toBe(outcome);
      expect(r.output).toBe(outcome);
    }
  });

  it('records the failing step, Region and reason, and the figures measured before it', () => {
    const r = run([...upTo.verify!.slice(0, 5), { type: 'STEP_FAILED', step: 'promote', region: 'ap-northeast-3', reason: 'AccessDeniedException' }]);
    expect(r.state).toBe('"cleaningUp"');
    expect(r.context).toMatchObject({
      failure: { step: 'promote', region: 'ap-northeast-3', reason: 'AccessDeniedException' },
      rpoMs: 2_100,
      leftoversRemoved: 2,
    });
  });

  it('a cancel during the clean-up or the report changes nothing: the clean-up runs to its end', () => {
    const r = run([
      ...happy,
      { type: 'CANCEL', step: 'cleanUp' },
      { type: 'CLEANED_UP', remaining: 0 },
      { type: 'CANCEL', step: 'cleanUp' },
      { type: 'REPORTED' },
    ]);
    expect(r.state).toBe('"passed"');
    expect(r.actions).toEqual(ALL);
  });

  it('ignores results that do not belong to the current step', () => {
    const r = run([
      { type: 'PROMOTED', rtoMs: 1 },
      { type: 'CLEANED_UP', remaining: 0 },
    ]);
    expect(r.state).toBe('{"working":"preparing"}');
  });
});

describe('drill outcome', () => {
  it.each([
    [{ cancelled: true, failed: true, remaining: 0, rtoTargetMs: 1 }, 'cancelled'],
    [{ cancelled: false, failed: true, remaining: 0, rtoTargetMs: 1 }, 'failed'],
    [{ cancelled: false, failed: false, remaining: 2, rtoTargetMs: 1 }, 'failed'],
    [{ cancelled: false, failed: false, remaining: 0, rtoMs: 5, rtoTargetMs: 1 }, 'missed-target'],
    [{ cancelled: false, failed: false, remaining: 0, rtoMs: 1, rtoTargetMs: 1 }, 'passed'],
  ] as const)('%o → %s', (input, outcome) => expect(drillOutcome(input)).toBe(outcome));
});
