/**
 * Replicas are deleted later, not at once (lab/secrets-manager/replica-removal.ts): on AWS a
 * replica disappears tens of seconds after RemoveRegionsFromReplication answered. Through the real SDK.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  StopReplicationToReplicaCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { LabOptions, RunningLab } from '../../lab/server.js';
import { DR, eventually, labGet, labPost, P, rejection, sleep, sm, withLab } from './helpers.js';

let lab: RunningLab;
let primary: SecretsManagerClient;
let dr: SecretsManagerClient;

async function start(opts: LabOptions = {}): Promise<void> {
  lab = await withLab(opts);
  primary = sm(lab, P);
  dr = sm(lab, DR, { maxAttempts: 1, requestTimeout: 2000 });
}
afterEach(async () => {
  primary?.destroy();
  dr?.destroy();
  await lab?.close();
});

const statusOf = async (name: string): Promise<string | undefined> =>
  (await primary.send(new DescribeSecretCommand({ SecretId: name }))).ReplicationStatus?.find((s) => s.Region === DR)?.Status;

async function replicated(name: string): Promise<string> {
  const r = await primary.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', AddReplicaRegions: [{ Region: DR }] }));
  await eventually(async () => (await statusOf(name)) === 'InSync');
  return r.ARN!;
}

const inDr = async (name: string): Promise<boolean> => {
  try {
    await dr.send(new DescribeSecretCommand({ SecretId: name }));
    return true;
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFoundException') return false;
    throw e;
  }
};

describe('RemoveRegionsFromReplication: the replica disappears later', () => {
  it('answers at once, but the replica stays visible (a read-only replica, its name taken) for the delay, then disappears', async () => {
    await start({ replicaDeleteDelayMs: 1_500 });
    const arn = await replicated('rm/later');
    const t0 = Date.now();
    const r = await primary.send(new RemoveRegionsFromReplicationCommand({ SecretId: 'rm/later', RemoveReplicaRegions: [DR] }));
    expect(r.ReplicationStatus).toEqual([]);
    expect((await primary.send(new DescribeSecretCommand({ SecretId: 'rm/later' }))).ReplicationStatus).toBeUndefined();

    // Still there, still a replica of the primary.
    const d = await dr.send(new DescribeSecretCommand({ SecretId: 'rm/later' }));
    expect(d.ARN).toBe(arn.replace(P, DR));
    expect(d.PrimaryRegion).toBe(P);
    expect((await dr.send(new GetSecretValueCommand({ SecretId: 'rm/later' }))).SecretString).toBe('v1');
    const listed = await dr.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['rm/later'] }] }));
    expect(listed.SecretList?.map((s) => [s.Name, s.PrimaryRegion])).toEqual([['rm/later', P]]);
    const created = await rejection(dr.send(new CreateSecretCommand({ Name: 'rm/later', SecretString: 'local' })));
    expect(created.name).toBe('ResourceExistsException');
    expect((await rejection(dr.send(new PutSecretValueCommand({ SecretId: 'rm/later', SecretString: 'w' })))).name).toBe('InvalidParameterException');
    expect((await rejection(dr.send(new StopReplicationToReplicaCommand({ SecretId: 'rm/later' })))).name).toBe('InvalidRequestException');
    expect(((await labGet(lab, '/_lab/status')) as { pendingReplicaRemovals: number }).pendingReplicaRemovals).toBe(1);

    await eventually(async () => !(await inDr('rm/later')), 5_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_400);
    // The name is free in that Region again.
    await dr.send(new CreateSecretCommand({ Name: 'rm/later', SecretString: 'local' }));
  });

  it('default 3000 lab ms; the replica-delete-delay fault sets it per Region (0 = at once) and clear restores the default', async () => {
    await start();
    await replicated('rm/default');
    await primary.send(new RemoveRegionsFromReplicationCommand({ SecretId: 'rm/default', RemoveReplicaRegions: [DR] }));
    await sleep(1_000);
    expect(await inDr('rm/default')).toBe(true);
    await eventually(async () => !(await inDr('rm/default')), 5_000);

    expect((await labPost(lab, '/_lab/fault/replica-delete-delay', { region: DR, ms: 0 })).status).toBe(200);
    expect(((await labGet(lab, '/_lab/status')) as { faults: Record<string, { replicaDeleteDelayMs?: number }> }).faults[DR]?.replicaDeleteDelayMs).toBe(0);
    await replicated('rm/zero');
    await primary.send(new RemoveRegionsFromReplicationCommand({ SecretId: 'rm/zero', RemoveReplicaRegions: [DR] }));
    expect(await inDr('rm/zero')).toBe(false);

    await labPost(lab, '/_lab/fault/clear', {});
    await replicated('rm/cleared');
    await primary.send(new RemoveRegionsFromReplicationCommand({ SecretId: 'rm/cleared', RemoveReplicaRegions: [DR] }));
    await sleep(300);
    expect(await inDr('rm/cleared')).toBe(true);

    const bad = await labPost(lab, '/_lab/fault/replica-delete-delay', { region: DR, ms: -1 });
    expect(bad).toMatchObject({ status: 400, json: { error: expect.stringMatching(/"ms"/) } });
  });

  it('runs on the lab clock: advancing it removes the replica', async () => {
    await start({ replicaDeleteDelayMs: 60_000 });
    await replicated('rm/clock');
    await primary.send(new RemoveRegionsFromReplicationCommand({ SecretId: 'rm/clock', RemoveReplicaRegions: [DR] }));
    await sleep(300);
    expect(await inDr('rm/clock')).toBe(true);
    await labPost(lab, '/_lab/clock', { advanceMs: 61_000 });
    expect(await inDr('rm/clock')).toBe(false);
  });

  it('deleting the primary before the replica is gone strands the replica (it stays, a replica of nothing)', async () => {
    await start({ replicaDeleteDelayMs: 500 });
    await replicated('rm/stranded');
    await primary.send(new RemoveRegionsFromReplicationCommand({ SecretId: 'rm/stranded', RemoveReplicaRegions: [DR] }));
    // The primary lists no replica any more, so AWS lets it be deleted.
    await primary.send(new DeleteSecretCommand({ SecretId: 'rm/stranded', ForceDeleteWithoutRecovery: true }));
    await sleep(1_200);
    const d = await dr.send(new DescribeSecretCommand({ SecretId: 'rm/stranded' }));
    expect(d.PrimaryRegion).toBe(P);
    expect(((await labGet(lab, '/_lab/status')) as { pendingReplicaRemovals: number }).pendingReplicaRemovals).toBe(0);
    // What an operator does about it: promote it, then delete it.
    await dr.send(new StopReplicationToReplicaCommand({ SecretId: 'rm/stranded' }));
    await dr.send(new DeleteSecretCommand({ SecretId: 'rm/stranded', ForceDeleteWithoutRecovery: true }));
    expect(await inDr('rm/stranded')).toBe(false);
  });

  it('waiting for the replica to disappear before deleting the primary leaves nothing behind', async () => {
    await start({ replicaDeleteDelayMs: 500 });
    await replicated('rm/waited');
    await primary.send(new RemoveRegionsFromReplicationCommand({ SecretId: 'rm/waited', RemoveReplicaRegions: [DR] }));
    await eventually(async () => !(await inDr('rm/waited')), 5_000);
    await primary.send(new DeleteSecretCommand({ SecretId: 'rm/waited', ForceDeleteWithoutRecovery: true }));
    await sleep(700);
    expect(await inDr('rm/waited')).toBe(false);
  });

  it('replicating into the Region again waits (InProgress) until the old replica is gone, then syncs afresh', async () => {
    await start({ replicaDeleteDelayMs: 1_000 });
    await replicated('rm/again');
    await primary.send(new RemoveRegionsFromReplicationCommand({ SecretId: 'rm/again', RemoveReplicaRegions: [DR] }));
    await primary.send(new PutSecretValueCommand({ SecretId: 'rm/again', SecretString: 'v2' }));
    await primary.send(new ReplicateSecretToRegionsCommand({ SecretId: 'rm/again', AddReplicaRegions: [{ Region: DR }] }));
    await sleep(500);
    expect(await statusOf('rm/again')).toBe('InProgress');
    expect((await dr.send(new GetSecretValueCommand({ SecretId: 'rm/again' }))).SecretString).toBe('v1');
    await eventually(async () => (await statusOf('rm/again')) === 'InSync', 5_000);
    expect((await dr.send(new GetSecretValueCommand({ SecretId: 'rm/again' }))).SecretString).toBe('v2');
    await sleep(300);
    expect(await inDr('rm/again')).toBe(true); // the new replica is not removed by the old removal
  });

  it('a replica on its way out survives a lab restart from the state file, and still goes', async () => {
    const statePath = join(mkdtempSync(join(tmpdir(), 'lab-rm-')), 'state.json');
    await start({ statePath, replicaDeleteDelayMs: 60_000 });
    await replicated('rm/restart');
    await primary.send(new RemoveRegionsFromReplicationCommand({ SecretId: 'rm/restart', RemoveReplicaRegions: [DR] }));
    primary.destroy();
    dr.destroy();
    await lab.close();

    await start({ statePath, replicaDeleteDelayMs: 60_000 });
    expect(lab.secretsManager.pendingReplicaRemovals).toBe(1);
    expect((await dr.send(new DescribeSecretCommand({ SecretId: 'rm/restart' }))).PrimaryRegion).toBe(P);
    await labPost(lab, '/_lab/clock', { advanceMs: 61_000 });
    expect(await inDr('rm/restart')).toBe(false);
  });

  it("nothing is removed while the replica's Region is in an outage", async () => {
    await start({ replicaDeleteDelayMs: 300 });
    await replicated('rm/outage');
    await primary.send(new RemoveRegionsFromReplicationCommand({ SecretId: 'rm/outage', RemoveReplicaRegions: [DR] }));
    await labPost(lab, '/_lab/fault/outage', { region: DR, mode: 'error' });
    await sleep(700);
    expect(lab.secretsManager.pendingReplicaRemovals).toBe(1); // due, but held while the Region is down
    await labPost(lab, '/_lab/fault/clear', { region: DR });
    await eventually(async () => !(await inDr('rm/outage')), 3_000);
  });
});
