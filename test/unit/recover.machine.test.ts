import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { recoverMachine, type RecoverEvent, type RecoverMachineInput } from '../../workflows/machines/recover.machine.js';
import type { RecoveryHint } from '../../domain/inbound-events.js';

const at = '2026-01-01T00:00:00.000Z';
const hint = (key: string): RecoverEvent => ({
  type: 'HINT',
  at,
  hint: { eventId: key, dedupKey: key, kind: 'alarm', region: 'ap-northeast-1', summary: `alarm ${key}`, receivedAt: at } as RecoveryHint,
});
const down = (atMs = 1_000_000, target: string | undefined = 'ap-northeast-3'): RecoverEvent => ({
  type: 'PROBED',
  at,
  atMs,
  primaryReachable: false,
  error: 'refused',
  target,
});
const noTarget: RecoverEvent = { type: 'PROBED', at, atMs: 1, primaryReachable: false, error: 'refused' };
const up: RecoverEvent = { type: 'PROBED', at, atMs: 1_000_000, primaryReachable: true, target: 'ap-northeast-3' };
const started = (atMs = 1_000_000): RecoverEvent => ({ type: 'FAILOVER_STARTED', at, atMs, workflowId: 'secrets-dr/p/failover', attached: false });
const finished: RecoverEvent = { type: 'FAILOVER_FINISHED', at, outcome: 'done' };
const base: RecoverMachineInput = { unhealthyAfter: 3, automatic: true, minDelayMs: 30 * 60_000 };

function run(input: Partial<RecoverMachineInput>, events: RecoverEvent[]) {
  let [snap, actions] = initialTransition(recoverMachine, { ...base, ...input });
  const types: string[] = actions.map((a) => a.type);
  for (const e of events) {
    [snap, actions] = transition(recoverMachine, snap as never, e);
    types.push(...actions.map((a) => a.type));
  }
  const s = snap as AnyMachineSnapshot;
  return {
    state: s.value as string,
    effects: types.filter((t) => ['probe', 'openVetoWindow', 'requestApproval', 'startFailover'].includes(t)),
    context: s.context,
  };
}

describe('recover machine (pure; no Temporal)', () => {
  const table: Array<{ name: string; input?: Partial<RecoverMachineInput>; events: RecoverEvent[]; state: string; effects: string[] }> = [
    {
      name: 'automatic: a hint, N failed probes, veto window, one failover',
      events: [hint('a'), down(), down(), down(), { type: 'VETO_WINDOW_ELAPSED', at }, started(), finished],
      state: 'idle',
      effects: ['probe', 'probe', 'probe', 'openVetoWindow', 'startFailover'],
    },
    {
      name: 'five duplicates and more hints during the confirmation: still one confirmation, one failover',
      events: [
        hint('a'),
        hint('a'),
        hint('b'),
        down(),
        hint('a'),
        hint('c'),
        down(),
        hint('b'),
        down(),
        { type: 'VETO_WINDOW_ELAPSED', at },
        hint('d'),
        started(),
      ],
      state: 'failingOver',
      effects: ['probe', 'probe', 'probe', 'openVetoWindow', 'startFailover'],
    },
    {
      name: 'flapping: the primary answers before N failures, no failover',
      events: [hint('a'), down(), down(), up, hint('b'), down(), up],
      state: 'idle',
      effects: ['probe', 'probe', 'probe', 'probe', 'probe'],
    },
    {
      name: 'vetoed in the window: no failover',
      events: [hint('a'), down(), down(), down(), { type: 'VETO', at, by: 'oncall' }, { type: 'VETO_WINDOW_ELAPSED', at }],
      state: 'idle',
      effects: ['probe', 'probe', 'probe', 'openVetoWindow'],
    },
    {
      name: 'not automatic: approval requested; approve starts the failover',
      input: { automatic: false },
      events: [hint('a'), down(), down(), down(), { type: 'APPROVED', at, by: 'oncall' }],
      state: 'failingOver',
      effects: ['probe', 'probe', 'probe', 'requestApproval', 'startFailover'],
    },
    {
      name: 'not automatic: rejected or timed out, nothing starts',
      input: { automatic: false },
      events: [hint('a'), down(), down(), down(), { type: 'APPROVAL_TIMEOUT', at }],
      state: 'idle',
      effects: ['probe', 'probe', 'probe', 'requestApproval'],
    },
    {
      name: 'minDelayBetweenFailovers: a confirmed outage soon after a failover starts none',
      events: [
        hint('a'),
        down(),
        down(),
        down(),
        { type: 'VETO_WINDOW_ELAPSED', at },
        started(1_000_000),
        finished,
        hint('b'),
        down(1_060_000),
        down(1_060_000),
        down(1_060_000),
      ],
      state: 'idle',
      effects: ['probe', 'probe', 'probe', 'openVetoWindow', 'startFailover', 'probe', 'probe', 'probe'],
    },
    {
      name: 'after minDelayBetweenFailovers a new outage may fail over again',
      events: [
        hint('a'),
        down(),
        down(),
        down(),
        { type: 'VETO_WINDOW_ELAPSED', at },
        started(1_000_000),
        finished,
        hint('b'),
        down(3_000_000),
        down(3_000_000),
        down(3_000_000),
      ],
      state: 'vetoWindow',
      effects: ['probe', 'probe', 'probe', 'openVetoWindow', 'startFailover', 'probe', 'probe', 'probe', 'openVetoWindow'],
    },
    { name: 'no DR Region answers: no failover', events: [hint('a'), noTarget, noTarget, noTarget], state: 'idle', effects: ['probe', 'probe', 'probe'] },
  ];
  for (const t of table) {
    it(t.name, () => {
      const r = run(t.input ?? {}, t.events);
      expect(r.state).toBe(t.state);
      expect(r.effects).toEqual(t.effects);
    });
  }

  it('remembers a bounded number of dedup keys and counts duplicates', () => {
    const events: RecoverEvent[] = [];
    for (let i = 0; i < 600; i++) events.push(hint(`k${i}`), hint(`k${i}`));
    const r = run({}, events);
    expect(r.context.seen.length).toBe(256);
    expect(r.context.hints).toBe(600);
    expect(r.context.duplicates).toBe(600);
  });

  it('a primary that answers "access denied" or "throttled" is not an outage: the confirmation ends at once, saying why', () => {
    for (const problem of [
      'ap-northeast-1 refused the probe (AccessDeniedException: no): a permission or credentials problem, not an outage',
      'probes of ap-northeast-1 are throttled (ThrottlingException: Rate exceeded): not an outage',
    ]) {
      const answered: RecoverEvent = { type: 'PROBED', at, atMs: 1_000_000, primaryReachable: true, error: problem, problem, target: 'ap-northeast-3' };
      const r = run({}, [hint('a'), answered, hint('b'), answered, answered]);
      expect(r.state).toBe('idle');
      expect(r.effects).toEqual(['probe', 'probe']);
      expect(r.context.journal.map((j: { what: string }) => j.what)).toContain(`the primary answered with an error, not an outage: ${problem}`);
    }
  });

  it('a veto keeps who vetoed and why in the journal', () => {
    const r = run({}, [hint('a'), down(), down(), down(), { type: 'VETO', at, by: 'oncall', reason: 'planned maintenance' }]);
    expect(r.state).toBe('idle');
    expect(r.context.journal.at(-1)?.what).toBe('vetoed by oncall (planned maintenance): no failover');
  });

  it('idle: the idle timeout ends the run, a long run rolls over; the output says which (decided by the machine)', () => {
    for (const [type, end] of [
      ['IDLE_TIMEOUT', 'finished'],
      ['ROLL_OVER', 'rollOver'],
    ] as const) {
      let [snap] = initialTransition(recoverMachine, base);
      [snap] = transition(recoverMachine, snap, { type, at });
      expect(snap.status).toBe('done');
      expect(snap.output).toBe(end);
    }
    // Only idle ends a run: a confirmation in progress is not cut short.
    let [busy] = initialTransition(recoverMachine, base);
    [busy] = transition(recoverMachine, busy, hint('a'));
    [busy] = transition(recoverMachine, busy, { type: 'IDLE_TIMEOUT', at });
    expect(busy.value).toBe('confirming');
  });
});
