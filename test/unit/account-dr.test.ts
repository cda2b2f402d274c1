import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { initialTransition, transition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { parsePlanText } from '../../cli/plan-file.js';
import { policyFor, trustPolicyFor } from '../../domain/iam.js';
import {
  accountFailbackDecision,
  accountFailbackPreview,
  accountFailoverPath,
  accountFailoverPreview,
  accountHealthOf,
  isAccountFence,
  accountFenceTagValue,
  primaryFenceOf,
  unreachablePrimaryConsequences,
  type AccountStatusReport,
} from '../../domain/account-dr.js';
import { replicaKindOf } from '../../activities/account.activities.js';
import { accountSetupMachine, type AccountSetupEvent } from '../../workflows/machines/account-setup.machine.js';
import { accountFailoverMachine, type AccountFailoverEvent } from '../../workflows/machines/account-failover.machine.js';

const plan = parsePlanText(`name: payments
primaryRegion: ap-northeast-1
primaryAccountId: "123456789012"
drRegions: [{ region: ap-northeast-3 }]
secrets: { include: [{ prefix: prod/payments/ }, { name: prod/App/Mysql }] }
recoveryAccounts:
  - { accountId: "210987654321", roleArn: "arn:aws:iam::210987654321:role/secrets-dr-recovery", externalId: payments-dr-7f3a, kmsKeyId: alias/payments-recovery }
`).plan!;

/** Runs events from the initial state; returns the state, the effects asked for (in order) and the output. */
function run<M extends AnyStateMachine>(machine: M, input: unknown, events: unknown[]) {
  let [snap, actions] = initialTransition(machine, input as never);
  const effects = actions.map((a) => a.type);
  for (const ev of events) {
    [snap, actions] = transition(machine, snap as never, ev as never);
    effects.push(...actions.map((a) => a.type));
  }
  const s = snap as AnyMachineSnapshot;
  return {
    state: s.value,
    effects: effects.filter((t) => !t.startsWith('xstate.') && !/^(record|add)/.test(t)),
    output: s.output as unknown,
    status: s.status,
  };
}

describe('account setup / failback machine (pure)', () => {
  const setupHappy: AccountSetupEvent[] = [
    { type: 'INSPECTED', toSetUp: 3 },
    { type: 'REPLICAS_CREATED', attention: 0 },
    { type: 'ASSOCIATED', attention: 0 },
    { type: 'SETTLED', attention: 0 },
  ];
  it('setup: inspect → create → associate → await InSync → done', () => {
    expect(run(accountSetupMachine, { failback: false }, setupHappy)).toMatchObject({
      state: 'done',
      output: 'done',
      effects: ['inspect', 'createReplicas', 'associate', 'awaitInSync'],
    });
  });
  it('setup: nothing to set up is done at once; any secret needing attention makes it partial; a failed step fails', () => {
    expect(run(accountSetupMachine, { failback: false }, [{ type: 'INSPECTED', toSetUp: 0 }])).toMatchObject({ output: 'done', effects: ['inspect'] });
    expect(run(accountSetupMachine, { failback: false }, [...setupHappy.slice(0, 3), { type: 'SETTLED', attention: 2 }]).output).toBe('partial');
    expect(
      run(accountSetupMachine, { failback: false }, [{ type: 'INSPECTED', toSetUp: 1 }, { type: 'REPLICAS_CREATED', attention: 1 }, ...setupHappy.slice(2)])
        .output,
    ).toBe('partial');
    expect(
      run(accountSetupMachine, { failback: false }, [
        { type: 'INSPECTED', toSetUp: 1 },
        { type: 'STEP_FAILED', reason: 'x' },
      ]),
    ).toMatchObject({
      state: 'failed',
      output: 'failed',
    });
  });
  it('failback: preflight → reconcile → setup tail; preflight problems reject before anything is written', () => {
    expect(
      run(accountSetupMachine, { failback: true }, [{ type: 'PREFLIGHT_DONE', problems: [] }, { type: 'RECONCILED', attention: 0 }, ...setupHappy]),
    ).toMatchObject({
      output: 'done',
      effects: ['preflight', 'reconcile', 'inspect', 'createReplicas', 'associate', 'awaitInSync'],
    });
    expect(run(accountSetupMachine, { failback: true }, [{ type: 'PREFLIGHT_DONE', problems: ['the primary account refused'] }])).toMatchObject({
      output: 'rejected',
      effects: ['preflight'],
    });
    // A secret left for a person (ask) keeps the failback partial even when everything else is InSync.
    expect(
      run(accountSetupMachine, { failback: true }, [{ type: 'PREFLIGHT_DONE', problems: [] }, { type: 'RECONCILED', attention: 1 }, ...setupHappy]).output,
    ).toBe('partial');
  });
  it('failback: the approval gate (as Region failback) waits after preflight; approved, preflight runs again; rejected or timed out writes nothing', () => {
    const ok: AccountSetupEvent = { type: 'PREFLIGHT_DONE', problems: [] };
    expect(
      run(accountSetupMachine, { failback: true, requireApproval: true }, [ok, { type: 'APPROVED' }, ok, { type: 'RECONCILED', attention: 0 }, ...setupHappy]),
    ).toMatchObject({
      output: 'done',
      effects: ['preflight', 'requestApproval', 'preflight', 'reconcile', 'inspect', 'createReplicas', 'associate', 'awaitInSync'],
    });
    for (const answer of [{ type: 'REJECTED', reason: 'no' }, { type: 'APPROVAL_TIMEOUT' }] as AccountSetupEvent[])
      expect(run(accountSetupMachine, { failback: true, requireApproval: true }, [ok, answer])).toMatchObject({
        output: 'rejected',
        effects: ['preflight', 'requestApproval'],
      });
    // What changed while the gate waited (an account stopped answering) rejects before anything is written.
    expect(
      run(accountSetupMachine, { failback: true, requireApproval: true }, [ok, { type: 'APPROVED' }, { type: 'PREFLIGHT_DONE', problems: ['x'] }]).output,
    ).toBe('rejected');
  });
});

describe('account failover machine (pure)', () => {
  const pre = (primaryAnswers: boolean, problems: string[] = [], toPromote = 2): AccountFailoverEvent => ({
    type: 'PREFLIGHT_DONE',
    problems,
    primaryAnswers,
    toPromote,
  });
  const tail: AccountFailoverEvent[] = [
    { type: 'PROMOTED', attention: 0 },
    { type: 'VERIFIED', attention: 0 },
  ];
  it('the primary answers (planned): rotations settle, fence, catch up, then detach, promote and verify', () => {
    const settled: AccountFailoverEvent = { type: 'ROTATIONS_SETTLED', attention: 0 };
    const fenced: AccountFailoverEvent = { type: 'FENCED', attention: 0 };
    const caught: AccountFailoverEvent = { type: 'CAUGHT_UP', attention: 0 };
    expect(
      run(accountFailoverMachine, { requireApproval: false, fence: true }, [pre(true), settled, fenced, caught, { type: 'DETACHED', attention: 0 }, ...tail]),
    ).toMatchObject({
      output: 'done',
      effects: ['runPreflight', 'settleRotations', 'fence', 'catchUp', 'detach', 'promote', 'verify'],
    });
    // failover.fence: false: no fence, still caught up and detached first.
    expect(
      run(accountFailoverMachine, { requireApproval: false, fence: false }, [pre(true), settled, caught, { type: 'DETACHED', attention: 0 }, ...tail]),
    ).toMatchObject({
      output: 'done',
      effects: ['runPreflight', 'settleRotations', 'catchUp', 'detach', 'promote', 'verify'],
    });
    // A secret held back by any step (fence failed, not caught up, still rotating): the run needs attention.
    for (const held of [
      [{ type: 'ROTATIONS_SETTLED', attention: 1 }, fenced, caught],
      [settled, { type: 'FENCED', attention: 1 }, caught],
      [settled, fenced, { type: 'CAUGHT_UP', attention: 1 }],
    ] as AccountFailoverEvent[][])
      expect(
        run(accountFailoverMachine, { requireApproval: false, fence: true }, [pre(true), ...held, { type: 'DETACHED', attention: 0 }, ...tail]).output,
      ).toBe('partial');
  });
  it('the primary account is unusable: promote as they stand (no detach)', () => {
    expect(run(accountFailoverMachine, { requireApproval: false, fence: true }, [pre(false), ...tail])).toMatchObject({
      output: 'done',
      effects: ['runPreflight', 'promote', 'verify'],
    });
  });
  it('approval gate: approved goes on, rejected or timed out ends rejected without a write', () => {
    expect(run(accountFailoverMachine, { requireApproval: true, fence: true }, [pre(false), { type: 'APPROVED' }, pre(false), ...tail]).effects).toEqual([
      'runPreflight',
      'requestApproval',
      'runPreflight',
      'promote',
      'verify',
    ]);
    // Approved up to approvalTimeout after preflight: probed again; a path that changed (planned ↔ unplanned) is not acted on.
    for (const [before, after] of [
      [false, true],
      [true, false],
    ]) {
      const changed = run(accountFailoverMachine, { requireApproval: true, fence: true }, [pre(before!), { type: 'APPROVED' }, pre(after!)]);
      expect(changed).toMatchObject({ output: 'failed', effects: ['runPreflight', 'requestApproval', 'runPreflight'] });
    }
    expect(run(accountFailoverMachine, { requireApproval: true, fence: true }, [pre(true), { type: 'APPROVED' }, pre(true, ['x'])]).output).toBe('rejected');
    for (const answer of [{ type: 'REJECTED', reason: 'no' }, { type: 'APPROVAL_TIMEOUT' }] as AccountFailoverEvent[]) {
      expect(run(accountFailoverMachine, { requireApproval: true, fence: true }, [pre(true), answer])).toMatchObject({
        output: 'rejected',
        effects: ['runPreflight', 'requestApproval'],
      });
    }
  });
  it('preflight problems or nothing to promote reject; attention makes it partial; a failed step fails', () => {
    expect(run(accountFailoverMachine, { requireApproval: false, fence: true }, [pre(true, ['the recovery account did not answer'])]).output).toBe('rejected');
    expect(run(accountFailoverMachine, { requireApproval: false, fence: true }, [pre(true, [], 0)]).output).toBe('rejected');
    expect(
      run(accountFailoverMachine, { requireApproval: false, fence: true }, [pre(false), { type: 'PROMOTED', attention: 1 }, { type: 'VERIFIED', attention: 0 }])
        .output,
    ).toBe('partial');
    expect(run(accountFailoverMachine, { requireApproval: false, fence: true }, [pre(false), { type: 'STEP_FAILED', reason: 'x' }]).output).toBe('failed');
  });
});

describe('account DR decisions (pure)', () => {
  it('failback: who changed since the promotion decides, with the plan policies', () => {
    const p = { onOriginalChanged: 'keep-dr', onBothChanged: 'ask' } as const;
    expect(accountFailbackDecision('none', p)).toBe('none');
    expect(accountFailbackDecision('recovery', p)).toBe('copy-back');
    expect(accountFailbackDecision('primary', p)).toBe('copy-back');
    expect(accountFailbackDecision('primary', { ...p, onOriginalChanged: 'keep-original' })).toBe('keep-primary');
    expect(accountFailbackDecision('both', p)).toBe('ask');
    expect(accountFailbackDecision('both', { ...p, onBothChanged: 'keep-original' })).toBe('keep-primary');
  });
  it('says what promoting without the primary means, and nothing when it answered', () => {
    expect(unreachablePrimaryConsequences('answers', '210987654321')).toEqual([]);
    const text = unreachablePrimaryConsequences('denied', '210987654321').join('\n');
    expect(text).toMatch(/refused our credentials/);
    expect(text).toMatch(/RPO unknown/);
    expect(text).toMatch(/lost to 210987654321/);
  });
  it('tells our replica from a conflict by the primary ARN, or by name when the primary did not answer', () => {
    const primaryArn = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:prod/payments/db-AbC123';
    const replica = {
      ARN: 'arn:aws:secretsmanager:ap-northeast-1:210987654321:secret:prod/payments/db-XyZ789',
      CrossAccountPrimary: { PrimarySecretARN: primaryArn },
    };
    expect(replicaKindOf(undefined, primaryArn, 'prod/payments/db')).toBe('absent');
    expect(replicaKindOf(replica, primaryArn, 'prod/payments/db')).toBe('replica');
    expect(replicaKindOf(replica, undefined, 'prod/payments/db')).toBe('replica');
    expect(replicaKindOf(replica, primaryArn.replace('AbC123', 'Other1'), 'prod/payments/db')).toBe('foreign');
    expect(replicaKindOf({ ARN: replica.ARN }, primaryArn, 'prod/payments/db')).toBe('standalone');
    expect(replicaKindOf({ ...replica, DeletedDate: new Date() }, primaryArn, 'prod/payments/db')).toBe('deleted');
  });
});

describe('account failover: the primary fence and the dry run (pure)', () => {
  const id = '210987654321';
  it('reports the fence: fenced, partial with how to finish, unfenced with the commands when the primary did not answer, off when the plan says so', () => {
    const base = { planName: 'payments', accountId: id, fenceEnabled: true, ran: true, fenced: 3, failed: [] };
    expect(primaryFenceOf({ ...base, reach: 'answers' })).toEqual({ state: 'fenced', fenced: 3, failed: [], next: [] });
    const partial = primaryFenceOf({ ...base, reach: 'answers', fenced: 2, failed: [{ name: 'db', reason: 'AccessDeniedException: no' }] });
    expect(partial).toMatchObject({ state: 'partial', fenced: 2, failed: [{ name: 'db' }] });
    expect(partial.next[0]).toMatch(/secrets-dr failover --to-account 210987654321 .*then secrets-dr approve ID/);
    expect(partial.next[0]).not.toMatch(/--approve/);
    const revoked = primaryFenceOf({ ...base, reach: 'denied', fenced: 0 });
    expect(revoked.state).toBe('unfenced');
    expect(revoked.next.join('\n')).toMatch(/once the primary account answers again: secrets-dr failover --to-account 210987654321/);
    expect(revoked.next.join('\n')).toMatch(/aws secretsmanager put-resource-policy .*"Effect":"Deny".*secretsmanager:PutSecretValue/);
    expect(primaryFenceOf({ ...base, reach: 'answers', fenceEnabled: false })).toEqual({ state: 'off', fenced: 0, failed: [], next: [] });
    expect(primaryFenceOf({ ...base, reach: 'answers', ran: false, fenced: 0 }).state).toBe('unfenced');
  });
  it("tells account failover's fence from a Region failover's by the tag value", () => {
    expect(isAccountFence(accountFenceTagValue('secrets-dr/payments/account/210987654321/failover', id))).toBe(true);
    expect(isAccountFence('failover secrets-dr/payments/failover/x to ap-northeast-3')).toBe(false);
    expect(isAccountFence(undefined)).toBe(false);
  });
  const status = (primary: 'answers' | 'denied', secrets: AccountStatusReport['secrets']): AccountStatusReport => ({
    plan: 'payments',
    accountId: id,
    region: 'ap-northeast-1',
    primaryAccount: { reach: primary },
    recoveryAccount: { reach: 'answers' },
    secrets,
  });
  const secrets: AccountStatusReport['secrets'] = [
    { name: 'db', replica: 'replica', primaryView: 'InSync' },
    { name: 'api', replica: 'replica', primaryView: 'InProgress' },
    { name: 'old', replica: 'standalone', promotedBy: 'secrets-dr/payments/account/210987654321/failover', promotedVersion: 'v1' },
    { name: 'taken', replica: 'standalone' },
  ];
  it('dry run, primary answers: fence, detach and promote each replica; an earlier promotion is kept; a secret without a replica cannot', () => {
    const p = accountFailoverPreview(status('answers', secrets), plan);
    expect(p.problems).toEqual([]);
    expect(p.consequences).toEqual([]);
    expect(p.counts).toEqual({ promote: 2, 'already-standalone': 1, cannot: 1 });
    expect(p.items).toEqual([
      { name: 'db', action: 'promote', fence: true, detach: true },
      { name: 'api', action: 'promote', fence: true, detach: true, note: expect.stringMatching(/^replication InProgress/) },
      { name: 'old', action: 'already-standalone', fence: true, detach: false, note: 'promoted earlier by secrets-dr/payments/account/210987654321/failover' },
      { name: 'taken', action: 'cannot', fence: false, detach: false, note: 'no cross-account replica (standalone): run account setup first' },
    ]);
  });
  it('dry run, primary revoked: refused without --mode unplanned (AccessDenied alone is not an outage), as the run refuses', () => {
    const refused = accountFailoverPreview(status('denied', secrets.slice(0, 1)), plan);
    expect(refused.problems).toEqual([expect.stringMatching(/refused our credentials: AccessDenied alone is not treated as an outage.*--mode unplanned/)]);
    expect(refused.consequences).toEqual([]);
  });
  it('dry run, primary revoked and --mode unplanned: promote as they stand (no fence, no detach), say what it means; nothing to promote is a problem', () => {
    const p = accountFailoverPreview(status('denied', secrets.slice(0, 1)), plan, 'unplanned');
    expect(p.problems).toEqual([]);
    expect(p.items).toEqual([{ name: 'db', action: 'promote', fence: false, detach: false }]);
    expect(p.consequences.join('\n')).toMatch(/RPO unknown/);
    expect(accountFailoverPreview(status('answers', secrets.slice(3)), plan).problems).toEqual([
      'no replica of plan payments found in account 210987654321: nothing to fail over',
    ]);
    expect(accountFailoverPreview(status('answers', secrets), { ...plan, failover: { ...plan.failover, fence: false } }).items[0]).toMatchObject({
      fence: false,
      detach: true,
    });
  });
});

describe('account failback dry run', () => {
  const status = (primary: 'answers' | 'denied'): AccountStatusReport => ({
    plan: 'payments',
    accountId: '210987654321',
    region: 'ap-northeast-1',
    primaryAccount: { reach: primary, ...(primary === 'denied' ? { error: 'AccessDeniedException' } : {}) },
    recoveryAccount: { reach: 'answers' },
    secrets: [
      { name: 'db', replica: 'standalone', promotedBy: 'secrets-dr/payments/account/210987654321/failover', promotedVersion: 'v1' },
      { name: 'api', replica: 'replica', primaryView: 'InSync' },
      { name: 'queue', replica: 'replica', primaryView: 'Detached' },
      { name: 'taken', replica: 'standalone' },
    ],
  });
  it('reconciles each promoted copy, re-associates what is not InSync, leaves InSync alone; both accounts must answer', () => {
    const p = accountFailbackPreview(status('answers'));
    expect(p.problems).toEqual([]);
    expect(p.items.map((i) => [i.name, i.action])).toEqual([
      ['db', 'reconcile'],
      ['api', 'in-sync'],
      ['queue', 're-associate'],
      ['taken', 're-associate'],
    ]);
    expect(p.counts).toEqual({ reconcile: 1, 'in-sync': 1, 're-associate': 2 });
    expect(accountFailbackPreview(status('denied')).problems).toEqual([
      'the primary account refused our credentials (AccessDeniedException): failback needs both',
    ]);
  });
});

describe('account failover path (preflight and dry run)', () => {
  it('answers → planned; unreachable → unplanned unless --mode planned; denied or throttled → refused unless --mode unplanned', () => {
    expect(accountFailoverPath({ reach: 'answers' }, undefined)).toEqual({ path: 'planned' });
    expect(accountFailoverPath({ reach: 'answers' }, 'planned')).toEqual({ path: 'planned' });
    expect(accountFailoverPath({ reach: 'answers' }, 'unplanned')).toEqual({ path: 'unplanned' });
    expect(accountFailoverPath({ reach: 'unreachable' }, undefined)).toEqual({ path: 'unplanned' });
    expect(accountFailoverPath({ reach: 'unreachable', error: 'TimeoutError' }, 'planned').problem).toMatch(
      /did not answer \(TimeoutError\): --mode planned needs it.*--mode unplanned/,
    );
    const denied = accountFailoverPath({ reach: 'denied', error: 'AccessDeniedException' }, undefined);
    expect(denied.path).toBeUndefined();
    expect(denied.problem).toMatch(/refused our credentials \(AccessDeniedException\): AccessDenied alone is not treated as an outage.*--mode unplanned/);
    expect(accountFailoverPath({ reach: 'denied' }, 'planned').problem).toMatch(/--mode unplanned/);
    expect(accountFailoverPath({ reach: 'denied' }, 'unplanned')).toEqual({ path: 'unplanned' });
    expect(accountFailoverPath({ reach: 'throttled' }, undefined).problem).toMatch(/throttled/);
  });
});

describe('account health (for the monitor)', () => {
  const ok = { reach: 'answers' as const };
  const pair = (name: string, over: object = {}) => ({ name, replica: 'replica' as const, primaryView: 'InSync' as const, ...over });
  it('healthy when both accounts answer and every replica is InSync', () => {
    expect(accountHealthOf({ accountId: '210987654321', primaryAccount: ok, recoveryAccount: ok, secrets: [pair('a'), pair('b')] })).toEqual({
      accountId: '210987654321',
      state: 'healthy',
      reasons: [],
      inSync: 2,
      total: 2,
    });
  });
  it('a revoked primary is degraded with the reason, never an outage; only unreachability is', () => {
    const denied = accountHealthOf({
      accountId: '210987654321',
      primaryAccount: { reach: 'denied', error: 'UnrecognizedClientException' },
      recoveryAccount: ok,
      secrets: [pair('a', { primaryView: undefined, replicaView: 'InSync' })],
    });
    expect(denied).toMatchObject({ state: 'degraded', reasons: ['primary account: denied (UnrecognizedClientException)'] });
    expect(accountHealthOf({ accountId: '2', primaryAccount: { reach: 'unreachable' }, recoveryAccount: ok, secrets: [] }).state).toBe('unreachable');
  });
  it('names the secrets without an InSync replica', () => {
    const h = accountHealthOf({
      accountId: '2',
      primaryAccount: ok,
      recoveryAccount: ok,
      secrets: [pair('a'), pair('b', { replica: 'absent', primaryView: undefined }), pair('c', { primaryView: 'Failed' })],
    });
    expect(h).toMatchObject({ state: 'degraded', inSync: 1, total: 3 });
    expect(h.reasons[0]).toBe('2 of 3 secret(s) without an InSync cross-account replica: b (absent), c (replica Failed)');
  });
});

describe('account DR IAM', () => {
  it('the worker may assume only the plan roles; the recovery role acts in the primary Region of its own account', () => {
    const worker = policyFor('worker', plan, { accountId: '123456789012' });
    expect(worker.Statement.find((s) => s.Sid === 'AssumeRecoveryRoles')).toMatchObject({
      Action: ['sts:AssumeRole'],
      Resource: ['arn:aws:iam::210987654321:role/secrets-dr-recovery'],
    });
    const recovery = policyFor('recovery', plan, { accountId: '210987654321' });
    const resources = recovery.Statement.flatMap((s) => s.Resource);
    for (const r of resources) if (r !== '*') expect(r).toMatch(/^arn:aws:(secretsmanager:ap-northeast-1|kms:\*):210987654321:/);
    // A name selector also as the bare name: describing a name the recovery account does not hold yet is evaluated on it.
    expect(resources).toEqual(
      expect.arrayContaining([
        'arn:aws:secretsmanager:ap-northeast-1:210987654321:secret:prod/App/Mysql-??????',
        'arn:aws:secretsmanager:ap-northeast-1:210987654321:secret:prod/App/Mysql',
      ]),
    );
    // KMS only through Secrets Manager in the primary Region.
    expect(recovery.Statement.find((s) => s.Action.includes('kms:Decrypt'))?.Condition).toEqual({
      StringEquals: { 'kms:ViaService': ['secretsmanager.ap-northeast-1.amazonaws.com'] },
    });
    const actions = recovery.Statement.flatMap((s) => s.Action);
    expect(actions).toEqual(
      expect.arrayContaining(['secretsmanager:StopReplicationToReplica', 'secretsmanager:DeleteResourcePolicy', 'secretsmanager:CreateSecret']),
    );
    // Never the primary account's cross-account operations: those run with the worker's own credentials.
    expect(actions.filter((a) => /CrossAccountReplica/.test(a))).toEqual([]);
    // Deletes of plan secrets happen only after a backup (setup conflicts, failback): the role may, the worker may not.
    expect(
      worker.Statement.filter((s) => s.Action.includes('secretsmanager:DeleteSecret'))
        .flatMap((s) => s.Resource)
        .every((r) => /secrets-dr|events!connection/.test(r)),
    ).toBe(true);
  });
  it('the trust policy names the worker and requires the ExternalId', () => {
    expect(trustPolicyFor(plan, '210987654321')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'SecretsDrWorker',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::123456789012:root' },
          Action: ['sts:AssumeRole'],
          Condition: { StringEquals: { 'sts:ExternalId': 'payments-dr-7f3a' } },
        },
      ],
    });
    expect(trustPolicyFor(plan, '210987654321', { principalArn: 'arn:aws:iam::123456789012:role/secrets-dr-worker' })).toMatchObject({
      Statement: [{ Principal: { AWS: 'arn:aws:iam::123456789012:role/secrets-dr-worker' } }],
    });
    expect(trustPolicyFor(plan, '999999999999')).toEqual({ problem: expect.stringMatching(/not in recoveryAccounts/) });
  });
});

/** Runs the CLI in-process, capturing what it writes. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [o, e] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
  process.stdout.write = ((c: string) => (out.push(String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => (err.push(String(c)), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

describe('account DR on the command line (before anything is started)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-dr-acct-'));
  const withAccount = join(dir, 'with-account.yaml');
  const without = join(dir, 'without.yaml');
  const base = 'name: payments\nprimaryRegion: ap-northeast-1\ndrRegions: [{ region: ap-northeast-3 }]\nsecrets: { include: [{ prefix: prod/ }] }\n';
  writeFileSync(without, base);
  writeFileSync(
    withAccount,
    `${base}primaryAccountId: "123456789012"\nrecoveryAccounts:\n  - { accountId: "210987654321", roleArn: "arn:aws:iam::210987654321:role/r", externalId: ext-1, kmsKeyId: alias/k }\n`,
  );

  it('failover needs exactly one of --to and --to-account, and the account must be a recovery account of the plan (exit 2)', async () => {
    const both = await cli(['failover', '-f', withAccount, '--to', 'ap-northeast-3', '--to-account', '210987654321']);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/--to REGION .* or --to-account ACCOUNT_ID .*not both/);
    const neither = await cli(['failover', '-f', withAccount]);
    expect(neither.code).toBe(2);
    const unknown = await cli(['failover', '-f', without, '--to-account', '210987654321']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/--to-account 210987654321: not in recoveryAccounts of plan payments \(none: add recoveryAccounts to the plan\)/);
    const bad = await cli(['failover', '-f', withAccount, '--to-account', '2109']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/12-digit/);
    const mode = await cli(['failover', '-f', withAccount, '--to-account', '210987654321', '--mode', 'sideways']);
    expect(mode.code).toBe(2);
  });

  it('iam-policy --role recovery prints the role policy and its trust policy with the ExternalId', async () => {
    const r = await cli(['iam-policy', '--role', 'recovery', '-f', withAccount, '--account-id', '210987654321', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { trustPolicy: { Statement: Array<{ Condition?: unknown; Principal: unknown }> }; policy: { Statement: unknown[] } };
    expect(doc.trustPolicy.Statement[0]).toMatchObject({
      Principal: { AWS: 'arn:aws:iam::123456789012:root' },
      Condition: { StringEquals: { 'sts:ExternalId': 'ext-1' } },
    });
    expect(doc.policy.Statement.length).toBeGreaterThan(0);
    const missing = await cli(['iam-policy', '--role', 'recovery', '-f', withAccount]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/--role recovery needs --account-id: one of the plan's recoveryAccounts \(210987654321\)/);
  });
});
