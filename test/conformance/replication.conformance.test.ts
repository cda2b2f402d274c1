/**
 * Secrets Manager multi-Region replication: replicate, replica shape and read-only-ness,
 * conflicts, force-overwrite, removal, promotion. Same body against the lab and moto.
 */
import { expect, it } from 'vitest';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  StopReplicationToReplicaCommand,
  TagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
  type ReplicationStatusType,
} from '@aws-sdk/client-secrets-manager';
import { DR, OTHER, PRIMARY, eventually, expectAwsError, forEachTarget, skipFor, type Env } from './targets.js';

const swapRegion = (arn: string, region: string) => arn.replace(/^(arn:aws:secretsmanager:)[^:]+:/, `$1${region}:`);

/** The entry for `region` (the last one: moto may append duplicates, see duplicateStatusEntryOnReReplicate). */
function statusFor(list: ReplicationStatusType[] | undefined, region: string): ReplicationStatusType | undefined {
  return (list ?? []).filter((s) => s.Region === region).at(-1);
}

/** Polls the primary until the replica in `region` reaches a final status (InSync or Failed). */
async function settled(env: Env, secretId: string, region: string): Promise<ReplicationStatusType> {
  return eventually(`${secretId} replication to ${region} to settle`, async () => {
    const d = await env.sm(PRIMARY).send(new DescribeSecretCommand({ SecretId: secretId }));
    const s = statusFor(d.ReplicationStatus, region);
    return s && s.Status !== 'InProgress' ? s : undefined;
  });
}

/** Waits until the replica removed from replication is gone from the DR Region (later on AWS: tens of seconds). */
async function replicaGone(env: Env, secretId: string): Promise<void> {
  await eventually(
    `the removed replica ${secretId} to disappear`,
    async () => {
      try {
        await env.sm(DR).send(new DescribeSecretCommand({ SecretId: secretId }));
        return undefined;
      } catch (e) {
        return (e as Error).name === 'ResourceNotFoundException' ? true : undefined;
      }
    },
    { timeoutMs: 25_000, intervalMs: 200 },
  );
}

const REPLICA_READ_ONLY = /replica/i;

forEachTarget('replication', (env) => {
  const primary = () => env.sm(PRIMARY);
  const dr = () => env.sm(DR);

  async function replicated(name: string, value = 'v1') {
    const c = await primary().send(new CreateSecretCommand({ Name: name, SecretString: value, Tags: [{ Key: 'dr', Value: 'yes' }] }));
    await primary().send(new ReplicateSecretToRegionsCommand({ SecretId: name, AddReplicaRegions: [{ Region: DR }] }));
    const s = await settled(env, name, DR);
    expect(s.Status).toBe('InSync');
    return c;
  }

  it('ReplicateSecretToRegions returns status entries; the replica reaches InSync', async (ctx) => {
    const name = env.name('repl');
    const c = await primary().send(new CreateSecretCommand({ Name: name, SecretString: 'v1' }));
    const r = await primary().send(new ReplicateSecretToRegionsCommand({ SecretId: name, AddReplicaRegions: [{ Region: DR }, { Region: OTHER }] }));
    if (env.target.quirks.replicateReturnsSecretId) {
      ctx.annotate(`${env.target.name}: ${env.target.quirks.replicateReturnsSecretId}`);
      expect(r.ARN).toBe(name); // asserted difference
    } else {
      expect(r.ARN).toBe(c.ARN);
    }
    expect((r.ReplicationStatus ?? []).map((s) => s.Region).sort()).toEqual([DR, OTHER].sort());
    for (const s of r.ReplicationStatus ?? []) {
      if (env.target.quirks.replicationSynchronous) expect(s.Status).toBe('InSync');
      else expect(s.Status).toBe('InProgress');
      expect(s.KmsKeyId ?? 'alias/aws/secretsmanager').toMatch(/aws\/secretsmanager/);
    }
    // bounded poll until InSync (the lab has a replication lag; moto is already there)
    for (const region of [DR, OTHER]) expect((await settled(env, name, region)).Status).toBe('InSync');
    const d = await primary().send(new DescribeSecretCommand({ SecretId: name }));
    expect(d.PrimaryRegion ?? PRIMARY).toBe(PRIMARY);
    expect(d.ReplicationStatus).toHaveLength(2);
  });

  it('the replica exists in the target Region: PrimaryRegion, same versions, ARN with the Region swapped', async () => {
    const name = env.name('replica');
    const c = await primary().send(new CreateSecretCommand({ Name: name, SecretString: 'one', Tags: [{ Key: 'dr', Value: 'yes' }] }));
    const v2 = await primary().send(new PutSecretValueCommand({ SecretId: name, SecretString: 'two' }));
    await primary().send(new ReplicateSecretToRegionsCommand({ SecretId: name, AddReplicaRegions: [{ Region: DR }] }));
    expect((await settled(env, name, DR)).Status).toBe('InSync');

    const p = await primary().send(new DescribeSecretCommand({ SecretId: name }));
    const d = await dr().send(new DescribeSecretCommand({ SecretId: name }));
    expect(d.ARN).toBe(swapRegion(c.ARN!, DR));
    expect(d.Name).toBe(name);
    expect(d.PrimaryRegion).toBe(PRIMARY);
    expect(d.VersionIdsToStages).toEqual(p.VersionIdsToStages);
    expect(d.Tags).toEqual([{ Key: 'dr', Value: 'yes' }]);

    const byArn = await dr().send(new GetSecretValueCommand({ SecretId: swapRegion(c.ARN!, DR) }));
    expect(byArn).toMatchObject({ SecretString: 'two', VersionId: v2.VersionId, ARN: swapRegion(c.ARN!, DR) });
    const prev = await dr().send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }));
    expect(prev).toMatchObject({ SecretString: 'one', VersionId: c.VersionId });

    const versions = await dr().send(new ListSecretVersionIdsCommand({ SecretId: name }));
    expect((versions.Versions ?? []).map((v) => v.VersionId).sort()).toEqual([c.VersionId, v2.VersionId].sort());

    const listed = await dr().send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [name] }] }));
    expect(listed.SecretList).toHaveLength(1);
    expect(listed.SecretList?.[0]).toMatchObject({ Name: name, PrimaryRegion: PRIMARY });
    expect(listed.SecretList?.[0]?.SecretVersionsToStages).toEqual(p.VersionIdsToStages);
    // the primary-region filter finds replicated secrets from either side
    for (const client of [primary(), dr()]) {
      const byPrimary = await client.send(
        new ListSecretsCommand({
          Filters: [
            { Key: 'primary-region', Values: [PRIMARY] },
            { Key: 'name', Values: [name] },
          ],
        }),
      );
      expect((byPrimary.SecretList ?? []).map((s) => s.Name)).toEqual([name]);
      const byOther = await client.send(
        new ListSecretsCommand({
          Filters: [
            { Key: 'primary-region', Values: [OTHER] },
            { Key: 'name', Values: [name] },
          ],
        }),
      );
      expect(byOther.SecretList ?? []).toEqual([]);
    }
  });

  it('a new primary version propagates to the replica', async () => {
    const name = env.name('propagate');
    await replicated(name);
    const v2 = await primary().send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }));
    const got = await eventually('the new version in the replica', async () => {
      const g = await dr().send(new GetSecretValueCommand({ SecretId: name }));
      return g.VersionId === v2.VersionId ? g : undefined;
    });
    expect(got.SecretString).toBe('v2');
    expect((await settled(env, name, DR)).Status).toBe('InSync');
  });

  it('a replica is read-only: writes in its Region fail with InvalidParameterException', async () => {
    const name = env.name('readonly');
    await replicated(name);
    await expectAwsError(dr().send(new PutSecretValueCommand({ SecretId: name, SecretString: 'nope' })), 'InvalidParameterException', REPLICA_READ_ONLY);
    await expectAwsError(dr().send(new UpdateSecretCommand({ SecretId: name, SecretString: 'nope' })), 'InvalidParameterException', REPLICA_READ_ONLY);
    await expectAwsError(
      dr().send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'a', Value: 'b' }] })),
      'InvalidParameterException',
      REPLICA_READ_ONLY,
    );
    await expectAwsError(dr().send(new DeleteSecretCommand({ SecretId: name })), 'InvalidParameterException', REPLICA_READ_ONLY);
    await expectAwsError(
      dr().send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: '{"Version":"2012-10-17","Statement":[]}' })),
      'InvalidParameterException',
      REPLICA_READ_ONLY,
    );
    // nothing changed
    expect((await dr().send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('v1');
  });

  it('UpdateSecretVersionStage on a replica is refused', async (ctx) => {
    const name = env.name('readonly-uvs');
    const c = await replicated(name);
    const v2 = await primary().send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }));
    await eventually('v2 in the replica', async () => {
      const g = await dr().send(new GetSecretValueCommand({ SecretId: name }));
      return g.VersionId === v2.VersionId ? g : undefined;
    });
    const move = dr().send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: c.VersionId,
        RemoveFromVersionId: v2.VersionId,
      }),
    );
    if (env.target.quirks.updateVersionStageAllowedOnReplica) {
      ctx.annotate(`${env.target.name}: ${env.target.quirks.updateVersionStageAllowedOnReplica}`);
      await expect(move).resolves.toBeDefined(); // asserted difference: accepted...
      const p = await primary().send(new DescribeSecretCommand({ SecretId: name }));
      expect(p.VersionIdsToStages?.[c.VersionId!]).toEqual(['AWSCURRENT']); // ...and it moved the primary's label
      return;
    }
    await expectAwsError(move, 'InvalidParameterException', REPLICA_READ_ONLY);
    const p = await primary().send(new DescribeSecretCommand({ SecretId: name }));
    expect(p.VersionIdsToStages?.[v2.VersionId!]).toEqual(['AWSCURRENT']);
  });

  it('replica KmsKeyId is kept in the status entry', async (ctx) => {
    const name = env.name('kms');
    await primary().send(new CreateSecretCommand({ Name: name, SecretString: 'v' }));
    await primary().send(new ReplicateSecretToRegionsCommand({ SecretId: name, AddReplicaRegions: [{ Region: DR, KmsKeyId: 'alias/payments-dr' }] }));
    const s = await settled(env, name, DR);
    if (env.target.quirks.replicaKmsKeyIgnored) {
      ctx.annotate(`${env.target.name}: ${env.target.quirks.replicaKmsKeyIgnored}`);
      expect(s).toMatchObject({ Status: 'InSync', KmsKeyId: 'alias/aws/secretsmanager' }); // asserted difference
    } else {
      expect(s).toMatchObject({ Status: 'InSync', KmsKeyId: 'alias/payments-dr' });
    }
  });

  it('a same-name secret in the target Region: Failed, /already exists/i, the target untouched', async (ctx) => {
    const name = env.name('conflict');
    const theirs = await dr().send(new CreateSecretCommand({ Name: name, SecretString: 'target value' }));
    await primary().send(new CreateSecretCommand({ Name: name, SecretString: 'primary value' }));
    await primary().send(new ReplicateSecretToRegionsCommand({ SecretId: name, AddReplicaRegions: [{ Region: DR }] }));
    const s = await settled(env, name, DR);
    expect(s.Status).toBe('Failed');
    expect(s.StatusMessage).toMatch(/already exists/i);
    if (env.target.quirks.conflictMessageHardcodedName) {
      ctx.annotate(`${env.target.name}: ${env.target.quirks.conflictMessageHardcodedName}`);
    }

    const target = await dr().send(new GetSecretValueCommand({ SecretId: name }));
    expect(target).toMatchObject({ SecretString: 'target value', ARN: theirs.ARN, VersionId: theirs.VersionId });
    expect((await dr().send(new DescribeSecretCommand({ SecretId: name }))).PrimaryRegion).toBeUndefined();
  });

  it('ForceOverwriteReplicaSecret replaces the same-name secret: old versions gone, primary ARN suffix', async (ctx) => {
    const name = env.name('force');
    const theirs = await dr().send(new CreateSecretCommand({ Name: name, SecretString: 'target value' }));
    const c = await primary().send(new CreateSecretCommand({ Name: name, SecretString: 'primary value' }));
    await primary().send(new ReplicateSecretToRegionsCommand({ SecretId: name, AddReplicaRegions: [{ Region: DR }] }));
    expect((await settled(env, name, DR)).Status).toBe('Failed');

    const r = await primary().send(
      new ReplicateSecretToRegionsCommand({ SecretId: name, AddReplicaRegions: [{ Region: DR }], ForceOverwriteReplicaSecret: true }),
    );
    expect(statusFor(r.ReplicationStatus, DR)?.Status).toMatch(/^(InProgress|InSync)$/);
    expect((await settled(env, name, DR)).Status).toBe('InSync');

    const d = await primary().send(new DescribeSecretCommand({ SecretId: name }));
    const entries = (d.ReplicationStatus ?? []).filter((s) => s.Region === DR);
    if (env.target.quirks.duplicateStatusEntryOnReReplicate) {
      ctx.annotate(`${env.target.name}: ${env.target.quirks.duplicateStatusEntryOnReReplicate}`);
      expect(entries.map((e) => e.Status)).toEqual(['Failed', 'InSync']); // asserted difference
    } else {
      expect(entries.map((e) => e.Status)).toEqual(['InSync']);
    }

    const replica = await dr().send(new DescribeSecretCommand({ SecretId: name }));
    expect(replica.ARN).toBe(swapRegion(c.ARN!, DR));
    expect(replica.ARN).not.toBe(theirs.ARN);
    expect(replica.PrimaryRegion).toBe(PRIMARY);
    expect(Object.keys(replica.VersionIdsToStages ?? {})).toEqual([c.VersionId]);
    const got = await dr().send(new GetSecretValueCommand({ SecretId: name }));
    expect(got).toMatchObject({ SecretString: 'primary value', VersionId: c.VersionId });
    await expectAwsError(dr().send(new GetSecretValueCommand({ SecretId: name, VersionId: theirs.VersionId })), 'ResourceNotFoundException');
    await expectAwsError(dr().send(new GetSecretValueCommand({ SecretId: theirs.ARN })), 'ResourceNotFoundException');
  });

  // On AWS the replica disappears tens of seconds after the call answered (AWS-FACTS.md); moto deletes
  // it at once, the lab after its replica-delete-delay. Only "the primary stops listing it at once,
  // the replica goes" holds everywhere.
  it('RemoveRegionsFromReplication: the primary stops listing the Region at once, the replica disappears', async (ctx) => {
    const name = env.name('remove');
    const c = await replicated(name);
    const r = await primary().send(new RemoveRegionsFromReplicationCommand({ SecretId: name, RemoveReplicaRegions: [DR] }));
    if (env.target.quirks.replicateReturnsSecretId) {
      ctx.annotate(`${env.target.name}: ${env.target.quirks.replicateReturnsSecretId}`);
      expect(r.ARN).toBe(name); // asserted difference
    } else {
      expect(r.ARN).toBe(c.ARN);
    }
    expect(statusFor(r.ReplicationStatus, DR)).toBeUndefined();
    const d = await primary().send(new DescribeSecretCommand({ SecretId: name }));
    expect(d.ReplicationStatus ?? []).toEqual([]);
    await replicaGone(env, name);
    await expectAwsError(dr().send(new GetSecretValueCommand({ SecretId: name })), 'ResourceNotFoundException');
    // the name is free in that Region again
    await dr().send(new CreateSecretCommand({ Name: name, SecretString: 'local' }));
  });

  // AWS: "InvalidParameterException: You can't delete secret <arn> that still has replica regions [...]"
  // (seen in public reports, e.g. gruntwork-io/cloud-nuke#435, rebuy-de/aws-nuke#1127).
  it('a primary that still has replicas cannot be deleted', async () => {
    const name = env.name('nodelete');
    await replicated(name);
    await expectAwsError(
      primary().send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true })),
      'InvalidParameterException',
      /replica/i,
    );
    await expectAwsError(primary().send(new DeleteSecretCommand({ SecretId: name })), 'InvalidParameterException', /replica/i);
    expect((await primary().send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('v1');
    await primary().send(new RemoveRegionsFromReplicationCommand({ SecretId: name, RemoveReplicaRegions: [DR] }));
    await replicaGone(env, name); // deleting the primary first may strand the replica
    await primary().send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    await expectAwsError(primary().send(new DescribeSecretCommand({ SecretId: name })), 'ResourceNotFoundException');
  });

  it('StopReplicationToReplica promotes the replica to a writable standalone secret', async (ctx) => {
    skipFor(ctx, env, 'noStopReplicationToReplica');
    const name = env.name('promote');
    const c = await replicated(name);
    const r = await dr().send(new StopReplicationToReplicaCommand({ SecretId: name }));
    expect(r.ARN).toBe(swapRegion(c.ARN!, DR));
    const d = await dr().send(new DescribeSecretCommand({ SecretId: name }));
    expect(d.PrimaryRegion ?? DR).toBe(DR);
    expect(d.ReplicationStatus ?? []).toEqual([]);
    const put = await dr().send(new PutSecretValueCommand({ SecretId: name, SecretString: 'written in DR' }));
    expect((await dr().send(new GetSecretValueCommand({ SecretId: name }))).VersionId).toBe(put.VersionId);
    // the old primary keeps its own value
    expect((await primary().send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('v1');
  });

  it('StopReplicationToReplica must be called in the replica Region', async (ctx) => {
    skipFor(ctx, env, 'noStopReplicationToReplica');
    const name = env.name('promote-primary');
    await replicated(name);
    // AWS does not document which of the two it returns here: either is accepted
    await expectAwsError(primary().send(new StopReplicationToReplicaCommand({ SecretId: name })), ['InvalidRequestException', 'InvalidParameterException']);
    expect((await primary().send(new DescribeSecretCommand({ SecretId: name }))).ReplicationStatus).toHaveLength(1);
  });
});
