/**
 * A fence is a parsed statement, never a substring of the policy text (issue 18 review): only a deny to
 * everyone of every fenced action, without Condition or Not* elements, counts as our fence; and only a
 * statement whose Sid IS ours is lifted: a lookalike (the Sid inside another Sid or a Condition value)
 * leaves the policy byte-for-byte as it was.
 */
import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { FAILBACK_FENCE_SID, FAILBACK_FENCED_ACTIONS, hasDenyStatement, policyWithDeny } from '../../domain/failback.js';
import { FENCE_SID, FENCED_ACTIONS } from '../../domain/failover.js';
import { FENCE_TAG } from '../../domain/status.js';
import { hmacKeySecretName } from '../../domain/lineage.js';
import { createFailbackActivities } from '../../activities/failback.activities.js';
import { createFailoverActivities, fencePolicy } from '../../activities/failover.activities.js';
import type { RegionClients } from '../../activities/clients.js';
import { FakeSecretsManager } from '../support/fake-secrets-manager.js';

const ours = { Sid: FENCE_SID, Effect: 'Deny', Principal: '*', Action: [...FENCED_ACTIONS], Resource: '*' };
const app = { Sid: 'App', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' };
const policyOf = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

describe('hasDenyStatement: only a full fence counts', () => {
  it.each([
    ['the statement policyWithDeny writes', policyWithDeny(undefined, FENCE_SID, FENCED_ACTIONS)],
    ['ours beside an application statement', policyWithDeny(policyOf(app), FENCE_SID, FENCED_ACTIONS)],
    ['ours as a lone Statement object (not an array)', JSON.stringify({ Version: '2012-10-17', Statement: ours })],
    ['Principal {"AWS":"*"} (how AWS may return "*")', policyOf({ ...ours, Principal: { AWS: '*' } })],
    ['every action by the service wildcard', policyOf({ ...ours, Action: 'secretsmanager:*' })],
    ['every action by "*"', policyOf({ ...ours, Action: '*' })],
    ['action names in another case (IAM action names are case-insensitive)', policyOf({ ...ours, Action: FENCED_ACTIONS.map((a) => a.toUpperCase()) })],
    ['Resource as ["*"]', policyOf({ ...ours, Resource: ['*'] })],
  ])('fenced: %s', (_what, policy) => {
    expect(hasDenyStatement(policy, FENCE_SID, FENCED_ACTIONS)).toBe(true);
  });

  it.each([
    ['with a Condition', policyOf({ ...ours, Condition: { StringEquals: { 'aws:PrincipalAccount': '111122223333' } } })],
    ['with NotPrincipal', policyOf({ ...ours, NotPrincipal: { AWS: 'arn:aws:iam::111122223333:root' } })],
    ['with NotAction', policyOf({ ...ours, NotAction: 'secretsmanager:GetSecretValue' })],
    ['with NotResource', policyOf({ ...ours, NotResource: 'arn:aws:secretsmanager:*:*:secret:other' })],
    ['with NotPrincipal instead of Principal', policyOf({ ...ours, Principal: undefined, NotPrincipal: { AWS: 'arn:aws:iam::1:root' } })],
    ['with NotAction instead of Action', policyOf({ ...ours, Action: undefined, NotAction: 'secretsmanager:GetSecretValue' })],
    ['with NotResource instead of Resource', policyOf({ ...ours, Resource: undefined, NotResource: 'arn:aws:secretsmanager:*:*:secret:other' })],
    ['a narrowed Principal', policyOf({ ...ours, Principal: { AWS: 'arn:aws:iam::111122223333:root' } })],
    ['a narrowed Resource', policyOf({ ...ours, Resource: 'arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:prod/db-AbCdEf' })],
    ['no Resource at all', policyOf({ ...ours, Resource: undefined })],
    ['an action missing', policyOf({ ...ours, Action: FENCED_ACTIONS.slice(1) })],
    ['a partial wildcard (not known to cover every action)', policyOf({ ...ours, Action: 'secretsmanager:Put*' })],
    ['Effect Allow', policyOf({ ...ours, Effect: 'Allow' })],
    ['another Sid', policyOf({ ...ours, Sid: `${FENCE_SID}Audit` })],
    ['malformed JSON', `{"Statement":[${JSON.stringify(ours)}`],
    ['a statement that is not an object', JSON.stringify({ Statement: [null, 7, 'x'] })],
    ['no policy', undefined],
  ])('not fenced: %s', (_what, policy) => {
    expect(hasDenyStatement(policy, FENCE_SID, FENCED_ACTIONS)).toBe(false);
  });
});

/**
 * A policy naming our Sid only inside other statements: a longer Sid that contains it, and a Condition value. Pretty-
 * printed, as a person writes it: any rewrite (even of the same statements) changes its bytes.
 */
const lookalike = JSON.stringify(
  {
    Version: '2012-10-17',
    Statement: [
      { ...app, Sid: `${FENCE_SID}Audit` },
      { ...app, Sid: 'Tagged', Condition: { StringEquals: { 'aws:PrincipalTag/note': FENCE_SID } } },
    ],
  },
  null,
  2,
);

const logger = new DefaultLogger('ERROR');

describe('the fence is lifted by its Sid, parsed: a lookalike policy stays byte-for-byte', () => {
  it('failback unfence: a tagged secret whose policy names our Sid only inside other statements keeps its policy; ours is removed, others kept', async () => {
    // Prepare: the old primary Region; one secret with the lookalike policy, one with our statement beside an app statement.
    const region = 'eu-r18-unfence';
    const fake = new FakeSecretsManager(region);
    const tags = { [FENCE_TAG]: 'failover f1 to eu-r18-dr' };
    fake.seed('prod/app/lookalike', 'v1', { tags, policy: lookalike });
    fake.seed('prod/app/fenced', 'v1', { tags, policy: fencePolicy(policyOf(app)) });
    const clients = { region, secretsManager: fake } as unknown as RegionClients;
    const activities = createFailbackActivities(clients);

    // Act
    const out = await new MockActivityEnvironment({}, { logger }).run(activities.unfenceBatch, {
      names: ['prod/app/lookalike', 'prod/app/fenced'],
      writeQuotaShare: 1,
    });

    // Assess
    expect(out).toEqual([
      { name: 'prod/app/lookalike', ok: true },
      { name: 'prod/app/fenced', ok: true },
    ]);
    expect((await fake.getResourcePolicy({ SecretId: 'prod/app/lookalike' })).ResourcePolicy).toBe(lookalike);
    expect(fake.callsOf('PutResourcePolicy', 'prod/app/lookalike') + fake.callsOf('DeleteResourcePolicy', 'prod/app/lookalike')).toBe(0);
    expect((await fake.getResourcePolicy({ SecretId: 'prod/app/fenced' })).ResourcePolicy).toBe(policyOf(app));
  });

  it('failover promotion: a replica whose policy names our Sid only inside other statements keeps its policy; a replicated fence is dropped', async () => {
    // Prepare: a DR Region with two replicas: the lookalike policy, and our fence (replicated before promotion).
    const region = 'eu-r18-promote';
    const fake = new FakeSecretsManager(region);
    fake.seed(hmacKeySecretName('payments'), Buffer.alloc(32, 7).toString('base64'));
    fake.seed('prod/app/lookalike', 'v1', { primaryRegion: 'eu-r18-primary', policy: lookalike });
    fake.seed('prod/app/fenced', 'v1', { primaryRegion: 'eu-r18-primary', policy: fencePolicy(undefined) });
    const activities = createFailoverActivities({ region, secretsManager: fake as never });

    // Act
    await new MockActivityEnvironment({}, { logger }).run(activities.promoteBatch, {
      planName: 'payments',
      from: 'eu-r18-primary',
      to: region,
      failoverId: 'failover-r18',
      batch: 'b0',
      names: ['prod/app/lookalike', 'prod/app/fenced'],
      writeQuotaShare: 1,
      fencedBeforePromotion: true,
    });

    // Assess
    expect((await fake.getResourcePolicy({ SecretId: 'prod/app/lookalike' })).ResourcePolicy).toBe(lookalike);
    expect(fake.callsOf('PutResourcePolicy', 'prod/app/lookalike') + fake.callsOf('DeleteResourcePolicy', 'prod/app/lookalike')).toBe(0);
    expect((await fake.getResourcePolicy({ SecretId: 'prod/app/fenced' })).ResourcePolicy).toBeUndefined();
  });
});

describe("failback's fence of the side it overwrites is judged by its statement, not its Sid", () => {
  it('a standalone secret whose failback statement was edited (an Allow; one action; a Condition) is fenced again; a full one is left alone', async () => {
    // Prepare: the Region re-replication overwrites, with standalone secrets (promoted by failover).
    const region = 'eu-r18-overwrite';
    const fake = new FakeSecretsManager(region);
    const full = { Sid: FAILBACK_FENCE_SID, Effect: 'Deny', Principal: '*', Action: [...FAILBACK_FENCED_ACTIONS], Resource: '*' };
    const edited = {
      'prod/app/allow': policyOf(app, { ...full, Effect: 'Allow' }),
      'prod/app/one-action': policyOf(app, { ...full, Action: [FAILBACK_FENCED_ACTIONS[0]] }),
      'prod/app/condition': policyOf(app, { ...full, Condition: { StringEquals: { 'aws:PrincipalAccount': '111122223333' } } }),
    };
    for (const [name, policy] of Object.entries(edited)) fake.seed(name, 'v1', { policy });
    fake.seed('prod/app/fenced', 'v1', { policy: policyOf(app, full) });
    const activities = createFailbackActivities({ region, secretsManager: fake } as unknown as RegionClients);

    // Act
    const names = [...Object.keys(edited), 'prod/app/fenced'];
    const out = (await new MockActivityEnvironment({}, { logger }).run(activities.fenceTargetBatch, { names, writeQuotaShare: 1 })) as Array<{
      name: string;
      ok: boolean;
    }>;

    // Assess
    expect(out.map((o) => [o.name, o.ok])).toEqual(names.map((n) => [n, true]));
    for (const name of names) {
      const policy = (await fake.getResourcePolicy({ SecretId: name })).ResourcePolicy;
      expect(hasDenyStatement(policy, FAILBACK_FENCE_SID, FAILBACK_FENCED_ACTIONS), name).toBe(true);
      expect(policy, `${name}: the application's statement is kept`).toContain('"Sid":"App"');
    }
    for (const name of Object.keys(edited)) expect(fake.callsOf('PutResourcePolicy', name), name).toBe(1);
    expect(fake.callsOf('PutResourcePolicy', 'prod/app/fenced')).toBe(0);
  });
});
