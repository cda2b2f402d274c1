import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { failoverMachine, type FailoverEvent, type FailoverMachineInput } from '../../workflows/machines/failover.machine.js';
import { annotateOutcome, emptyCounts, expectedPromotionMs, planFleet, rotationInFlightOf, runsOf, type FleetEntry } from '../../domain/failover.js';

const base: FailoverMachineInput = { mode: 'unplanned', dryRun: false, requireApproval: false, fence: true };
const ok = (over: Partial<Extract<FailoverEvent, { type: 'PREFLIGHT_DONE' }>> = {}): FailoverEvent => ({
  type: 'PREFLIGHT_DONE',
  problems: [],
  primaryReachable: false,
  toPromote: 3,
  ...over,
});
const counts = (c: Partial<ReturnType<typeof emptyCounts>>) => ({ ...emptyCounts(), ...c });

/** Runs events from the initial state; returns the state value and every action type, in order. */
function run(input: Partial<FailoverMachineInput>, events: FailoverEvent[]) {
  let [snap, actions] = initialTransition(failoverMachine, { ...base, ...input });
  const types = actions.map((a) => a.type);
  for (const ev of events) {
    [snap, actions] = transition(failoverMachine, snap as never, ev);
    types.push(...actions.map((a) => a.type));
  }
  return {
    state: (snap as AnyMachineSnapshot).value as string,
    actions: types.filter((t) => !t.startsWith('xstate.')),
    context: (snap as AnyMachineSnapshot).context,
  };
}

/** Unplanned, after preflight: a promotion with these counts, then verification (`unverified` not verified), rehoming, announcing. */
const unplannedTail = (promotion: Partial<ReturnType<typeof emptyCounts>>, unverified = 0): FailoverEvent[] => [
  { type: 'PROMOTION_DONE', counts: counts(promotion) },
  { type: 'VERIFY_DONE', unverified },
  { type: 'REHOME_DONE' },
  { type: 'ANNOUNCED' },
];

/** Planned mode: catch-up before promotion and fence lifting after it are machine states. */
const plannedTail: FailoverEvent[] = [
  { type: 'CAUGHT_UP' },
  { type: 'PROMOTION_DONE', counts: counts({ promoted: 3 }) },
  { type: 'FENCES_LIFTED' },
  { type: 'VERIFY_DONE', unverified: 0 },
  { type: 'REHOME_DONE' },
  { type: 'ANNOUNCED' },
];

const happyTail = unplannedTail({ promoted: 3 });

describe('failover machine (pure; no Temporal)', () => {
  const table: Array<{ name: string; input: Partial<FailoverMachineInput>; events: FailoverEvent[]; state: string; actions: string[] }> = [
    {
      name: 'unplanned, no approval: promote at once, fence recorded as pending and handed off',
      input: {},
      events: [ok(), ...happyTail],
      state: 'done',
      actions: ['runPreflight', 'announceStarted', 'promote', 'verify', 'rehomeRotation', 'handOffFence', 'announceCompleted'],
    },
    {
      name: 'planned with the old primary reachable: fence before the first promotion',
      input: { mode: 'planned' },
      events: [ok({ primaryReachable: true }), { type: 'FENCE_DONE', fence: { state: 'applied', fenced: 3, failed: 0 } }, ...plannedTail],
      state: 'done',
      actions: [
        'runPreflight',
        'announceStarted',
        'applyFence',
        'awaitReplicasCaughtUp',
        'promote',
        'liftFencesNotPromoted',
        'verify',
        'rehomeRotation',
        'announceCompleted',
      ],
    },
    {
      name: 'planned, fence interrupted (primary went down): pending part handed off, outcome partial',
      input: { mode: 'planned' },
      events: [ok({ primaryReachable: true }), { type: 'FENCE_DONE', fence: { state: 'partial', fenced: 1, failed: 2 } }, ...plannedTail],
      state: 'partial',
      actions: [
        'runPreflight',
        'announceStarted',
        'applyFence',
        'awaitReplicasCaughtUp',
        'promote',
        'liftFencesNotPromoted',
        'verify',
        'rehomeRotation',
        'handOffFence',
        'announceCompleted',
      ],
    },
    {
      name: 'planned with a rotation in flight on the primary: wait for it before fencing',
      input: { mode: 'planned' },
      events: [
        ok({ primaryReachable: true, rotationsInFlight: 1 }),
        { type: 'ROTATIONS_SETTLED', refused: 0 },
        { type: 'FENCE_DONE', fence: { state: 'applied', fenced: 3, failed: 0 } },
        ...plannedTail,
      ],
      state: 'done',
      actions: [
        'runPreflight',
        'announceStarted',
        'settleRotations',
        'applyFence',
        'awaitReplicasCaughtUp',
        'promote',
        'liftFencesNotPromoted',
        'verify',
        'rehomeRotation',
        'announceCompleted',
      ],
    },
    {
      name: 'planned with the fence disabled by the plan: still catches up, lifts nothing it did not fence',
      input: { mode: 'planned', fence: false },
      events: [ok({ primaryReachable: true }), ...plannedTail],
      state: 'done',
      actions: [
        'runPreflight',
        'announceStarted',
        'awaitReplicasCaughtUp',
        'promote',
        'liftFencesNotPromoted',
        'verify',
        'rehomeRotation',
        'announceCompleted',
      ],
    },
    {
      name: 'unplanned with a rotation in flight: no wait (it is reported after promotion)',
      input: {},
      events: [ok({ primaryReachable: true, rotationsInFlight: 2 }), ...happyTail],
      state: 'done',
      actions: ['runPreflight', 'announceStarted', 'promote', 'verify', 'rehomeRotation', 'handOffFence', 'announceCompleted'],
    },
    {
      name: 'fence disabled by the plan: nothing handed off',
      input: { fence: false },
      events: [ok(), ...happyTail],
      state: 'done',
      actions: ['runPreflight', 'announceStarted', 'promote', 'verify', 'rehomeRotation', 'announceCompleted'],
    },
    {
      name: 'approval required, approved',
      input: { requireApproval: true },
      events: [ok(), { type: 'APPROVED' }, ...happyTail],
      state: 'done',
      actions: ['runPreflight', 'requestApproval', 'announceStarted', 'promote', 'verify', 'rehomeRotation', 'handOffFence', 'announceCompleted'],
    },
    {
      name: 'approval rejected: nothing changed',
      input: { requireApproval: true },
      events: [ok(), { type: 'REJECTED', reason: 'no' }],
      state: 'rejected',
      actions: ['runPreflight', 'requestApproval'],
    },
    {
      name: 'approval timed out',
      input: { requireApproval: true },
      events: [ok(), { type: 'APPROVAL_TIMEOUT' }],
      state: 'rejected',
      actions: ['runPreflight', 'requestApproval'],
    },
    {
      name: 'cancelled while waiting for approval',
      input: { requireApproval: true },
      events: [ok(), { type: 'CANCEL' }],
      state: 'rejected',
      actions: ['runPreflight', 'requestApproval'],
    },
    {
      name: 'preflight problems: failed before any write',
      input: {},
      events: [ok({ problems: ['DR Region unreachable'] })],
      state: 'failed',
      actions: ['runPreflight'],
    },
    { name: 'dry run: preflight only', input: { dryRun: true, requireApproval: true }, events: [ok()], state: 'dryRun', actions: ['runPreflight'] },
    {
      name: 'some secrets failed: partial',
      input: {},
      events: [ok(), ...unplannedTail({ promoted: 2, failed: 1 })],
      state: 'partial',
      actions: ['runPreflight', 'announceStarted', 'promote', 'verify', 'rehomeRotation', 'handOffFence', 'announceCompleted'],
    },
    {
      name: 'nothing could be promoted: failed',
      input: { fence: false },
      events: [ok(), ...unplannedTail({ failed: 3 })],
      state: 'failed',
      actions: ['runPreflight', 'announceStarted', 'promote', 'verify', 'rehomeRotation', 'announceCompleted'],
    },
    {
      name: 'promoted but not verified writable: partial',
      input: { fence: false },
      events: [ok(), ...unplannedTail({ promoted: 3 }, 1)],
      state: 'partial',
      actions: ['runPreflight', 'announceStarted', 'promote', 'verify', 'rehomeRotation', 'announceCompleted'],
    },
    {
      name: 'cancel while promoting: what was promoted is verified and reported, outcome partial',
      input: { fence: false },
      events: [ok(), { type: 'CANCEL', reason: 'stop' }, ...unplannedTail({ promoted: 1, skipped: 2 })],
      state: 'partial',
      actions: ['runPreflight', 'announceStarted', 'promote', 'verify', 'rehomeRotation', 'announceCompleted'],
    },
  ];

  for (const row of table) {
    it(row.name, () => {
      const r = run(row.input, row.events);
      expect(r.state).toBe(row.state);
      expect(r.actions).toEqual(row.actions);
    });
  }

  it('pause and resume only change context (the workflow reads them between batches)', () => {
    const paused = run({}, [ok(), { type: 'PAUSE' }]);
    expect(paused.state).toBe('promoting');
    expect(paused.context.paused).toBe(true);
    expect(paused.actions).toEqual(['runPreflight', 'announceStarted', 'promote']);
    const resumed = run({}, [ok(), { type: 'PAUSE' }, { type: 'RESUME' }]);
    expect(resumed.context.paused).toBe(false);
  });

  it('decides the outcome once, before announcing: a partial fence is "partial" in the event and in the output', () => {
    const events: FailoverEvent[] = [ok({ primaryReachable: true }), { type: 'FENCE_DONE', fence: { state: 'partial', fenced: 1, failed: 2 } }, ...plannedTail];
    let [snap] = initialTransition(failoverMachine, { ...base, mode: 'planned' });
    for (const ev of events.slice(0, -1)) [snap] = transition(failoverMachine, snap, ev);
    expect(snap.value).toBe('announcing');
    expect(snap.context.outcome).toBe('partial'); // what announceCompleted publishes
    [snap] = transition(failoverMachine, snap, { type: 'ANNOUNCED' });
    expect(snap.output).toEqual({ outcome: 'partial' });
  });

  it('gives every ending an outcome in its output (rejected, dry run, preflight failure)', () => {
    const end = (input: Partial<FailoverMachineInput>, events: FailoverEvent[]) => {
      let [snap] = initialTransition(failoverMachine, { ...base, ...input });
      for (const ev of events) [snap] = transition(failoverMachine, snap, ev);
      return snap.output;
    };
    expect(end({ requireApproval: true }, [ok(), { type: 'REJECTED', reason: 'no' }])).toEqual({ outcome: 'rejected', detail: 'rejected: no' });
    expect(end({ dryRun: true }, [ok()])).toEqual({ outcome: 'dry-run' });
    expect(end({}, [ok({ problems: ['x'] })])).toEqual({ outcome: 'failed', detail: 'preflight found problems' });
  });

  it('ignores results that do not belong to the current step', () => {
    const r = run({}, [ok(), { type: 'VERIFY_DONE', unverified: 5 }, { type: 'ANNOUNCED' }]);
    expect(r.state).toBe('promoting');
  });
});

describe('failover preflight decisions (planFleet)', () => {
  const e = (name: string, over: Partial<FleetEntry> = {}): FleetEntry => ({ name, group: 1, suffix: 'AbCdEf', ...over });
  const plan = { primaryRegion: 'ap-northeast-1' };

  it('with the primary readable: replica → promote (lag noted), missing/conflict/other primary → skip with reason, standalone → already', () => {
    const primary = [e('a', { current: 'v2', group: 1 }), e('b'), e('c'), e('d', { group: 0 }), e('e')];
    const dr = [
      e('a', { primaryRegion: 'ap-northeast-1', current: 'v1' }),
      e('c', { suffix: 'zzzzzz', primaryRegion: 'ap-northeast-1' }),
      e('d'),
      e('e', { primaryRegion: 'us-east-1' }),
    ];
    const items = planFleet(plan, 'ap-northeast-3', primary, dr);
    expect(items.map((i) => [i.name, i.action])).toEqual([
      ['d', 'already-standalone'], // group 0 first
      ['a', 'promote'],
      ['b', 'skip'],
      ['c', 'skip'],
      ['e', 'skip'],
    ]);
    expect(items.find((i) => i.name === 'a')?.lagging).toBe(true);
    expect(items.find((i) => i.name === 'b')?.reason).toMatch(/no replica/);
    expect(items.find((i) => i.name === 'c')?.reason).toMatch(/conflict/);
  });

  it("with the primary down: the DR Region's replicas of our primary are the fleet; a standalone secret is ours only if a failover run recorded promoting it", () => {
    const dr = [
      e('x', { primaryRegion: 'ap-northeast-1' }),
      e('y', { promotedBy: '20261202T000000Z' }),
      e('v'),
      e('z', { primaryRegion: 'ap-northeast-1', deleted: true }),
      e('w', { primaryRegion: 'us-east-1' }),
    ];
    const items = planFleet(plan, 'ap-northeast-3', undefined, dr);
    expect(items.map((i) => [i.name, i.action])).toEqual([
      ['v', 'skip'],
      ['x', 'promote'],
      ['y', 'already-standalone'],
      ['z', 'skip'],
    ]);
    expect(items.find((i) => i.name === 'y')).toMatchObject({ by: '20261202T000000Z', suffix: 'AbCdEf' });
    expect(items.find((i) => i.name === 'v')).toMatchObject({ notOurs: true, reason: expect.stringMatching(/not known to be our replica.*not fenced/) });
  });

  it('a rotation in flight is taken from the primary when it answers, from the replica when it does not', () => {
    const r = { pending: 'p-1', current: 'c-1' };
    const withPrimary = planFleet(plan, 'ap-northeast-3', [e('a', { rotationInFlight: r })], [e('a', { primaryRegion: 'ap-northeast-1' })]);
    expect(withPrimary[0]).toMatchObject({ action: 'promote', rotationInFlight: r });
    const cleared = planFleet(plan, 'ap-northeast-3', [e('a')], [e('a', { primaryRegion: 'ap-northeast-1', rotationInFlight: r })]);
    expect(cleared[0]?.rotationInFlight).toBeUndefined();
    expect(planFleet(plan, 'ap-northeast-3', undefined, [e('a', { primaryRegion: 'ap-northeast-1', rotationInFlight: r })])[0]).toMatchObject({
      rotationInFlight: r,
    });
  });

  it('rotationInFlightOf: AWSPENDING on a version that is not AWSCURRENT, and only then', () => {
    expect(rotationInFlightOf({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] })).toEqual({ pending: 'v2', current: 'v1' });
    expect(rotationInFlightOf({ v1: ['AWSCURRENT', 'AWSPENDING'], v0: ['AWSPREVIOUS'] })).toBeUndefined();
    expect(rotationInFlightOf(undefined)).toBeUndefined();
  });

  it('the report says per secret what remains: the pending fence, the exact rotation commands (version ids, never a value), a refused rotation', () => {
    const ctx = {
      from: 'ap-northeast-1',
      to: 'ap-northeast-3',
      mode: 'unplanned' as const,
      fenceHandedTo: 'secrets-dr/p/fence/ap-northeast-1',
      lambdaArn: 'arn:aws:lambda:ap-northeast-3:1:function:rot',
      fencedAtPrimary: new Set<string>(),
      fenceRequested: true,
    };
    const promoted = annotateOutcome({ name: 'a', status: 'promoted', by: 'run-2', arn: 'arn:a', rotationInFlight: { pending: 'p-9', current: 'c-9' } }, ctx);
    expect(promoted.fence).toBe('pending');
    const steps = promoted.remains!.join('\n');
    expect(steps).toMatch(/fence of a on ap-northeast-1 pending/);
    expect(steps).toContain('--version-stage AWSPENDING --remove-from-version-id p-9');
    expect(steps).toContain('"ClientRequestToken":"p-9","Step":"finishSecret"');
    expect(steps).toContain(
      'rotate-secret --region ap-northeast-3 --secret-id arn:a --rotation-lambda-arn arn:aws:lambda:ap-northeast-3:1:function:rot --no-rotate-immediately',
    );
    const fenced = annotateOutcome({ name: 'b', status: 'already-standalone', by: 'run-1' }, { ...ctx, fencedAtPrimary: new Set(['b']) });
    expect(fenced.fence).toBe('applied');
    expect(fenced.remains).toBeUndefined();
    const refused = annotateOutcome({ name: 'c', status: 'skipped', reason: 'rotation in flight', rotationInFlight: { pending: 'p-3' } }, ctx);
    expect(refused.fence).toBeUndefined();
    expect(refused.remains!.join('\n')).toContain('--region ap-northeast-1 --secret-id c --version-stage AWSPENDING --remove-from-version-id p-3');
    expect(runsOf([promoted, fenced, refused, { name: 'd', status: 'promoted', by: 'run-2' }])).toEqual([
      { failoverId: 'run-1', promoted: 1 },
      { failoverId: 'run-2', promoted: 2 },
    ]);
  });

  it('expected duration comes from the quota: N / (share × 50)', () => {
    expect(expectedPromotionMs(10_000, 0.6)).toBe(333_334);
    expect(expectedPromotionMs(30, 0.6)).toBe(1_000);
  });
});
