/**
 * Replication and promotion, as the orchestrator sees them through the real SDK client.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  RotateSecretCommand,
  StopReplicationToReplicaCommand,
  TagResourceCommand,
  UpdateSecretCommand,
  UntagResourceCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { RunningLab } from '../../lab/server.js';
import { DR, eventually, labPost, OTHER, P, rejection, sm, withLab } from './helpers.js';

let lab: RunningLab;
let primary: SecretsManagerClient;
let dr: SecretsManagerClient;
beforeEach(async () => {
  lab = await withLab();
  primary = sm(lab, P);
  dr = sm(lab, DR, { maxAttempts: 1, requestTimeout: 2000 });
});
afterEach(async () => {
  primary.destroy();
  dr.destroy();
  await lab.close();
});

const statusOf = async (name: string, region = DR): Promise<string | undefined> =>
  (await primary.send(new DescribeSecretCommand({ SecretId: name }))).ReplicationStatus?.find((s) => s.Region === region)?.Status;

async function replicated(name: string, value = 'v1'): Promise<string> {
  const r = await primary.send(new CreateSecretCommand({ Name: name, SecretString: value, AddReplicaRegions: [{ Region: DR }] }));
  await eventually(async () => (await statusOf(name)) === 'InSync');
  return r.ARN!;
}

describe('replication', () => {
  it('a replica shows Tags as its primary does: absent if never tagged, [] once every tag was removed', async () => {
    await primary.send(new CreateSecretCommand({ Name: 'app/never', SecretString: 'v' }));
    await primary.send(new CreateSecretCommand({ Name: 'app/emptied', SecretString: 'v', Tags: [{ Key: 'k', Value: 'v' }] }));
    await primary.send(new UntagResourceCommand({ SecretId: 'app/emptied', TagKeys: ['k'] }));
    for (const name of ['app/never', 'app/emptied'])
      await primary.send(new ReplicateSecretToRegionsCommand({ SecretId: name, AddReplicaRegions: [{ Region: DR }] }));
    await eventually(async () => (await statusOf('app/never')) === 'InSync' && (await statusOf('app/emptied')) === 'InSync');
    expect((await dr.send(new DescribeSecretCommand({ SecretId: 'app/never' }))).Tags).toBeUndefined();
    expect((await dr.send(new DescribeSecretCommand({ SecretId: 'app/emptied' }))).Tags).toEqual([]);
  });

  it('is asynchronous: InProgress first, then InSync with the same version ids, labels, value, tags, policy; ARN differs only by Region', async () => {
    const created = await primary.send(
      new CreateSecretCommand({
        Name: 'app/db',
        SecretString: 'v1',
        Tags: [{ Key: 'dr-tier', Value: '0' }],
        Description: 'd',
      }),
    );
    const policy = JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: '*', Resource: '*' }] });
    await primary.send(new PutResourcePolicyCommand({ SecretId: 'app/db', ResourcePolicy: policy }));
    const rep = await primary.send(new ReplicateSecretToRegionsCommand({ SecretId: 'app/db', AddReplicaRegions: [{ Region: DR }] }));
    expect(rep.ARN).toBe(created.ARN);
    expect(rep.ReplicationStatus).toEqual([expect.objectContaining({ Region: DR, Status: 'InProgress', KmsKeyId: 'alias/aws/secretsmanager' })]);
    expect((await rejection(dr.send(new DescribeSecretCommand({ SecretId: 'app/db' })))).name).toBe('ResourceNotFoundException');

    await eventually(async () => (await statusOf('app/db')) === 'InSync');
    const p = await primary.send(new DescribeSecretCommand({ SecretId: 'app/db' }));
    const r = await dr.send(new DescribeSecretCommand({ SecretId: 'app/db' }));
    expect(r.ARN).toBe(created.ARN!.replace(P, DR));
    expect(r.VersionIdsToStages).toEqual(p.VersionIdsToStages);
    expect(r.Tags).toEqual(p.Tags);
    expect(r.Description).toBe('d');
    expect(r.PrimaryRegion).toBe(P);
    expect(p.PrimaryRegion).toBe(P);
    expect((await dr.send(new GetSecretValueCommand({ SecretId: 'app/db' }))).SecretString).toBe('v1');
    expect((await dr.send(new DescribeSecretCommand({ SecretId: r.ARN }))).Name).toBe('app/db');
    const listed = (await dr.send(new ListSecretsCommand({ Filters: [{ Key: 'primary-region', Values: [P] }] }))).SecretList!;
    expect(listed.map((s) => [s.Name, s.PrimaryRegion])).toEqual([['app/db', P]]);
    expect(listed[0]!.SecretVersionsToStages).toEqual(p.VersionIdsToStages);
    expect(lab.secretsManager.snapshot()).toMatchObject({}); // snapshot is JSON-plain
    const replicaPolicy = lab.secretsManager.handleSync(
      'GetResourcePolicy',
      { SecretId: 'app/db' },
      { region: DR, accountId: lab.accountId, requestId: 'x', clock: lab.clock },
    ) as { ResourcePolicy?: string };
    expect(replicaPolicy.ResourcePolicy).toBe(policy);
  });

  it('propagates later writes (versions, labels, tags) after the lag, going InProgress then InSync again', async () => {
    await replicated('app/later');
    const put = await primary.send(new PutSecretValueCommand({ SecretId: 'app/later', SecretString: 'v2' }));
    await primary.send(new TagResourceCommand({ SecretId: 'app/later', Tags: [{ Key: 'k', Value: 'v' }] }));
    expect(await statusOf('app/later')).toBe('InProgress');
    expect((await dr.send(new GetSecretValueCommand({ SecretId: 'app/later' }))).SecretString).toBe('v1');
    await eventually(async () => (await statusOf('app/later')) === 'InSync');
    const v = await dr.send(new GetSecretValueCommand({ SecretId: 'app/later' }));
    expect(v.SecretString).toBe('v2');
    expect(v.VersionId).toBe(put.VersionId);
    expect((await dr.send(new DescribeSecretCommand({ SecretId: 'app/later' }))).Tags).toEqual([{ Key: 'k', Value: 'v' }]);
  });

  it('marks a same-name conflict Failed ("already exists") and leaves the target untouched', async () => {
    const existing = await dr.send(new CreateSecretCommand({ Name: 'app/conflict', SecretString: 'theirs' }));
    await primary.send(new CreateSecretCommand({ Name: 'app/conflict', SecretString: 'ours', AddReplicaRegions: [{ Region: DR }] }));
    await eventually(async () => (await statusOf('app/conflict')) === 'Failed');
    const d = await primary.send(new DescribeSecretCommand({ SecretId: 'app/conflict' }));
    expect(d.ReplicationStatus![0]!.StatusMessage).toMatch(/already exists/i);
    expect(d.ReplicationStatus![0]!.StatusMessage).toBe(`Replication failed: Secret name app/conflict already exists in region ${DR}.`);
    const target = await dr.send(new DescribeSecretCommand({ SecretId: 'app/conflict' }));
    expect(target.ARN).toBe(existing.ARN);
    expect(target.PrimaryRegion).toBeUndefined();
    expect((await dr.send(new GetSecretValueCommand({ SecretId: 'app/conflict' }))).SecretString).toBe('theirs');
  });

  it("ForceOverwriteReplicaSecret replaces the target: its versions are gone, ARN takes the primary suffix, value is the primary's", async () => {
    const theirs = await dr.send(new CreateSecretCommand({ Name: 'app/force', SecretString: 'theirs' }));
    const ours = await primary.send(new CreateSecretCommand({ Name: 'app/force', SecretString: 'ours' }));
    await primary.send(new ReplicateSecretToRegionsCommand({ SecretId: 'app/force', AddReplicaRegions: [{ Region: DR }], ForceOverwriteReplicaSecret: true }));
    await eventually(async () => (await statusOf('app/force')) === 'InSync');
    const d = await dr.send(new DescribeSecretCommand({ SecretId: 'app/force' }));
    expect(d.ARN).toBe(ours.ARN!.replace(P, DR));
    expect(d.ARN).not.toBe(theirs.ARN);
    expect(Object.keys(d.VersionIdsToStages!)).toEqual([ours.VersionId]);
    expect(theirs.VersionId! in d.VersionIdsToStages!).toBe(false);
    expect((await dr.send(new GetSecretValueCommand({ SecretId: 'app/force' }))).SecretString).toBe('ours');
    expect((await rejection(dr.send(new DescribeSecretCommand({ SecretId: theirs.ARN })))).name).toBe('ResourceNotFoundException');
  });

  it('refuses writes on a replica with the exact AWS message', async () => {
    await replicated('app/ro');
    const message = "Operation not permitted on a replica secret. Call must be made in primary secret's region.";
    const attempts = [
      dr.send(new PutSecretValueCommand({ SecretId: 'app/ro', SecretString: 'x' })),
      dr.send(new UpdateSecretCommand({ SecretId: 'app/ro', Description: 'x' })),
      dr.send(new UpdateSecretVersionStageCommand({ SecretId: 'app/ro', VersionStage: 'X', MoveToVersionId: 'y' })),
      dr.send(new TagResourceCommand({ SecretId: 'app/ro', Tags: [{ Key: 'a', Value: 'b' }] })),
      dr.send(new PutResourcePolicyCommand({ SecretId: 'app/ro', ResourcePolicy: '{"Statement":[]}' })),
      dr.send(new DeleteSecretCommand({ SecretId: 'app/ro' })),
      dr.send(new RotateSecretCommand({ SecretId: 'app/ro' })),
    ];
    for (const a of attempts) {
      const e = await rejection(a);
      expect(e.name).toBe('InvalidParameterException');
      expect(e.message).toBe(message);
    }
  });

  it('changes only the replica KMS key via ReplicateSecretToRegions; a disabled key fails with a KMS message', async () => {
    await replicated('app/kms');
    await primary.send(new ReplicateSecretToRegionsCommand({ SecretId: 'app/kms', AddReplicaRegions: [{ Region: DR, KmsKeyId: 'alias/payments-dr' }] }));
    await eventually(async () => (await statusOf('app/kms')) === 'InSync');
    expect((await dr.send(new DescribeSecretCommand({ SecretId: 'app/kms' }))).KmsKeyId).toBe('alias/payments-dr');
    await primary.send(new CreateSecretCommand({ Name: 'app/kms2', SecretString: 'x', AddReplicaRegions: [{ Region: DR, KmsKeyId: 'alias/disabled-key' }] }));
    await eventually(async () => (await statusOf('app/kms2')) === 'Failed');
    const d = await primary.send(new DescribeSecretCommand({ SecretId: 'app/kms2' }));
    expect(d.ReplicationStatus![0]!.StatusMessage).toMatch(/KMS key alias\/disabled-key is disabled or not found/);
    expect((await rejection(dr.send(new DescribeSecretCommand({ SecretId: 'app/kms2' })))).name).toBe('ResourceNotFoundException');
  });

  it("fails replication to a Region the lab does not serve, and refuses the primary's own Region", async () => {
    await primary.send(new CreateSecretCommand({ Name: 'app/far', SecretString: 'x', AddReplicaRegions: [{ Region: 'eu-west-1' }] }));
    await eventually(async () => (await statusOf('app/far', 'eu-west-1')) === 'Failed');
    const d = await primary.send(new DescribeSecretCommand({ SecretId: 'app/far' }));
    expect(d.ReplicationStatus![0]!.StatusMessage).toMatch(/not enabled/);
    const e = await rejection(primary.send(new ReplicateSecretToRegionsCommand({ SecretId: 'app/far', AddReplicaRegions: [{ Region: P }] })));
    expect(e.name).toBe('InvalidParameterException');
  });

  it('RemoveRegionsFromReplication deletes the replica (later: replica-removal.test.ts); a primary with replicas cannot be deleted', async () => {
    await replicated('app/rm');
    const e = await rejection(primary.send(new DeleteSecretCommand({ SecretId: 'app/rm' })));
    expect(e.name).toBe('InvalidParameterException'); // as AWS answers (see the conformance suite)
    expect(e.message).toMatch(/replica/);
    const r = await primary.send(new RemoveRegionsFromReplicationCommand({ SecretId: 'app/rm', RemoveReplicaRegions: [DR] }));
    expect(r.ReplicationStatus).toEqual([]);
    await eventually(async () => (await rejection(dr.send(new DescribeSecretCommand({ SecretId: 'app/rm' })))).name === 'ResourceNotFoundException', 6_000);
    await primary.send(new DeleteSecretCommand({ SecretId: 'app/rm', ForceDeleteWithoutRecovery: true }));
  });

  it('replication-pause holds propagation into a Region (InProgress) until cleared; replication-lag changes the lag', async () => {
    await labPost(lab, '/_lab/fault/replication-pause', { region: DR });
    await primary.send(new CreateSecretCommand({ Name: 'app/pause', SecretString: 'x', AddReplicaRegions: [{ Region: DR }] }));
    await new Promise((r) => setTimeout(r, 500));
    expect(await statusOf('app/pause')).toBe('InProgress');
    await labPost(lab, '/_lab/fault/clear', { region: DR });
    await eventually(async () => (await statusOf('app/pause')) === 'InSync');

    await labPost(lab, '/_lab/fault/replication-lag', { region: DR, ms: 800 });
    const t0 = Date.now();
    await primary.send(new PutSecretValueCommand({ SecretId: 'app/pause', SecretString: 'y' }));
    await eventually(async () => (await statusOf('app/pause')) === 'InSync');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(750);
  });

  it('nothing propagates out of a primary Region in outage', async () => {
    await replicated('app/out');
    await primary.send(new PutSecretValueCommand({ SecretId: 'app/out', SecretString: 'v2' }));
    await labPost(lab, '/_lab/fault/outage', { region: P, mode: 'error' });
    await new Promise((r) => setTimeout(r, 500));
    expect((await dr.send(new GetSecretValueCommand({ SecretId: 'app/out' }))).SecretString).toBe('v1');
    await labPost(lab, '/_lab/fault/clear', { region: P });
    await eventually(async () => (await dr.send(new GetSecretValueCommand({ SecretId: 'app/out' }))).SecretString === 'v2');
  });
});

describe('promotion (StopReplicationToReplica)', () => {
  it('refuses a non-replica', async () => {
    await primary.send(new CreateSecretCommand({ Name: 'app/solo', SecretString: 'x' }));
    const e = await rejection(primary.send(new StopReplicationToReplicaCommand({ SecretId: 'app/solo' })));
    expect(e.name).toBe('InvalidRequestException');
  });

  for (const mode of ['refuse', 'error', 'hang'] as const) {
    it(`promotes the replica in the DR Region while the primary Region is down (${mode})`, async () => {
      const arn = await replicated(`app/promote-${mode}`);
      const before = await dr.send(new DescribeSecretCommand({ SecretId: `app/promote-${mode}` }));
      await labPost(lab, '/_lab/fault/outage', { region: P, mode });
      const probe = sm(lab, P, { maxAttempts: 1, requestTimeout: 300 });
      expect(await rejection(probe.send(new DescribeSecretCommand({ SecretId: `app/promote-${mode}` })))).toBeInstanceOf(Error);
      probe.destroy();

      const r = await dr.send(new StopReplicationToReplicaCommand({ SecretId: `app/promote-${mode}` }));
      expect(r.ARN).toBe(arn.replace(P, DR));
      const after = await dr.send(new DescribeSecretCommand({ SecretId: `app/promote-${mode}` }));
      expect(after.PrimaryRegion).toBeUndefined();
      expect(after.VersionIdsToStages).toEqual(before.VersionIdsToStages);
      const put = await dr.send(new PutSecretValueCommand({ SecretId: `app/promote-${mode}`, SecretString: 'written in DR' }));
      expect(put.VersionStages).toEqual(['AWSCURRENT']);

      await labPost(lab, '/_lab/fault/clear', {});
      const p = await primary.send(new DescribeSecretCommand({ SecretId: `app/promote-${mode}` }));
      expect(p.ReplicationStatus ?? []).toEqual([]);
      // The standalone secret is no longer overwritten by the old primary.
      await primary.send(new PutSecretValueCommand({ SecretId: `app/promote-${mode}`, SecretString: 'written in primary' }));
      await new Promise((res) => setTimeout(res, 300));
      expect((await dr.send(new GetSecretValueCommand({ SecretId: `app/promote-${mode}` }))).SecretString).toBe('written in DR');
    });
  }
});

describe('other Regions are independent', () => {
  it('a secret in one Region is invisible in another', async () => {
    await primary.send(new CreateSecretCommand({ Name: 'only-here', SecretString: 'x' }));
    const other = sm(lab, OTHER);
    expect((await rejection(other.send(new DescribeSecretCommand({ SecretId: 'only-here' })))).name).toBe('ResourceNotFoundException');
    other.destroy();
  });
});
