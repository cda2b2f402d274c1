/**
 * Account DR activities in MockActivityEnvironment over a hand-rolled fake of both accounts (only the calls these
 * activities make; the wire-level behaviour is the lab's job): a throttled probe is retried, never an outage; the
 * primary's fence is judged by its statement, not its tag; promotion tags a copy a crash left untagged and keeps an
 * earlier promoted-version on a retry.
 */
import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { parsePlanText } from '../../cli/plan-file.js';
import { createAccountActivities } from '../../activities/account.activities.js';
import type { AccountRegionClients } from '../../activities/clients.js';
import { FENCE_SID, FENCED_ACTIONS } from '../../domain/failover.js';
import { hasDenyStatement, hasStatement } from '../../domain/failback.js';
import { ACCOUNT_PROMOTED_BY_TAG, ACCOUNT_PROMOTED_VERSION_TAG, accountFenceTagValue } from '../../domain/account-dr.js';
import { awsError } from '../support/fake-secrets-manager.js';

const plan = parsePlanText(`name: payments
primaryRegion: ap-northeast-1
drRegions: [{ region: ap-northeast-3 }]
secrets: { include: [{ prefix: prod/ }] }
recoveryAccounts:
  - { accountId: "210987654321", roleArn: "arn:aws:iam::210987654321:role/r", kmsKeyId: alias/k }
`).plan!;
const REGION = 'ap-northeast-1';
const RECOVERY = '210987654321';

interface FakeSecret {
  arn: string;
  tags: Array<{ Key: string; Value: string }>;
  policy?: string;
  stages: Record<string, string[]>;
  crossAccountPrimary?: { PrimarySecretARN: string; ReplicationStatus: 'InSync' };
}

/** One account's secrets, by name; every call is logged as `op name`. */
function fakeAccount(accountId: string | undefined, secrets: Record<string, FakeSecret>, log: string[], fail: { listSecrets?: Error } = {}) {
  const find = (id: string) => {
    const s = secrets[id] ?? Object.values(secrets).find((x) => x.arn === id);
    if (!s) throw awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return s;
  };
  const nameOf = (id: string) => Object.keys(secrets).find((n) => n === id || secrets[n]!.arn === id) ?? id;
  const call = (op: string, id: string) => log.push(`${accountId ?? 'primary'} ${op} ${nameOf(id)}`);
  const secretsManager = {
    listSecrets: async () => {
      if (fail.listSecrets) throw fail.listSecrets;
      return { SecretList: [] };
    },
    getResourcePolicy: async ({ SecretId }: { SecretId: string }) => ({ ResourcePolicy: find(SecretId).policy }),
    putResourcePolicy: async ({ SecretId, ResourcePolicy }: { SecretId: string; ResourcePolicy: string }) => {
      call('PutResourcePolicy', SecretId);
      find(SecretId).policy = ResourcePolicy;
      return {};
    },
    deleteResourcePolicy: async ({ SecretId }: { SecretId: string }) => {
      call('DeleteResourcePolicy', SecretId);
      delete find(SecretId).policy;
      return {};
    },
    tagResource: async ({ SecretId, Tags }: { SecretId: string; Tags: Array<{ Key: string; Value: string }> }) => {
      call('TagResource', SecretId);
      const s = find(SecretId);
      s.tags = [...s.tags.filter((t) => !Tags.some((n) => n.Key === t.Key)), ...Tags];
      return {};
    },
    stopReplicationToReplica: async ({ SecretId }: { SecretId: string }) => {
      call('StopReplicationToReplica', SecretId);
      delete find(SecretId).crossAccountPrimary;
      return {};
    },
  };
  const crossAccount = {
    describeSecretCrossAccount: async ({ SecretId }: { SecretId: string }) => {
      const s = find(SecretId);
      return {
        ARN: s.arn,
        Name: nameOf(SecretId),
        Tags: s.tags,
        VersionIdsToStages: s.stages,
        ...(s.crossAccountPrimary ? { CrossAccountPrimary: s.crossAccountPrimary } : {}),
      };
    },
  };
  return {
    region: REGION,
    ...(accountId ? { accountId } : {}),
    bucket: `${REGION}@${accountId ?? 'primary'}`,
    secretsManager,
    crossAccount,
  } as unknown as AccountRegionClients;
}

const env = () => new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
const arn = (account: string, name: string) => `arn:aws:secretsmanager:${REGION}:${account}:secret:${name}-AbCdEf`;

describe('account DR activities (fake accounts)', () => {
  it('a throttled probe fails the attempt (retried), never reads as an account outage; AccessDenied reads as denied', async () => {
    const log: string[] = [];
    const throttled = createAccountActivities(REGION, () => fakeAccount(undefined, {}, log, { listSecrets: awsError('ThrottlingException', 'Rate exceeded') }));
    await expect(env().run(throttled.probeAccount, { region: REGION, plan })).rejects.toMatchObject({ type: 'ThrottlingException', nonRetryable: false });
    const denied = createAccountActivities(REGION, () => fakeAccount(undefined, {}, log, { listSecrets: awsError('AccessDeniedException', 'no', 403) }));
    expect(await env().run(denied.probeAccount, { region: REGION, plan })).toMatchObject({ reach: 'denied', error: 'AccessDeniedException' });
  });

  it('fence: a primary carrying our fence tag whose deny statement is gone is fenced again (the statement decides, not the tag)', async () => {
    const log: string[] = [];
    const workflowId = 'secrets-dr/payments/account/210987654321/failover';
    const primary: Record<string, FakeSecret> = {
      'prod/db': { arn: arn('123456789012', 'prod/db'), tags: [{ Key: 'secrets-dr:fenced', Value: accountFenceTagValue(workflowId, RECOVERY) }], stages: {} },
    };
    const a = createAccountActivities(REGION, (_r, account) => fakeAccount(account?.accountId, account ? {} : primary, log));
    const out = await env().run(a.fenceAccountPrimaries, {
      region: REGION,
      plan,
      accountId: RECOVERY,
      workflowId,
      items: [{ name: 'prod/db', primaryArn: primary['prod/db']!.arn }],
    });
    expect(out).toEqual([{ name: 'prod/db', status: 'unchanged' }]);
    expect(hasStatement(primary['prod/db']!.policy, FENCE_SID)).toBe(true);
    expect(log).toEqual(['primary PutResourcePolicy prod/db']);
    // Fenced (statement present): a retry writes nothing.
    await env().run(a.fenceAccountPrimaries, {
      region: REGION,
      plan,
      accountId: RECOVERY,
      workflowId,
      items: [{ name: 'prod/db', primaryArn: primary['prod/db']!.arn }],
    });
    expect(log).toHaveLength(1);
  });

  it('fence: a statement that carries our Sid but was edited since (an Allow; fewer actions) is no fence and is replaced', async () => {
    const workflowId = 'secrets-dr/payments/account/210987654321/failover';
    for (const edited of [
      { Sid: FENCE_SID, Effect: 'Allow', Principal: '*', Action: [...FENCED_ACTIONS], Resource: '*' },
      { Sid: FENCE_SID, Effect: 'Deny', Principal: '*', Action: ['secretsmanager:PutSecretValue'], Resource: '*' },
    ]) {
      const log: string[] = [];
      const primary: Record<string, FakeSecret> = {
        'prod/db': { arn: arn('123456789012', 'prod/db'), policy: JSON.stringify({ Version: '2012-10-17', Statement: [edited] }), tags: [], stages: {} },
      };
      const a = createAccountActivities(REGION, (_r, account) => fakeAccount(account?.accountId, account ? {} : primary, log));
      await env().run(a.fenceAccountPrimaries, {
        region: REGION,
        plan,
        accountId: RECOVERY,
        workflowId,
        items: [{ name: 'prod/db', primaryArn: primary['prod/db']!.arn }],
      });
      expect(log[0], JSON.stringify(edited)).toBe('primary PutResourcePolicy prod/db');
      expect(hasDenyStatement(primary['prod/db']!.policy, FENCE_SID, FENCED_ACTIONS), JSON.stringify(edited)).toBe(true);
    }
  });

  it('promotion stops replication then tags (a replica refuses tags); a crash between is tagged by the retry; a retry keeps the promoted version', async () => {
    const log: string[] = [];
    const workflowId = 'secrets-dr/payments/account/210987654321/failover';
    const recovery: Record<string, FakeSecret> = {
      'prod/db': {
        arn: arn(RECOVERY, 'prod/db'),
        tags: [],
        stages: { v1: ['AWSCURRENT'] },
        crossAccountPrimary: { PrimarySecretARN: arn('123456789012', 'prod/db'), ReplicationStatus: 'InSync' },
      },
    };
    const a = createAccountActivities(REGION, (_r, account) => fakeAccount(account?.accountId, account ? recovery : {}, log));
    const input = { region: REGION, plan, accountId: RECOVERY, workflowId, promotedAt: '2026-12-02T16:00:00.000Z', names: ['prod/db'] };
    expect(await env().run(a.promoteCrossAccountReplicas, input)).toEqual([{ name: 'prod/db', status: 'promoted', version: 'v1' }]);
    expect(log).toEqual([`${RECOVERY} StopReplicationToReplica prod/db`, `${RECOVERY} TagResource prod/db`]);
    // A crash after the stop, before the tag: the retried attempt tags the standalone copy this run saw as its replica.
    recovery['prod/db']!.tags = [];
    expect(await env().run(a.promoteCrossAccountReplicas, input)).toEqual([{ name: 'prod/db', status: 'promoted', version: 'v1' }]);
    expect(log.slice(2)).toEqual([`${RECOVERY} TagResource prod/db`]);
    // The applications write after the promotion; a retried attempt keeps v1 as the promoted version and writes nothing.
    log.length = 2;
    recovery['prod/db']!.stages = { v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] };
    expect(await env().run(a.promoteCrossAccountReplicas, input)).toEqual([{ name: 'prod/db', status: 'promoted', version: 'v1' }]);
    expect(log).toHaveLength(2);
    const tags = Object.fromEntries(recovery['prod/db']!.tags.map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({ [ACCOUNT_PROMOTED_BY_TAG]: workflowId, [ACCOUNT_PROMOTED_VERSION_TAG]: 'v1' });
  });
});
