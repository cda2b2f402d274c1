import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { accessDeniedMessage, actionMatches, arnMatches, evaluate, type AuthzRequest } from '../../lab/iam/evaluate.js';
import { IamEnforcer, parsePolicyBinding } from '../../lab/iam/enforcer.js';
import { parsePolicy, PolicyError } from '../../lab/iam/policy.js';
import { authzRequestsOf, type KnownSecret, type RequestFacts } from '../../lab/iam/requests.js';
import { policyFor } from '../../domain/iam.js';
import { parsePlanText } from '../../cli/plan-file.js';

const ACCOUNT = '123456789012';
const R = 'ap-northeast-1';
const arn = (name: string, suffix = 'AbCdEf') => `arn:aws:secretsmanager:${R}:${ACCOUNT}:secret:${name}-${suffix}`;
const req = (action: string, resource: string, context: AuthzRequest['context'] = {}): AuthzRequest => ({ action, resource, context });
const policy = (...Statement: unknown[]) => parsePolicy({ Version: '2012-10-17', Statement });
const allow = (Action: unknown, Resource: unknown = '*', extra: object = {}) => ({ Effect: 'Allow', Action, Resource, ...extra });
const deny = (Action: unknown, Resource: unknown = '*', extra: object = {}) => ({ Effect: 'Deny', Action, Resource, ...extra });

describe('IAM evaluation in the lab: decisions', () => {
  it('denies by default, allows what a statement allows, and an explicit Deny wins over any Allow', () => {
    expect(evaluate([], req('secretsmanager:GetSecretValue', arn('a')))).toEqual({ allowed: false, reason: 'implicit-deny' });
    const p = policy(allow('secretsmanager:*', '*'), deny('secretsmanager:DeleteSecret', arn('prod/x')));
    expect(evaluate([p], req('secretsmanager:GetSecretValue', arn('a'))).allowed).toBe(true);
    expect(evaluate([p], req('secretsmanager:DeleteSecret', arn('prod/x')))).toMatchObject({ allowed: false, reason: 'explicit-deny' });
    expect(evaluate([p], req('secretsmanager:DeleteSecret', arn('prod/y'))).allowed).toBe(true);
    // A Deny in a second policy of the same identity still wins.
    expect(evaluate([policy(allow('*')), policy(deny('events:*'))], req('events:PutEvents', '*'))).toMatchObject({ allowed: false, reason: 'explicit-deny' });
  });

  it('matches actions case-insensitively with * and ?, resources case-sensitively', () => {
    expect(actionMatches('SecretsManager:get*', 'secretsmanager:GetSecretValue')).toBe(true);
    expect(actionMatches('secretsmanager:?etSecretValue', 'secretsmanager:GetSecretValue')).toBe(true);
    expect(actionMatches('secretsmanager:Get', 'secretsmanager:GetSecretValue')).toBe(false);
    expect(actionMatches('events:*', 'secretsmanager:GetSecretValue')).toBe(false);
    expect(arnMatches(`arn:aws:secretsmanager:*:${ACCOUNT}:secret:prod/*`, arn('prod/db'))).toBe(true);
    expect(arnMatches(`arn:aws:secretsmanager:*:${ACCOUNT}:secret:Prod/*`, arn('prod/db'))).toBe(false);
    expect(arnMatches(`arn:aws:secretsmanager:${R}:${ACCOUNT}:secret:prod/App/Mysql-??????`, arn('prod/App/Mysql'))).toBe(true);
    expect(arnMatches(`arn:aws:secretsmanager:${R}:${ACCOUNT}:secret:prod/App/Mysql-??????`, arn('prod/App/Mysql2'))).toBe(false);
  });

  it('matches ARNs component by component: a wildcard in the Region never reaches into the account', () => {
    // As a plain string glob, `*` would swallow "ap-northeast-1:999999999999" and match.
    expect(arnMatches(`arn:aws:secretsmanager:*${ACCOUNT}:secret:x-*`, `arn:aws:secretsmanager:${R}:999999999999:secret:x-1`)).toBe(false);
    expect(arnMatches('arn:aws:secretsmanager:*:*:secret:*', arn('anything'))).toBe(true);
    expect(arnMatches('arn:aws:events:*:*:rule/secrets-dr-*', `arn:aws:events:${R}:${ACCOUNT}:rule/secrets-dr-alarm`)).toBe(true);
    expect(arnMatches('arn:aws:events:*:*:rule/secrets-dr-*', `arn:aws:events:${R}:${ACCOUNT}:rule/other`)).toBe(false);
  });

  it('NotAction and NotResource allow everything but what they name', () => {
    const p = policy(
      { Effect: 'Allow', NotAction: ['secretsmanager:Delete*', 'events:*'], Resource: '*' },
      { Effect: 'Allow', Action: 'events:PutEvents', NotResource: 'arn:aws:events:*:*:event-bus/private' },
    );
    expect(evaluate([p], req('secretsmanager:GetSecretValue', arn('a'))).allowed).toBe(true);
    expect(evaluate([p], req('secretsmanager:DeleteSecret', arn('a'))).allowed).toBe(false);
    expect(evaluate([p], req('events:PutEvents', `arn:aws:events:${R}:${ACCOUNT}:event-bus/default`)).allowed).toBe(true);
    expect(evaluate([p], req('events:PutEvents', `arn:aws:events:${R}:${ACCOUNT}:event-bus/private`)).allowed).toBe(false);
  });
});

describe('IAM evaluation in the lab: conditions', () => {
  const kms = policy(
    allow('kms:Decrypt', `arn:aws:kms:*:${ACCOUNT}:key/*`, {
      Condition: { StringEquals: { 'kms:ViaService': ['secretsmanager.ap-northeast-1.amazonaws.com', 'secretsmanager.ap-northeast-3.amazonaws.com'] } },
    }),
  );
  const key = `arn:aws:kms:${R}:${ACCOUNT}:key/k1`;

  it('StringEquals: any of the values; keys compare case-insensitively, values case-sensitively; a missing key fails', () => {
    expect(evaluate([kms], req('kms:Decrypt', key, { 'kms:ViaService': 'secretsmanager.ap-northeast-3.amazonaws.com' })).allowed).toBe(true);
    expect(evaluate([kms], req('kms:Decrypt', key, { 'KMS:viaservice': 'secretsmanager.ap-northeast-1.amazonaws.com' })).allowed).toBe(true);
    expect(evaluate([kms], req('kms:Decrypt', key, { 'kms:ViaService': 'SecretsManager.ap-northeast-1.amazonaws.com' })).allowed).toBe(false);
    expect(evaluate([kms], req('kms:Decrypt', key, { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' })).allowed).toBe(false);
    expect(evaluate([kms], req('kms:Decrypt', key, {})).allowed).toBe(false);
  });

  it('operators are AND-ed, keys of one operator AND-ed', () => {
    const p = policy(
      allow('secretsmanager:CreateSecret', '*', {
        Condition: { StringLike: { 'secretsmanager:Name': 'secrets-dr/*' }, StringEquals: { 'aws:RequestTag/owner': 'dr', 'aws:RequestedRegion': R } },
      }),
    );
    const ok = { 'secretsmanager:Name': 'secrets-dr/p/hmac', 'aws:RequestTag/owner': 'dr', 'aws:RequestedRegion': R };
    expect(evaluate([p], req('secretsmanager:CreateSecret', arn('secrets-dr/p/hmac'), ok)).allowed).toBe(true);
    expect(evaluate([p], req('secretsmanager:CreateSecret', arn('x'), { ...ok, 'secretsmanager:Name': 'prod/x' })).allowed).toBe(false);
    expect(evaluate([p], req('secretsmanager:CreateSecret', arn('x'), { ...ok, 'aws:RequestedRegion': 'us-east-1' })).allowed).toBe(false);
  });

  it('negated operators hold when the key is missing or matches none of the values; ...IfExists holds when missing', () => {
    const p = policy(deny('secretsmanager:*', '*', { Condition: { StringNotEquals: { 'aws:ResourceTag/team': ['dr', 'sre'] } } }), allow('secretsmanager:*'));
    expect(evaluate([p], req('secretsmanager:GetSecretValue', arn('a'), { 'aws:ResourceTag/team': 'sre' })).allowed).toBe(true);
    expect(evaluate([p], req('secretsmanager:GetSecretValue', arn('a'), { 'aws:ResourceTag/team': 'web' })).allowed).toBe(false);
    expect(evaluate([p], req('secretsmanager:GetSecretValue', arn('a'), {})).allowed).toBe(false);
    const q = policy(allow('secretsmanager:*', '*', { Condition: { StringEqualsIfExists: { 'aws:ResourceTag/team': 'dr' } } }));
    expect(evaluate([q], req('secretsmanager:ListSecrets', '*', {})).allowed).toBe(true);
    expect(evaluate([q], req('secretsmanager:GetSecretValue', arn('a'), { 'aws:ResourceTag/team': 'web' })).allowed).toBe(false);
  });

  it('Null tests presence; Bool, Numeric and ArnLike compare as their types; StringEqualsIgnoreCase ignores case', () => {
    const tagged = policy(allow('secretsmanager:StopReplicationToReplica', '*', { Condition: { Null: { 'aws:ResourceTag/dr-tier': 'false' } } }));
    expect(evaluate([tagged], req('secretsmanager:StopReplicationToReplica', arn('a'), { 'aws:ResourceTag/dr-tier': '0' })).allowed).toBe(true);
    expect(evaluate([tagged], req('secretsmanager:StopReplicationToReplica', arn('a'), {})).allowed).toBe(false);
    const untagged = policy(allow('x:Y', '*', { Condition: { Null: { 'aws:ResourceTag/dr-tier': true } } }));
    expect(evaluate([untagged], req('x:Y', '*', {})).allowed).toBe(true);
    expect(
      evaluate(
        [policy(allow('x:Y', '*', { Condition: { Bool: { 'secretsmanager:ForceOverwriteReplicaSecret': false } } }))],
        req('x:Y', '*', { 'secretsmanager:ForceOverwriteReplicaSecret': 'true' }),
      ).allowed,
    ).toBe(false);
    expect(
      evaluate(
        [policy(allow('x:Y', '*', { Condition: { NumericLessThanEquals: { 'secretsmanager:RecoveryWindowInDays': 7 } } }))],
        req('x:Y', '*', { 'secretsmanager:RecoveryWindowInDays': '30' }),
      ).allowed,
    ).toBe(false);
    expect(
      evaluate(
        [policy(allow('x:Y', '*', { Condition: { NumericLessThanEquals: { 'secretsmanager:RecoveryWindowInDays': 7 } } }))],
        req('x:Y', '*', { 'secretsmanager:RecoveryWindowInDays': '7' }),
      ).allowed,
    ).toBe(true);
    const fn = policy(
      allow('secretsmanager:RotateSecret', '*', { Condition: { ArnLike: { 'secretsmanager:RotationLambdaARN': 'arn:aws:lambda:*:*:function:rotate-*' } } }),
    );
    expect(
      evaluate(
        [fn],
        req('secretsmanager:RotateSecret', arn('a'), { 'secretsmanager:RotationLambdaARN': `arn:aws:lambda:${R}:${ACCOUNT}:function:rotate-payments` }),
      ).allowed,
    ).toBe(true);
    expect(
      evaluate([fn], req('secretsmanager:RotateSecret', arn('a'), { 'secretsmanager:RotationLambdaARN': `arn:aws:lambda:${R}:${ACCOUNT}:function:other` }))
        .allowed,
    ).toBe(false);
    expect(
      evaluate(
        [policy(allow('x:Y', '*', { Condition: { StringEqualsIgnoreCase: { 'aws:ResourceTag/a': 'DR' } } }))],
        req('x:Y', '*', { 'aws:ResourceTag/a': 'dr' }),
      ).allowed,
    ).toBe(true);
  });

  it('ForAnyValue / ForAllValues compare multi-valued keys as sets', () => {
    const any = policy(allow('secretsmanager:TagResource', '*', { Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['secrets-dr:fenced'] } } }));
    const all = policy(allow('secretsmanager:TagResource', '*', { Condition: { 'ForAllValues:StringLike': { 'aws:TagKeys': ['secrets-dr:*'] } } }));
    const tags = (...keys: string[]) => req('secretsmanager:TagResource', arn('a'), { 'aws:TagKeys': keys });
    expect(evaluate([any], tags('other', 'secrets-dr:fenced')).allowed).toBe(true);
    expect(evaluate([any], tags('other')).allowed).toBe(false);
    expect(evaluate([all], tags('secrets-dr:a', 'secrets-dr:b')).allowed).toBe(true);
    expect(evaluate([all], tags('secrets-dr:a', 'owner')).allowed).toBe(false);
    expect(evaluate([all], req('secretsmanager:TagResource', arn('a'), {})).allowed).toBe(true);
  });
});

describe('IAM policies the lab accepts', () => {
  it('refuses a malformed document, naming the field and what to write instead', () => {
    const bad = (doc: unknown) => {
      try {
        parsePolicy(doc, 'worker.json');
      } catch (e) {
        expect(e).toBeInstanceOf(PolicyError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad('{not json')).toMatch(/^worker\.json: not JSON/);
    expect(bad({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Resource: '*' }] })).toMatch(/Statement\.0\.Action: exactly one of Action or NotAction/);
    expect(bad({ Version: '2012-10-17', Statement: [{ Effect: 'Permit', Action: 'x:Y', Resource: '*' }] })).toMatch(/Statement\.0\.Effect/);
    expect(bad({ Version: '2012-10-17', Statement: [allow('x:Y', '*', { Condition: { StringEqual: { a: 'b' } } })] })).toMatch(
      /Condition\.StringEqual: unknown condition operator/,
    );
    expect(bad({ Version: '2012-10-17', Statement: [allow('x:Y', '*', { Principal: '*' })] })).toMatch(/no Principal/);
    expect(bad({ Version: '2012-10-17', Statement: [allow('GetSecretValue')] })).toMatch(/not service:Action/);
    expect(bad({ Statement: [] })).toMatch(/Version/);
  });

  it('reads FILE and AKID=FILE bindings', () => {
    expect(parsePolicyBinding('worker.json')).toEqual({ accessKeyId: '*', file: 'worker.json' });
    expect(parsePolicyBinding('secrets-dr-worker=/tmp/w.json')).toEqual({ accessKeyId: 'secrets-dr-worker', file: '/tmp/w.json' });
    expect(() => parsePolicyBinding('=w.json')).toThrow(/expected FILE or ACCESS_KEY_ID=FILE/);
  });
});

describe('the requests IAM evaluates for an API call (Service Authorization Reference)', () => {
  const secrets = new Map<string, KnownSecret>([['prod/db', { arn: arn('prod/db'), tags: { 'dr-tier': '0' }, kmsKeyId: 'alias/payments-dr' }]]);
  const facts: RequestFacts = {
    region: R,
    accountId: ACCOUNT,
    newSuffix: () => 'NeWsUf',
    secret: (id) => secrets.get(id) ?? [...secrets.values()].find((s) => s.arn === id),
  };

  it('secret actions name the secret ARN (CreateSecret: the new ARN with its suffix); ListSecrets and GetRandomPassword `*`; an unknown name as its suffix-less ARN, shown as given', () => {
    expect(authzRequestsOf('secretsmanager', 'CreateSecret', { Name: 'secrets-dr/p/hmac', SecretString: 'v' }, facts)[0]).toMatchObject({
      action: 'secretsmanager:CreateSecret',
      resource: arn('secrets-dr/p/hmac', 'NeWsUf'),
      context: { 'secretsmanager:Name': 'secrets-dr/p/hmac' },
    });
    expect(authzRequestsOf('secretsmanager', 'ListSecrets', {}, facts)[0]!.resource).toBe('*');
    expect(authzRequestsOf('secretsmanager', 'GetRandomPassword', {}, facts)[0]!.resource).toBe('*');
    expect(authzRequestsOf('secretsmanager', 'DescribeSecret', { SecretId: 'nope/x' }, facts)[0]).toMatchObject({
      resource: `arn:aws:secretsmanager:${R}:${ACCOUNT}:secret:nope/x`,
      shownAs: 'nope/x',
    });
    const tagged = authzRequestsOf('secretsmanager', 'DescribeSecret', { SecretId: 'prod/db' }, facts)[0]!;
    expect(tagged).toMatchObject({ resource: arn('prod/db'), context: { 'aws:ResourceTag/dr-tier': '0', 'secretsmanager:ResourceTag/dr-tier': '0' } });
  });

  it('Secrets Manager calls KMS for the caller on a customer managed key (kms:ViaService), and RotateSecret needs lambda:InvokeFunction', () => {
    const get = authzRequestsOf('secretsmanager', 'GetSecretValue', { SecretId: 'prod/db' }, facts);
    expect(get.map((r) => r.action)).toEqual(['secretsmanager:GetSecretValue', 'kms:Decrypt']);
    expect(get[1]).toMatchObject({
      resource: `arn:aws:kms:${R}:${ACCOUNT}:key/payments-dr`,
      context: { 'kms:ViaService': `secretsmanager.${R}.amazonaws.com` },
    });
    const replicate = authzRequestsOf(
      'secretsmanager',
      'ReplicateSecretToRegions',
      { SecretId: 'prod/db', AddReplicaRegions: [{ Region: 'ap-northeast-3', KmsKeyId: 'alias/dr' }] },
      facts,
    );
    expect(replicate.map((r) => `${r.action} ${r.resource}`)).toEqual([
      `secretsmanager:ReplicateSecretToRegions ${arn('prod/db')}`,
      `kms:Decrypt arn:aws:kms:${R}:${ACCOUNT}:key/payments-dr`,
      `kms:GenerateDataKey arn:aws:kms:ap-northeast-3:${ACCOUNT}:key/dr`,
      `kms:Encrypt arn:aws:kms:ap-northeast-3:${ACCOUNT}:key/dr`,
    ]);
    // The AWS managed key needs no identity permission.
    expect(authzRequestsOf('secretsmanager', 'CreateSecret', { Name: 'a', SecretString: 'v', KmsKeyId: 'alias/aws/secretsmanager' }, facts)).toHaveLength(1);
    const fn = `arn:aws:lambda:${R}:${ACCOUNT}:function:rotate-payments`;
    expect(
      authzRequestsOf('secretsmanager', 'RotateSecret', { SecretId: 'prod/db', RotationLambdaARN: fn }, facts).map((r) => `${r.action} ${r.resource}`),
    ).toContain(`lambda:InvokeFunction ${fn}`);
  });

  it('EventBridge: the bus of each PutEvents entry, the rule ARN (on a custom bus rule/<bus>/<name>), iam:PassRole for a target role', () => {
    const put = authzRequestsOf(
      'events',
      'PutEvents',
      { Entries: [{ EventBusName: 'ops' }, {}, { EventBusName: `arn:aws:events:${R}:${ACCOUNT}:event-bus/ops` }] },
      facts,
    );
    expect(put.map((r) => r.resource)).toEqual([`arn:aws:events:${R}:${ACCOUNT}:event-bus/ops`, `arn:aws:events:${R}:${ACCOUNT}:event-bus/default`]);
    expect(authzRequestsOf('events', 'PutRule', { Name: 'secrets-dr-a' }, facts)[0]!.resource).toBe(`arn:aws:events:${R}:${ACCOUNT}:rule/secrets-dr-a`);
    expect(authzRequestsOf('events', 'DescribeRule', { Name: 'r', EventBusName: 'ops' }, facts)[0]!.resource).toBe(`arn:aws:events:${R}:${ACCOUNT}:rule/ops/r`);
    const targets = authzRequestsOf(
      'events',
      'PutTargets',
      { Rule: 'secrets-dr-a', Targets: [{ Id: '1', Arn: 'x', RoleArn: `arn:aws:iam::${ACCOUNT}:role/secrets-dr-events` }] },
      facts,
    );
    expect(targets[1]).toMatchObject({
      action: 'iam:PassRole',
      resource: `arn:aws:iam::${ACCOUNT}:role/secrets-dr-events`,
      context: { 'iam:PassedToService': 'events.amazonaws.com' },
    });
    expect(authzRequestsOf('events', 'CreateConnection', { Name: 'secrets-dr-c' }, facts)[0]!.resource).toBe(
      `arn:aws:events:${R}:${ACCOUNT}:connection/secrets-dr-c`,
    );
    expect(authzRequestsOf('ssm', 'GetParameter', { Name: '/aws/reference/secretsmanager/prod/db' }, facts)[0]!.resource).toBe(
      `arn:aws:ssm:${R}:${ACCOUNT}:parameter/aws/reference/secretsmanager/prod/db`,
    );
  });
});

describe('the generated worker policy under the lab evaluator', () => {
  const plan = parsePlanText(readFileSync(new URL('../fixtures/canonical-plan.yaml', import.meta.url), 'utf8')).plan!;
  const worker = parsePolicy(policyFor('worker', plan, { accountId: ACCOUNT }));
  const facts = (secret?: KnownSecret): RequestFacts => ({ region: 'ap-northeast-3', accountId: ACCOUNT, newSuffix: () => 'NeWsUf', secret: () => secret });
  const decide = (op: string, input: Record<string, unknown>, secret?: KnownSecret) =>
    authzRequestsOf('secretsmanager', op, input, facts(secret)).map((r) => evaluate([worker], r).allowed);

  it('allows the plan secrets by prefix, exact name and tag, and the tool prefixes; refuses the rest', () => {
    const dr = (name: string) => `arn:aws:secretsmanager:ap-northeast-3:${ACCOUNT}:secret:${name}-AbCdEf`;
    expect(decide('StopReplicationToReplica', { SecretId: 'prod/payments/db' }, { arn: dr('prod/payments/db'), tags: {} })).toEqual([true]);
    expect(decide('StopReplicationToReplica', { SecretId: 'prod/App/Mysql' }, { arn: dr('prod/App/Mysql'), tags: {} })).toEqual([true]);
    expect(decide('StopReplicationToReplica', { SecretId: 'other/x' }, { arn: dr('other/x'), tags: { 'dr-tier': '0' } })).toEqual([true]);
    expect(decide('StopReplicationToReplica', { SecretId: 'other/x' }, { arn: dr('other/x'), tags: { 'dr-tier': '1' } })).toEqual([false]);
    expect(decide('DeleteSecret', { SecretId: 'prod/payments/db' }, { arn: dr('prod/payments/db'), tags: {} })).toEqual([false]);
    expect(decide('CreateSecret', { Name: 'secrets-dr-backup/payments/prod/payments/db/1', SecretString: 'v' })).toEqual([true]);
    expect(decide('CreateSecret', { Name: 'secrets-dr-backup/other-plan/x', SecretString: 'v' })).toEqual([false]);
    expect(decide('GetSecretValue', { SecretId: 'prod/payments/db' }, { arn: dr('prod/payments/db'), tags: {}, kmsKeyId: 'alias/payments-dr' })).toEqual([
      true,
      true,
    ]);
  });
});

describe('the enforcer', () => {
  it('binds per access key before every caller, records decisions, and words a refusal as AWS does', () => {
    const iam = new IamEnforcer(ACCOUNT);
    expect(iam.authorize('anyone', [req('secretsmanager:DeleteSecret', arn('a'))])).toBeUndefined(); // nothing bound: the lab authorizes nothing
    iam.bind('*', { Version: '2012-10-17', Statement: [allow('secretsmanager:*')] });
    iam.bind('worker', { Version: '2012-10-17', Statement: [allow('secretsmanager:DescribeSecret')] });
    expect(iam.authorize('operator', [req('secretsmanager:DeleteSecret', arn('a'))])).toBeUndefined();
    const denied = iam.authorize('worker', [req('secretsmanager:DescribeSecret', arn('a')), req('secretsmanager:CreateSecret', arn('b'))]);
    expect(denied?.message).toBe(
      `User: arn:aws:iam::${ACCOUNT}:user/worker is not authorized to perform: secretsmanager:CreateSecret on resource: ${arn('b')} because no identity-based policy allows the secretsmanager:CreateSecret action`,
    );
    expect(iam.recorded('worker')).toEqual({
      worker: {
        'secretsmanager:DescribeSecret': { allowed: 1, denied: 0, resources: [arn('a')] },
        'secretsmanager:CreateSecret': { allowed: 0, denied: 1, resources: [], lastDenial: denied!.message },
      },
    });
    expect(accessDeniedMessage('arn:aws:iam::1:user/u', req('secretsmanager:ListSecrets', '*'), 'implicit-deny')).toBe(
      'User: arn:aws:iam::1:user/u is not authorized to perform: secretsmanager:ListSecrets because no identity-based policy allows the secretsmanager:ListSecrets action',
    );
    expect(accessDeniedMessage('arn:aws:iam::1:user/u', req('secretsmanager:DeleteSecret', arn('a')), 'explicit-deny')).toBe(
      `User: arn:aws:iam::1:user/u is not authorized to perform: secretsmanager:DeleteSecret on resource: ${arn('a')} with an explicit deny in an identity-based policy`,
    );
  });
});
