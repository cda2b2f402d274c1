import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { replicateMachine, outcomeOf, type ReplicateEvent } from '../../workflows/machines/replicate.machine.js';
import { resolveConflictMachine, type ResolveEvent, type ResolveInput } from '../../workflows/machines/resolve-conflict.machine.js';
import { classifyInspection, conflictPolicyFor, reasonOf, type PrimaryView, type TargetView } from '../../domain/replication.js';
import { PlanSchema } from '../../domain/plan.js';

type RSnap = SnapshotFrom<typeof replicateMachine>;
const rInput = { secret: 'prod/db', region: 'ap-northeast-3', primaryRegion: 'ap-northeast-1', inSyncTimeoutMs: 10_000 };
const P_ARN = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:prod/db-AbCdEf';
const R_ARN = 'arn:aws:secretsmanager:ap-northeast-3:123456789012:secret:prod/db-AbCdEf';

function runReplicate(events: ReplicateEvent[]): { snap: RSnap; actions: string[][] } {
  let [snap, actions] = initialTransition(replicateMachine, rInput);
  const log = [actions.map((a) => a.type)];
  for (const e of events) {
    [snap, actions] = transition(replicateMachine, snap, e);
    log.push(actions.map((a) => a.type));
  }
  return { snap, actions: log };
}

const inspected = (inspection: Extract<ReplicateEvent, { type: 'INSPECTED' }>['inspection'], at = 0): ReplicateEvent => ({
  type: 'INSPECTED',
  inspection,
  policy: 'backup-then-overwrite',
  primaryArn: P_ARN,
  at,
});
const status = (s: 'InProgress' | 'InSync' | 'Failed' | 'deleted', at: number, message?: string): ReplicateEvent => ({
  type: 'STATUS',
  status: { name: 'prod/db', region: 'ap-northeast-3', status: s, primaryCurrent: 'v1', ...(message ? { message } : {}) },
  at,
});
const verified = (at: number, current = 'v1'): ReplicateEvent => ({
  type: 'VERIFIED',
  target: { name: 'prod/db', exists: true, arn: R_ARN, primaryRegion: 'ap-northeast-1', current },
  at,
});

describe('replicate machine (one secret × one DR Region)', () => {
  it.each<[string, ReplicateEvent[], string, string[] | undefined, Record<string, unknown>]>([
    ['starts by inspecting', [], 'inspecting', ['inspect'], {}],
    ['already in sync → InSync without a write', [inspected({ kind: 'in-sync', replicaArn: R_ARN })], 'inSync', [], { state: 'InSync', action: 'none' }],
    ['free → replicate', [inspected({ kind: 'free' })], 'replicating', ['replicate'], {}],
    ['a failed earlier attempt → replicate again', [inspected({ kind: 'retry-failed', message: 'x' })], 'replicating', ['replicate'], {}],
    ['in progress → wait', [inspected({ kind: 'in-progress' })], 'waitingInSync', ['pollStatus'], {}],
    ['conflict → resolve', [inspected({ kind: 'conflict', targetArn: 'arn:x', detail: 'd' })], 'resolvingConflict', ['resolveConflict'], {}],
    ['blocked → Failed(reason)', [inspected({ kind: 'blocked', reason: 'deleted', detail: 'gone' })], 'failed', [], { state: 'Failed', reason: 'deleted' }],
    ['replicated → polling', [inspected({ kind: 'free' }), { type: 'REPLICATED', at: 100 }], 'waitingInSync', ['pollStatus'], {}],
    [
      'write refused → Failed(reason)',
      [inspected({ kind: 'free' }), { type: 'REPLICATE_FAILED', reason: 'throttled', message: 'Rate exceeded' }],
      'failed',
      [],
      { reason: 'throttled' },
    ],
    ['InProgress → poll again', [inspected({ kind: 'free' }), { type: 'REPLICATED', at: 100 }, status('InProgress', 500)], 'waitingInSync', ['pollStatus'], {}],
    [
      'InProgress past the bound → Failed(timeout)',
      [inspected({ kind: 'free' }), { type: 'REPLICATED', at: 100 }, status('InProgress', 10_100)],
      'failed',
      [],
      { reason: 'timeout' },
    ],
    ['InSync → verify the replica', [inspected({ kind: 'free' }), { type: 'REPLICATED', at: 100 }, status('InSync', 400)], 'verifying', ['verifyReplica'], {}],
    [
      'verified → InSync with the lag',
      [inspected({ kind: 'free' }), { type: 'REPLICATED', at: 100 }, status('InSync', 400), verified(450)],
      'inSync',
      [],
      { state: 'InSync', action: 'replicated', lagMs: 350 },
    ],
    [
      'replica behind the primary → wait again',
      [inspected({ kind: 'free' }), { type: 'REPLICATED', at: 100 }, status('InSync', 400), verified(450, 'v0')],
      'waitingInSync',
      ['pollStatus'],
      {},
    ],
    [
      'replica behind past the bound → Failed(timeout)',
      [inspected({ kind: 'free' }), { type: 'REPLICATED', at: 100 }, status('InSync', 400), verified(20_000, 'v0')],
      'failed',
      [],
      { reason: 'timeout' },
    ],
    [
      'Failed with a KMS message → Failed(kms)',
      [inspected({ kind: 'free' }), { type: 'REPLICATED', at: 1 }, status('Failed', 2, 'The KMS key alias/x is disabled')],
      'failed',
      [],
      { reason: 'kms' },
    ],
    [
      'Failed: Region not enabled',
      [inspected({ kind: 'free' }), { type: 'REPLICATED', at: 1 }, status('Failed', 2, 'Region me-south-1 is not enabled for this account.')],
      'failed',
      [],
      { reason: 'region-not-enabled' },
    ],
    ['primary deleted meanwhile', [inspected({ kind: 'free' }), { type: 'REPLICATED', at: 1 }, status('deleted', 2)], 'failed', [], { reason: 'deleted' }],
    [
      'a late name conflict → resolve once',
      [inspected({ kind: 'free' }), { type: 'REPLICATED', at: 1 }, status('Failed', 2, 'Secret name prod/db already exists in region ap-northeast-3.')],
      'resolvingConflict',
      ['resolveConflict'],
      {},
    ],
    [
      'resolved by overwrite → wait, outcome carries backup and ARN change',
      [
        inspected({ kind: 'conflict', targetArn: 'arn:old', detail: 'd' }),
        {
          type: 'RESOLVED',
          resolution: {
            secret: 'prod/db',
            region: 'ap-northeast-3',
            policy: 'backup-then-overwrite',
            result: 'overwritten',
            backup: 'b1',
            arnChange: { from: 'arn:old', to: R_ARN },
          },
          at: 10,
        },
        status('InSync', 20),
        verified(30),
      ],
      'inSync',
      [],
      { state: 'InSync', action: 'backup-then-overwrite', backup: 'b1', arnChange: { from: 'arn:old', to: R_ARN } },
    ],
    [
      'resolved by skip → Skipped',
      [
        inspected({ kind: 'conflict', targetArn: 'a', detail: 'd' }),
        { type: 'RESOLVED', resolution: { secret: 'prod/db', region: 'ap-northeast-3', policy: 'skip', result: 'skipped' }, at: 1 },
      ],
      'skipped',
      [],
      { state: 'Skipped' },
    ],
    [
      'resolution failed → Failed(its reason)',
      [
        inspected({ kind: 'conflict', targetArn: 'a', detail: 'd' }),
        { type: 'RESOLVED', resolution: { secret: 'prod/db', region: 'ap-northeast-3', policy: 'ask', result: 'failed', reason: 'rejected' }, at: 1 },
      ],
      'failed',
      [],
      { state: 'Failed', reason: 'rejected' },
    ],
  ])('%s', (_name, events, state, actions, expected) => {
    const { snap, actions: log } = runReplicate(events);
    expect(snap.value).toBe(state);
    if (actions) expect(log.at(-1)).toEqual(actions);
    if (snap.status === 'done') expect(outcomeOf(snap.context, String(snap.value))).toMatchObject(expected);
  });

  it('a second late conflict is not resolved again', () => {
    const conflict = status('Failed', 2, 'Secret name prod/db already exists in region ap-northeast-3.');
    const { snap } = runReplicate([
      inspected({ kind: 'free' }),
      { type: 'REPLICATED', at: 1 },
      conflict,
      {
        type: 'RESOLVED',
        resolution: { secret: 'prod/db', region: 'ap-northeast-3', policy: 'backup-then-overwrite', result: 'overwritten', backup: 'b' },
        at: 3,
      },
      conflict,
    ]);
    expect(snap.value).toBe('failed');
    expect(snap.context.reason).toBe('name-conflict');
  });
});

const policies = ['fail', 'skip', 'overwrite-if-identical', 'backup-then-overwrite', 'adopt', 'ask'] as const;
function runResolve(policy: ResolveInput['policy'], events: ResolveEvent[]) {
  let [snap, actions] = initialTransition(resolveConflictMachine, { secret: 'prod/db', region: 'ap-northeast-3', policy, approvalTimeoutMs: 1_000 });
  const log: string[] = actions.map((a) => a.type);
  for (const e of events) {
    [snap, actions] = transition(resolveConflictMachine, snap, e);
    log.push(...actions.map((a) => a.type));
  }
  return { snap, log };
}
const compared = (identical: boolean | undefined): ResolveEvent => ({ type: 'COMPARED', identical, targetArn: 'arn:old', targetExists: true });

describe('resolveConflict machine (every policy)', () => {
  it.each<[string, ResolveInput['policy'], ResolveEvent[], string, string[], Record<string, unknown>]>([
    ['fail leaves the target alone', 'fail', [compared(false)], 'failed', ['compare', 'announceConflict'], { result: 'failed', reason: 'name-conflict' }],
    ['skip leaves the target alone', 'skip', [compared(false)], 'skipped', ['compare', 'announceConflict'], { result: 'skipped' }],
    [
      'overwrite-if-identical, equal values: overwrite without backup',
      'overwrite-if-identical',
      [compared(true), { type: 'OVERWRITTEN', replicaArn: R_ARN }],
      'done',
      ['compare', 'announceConflict', 'forceReplicate'],
      { result: 'overwritten', identical: true, arnChange: { from: 'arn:old', to: R_ARN } },
    ],
    [
      'overwrite-if-identical, different values: Failed',
      'overwrite-if-identical',
      [compared(false)],
      'failed',
      ['compare', 'announceConflict'],
      { reason: 'name-conflict' },
    ],
    [
      'overwrite-if-identical, unknown: Failed (never guess)',
      'overwrite-if-identical',
      [compared(undefined)],
      'failed',
      ['compare', 'announceConflict'],
      { reason: 'name-conflict' },
    ],
    [
      'backup-then-overwrite',
      'backup-then-overwrite',
      [compared(false), { type: 'BACKED_UP', backup: 'b' }, { type: 'OVERWRITTEN', replicaArn: R_ARN }],
      'done',
      ['compare', 'announceConflict', 'backup', 'forceReplicate'],
      { result: 'overwritten', backup: 'b' },
    ],
    [
      'backup fails → nothing overwritten',
      'backup-then-overwrite',
      [compared(false), { type: 'STEP_FAILED', reason: 'kms', message: 'x' }],
      'failed',
      ['compare', 'announceConflict', 'backup'],
      { reason: 'kms' },
    ],
    [
      'adopt: backup, copy into the primary, overwrite',
      'adopt',
      [compared(false), { type: 'BACKED_UP', backup: 'b' }, { type: 'ADOPTED' }, { type: 'OVERWRITTEN', replicaArn: R_ARN }],
      'done',
      ['compare', 'announceConflict', 'backup', 'adopt', 'forceReplicate'],
      { result: 'overwritten', adopted: true, backup: 'b' },
    ],
    [
      'adopt with identical values needs no copy',
      'adopt',
      [compared(true), { type: 'BACKED_UP', backup: 'b' }, { type: 'OVERWRITTEN', replicaArn: R_ARN }],
      'done',
      ['compare', 'announceConflict', 'backup', 'forceReplicate'],
      { result: 'overwritten' },
    ],
    [
      'adopt fails → backup kept, nothing overwritten',
      'adopt',
      [compared(false), { type: 'BACKED_UP', backup: 'b' }, { type: 'STEP_FAILED', reason: 'other', message: 'x' }],
      'failed',
      ['compare', 'announceConflict', 'backup', 'adopt'],
      { backup: 'b' },
    ],
    ['ask: waits', 'ask', [compared(false)], 'awaitingApproval', ['compare', 'announceConflict', 'requestApproval'], {}],
    [
      'ask approved → backup → overwrite',
      'ask',
      [compared(false), { type: 'APPROVED', by: 'ops' }, { type: 'BACKED_UP', backup: 'b' }, { type: 'OVERWRITTEN', replicaArn: R_ARN }],
      'done',
      ['compare', 'announceConflict', 'requestApproval', 'backup', 'forceReplicate'],
      { result: 'overwritten' },
    ],
    [
      'ask rejected → Failed(rejected)',
      'ask',
      [compared(false), { type: 'REJECTED', reason: 'live', by: 'ops' }],
      'failed',
      ['compare', 'announceConflict', 'requestApproval'],
      { reason: 'rejected', detail: expect.stringContaining('live') },
    ],
    [
      'ask timed out → Failed(approval-timeout)',
      'ask',
      [compared(false), { type: 'APPROVAL_TIMEOUT' }],
      'failed',
      ['compare', 'announceConflict', 'requestApproval'],
      { reason: 'approval-timeout' },
    ],
    [
      'overwrite fails → Failed',
      'backup-then-overwrite',
      [compared(false), { type: 'BACKED_UP', backup: 'b' }, { type: 'STEP_FAILED', reason: 'throttled', message: 'x' }],
      'failed',
      ['compare', 'announceConflict', 'backup', 'forceReplicate'],
      { reason: 'throttled' },
    ],
    [
      'compare fails → Failed, nothing touched',
      'backup-then-overwrite',
      [{ type: 'STEP_FAILED', reason: 'other', message: 'no key' }],
      'failed',
      ['compare'],
      { reason: 'other' },
    ],
  ])('%s', (_n, policy, events, state, log, expected) => {
    const r = runResolve(policy, events);
    expect(r.snap.value).toBe(state);
    expect(r.log).toEqual(log);
    if (r.snap.status === 'done') expect(r.snap.output).toMatchObject(expected);
  });

  it.each(policies)('%s: a conflict that disappeared is replicated without force or backup', (policy) => {
    const r = runResolve(policy, [{ type: 'COMPARED', targetExists: false }]);
    expect(r.snap.value).toBe('overwriting');
    expect(r.log).toEqual(['compare', 'forceReplicate']);
  });

  it.each(policies)('%s: forceReplicate with force is only ever emitted after a backup or on identical values', (policy) => {
    for (const identical of [true, false, undefined]) {
      let [snap, actions] = initialTransition(resolveConflictMachine, { secret: 's', region: 'r', policy, approvalTimeoutMs: 1 });
      const feed: ResolveEvent[] = [compared(identical), { type: 'APPROVED' }, { type: 'BACKED_UP', backup: 'b' }, { type: 'ADOPTED' }];
      for (const e of feed) {
        [snap, actions] = transition(resolveConflictMachine, snap, e);
        const force = actions.find((a) => a.type === 'forceReplicate');
        if (force) expect(snap.context.backup !== undefined || (policy === 'overwrite-if-identical' && identical === true)).toBe(true);
      }
    }
  });
});

describe('setup helpers', () => {
  const p: PrimaryView = { name: 'prod/db', exists: true, arn: P_ARN, current: 'v1', replication: {} };
  const ours: TargetView = { name: 'prod/db', exists: true, arn: R_ARN, primaryRegion: 'ap-northeast-1', current: 'v1' };
  it.each<[string, PrimaryView, TargetView, string]>([
    ['nothing anywhere', p, { name: 'prod/db', exists: false }, 'free'],
    ['our replica, InSync, same version', { ...p, replication: { 'ap-northeast-3': { status: 'InSync' } } }, ours, 'in-sync'],
    ['our replica, behind', { ...p, replication: { 'ap-northeast-3': { status: 'InSync' } } }, { ...ours, current: 'v0' }, 'in-progress'],
    ['being created', { ...p, replication: { 'ap-northeast-3': { status: 'InProgress' } } }, { name: 'prod/db', exists: false }, 'in-progress'],
    [
      'same name, not ours',
      { ...p, replication: { 'ap-northeast-3': { status: 'Failed', message: 'already exists' } } },
      { name: 'prod/db', exists: true, arn: 'arn:aws:secretsmanager:ap-northeast-3:1:secret:prod/db-XyZxYz' },
      'conflict',
    ],
    [
      'failed earlier, cause gone',
      { ...p, replication: { 'ap-northeast-3': { status: 'Failed', message: 'already exists' } } },
      { name: 'prod/db', exists: false },
      'retry-failed',
    ],
    ['a promoted former replica', p, { name: 'prod/db', exists: true, arn: R_ARN }, 'blocked'],
    ['primary deleted', { ...p, deleted: true }, { name: 'prod/db', exists: false }, 'blocked'],
  ])('classifies %s', (_n, pv, tv, kind) => {
    expect(classifyInspection('ap-northeast-1', 'ap-northeast-3', pv, tv).kind).toBe(kind);
  });

  it('maps AWS messages to reasons', () => {
    expect(reasonOf('Replication failed: Secret name x already exists in region y.')).toBe('name-conflict');
    expect(reasonOf('Rate exceeded', 'ThrottlingException')).toBe('throttled');
    expect(reasonOf('The KMS key k is disabled')).toBe('kms');
    expect(reasonOf('Region x is not enabled for this account.')).toBe('region-not-enabled');
    expect(reasonOf('boom')).toBe('other');
  });

  it('per-secret overrides win over the plan policy (first match)', () => {
    const plan = PlanSchema.parse({
      name: 'p',
      primaryRegion: 'ap-northeast-1',
      drRegions: [{ region: 'ap-northeast-3' }],
      secrets: { include: [{ prefix: 'prod/' }] },
      conflicts: {
        policy: 'ask',
        overrides: [
          { match: { prefix: 'prod/legacy/' }, policy: 'skip' },
          { match: { tag: { key: 'owner', value: 'dba' } }, policy: 'fail' },
        ],
      },
    });
    expect(conflictPolicyFor(plan, 'prod/legacy/x')).toBe('skip');
    expect(conflictPolicyFor(plan, 'prod/db', [['owner', 'dba']])).toBe('fail');
    expect(conflictPolicyFor(plan, 'prod/other')).toBe('ask');
  });
});
