import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { regionHealthMachine, type RegionHealthEvent } from '../../workflows/machines/monitor.machine.js';
import type { HealthReason, RegionObservation, RegionSurvey } from '../../domain/health.js';
import { classifyAwsError, toFailure } from '../../activities/aws-errors.js';
import { assessFleet, rotationOverdue } from '../../domain/health.js';
import { validatePlan } from '../../domain/plan.js';

const at = '2026-01-01T00:00:00.000Z';
const ok = (findings?: HealthReason[]): RegionHealthEvent => ({
  type: 'PROBED',
  at,
  observation: { region: 'r', reachable: true, latencyMs: 5, findings } as RegionObservation,
});
const down: RegionHealthEvent = { type: 'PROBED', at, observation: { region: 'r', reachable: false, error: 'ECONNREFUSED' } };
const lag: HealthReason = { code: 'replication-lag', message: '1 replica behind', count: 1 };
const missing: HealthReason = { code: 'replica-missing', message: '1 without replica', count: 1 };
const stale: HealthReason = { code: 'rotation-stale', message: '1 overdue', count: 1 };
const conflict: HealthReason = { code: 'replica-conflict', message: '1 conflict', count: 1 };

function run(events: RegionHealthEvent[], recoverOnUnhealthy = false) {
  let [snap, actions] = initialTransition(regionHealthMachine, { region: 'r', unhealthyAfter: 3, recoverOnUnhealthy, at });
  const out: Array<{ type: string; params?: unknown }> = actions.filter((a) => !a.type.startsWith('xstate.')).map((a) => ({ type: a.type, params: a.params }));
  for (const e of events) {
    [snap, actions] = transition(regionHealthMachine, snap as never, e);
    out.push(...actions.filter((a) => !a.type.startsWith('xstate.')).map((a) => ({ type: a.type, params: a.params })));
  }
  const s = snap as AnyMachineSnapshot;
  const announcements = out.filter((a) => a.type === 'announce').map((a) => a.params as { from: string; to: string; reasons: HealthReason[] });
  return { state: s.value as string, context: s.context, announcements, types: out.map((a) => a.type).filter((t) => t !== 'observe') };
}

describe('Region health machine (pure; no Temporal)', () => {
  const table: Array<{ name: string; events: RegionHealthEvent[]; state: string; changes: string[]; recover?: boolean; actions?: string[] }> = [
    { name: 'good probes stay healthy and announce nothing', events: [ok([]), ok([]), ok([])], state: 'healthy', changes: [] },
    {
      name: 'fewer failed probes than unhealthyAfter: no change (hysteresis)',
      events: [down, down, ok([]), down, down, ok([])],
      state: 'healthy',
      changes: [],
    },
    {
      name: 'unhealthyAfter consecutive failures: unhealthy, once',
      events: [down, down, down, down, down],
      state: 'unhealthy',
      changes: ['healthy→unhealthy'],
    },
    {
      name: 'back from unhealthy only after as many good probes',
      events: [down, down, down, ok([]), ok([]), down, ok([]), ok([]), ok([])],
      state: 'healthy',
      changes: ['healthy→unhealthy', 'unhealthy→healthy'],
    },
    {
      name: 'a stale rotation degrades at once, one announcement over many cycles',
      events: [ok([stale]), ok([stale]), ok([stale]), ok([stale])],
      state: 'degraded',
      changes: ['healthy→degraded'],
    },
    {
      name: 'replication lag degrades only after unhealthyAfter cycles in a row',
      events: [ok([lag]), ok([lag]), ok([]), ok([lag]), ok([lag]), ok([lag]), ok([lag])],
      state: 'degraded',
      changes: ['healthy→degraded'],
    },
    { name: 'a missing replica that appears within the window never degrades', events: [ok([missing]), ok([missing]), ok([])], state: 'healthy', changes: [] },
    {
      name: 'a new reason code while degraded is a change; a count change is not',
      events: [ok([stale]), ok([{ ...stale, count: 2 }]), ok([stale, conflict]), ok([])],
      state: 'healthy',
      changes: ['healthy→degraded', 'degraded→degraded', 'degraded→healthy'],
    },
    {
      name: 'parity unknown (primary unreadable) keeps the reasons',
      events: [ok([stale]), ok(undefined), ok(undefined)],
      state: 'degraded',
      changes: ['healthy→degraded'],
    },
    {
      name: 'unhealthy primary of an automatic plan asks for recovery once',
      events: [down, down, down, down],
      state: 'unhealthy',
      changes: ['healthy→unhealthy'],
      recover: true,
      actions: ['announce', 'requestRecovery'],
    },
    {
      name: 'not automatic: no recovery request',
      events: [down, down, down],
      state: 'unhealthy',
      changes: ['healthy→unhealthy'],
      recover: false,
      actions: ['announce'],
    },
  ];
  for (const t of table) {
    it(t.name, () => {
      const r = run(t.events, t.recover);
      expect(r.state).toBe(t.state);
      expect(r.announcements.map((a) => `${a.from}→${a.to}`)).toEqual(t.changes);
      if (t.actions) expect(r.types).toEqual(t.actions);
    });
  }

  it('says why: the unhealthy reason names the failures, degraded carries the findings', () => {
    expect(run([down, down, down]).announcements[0]!.reasons[0]).toMatchObject({
      code: 'unreachable',
      message: expect.stringMatching(/3 consecutive failed probes: ECONNREFUSED/),
    });
    expect(run([ok([stale])]).announcements[0]!.reasons).toEqual([stale]);
  });
});

describe('assessFleet (findings from list pages only)', () => {
  const parsed = validatePlan({
    name: 'p',
    primaryRegion: 'ap-northeast-1',
    drRegions: [{ region: 'ap-northeast-3' }],
    secrets: { include: [{ prefix: 'app/' }] },
  });
  if (!parsed.ok) throw new Error('plan');
  const plan = parsed.plan;
  const arn = (r: string, n: string) => `arn:aws:secretsmanager:${r}:1:secret:${n}-AbCdEf`;
  const now = Date.parse(at);

  it('finds missing, lagging, conflicting replicas, stale rotation and pending fences', () => {
    const primary = [
      { name: 'app/a', arn: arn('ap-northeast-1', 'app/a'), current: 'v1' },
      { name: 'app/b', arn: arn('ap-northeast-1', 'app/b'), current: 'v2' },
      { name: 'app/c', arn: arn('ap-northeast-1', 'app/c'), current: 'v1', rotationEnabled: true, nextRotationMs: now - 2 * 86_400_000 },
      { name: 'app/d', arn: arn('ap-northeast-1', 'app/d'), current: 'v1' },
      { name: 'app/e', arn: arn('ap-northeast-1', 'app/e'), current: 'v1' },
      { name: 'other/x', arn: arn('ap-northeast-1', 'other/x'), current: 'v1' },
    ];
    const dr = [
      { name: 'app/a', arn: arn('ap-northeast-3', 'app/a'), current: 'v1', primaryRegion: 'ap-northeast-1' },
      { name: 'app/b', arn: arn('ap-northeast-3', 'app/b'), current: 'v1', primaryRegion: 'ap-northeast-1' },
      { name: 'app/d', arn: 'arn:aws:secretsmanager:ap-northeast-3:1:secret:app/d-ZZZZZZ', current: 'x' },
      { name: 'app/e', arn: arn('ap-northeast-3', 'app/e'), current: 'v1' },
    ];
    const obs = assessFleet(
      plan,
      [
        { region: 'ap-northeast-1', reachable: true, latencyMs: 3, inventory: { region: 'ap-northeast-1', entries: primary, listCalls: 1 } },
        { region: 'ap-northeast-3', reachable: true, latencyMs: 4, inventory: { region: 'ap-northeast-3', entries: dr, listCalls: 1 } },
      ],
      now,
    );
    const codes = (r: string) =>
      obs
        .find((o) => o.region === r)!
        .findings!.map((f) => `${f.code}:${f.count}`)
        .sort();
    expect(codes('ap-northeast-1')).toEqual(['fence-pending:1', 'rotation-stale:1']);
    expect(codes('ap-northeast-3')).toEqual(['replica-conflict:1', 'replica-missing:1', 'replication-lag:1']);
  });

  it('without the primary, DR parity is unknown and the primary is unreachable', () => {
    const obs = assessFleet(
      plan,
      [
        { region: 'ap-northeast-1', reachable: false, error: 'down' },
        { region: 'ap-northeast-3', reachable: true, inventory: { region: 'ap-northeast-3', entries: [], listCalls: 1 } },
      ],
      now,
    );
    expect(obs[0]).toMatchObject({ reachable: false, error: 'down' });
    expect(obs[1]!.findings).toBeUndefined();
  });

  it('a survey whose inventory page failed mid-fleet (reachable, "inventory incomplete"): parity not assessed, never a failed probe', () => {
    // Prepare: the primary answered its probe, but a later page of its inventory failed (monitor.steps `survey`).
    const incomplete: RegionSurvey = {
      region: 'ap-northeast-1',
      reachable: true,
      latencyMs: 3,
      error: 'inventory incomplete (parity not assessed this cycle): ThrottlingException: Rate exceeded',
    };
    const dr: RegionSurvey = { region: 'ap-northeast-3', reachable: true, inventory: { region: 'ap-northeast-3', entries: [], listCalls: 1 } };

    // Act
    const obs = assessFleet(plan, [incomplete, dr], now);

    // Assess: both reachable, no findings either side (the DR's parity needs the whole primary list).
    expect(obs[0]).toMatchObject({ region: 'ap-northeast-1', reachable: true, error: expect.stringMatching(/inventory incomplete/) });
    expect(obs[0]!.findings).toBeUndefined();
    expect(obs[1]).toMatchObject({ region: 'ap-northeast-3', reachable: true });
    expect(obs[1]!.findings).toBeUndefined();
    // Many such cycles never make the Region unhealthy (only unreachability is an outage).
    const cycles = Array.from({ length: 5 }, (): RegionHealthEvent => ({ type: 'PROBED', at, observation: { ...obs[0]!, region: 'r' } }));
    expect(run(cycles, true)).toMatchObject({ state: 'healthy', announcements: [] });
  });

  it('rotation is overdue once NextRotationDate (AWS: the latest moment of the rotation window) has passed', () => {
    expect(rotationOverdue({ name: 'a', arn: 'x', rotationEnabled: true, nextRotationMs: now + 1_000 }, now)).toBe(false);
    expect(rotationOverdue({ name: 'a', arn: 'x', rotationEnabled: true, nextRotationMs: now - 1_000 }, now)).toBe(true);
    expect(rotationOverdue({ name: 'a', arn: 'x', nextRotationMs: 0 }, now)).toBe(false);
  });
});

describe('a permission error is not an outage (DESIGN invariant 9)', () => {
  const sdkError = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(`${name} message`), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}), ...extra });

  it('one classifier: unreachable (no answer) vs denied vs throttled vs rejected (another answer)', () => {
    const table: Array<[unknown, string]> = [
      [sdkError('Error', undefined, { code: 'ECONNREFUSED' }), 'unreachable'],
      [sdkError('Error', undefined, { code: 'ECONNRESET' }), 'unreachable'],
      [sdkError('TimeoutError'), 'unreachable'],
      [sdkError('InternalServiceError', 500), 'unreachable'],
      [sdkError('ServiceUnavailableException', 503), 'unreachable'],
      [sdkError('AccessDeniedException', 400), 'denied'],
      [sdkError('ExpiredTokenException', 400), 'denied'],
      [sdkError('UnrecognizedClientException', 400), 'denied'],
      [sdkError('InvalidSignatureException', 400), 'denied'],
      [sdkError('SomethingForbidden', 403), 'denied'],
      [sdkError('CredentialsProviderError'), 'denied'],
      [sdkError('ThrottlingException', 400), 'throttled'],
      [sdkError('TooManyRequestsException', 429), 'throttled'],
      [sdkError('InvalidParameterException', 400), 'rejected'],
      // Our own failures (listInventory's toFailure) keep the AWS error's name.
      [toFailure(sdkError('AccessDeniedException', 400), 'ListSecrets', 'r'), 'denied'],
      [toFailure(sdkError('ThrottlingException', 400), 'ListSecrets', 'r'), 'throttled'],
      [toFailure(sdkError('Error', undefined, { code: 'ECONNREFUSED' }), 'ListSecrets', 'r'), 'unreachable'],
    ];
    for (const [err, want] of table) expect(classifyAwsError(err), `${(err as Error).name} ${(err as Error).message}`).toBe(want);
  });

  const parsed = validatePlan({
    name: 'p',
    primaryRegion: 'ap-northeast-1',
    drRegions: [{ region: 'ap-northeast-3' }],
    secrets: { include: [{ prefix: 'app/' }] },
  });
  if (!parsed.ok) throw new Error('plan');
  const dr: RegionSurvey = { region: 'ap-northeast-3', reachable: true, inventory: { region: 'ap-northeast-3', entries: [], listCalls: 1 } };

  for (const [problem, code, persistent] of [
    ['denied', 'access-denied', false],
    ['throttled', 'throttled', true],
  ] as const) {
    it(`${problem} probes of an automatic plan's primary: degraded with the reason (${persistent ? 'once it persisted' : 'at once'}), never unhealthy, never a recovery request`, () => {
      const survey: RegionSurvey = {
        region: 'ap-northeast-1',
        reachable: true,
        latencyMs: 2,
        error: `${problem === 'denied' ? 'AccessDeniedException' : 'ThrottlingException'}: no`,
        problem,
      };
      const obs = assessFleet(parsed.plan, [survey, dr], Date.parse(at))[0]!;
      expect(obs).toMatchObject({ reachable: true, findings: [{ code, message: expect.stringMatching(/not an outage/) }] });
      const r = run(
        Array.from({ length: 10 }, (): RegionHealthEvent => ({ type: 'PROBED', at, observation: obs })),
        true,
      );
      expect(r.state).toBe('degraded');
      expect(r.context.reasons.map((x: HealthReason) => x.code)).toEqual([code]);
      expect(r.announcements.map((a) => `${a.from}→${a.to}`)).toEqual(['healthy→degraded']);
      expect(r.types).not.toContain('requestRecovery');
      // A failed probe between denied ones does not add up with earlier ones: only consecutive failures count.
      const mixed = run([down, down, { type: 'PROBED', at, observation: obs }, down, down, { type: 'PROBED', at, observation: obs }], true);
      expect(mixed.state).not.toBe('unhealthy');
      expect(mixed.types).not.toContain('requestRecovery');
    });
  }
});
