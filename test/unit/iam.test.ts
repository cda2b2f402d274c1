import { readdirSync, readFileSync } from 'node:fs';
import { main } from '../../cli/main.js';
import { describe, expect, it } from 'vitest';
import { EVENTBRIDGE_OPERATIONS, SECRETS_MANAGER_OPERATIONS, SSM_OPERATIONS } from '../../activities/clients.js';
import { IAM_TABLE, iamActionOf, policyFor, type PolicyDocument } from '../../domain/iam.js';
import { CROSS_ACCOUNT_API_OPERATION } from '../../activities/cross-account-api.js';

/** The actions of the signed cross-account client (worker/cross-account-client.ts, interface activities/cross-account-api.ts). */
const crossAccountActions = Object.values(CROSS_ACCOUNT_API_OPERATION).map((op) => `secretsmanager:${op}`);
import { parsePlanText } from '../../cli/plan-file.js';

const canonical = parsePlanText(readFileSync(new URL('../fixtures/canonical-plan.yaml', import.meta.url), 'utf8')).plan!;
const workerActions = new Set(IAM_TABLE.worker.map((g) => g.action));
const activitiesDir = new URL('../../activities/', import.meta.url);
const activitySources = readdirSync(activitiesDir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: f, text: readFileSync(new URL(f, activitiesDir), 'utf8') }));

function statementsWith(policy: PolicyDocument, action: string) {
  return policy.Statement.filter((s) => s.Action.includes(action));
}

describe('the IAM table (least privilege, domain/iam.ts)', () => {
  it('lists every AWS operation the activities may call (the narrow client interfaces)', () => {
    const missing = [
      ...SECRETS_MANAGER_OPERATIONS.map((op) => iamActionOf('secretsmanager', op)),
      ...EVENTBRIDGE_OPERATIONS.map((op) => iamActionOf('events', op)),
      ...SSM_OPERATIONS.map((op) => iamActionOf('ssm', op)),
      ...crossAccountActions,
    ].filter((a) => !workerActions.has(a));
    expect(missing, `add these actions to IAM_TABLE.worker: ${missing.join(', ')}`).toEqual([]);
  });

  it('grants the worker no Secrets Manager or EventBridge action it never calls (connection secrets are EventBridge acting for us)', () => {
    const called = new Set([
      ...SECRETS_MANAGER_OPERATIONS.map((op) => iamActionOf('secretsmanager', op)),
      ...EVENTBRIDGE_OPERATIONS.map((op) => iamActionOf('events', op)),
      ...SSM_OPERATIONS.map((op) => iamActionOf('ssm', op)),
      ...crossAccountActions,
    ]);
    // Connection secrets: EventBridge acting for us; recovery replicas: AssociateCrossAccountReplica accepting for us.
    const unused = IAM_TABLE.worker
      .filter((g) => /^(secretsmanager|events|ssm):/.test(g.action) && !g.scopes.includes('connection-secrets') && !g.scopes.includes('recovery-replicas'))
      .map((g) => g.action)
      .filter((a) => !called.has(a));
    expect(unused).toEqual([]);
  });

  it('activities reach AWS only through the narrow interfaces: no runtime import of an AWS SDK client', () => {
    const offenders = activitySources.filter(({ text }) => /^import\s+(?!type\b)[^;]*from\s+'@aws-sdk\/client-/m.test(text)).map((s) => s.file);
    expect(offenders).toEqual([]);
  });

  it('every client call written in activities/ is an operation of the interfaces', () => {
    const ops = new Set<string>([...SECRETS_MANAGER_OPERATIONS, ...EVENTBRIDGE_OPERATIONS, ...SSM_OPERATIONS]);
    const calls = activitySources.flatMap(({ file, text }) =>
      [...text.matchAll(/\b(?:secretsManager|eventBridge|sm|eb|ssm)\.(\w+)\(/g)].map((m) => ({ file, op: m[1]! })),
    );
    expect(calls.length).toBeGreaterThan(20); // the scan sees the calls (a positive control)
    expect(calls.filter((c) => !ops.has(c.op))).toEqual([]);
  });

  it("scopes the worker policy: deletes only on the tool's own prefixes, `*` only where AWS takes no resource, KMS only through Secrets Manager", () => {
    const policy = policyFor('worker', canonical, { accountId: '123456789012' });
    for (const s of policy.Statement) {
      if (s.Resource.includes('*')) expect(s.Action).toEqual(['secretsmanager:ListSecrets']);
      expect(s.Action.some((a) => a.endsWith(':*'))).toBe(false);
    }
    const deletes = statementsWith(policy, 'secretsmanager:DeleteSecret').flatMap((s) => s.Resource);
    expect(deletes.length).toBeGreaterThan(0);
    for (const r of deletes) expect(r).toMatch(/:secret:(secrets-dr(-backup|-drill)?\/payments\/\*|events!connection\/secrets-dr-\*)$/);
    const kms = statementsWith(policy, 'kms:Decrypt');
    expect(kms).toHaveLength(1);
    expect(kms[0]!.Condition).toEqual({
      StringEquals: { 'kms:ViaService': ['secretsmanager.ap-northeast-1.amazonaws.com', 'secretsmanager.ap-northeast-3.amazonaws.com'] },
    });
    // The plan's selectors become resources: a prefix, an exact name (6-character suffix), a tag condition.
    const promote = statementsWith(policy, 'secretsmanager:StopReplicationToReplica');
    const arns = promote.flatMap((s) => s.Resource);
    expect(arns).toContain('arn:aws:secretsmanager:ap-northeast-3:123456789012:secret:prod/payments/*');
    expect(arns).toContain('arn:aws:secretsmanager:ap-northeast-3:123456789012:secret:prod/App/Mysql-??????');
    expect(promote.find((s) => s.Condition)?.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/dr-tier': '0' } });
    expect(statementsWith(policy, 'lambda:InvokeFunction').flatMap((s) => s.Resource)).toEqual(Object.values(canonical.rotation));
    expect(statementsWith(policy, 'iam:PassRole')[0]!.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'events.amazonaws.com' } });
  });

  it('account DR: the cross-account actions only for plans with recovery accounts; acceptance and kms:Encrypt only in the accounts named', () => {
    // A plan without recovery accounts: no cross-account action at all (Region DR only).
    const none = policyFor('worker', canonical, { accountId: '111111111111' });
    expect(none.Statement.flatMap((s) => s.Action).filter((a) => /CrossAccount/.test(a))).toEqual([]);
    expect(statementsWith(none, 'kms:Encrypt').map((s) => s.Sid)).toEqual(['KmsThroughSecretsManager']);
    const policy = policyFor('worker', canonical, { accountId: '111111111111', recoveryAccountIds: ['222222222222'] });
    expect(statementsWith(policy, 'secretsmanager:AssociateCrossAccountReplica').flatMap((s) => s.Resource)).toContain(
      'arn:aws:secretsmanager:ap-northeast-1:111111111111:secret:prod/payments/*',
    );
    expect(statementsWith(policy, 'secretsmanager:DisassociateCrossAccountReplica').length).toBeGreaterThan(0);
    const accept = statementsWith(policy, 'secretsmanager:AcceptCrossAccountReplication');
    // Cross-account replicas live in the primary Region only (same Region as their primary): nothing in the DR Regions.
    // The canonical plan has a tag selector, which no ARN can express: the recovery account's secrets of that Region.
    expect(accept.flatMap((s) => s.Resource)).toEqual(['arn:aws:secretsmanager:ap-northeast-1:222222222222:secret:*']);
    const keys = statementsWith(policy, 'kms:Encrypt').find((s) => s.Sid === 'RecoveryKeysThroughSecretsManager');
    expect(keys?.Resource).toEqual(['arn:aws:kms:ap-northeast-1:222222222222:key/*']);
    expect(keys?.Condition).toEqual({ StringEquals: { 'kms:ViaService': ['secretsmanager.ap-northeast-1.amazonaws.com'] } });
    // sts:AssumeRole only of the plan's roles (none here: the ids came from the option, not the plan).
    expect(statementsWith(policy, 'sts:AssumeRole')).toEqual([]);
  });

  it('gives the receiver only its Temporal credentials, and the operator only read-only inspection', () => {
    const receiver = policyFor('receiver', canonical);
    expect(receiver.Statement.flatMap((s) => s.Action).sort()).toEqual(['kms:Decrypt', 'secretsmanager:GetSecretValue']);
    expect(statementsWith(receiver, 'secretsmanager:GetSecretValue')[0]!.Resource.every((r) => r.endsWith(':secret:secrets-dr/payments/temporal*'))).toBe(true);
    const operator = policyFor('operator', canonical);
    expect(operator.Statement.flatMap((s) => s.Action).every((a) => /^secretsmanager:(List|Describe|Get(Resource)?Policy|GetResourcePolicy)/.test(a))).toBe(
      true,
    );
    expect(operator.Statement.flatMap((s) => s.Action)).not.toContain('secretsmanager:GetSecretValue');
  });

  it('`secrets-dr iam-policy` prints the same documents, and refuses an unknown role with exit 2', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const spyOut = process.stdout.write.bind(process.stdout);
    const spyErr = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
    let ok: number;
    let bad: number;
    try {
      const plan = new URL('../fixtures/canonical-plan.yaml', import.meta.url).pathname;
      ok = await main(['iam-policy', '--role', 'worker', '-f', plan, '--json', '--account-id', '123456789012']);
      bad = await main(['iam-policy', '--role', 'admin', '-f', plan]);
    } finally {
      process.stdout.write = spyOut;
      process.stderr.write = spyErr;
    }
    expect(ok).toBe(0);
    const doc = JSON.parse(out.join('')) as { policy: PolicyDocument };
    expect(doc.policy).toEqual(policyFor('worker', canonical, { accountId: '123456789012' }));
    expect(bad).toBe(2);
    expect(err.join('')).toMatch(/--role.*expected one of worker, receiver, operator/);
  });
});
