import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { failbackMachine, type FailbackEvent, type FailbackMachineInput } from '../../workflows/machines/failback.machine.js';
import {
  answerToResolution,
  classifyChange,
  expectedWrites,
  FAILBACK_FENCE_SID,
  FAILBACK_FENCED_ACTIONS,
  hasStatement,
  openFailovers,
  planItem,
  policyWithDeny,
  policyWithout,
  replicaKmsKey,
  resolve,
  reversePlanChange,
  secretsInScope,
  type SecretFacts,
  type SideFacts,
} from '../../domain/failback.js';
import { applyReversePlanChange, renderFailbackReport } from '../../cli/commands/failback.js';
import { validatePlan } from '../../domain/plan.js';
import { parse } from 'yaml';

const base: FailbackMachineInput = { reverse: false, dryRun: false, requireApproval: false };

function run(input: Partial<FailbackMachineInput>, events: FailbackEvent[]) {
  let [snap, actions] = initialTransition(failbackMachine, { ...base, ...input });
  const types = actions.map((a) => a.type);
  for (const ev of events) {
    [snap, actions] = transition(failbackMachine, snap as never, ev);
    types.push(...actions.map((a) => a.type));
  }
  return { state: (snap as AnyMachineSnapshot).value as string, actions: types.filter((t) => !t.startsWith('xstate.')) };
}

const ok = (total = 3, problems: string[] = []): FailbackEvent => ({ type: 'PREFLIGHT_DONE', problems, total });
const tail = (verified = 3, extra: { mismatched?: number; unfenceFailed?: number; rereplicateFailed?: number; notInSync?: number } = {}): FailbackEvent[] => [
  { type: 'REREPLICATED', failed: extra.rereplicateFailed ?? 0 },
  { type: 'IN_SYNC', notInSync: extra.notInSync ?? 0 },
  { type: 'VERIFIED', verified, mismatched: extra.mismatched ?? 0 },
  { type: 'ROTATION_RESTORED' },
  { type: 'UNFENCED', failed: extra.unfenceFailed ?? 0 },
  { type: 'ANNOUNCED' },
];
const ALL = ['runPreflight', 'reconcile', 'reReplicate', 'awaitInSync', 'verify', 'restoreRotation', 'unfence', 'announceCompleted'];

describe('failback machine (pure; no Temporal)', () => {
  const table: Array<{ name: string; input?: Partial<FailbackMachineInput>; events: FailbackEvent[]; state: string; actions: string[] }> = [
    {
      name: 'every secret reconciled, replicated, verified: done, in the order of DESIGN.md',
      events: [ok(), { type: 'RECONCILED', ready: 3, attention: 0 }, ...tail()],
      state: 'done',
      actions: ALL,
    },
    {
      name: 'preflight problems (no lineage, original Region down): failed before any write',
      events: [ok(0, ['no lineage'])],
      state: 'failed',
      actions: ['runPreflight'],
    },
    { name: 'dry run: decisions only', input: { dryRun: true, requireApproval: true }, events: [ok()], state: 'dryRun', actions: ['runPreflight'] },
    {
      name: 'plan approval required, approved',
      input: { requireApproval: true },
      events: [ok(), { type: 'APPROVED' }, { type: 'RECONCILED', ready: 3, attention: 0 }, ...tail()],
      state: 'done',
      actions: ['runPreflight', 'requestApproval', ...ALL.slice(1)],
    },
    {
      name: 'plan approval rejected: nothing changed',
      input: { requireApproval: true },
      events: [ok(), { type: 'REJECTED', reason: 'no' }],
      state: 'rejected',
      actions: ['runPreflight', 'requestApproval'],
    },
    {
      name: 'plan approval timed out',
      input: { requireApproval: true },
      events: [ok(), { type: 'APPROVAL_TIMEOUT' }],
      state: 'rejected',
      actions: ['runPreflight', 'requestApproval'],
    },
    {
      name: 'a secret skipped (ask rejected): partial',
      events: [ok(), { type: 'RECONCILED', ready: 2, attention: 1 }, ...tail(2)],
      state: 'partial',
      actions: ALL,
    },
    {
      name: 'nothing ready after reconciling (every ask rejected): straight to announcing, failed',
      events: [ok(), { type: 'RECONCILED', ready: 0, attention: 3 }, { type: 'ANNOUNCED' }],
      state: 'failed',
      actions: ['runPreflight', 'reconcile', 'announceCompleted'],
    },
    {
      name: 're-replication refused for one secret: partial',
      events: [ok(), { type: 'RECONCILED', ready: 3, attention: 0 }, ...tail(2, { rereplicateFailed: 1 })],
      state: 'partial',
      actions: ALL,
    },
    {
      name: 'not InSync in time: partial',
      events: [ok(), { type: 'RECONCILED', ready: 3, attention: 0 }, ...tail(2, { notInSync: 1 })],
      state: 'partial',
      actions: ALL,
    },
    {
      name: 'HMACs differ after re-replication: partial',
      events: [ok(), { type: 'RECONCILED', ready: 3, attention: 0 }, ...tail(2, { mismatched: 1 })],
      state: 'partial',
      actions: ALL,
    },
    {
      name: 'unfencing failed for one secret: partial',
      events: [ok(), { type: 'RECONCILED', ready: 3, attention: 0 }, ...tail(3, { unfenceFailed: 1 })],
      state: 'partial',
      actions: ALL,
    },
    {
      name: '--reverse: no rotation restore, no unfencing (the original becomes a replica)',
      input: { reverse: true },
      events: [
        ok(),
        { type: 'RECONCILED', ready: 3, attention: 0 },
        { type: 'REREPLICATED', failed: 0 },
        { type: 'IN_SYNC', notInSync: 0 },
        { type: 'VERIFIED', verified: 3, mismatched: 0 },
        { type: 'ANNOUNCED' },
      ],
      state: 'done',
      actions: ['runPreflight', 'reconcile', 'reReplicate', 'awaitInSync', 'verify', 'announceCompleted'],
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const r = run(row.input ?? {}, row.events);
      expect(r.state).toBe(row.state);
      expect(r.actions).toEqual(row.actions);
    });
  }

  it('ignores results that do not belong to the current step', () => {
    expect(run({}, [ok(), { type: 'VERIFIED', verified: 3, mismatched: 0 }]).state).toBe('reconciling');
  });
});

const side = (over: Partial<SideFacts> = {}): SideFacts => ({
  exists: true,
  arn: 'arn:x-AbCdEf',
  current: 'v1',
  currentHmac: 'h1',
  hmacs: ['h0', 'h1'],
  ...over,
});
const facts = (o: Partial<SideFacts>, d: Partial<SideFacts>, recorded: SecretFacts['recorded'] = { versionId: 'v1', hmac: 'h1' }): SecretFacts => ({
  name: 's',
  recorded,
  original: side(o),
  dr: side(d),
});
const FROM = 'ap-northeast-1';
const TO = 'ap-northeast-3';
const plan = (onOriginalChanged: 'keep-dr' | 'keep-original' | 'ask' = 'keep-dr', onBothChanged: 'keep-dr' | 'keep-original' | 'ask' = 'ask') => ({
  failback: { onOriginalChanged, onBothChanged, approvalTimeout: 1 },
});

describe('failback decisions per secret (domain/failback.ts)', () => {
  it.each([
    ['neither side changed', facts({}, {}), 'unchanged'],
    ['rotated in the DR Region', facts({}, { current: 'v2', currentHmac: 'h2', hmacs: ['h1', 'h2'] }), 'dr-changed'],
    ['a stray write to the old primary', facts({ current: 'v9', currentHmac: 'h9', hmacs: ['h1', 'h9'] }, {}), 'original-changed'],
    ['both changed', facts({ current: 'v9', currentHmac: 'h9' }, { current: 'v2', currentHmac: 'h2' }), 'both-changed'],
    [
      'both changed to the same value (an earlier copy-back)',
      facts({ current: 'tok', currentHmac: 'h2' }, { current: 'v2', currentHmac: 'h2' }),
      'in-agreement',
    ],
    ['the DR Region holds our replica again', facts({ replication: 'InSync' }, { primaryRegion: FROM }), 'already-replicated'],
    ['missing in the DR Region', facts({}, { exists: false }), 'blocked'],
    ['a replica of another Region in the DR Region', facts({}, { primaryRegion: 'us-east-1' }), 'blocked'],
    ['no lineage record, values differ', { ...facts({}, { currentHmac: 'h2' }), recorded: undefined }, 'blocked'],
    ['no HMACs: told apart by version id', facts({ currentHmac: undefined }, { current: 'v2', currentHmac: undefined }, { versionId: 'v1' }), 'dr-changed'],
  ])('%s', (_name, f, change) => {
    expect(classifyChange(f, FROM, TO).change).toBe(change);
  });

  it('policies: keep-dr copies back after backing up the stray value; keep-original keeps it; ask asks', () => {
    const stray = facts({ current: 'v9', currentHmac: 'h9', hmacs: ['h1', 'h9'] }, { hmacs: ['h1'] });
    expect(planItem(stray, plan('keep-dr'), FROM, TO, false)).toMatchObject({ resolution: 'copy-back', backupOriginal: true, expectHmac: 'h1' });
    expect(planItem(stray, plan('keep-original'), FROM, TO, false)).toMatchObject({ resolution: 'keep-original', expectHmac: 'h9', backupOverwritten: false });
    expect(planItem(stray, plan('ask'), FROM, TO, false).resolution).toBe('ask');
    const both = facts({ current: 'v9', currentHmac: 'h9', hmacs: ['h1', 'h9'] }, { current: 'v2', currentHmac: 'h2', hmacs: ['h1', 'h2'] });
    expect(planItem(both, plan(), FROM, TO, false).resolution).toBe('ask');
    expect(planItem(both, plan('keep-dr', 'keep-dr'), FROM, TO, false)).toMatchObject({ resolution: 'copy-back', backupOriginal: true, expectHmac: 'h2' });
  });

  it('invariant 2: the DR secret is backed up when it holds a value the original will not label after the copy-back', () => {
    const rotatedOnce = facts({}, { current: 'v2', currentHmac: 'h2', hmacs: ['h1', 'h2'] });
    expect(planItem(rotatedOnce, plan(), FROM, TO, false)).toMatchObject({ resolution: 'copy-back', backupOverwritten: false });
    const rotatedTwice = facts({}, { current: 'v3', currentHmac: 'h3', hmacs: ['h2', 'h3'] });
    expect(planItem(rotatedTwice, plan(), FROM, TO, false)).toMatchObject({ resolution: 'copy-back', backupOverwritten: true });
    expect(planItem(facts({}, {}), plan(), FROM, TO, false)).toMatchObject({ resolution: 'replicate', backupOverwritten: false });
  });

  it('--reverse: the original is always backed up and the DR value wins', () => {
    expect(planItem(facts({}, {}), plan(), FROM, TO, true)).toMatchObject({ resolution: 'reverse', backupOverwritten: true, expectHmac: 'h1' });
    expect(reversePlanChange({ primaryRegion: FROM, drRegions: [{ region: TO }] }, TO)).toMatchObject({
      primaryRegion: { from: FROM, to: TO },
      drRegion: { from: TO, to: FROM },
    });
  });

  it('answers: approve = DR value wins unless the reason says keep-original; reject = skip', () => {
    expect(answerToResolution('approve')).toBe('copy-back');
    expect(answerToResolution('approve', 'keep-original please')).toBe('keep-original');
    expect(answerToResolution('reject', 'no')).toBe('skip');
    const f = facts({ current: 'v9', currentHmac: 'h9' }, {});
    expect(resolve(planItem(f, plan('ask'), FROM, TO, false), f, 'copy-back')).toMatchObject({ backupOriginal: true, expectHmac: 'h1' });
  });

  it('expected writes count replicate + copy-back only', () => {
    const items = [planItem(facts({}, {}), plan(), FROM, TO, false), planItem(facts({}, { currentHmac: 'h2', current: 'v2' }), plan(), FROM, TO, false)];
    expect(expectedWrites(items)).toBe(3);
  });
});

describe('failback --reverse --write-plan', () => {
  const text = `# secrets-dr.yaml\nname: payments\nprimaryRegion: ap-northeast-1   # Tokyo\ndrRegions:\n  - region: ap-northeast-3\n    kmsKeyId: alias/payments-dr # Osaka key\nsecrets:\n  include:\n    - prefix: prod/\n`;
  const planOf = (t: string) => {
    const r = validatePlan(parse(t));
    if (!r.ok) throw new Error('invalid test plan');
    return r.plan;
  };

  it('swaps primaryRegion and the DR Region, keeping comments; each KMS key follows its Region', () => {
    const out = applyReversePlanChange(text, reversePlanChange(planOf(text), 'ap-northeast-3'));
    expect(out).toContain('# secrets-dr.yaml');
    expect(out).toContain('primaryRegion: ap-northeast-3 # Tokyo');
    expect(out).toContain('- region: ap-northeast-1');
    // The Osaka key now protects the primary's secrets; no key was named for Tokyo.
    expect(planOf(out)).toMatchObject({ primaryRegion: 'ap-northeast-3', primaryKmsKeyId: 'alias/payments-dr', drRegions: [{ region: 'ap-northeast-1' }] });
    expect(planOf(out).drRegions[0]!.kmsKeyId).toBeUndefined();
  });

  it('the key named for the old primary (primaryKmsKeyId) becomes its kmsKeyId as a DR Region', () => {
    const keyed = text.replace('drRegions:', 'primaryKmsKeyId: alias/payments-tokyo\ndrRegions:');
    const change = reversePlanChange(planOf(keyed), 'ap-northeast-3');
    expect(change.note).toContain('kmsKeyId: alias/payments-tokyo');
    expect(planOf(applyReversePlanChange(keyed, change))).toMatchObject({
      primaryKmsKeyId: 'alias/payments-dr',
      drRegions: [{ region: 'ap-northeast-1', kmsKeyId: 'alias/payments-tokyo' }],
    });
  });

  it('primaryKmsKeyId must be a key of primaryRegion (KMS keys are regional)', () => {
    const wrong = text.replace('drRegions:', 'primaryKmsKeyId: arn:aws:kms:ap-northeast-3:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\ndrRegions:');
    const r = validatePlan(parse(wrong));
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).toContain('primaryKmsKeyId');
    expect(JSON.stringify(r)).toContain('primaryRegion ap-northeast-1');
    expect(validatePlan(parse(wrong.replace(':kms:ap-northeast-3:', ':kms:ap-northeast-1:'))).ok).toBe(true);
  });
});

describe('failback scope and fences (pure)', () => {
  const e = (name: string) => ({ name });
  it('every failover since the failback that last verified a secret; the earliest promotion is its baseline', () => {
    const scope = secretsInScope(
      [
        { failoverId: '20261201T000000Z', secrets: [e('a'), e('b')] },
        { failoverId: '20261201T010000Z', secrets: [e('c'), e('a')] },
        { failoverId: '20261203T000000Z', secrets: [e('b'), e('d')] },
      ],
      [{ failbackId: '20261202T000000Z', names: ['a', 'b'] }],
    );
    // a: promoted twice before the failback that verified it: out of scope; b: again after it; c: never failed back.
    expect(Object.fromEntries([...scope].map(([n, v]) => [n, v.failoverId]))).toEqual({ b: '20261203T000000Z', c: '20261201T010000Z', d: '20261203T000000Z' });
    expect(
      secretsInScope(
        [
          { failoverId: '2', secrets: [e('x')] },
          { failoverId: '1', secrets: [e('x')] },
        ],
        [],
      ).get('x')?.failoverId,
    ).toBe('1');
    // The failovers still open: the first promoted a and b, both failed back since; the second's c is not.
    expect(
      openFailovers(
        [
          { failoverId: '20261201T000000Z', secrets: [e('a'), e('b')] },
          { failoverId: '20261201T010000Z', secrets: [e('c'), e('a')] },
          { failoverId: '20261203T000000Z', secrets: [e('a')] },
        ],
        [{ failbackId: '20261202T000000Z', names: ['a', 'b'] }],
      ),
    ).toEqual(['20261201T010000Z', '20261203T000000Z']);
  });

  it('the fence statement is added and removed without touching other statements', () => {
    const other = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'App', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::1:root' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
    });
    const fenced = policyWithDeny(other, FAILBACK_FENCE_SID, FAILBACK_FENCED_ACTIONS);
    expect(hasStatement(fenced, FAILBACK_FENCE_SID)).toBe(true);
    expect(policyWithDeny(fenced, FAILBACK_FENCE_SID, FAILBACK_FENCED_ACTIONS)).toBe(fenced);
    expect(policyWithout(fenced, FAILBACK_FENCE_SID)).toBe(other);
    expect(policyWithout(policyWithDeny(undefined, FAILBACK_FENCE_SID, FAILBACK_FENCED_ACTIONS), FAILBACK_FENCE_SID)).toBeUndefined();
  });

  it('the replica key: the plan names one for the Region, else the key the secret had there, never silently the AWS managed key', () => {
    const p = { primaryRegion: FROM, primaryKmsKeyId: 'alias/p', drRegions: [{ region: TO, kmsKeyId: 'alias/d' }] };
    expect(replicaKmsKey(p, FROM, 'alias/own')).toBe('alias/p');
    expect(replicaKmsKey(p, TO, undefined)).toBe('alias/d');
    expect(replicaKmsKey({ primaryRegion: FROM, drRegions: [{ region: TO }] }, FROM, 'alias/own')).toBe('alias/own');
    expect(replicaKmsKey({ primaryRegion: FROM, drRegions: [{ region: TO }] }, FROM, 'aws/secretsmanager')).toBeUndefined();
  });
});

describe('failback report (CLI)', () => {
  it('names every failover it reconciled, where each secret was promoted, the replica key and the backups', () => {
    const lines: string[] = [];
    const io = { out: (l: string) => void lines.push(l), err: (l: string) => void lines.push(l), json: false, tty: false };
    renderFailbackReport(
      {
        workflowId: 'wf',
        plan: 'p',
        from: FROM,
        to: TO,
        reverse: false,
        outcome: 'done',
        total: 2,
        counts: { verified: 2 },
        failovers: [
          { failoverId: '20261201T000000Z', region: TO, from: FROM, secrets: 1, hmacs: true },
          { failoverId: '20261201T010000Z', region: 'ap-southeast-1', from: FROM, secrets: 1, hmacs: true },
        ],
        items: [
          {
            name: 'a',
            change: 'dr-changed',
            resolution: 'copy-back',
            status: 'verified',
            dr: TO,
            kmsKeyId: 'alias/dr',
            backups: [`${TO}:secrets-dr-backup/p/a/x`],
            failoverId: '20261201T000000Z',
          },
          { name: 'b', change: 'unchanged', resolution: 'replicate', status: 'verified', dr: 'ap-southeast-1' },
        ],
        attention: [],
        problems: [],
        warnings: [],
        writes: { expected: 3, expectedMs: 100 },
        durationMs: 1,
        startedAt: '',
        finishedAt: '',
      },
      io,
    );
    const text = lines.join('\n');
    expect(text).toContain(`failover 20261201T000000Z to ${TO}`);
    expect(text).toContain('failover 20261201T010000Z to ap-southeast-1');
    expect(text).toContain(`promoted in ${TO}`);
    expect(text).toContain('replica key alias/dr');
    expect(text).toContain('since failover 20261201T000000Z');
    expect(text).toContain(`backup ${TO}:secrets-dr-backup/p/a/x`);
  });
});
