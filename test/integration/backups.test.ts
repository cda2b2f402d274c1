/**
 * Backups as complete and as protected as what they save, and restore putting all of it back
 * (DESIGN.md invariants 2 and 8; issue 14): through setup's backup-then-overwrite and failback's
 * re-replication, on the dev server + the lab (KMS key ids, resource policies and tags as the lab keeps them).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  ReplicateSecretToRegionsCommand,
  RotateSecretCommand,
  SecretsManager,
  TagResourceCommand,
  type GetSecretValueResponse,
} from '@aws-sdk/client-secrets-manager';
import { EventBridge } from '@aws-sdk/client-eventbridge';
import {
  conflictWorkflowId,
  failbackWorkflowId,
  failoverWorkflowId,
  fenceWorkflowId,
  restoreWorkflowId,
  setupWorkflowId,
  workflowTaskQueue,
} from '../../domain/ids.js';
import type { Plan } from '../../domain/plan.js';
import { AWS_LIMITS, BackupManifest, BackupTag, MANIFEST_STAGE, backupPrefix } from '../../domain/backup.js';
import type { FailoverReport } from '../../domain/failover.js';
import { hmacKeySecretName } from '../../domain/lineage.js';
import { FENCE_TAG } from '../../domain/status.js';
import { createBackupActivities } from '../../activities/backup.activities.js';
import type { PruneResult, pruneBackupsWorkflow } from '../../workflows/backups.workflow.js';
import type { replicateWorkflow } from '../../workflows/replicate.workflow.js';
import type { restoreBackupWorkflow } from '../../workflows/restore.workflow.js';
import type { failoverWorkflow } from '../../workflows/failover.workflow.js';
import type { failbackWorkflow } from '../../workflows/failback.workflow.js';
import { backupsListCommand, backupsPruneCommand, backupsRestoreCommand } from '../../cli/commands/backups.js';
import type { Io } from '../../cli/output.js';
import { eventually, LAB_ONLY, onAws, startHarness, type Harness } from '../support/integration.js';
import { historyText } from '../support/leaks.js';
import { dataConverter } from '../../worker/payload-codec.js';

let h: Harness;
const secretValues: string[] = [];
const value = (tag = 'v') => {
  const v = `backup-${tag}-${randomBytes(12).toString('hex')}`;
  secretValues.push(v);
  return v;
};
const ACCOUNT = '123456789012';

beforeAll(async () => {
  h = await startHarness('backups');
});
afterAll(async () => {
  for (const region of [h?.primaryRegion, h?.drRegion]) if (region) await h?.lab?.fault('clear', { region });
  await h?.close();
});

function planFor(tag: string, extra = ''): Plan {
  const base = h.plan(`failover:\n  requireApproval: false\n${extra}`);
  return { ...base, name: `${base.name}-${tag}`, secrets: { include: [{ prefix: `${h.names}${tag}/` }], exclude: [] } };
}
/** Options of every workflow this file runs to its end (each call is typed by its workflow function, a type-only import). */
const on = (workflowId: string, conflict: 'USE_EXISTING' | 'FAIL' = 'FAIL') => ({
  taskQueue: workflowTaskQueue(h.prefix),
  workflowId,
  workflowIdConflictPolicy: conflict,
  workflowExecutionTimeout: '5m',
});
const runSetup = (plan: Plan) =>
  h.client.workflow.execute<typeof replicateWorkflow>('replicateWorkflow', {
    ...on(setupWorkflowId(plan.name), 'USE_EXISTING'),
    args: [{ plan, taskQueuePrefix: h.prefix }],
  });
const restore = (plan: Plan, backup: string, dryRun = false) =>
  h.client.workflow.execute<typeof restoreBackupWorkflow>('restoreBackupWorkflow', {
    ...on(dryRun ? `${restoreWorkflowId(plan.name, backup)}/dry-run/${randomBytes(3).toString('hex')}` : restoreWorkflowId(plan.name, backup)),
    args: [{ plan, backup, dryRun, taskQueuePrefix: h.prefix }],
  });

const describeIn = (region: string, id: string) => h.sm(region).send(new DescribeSecretCommand({ SecretId: id }));
const valueAt = async (region: string, id: string, stage: string): Promise<GetSecretValueResponse> =>
  h.sm(region).send(new GetSecretValueCommand({ SecretId: id, VersionStage: stage }));
const text = (v: GetSecretValueResponse) => v.SecretString ?? `binary:${Buffer.from(v.SecretBinary ?? new Uint8Array()).toString('base64')}`;
async function backupsOf(region: string, plan: Plan, secret: string) {
  const page = await h.sm(region).send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [backupPrefix(plan.name, secret)] }], MaxResults: 100 }));
  return (page.SecretList ?? []).filter((s) => s.Name?.startsWith(backupPrefix(plan.name, secret)));
}
const manifestOf = async (region: string, backup: string) => BackupManifest.parse(JSON.parse((await valueAt(region, backup, MANIFEST_STAGE)).SecretString!));

/** Every field of a secret that a backup and a restore must keep, the resource policy's own ARN written as "<self>". */
async function snapshot(region: string, id: string) {
  const d = await describeIn(region, id);
  const policy = (await h.sm(region).send(new GetResourcePolicyCommand({ SecretId: id }))).ResourcePolicy;
  const labels: Record<string, string> = {};
  for (const stages of Object.values(d.VersionIdsToStages ?? {}))
    for (const s of stages ?? []) if (s !== MANIFEST_STAGE) labels[s] = text(await valueAt(region, id, s));
  return {
    kmsKeyId: d.KmsKeyId,
    description: d.Description,
    tags: (d.Tags ?? []).map((t) => `${t.Key}=${t.Value}`).sort(),
    policy: policy ? JSON.parse(policy.split(d.ARN!).join('<self>')) : undefined,
    rotation: { enabled: d.RotationEnabled ?? false, lambda: d.RotationLambdaARN, rules: d.RotationRules },
    labels,
    versions: Object.values(d.VersionIdsToStages ?? {}).filter((s) => s && s.length && !s.includes(MANIFEST_STAGE)).length,
  };
}
const withoutOrigin = (tags: string[]) => tags.filter((t) => !Object.values(BackupTag).some((k) => t.startsWith(`${k}=`)));

/** A secret as people keep them: customer key, a Deny for someone, tags, AWSPREVIOUS, a custom label, rotation with a rotation in flight. */
async function richSecret(region: string, name: string, label: string, opts: { rotation?: boolean } = {}) {
  const sm = h.sm(region);
  const key = `arn:aws:kms:${region}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const created = await sm.send(
    new CreateSecretCommand({
      Name: name,
      KmsKeyId: key,
      Description: 'orders database (owner: team orders)',
      SecretString: value('prev'),
      Tags: [
        { Key: 'team', Value: 'orders' },
        { Key: 'data-class', Value: 'restricted' },
      ],
    }),
  );
  await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: value('cur') }));
  await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: value(label), VersionStages: [label] }));
  if (opts.rotation) {
    const fn = `arn:aws:lambda:${region}:${ACCOUNT}:function:rotate-orders`;
    await h.lab?.ensureFunctions([fn]); // as on AWS, RotateSecret needs a function it may invoke
    await sm.send(
      new RotateSecretCommand({
        SecretId: name,
        RotationLambdaARN: fn,
        RotationRules: { ScheduleExpression: 'cron(0 7 * * ? *)', Duration: '1h' },
        RotateImmediately: false,
      }),
    ); // DescribeSecret adds the derived AutomaticallyAfterDays: a restore must not pass both back
  }
  await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: value('pending'), VersionStages: ['AWSPENDING'] }));
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyInterns',
        Effect: 'Deny',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/intern` },
        Action: 'secretsmanager:GetSecretValue',
        Resource: created.ARN,
      },
    ],
  };
  await sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: JSON.stringify(policy) }));
  return created.ARN!;
}

/** The backup holds every labelled value under its label, with the same key, the Deny (on the backup itself) and the original's tags. */
async function expectBackupOf(region: string, backup: string, before: Awaited<ReturnType<typeof snapshot>>) {
  const b = await snapshot(region, backup);
  expect(b.labels, 'every labelled value under its label').toEqual(before.labels);
  expect(b.kmsKeyId).toBe(before.kmsKeyId);
  expect(b.policy, 'the same statements, on the backup').toEqual(before.policy);
  expect(withoutOrigin(b.tags)).toEqual(before.tags);
  expect(b.rotation.enabled, 'rotation never enabled on a backup').toBe(false);
  const m = await manifestOf(region, backup);
  expect(m.origin).toMatchObject({
    description: before.description,
    rotation: { enabled: before.rotation.enabled, ...(before.rotation.lambda ? { lambdaArn: before.rotation.lambda } : {}) },
  });
  return m;
}

async function scanHistories(ids: string[]) {
  for (const id of ids) {
    const t = historyText(await h.client.workflow.getHandle(id).fetchHistory());
    expect(t, 'the scan reads payload contents').toContain(h.names.slice(0, 20));
    for (const v of secretValues) expect(t, `history of ${id}`).not.toContain(v);
  }
}

describe('backups (dev server + lab)', () => {
  it('setup backup-then-overwrite keeps every labelled version, key, Deny, tags; restore brings the original back field by field', async () => {
    // The plan names the original's rotation function: restoring rotation invokes it, and the worker policy allows only the plan's.
    const plan = planFor('setup', `rotation:\n  ${h.drRegion}: arn:aws:lambda:${h.drRegion}:${ACCOUNT}:function:rotate-orders\n`);
    const name = `${h.names}setup/orders`;
    await h.sm(h.primaryRegion).send(new CreateSecretCommand({ Name: name, SecretString: value('primary') }));
    const originalArn = await richSecret(h.drRegion, name, 'BLUE', { rotation: true });
    const before = await snapshot(h.drRegion, name);
    expect(Object.keys(before.labels).sort()).toEqual(['AWSCURRENT', 'AWSPENDING', 'AWSPREVIOUS', 'BLUE']);

    const report = await runSetup(plan);

    const o = report.outcomes.find((x) => x.secret === name);
    expect(o, JSON.stringify(report.outcomes)).toMatchObject({ state: 'InSync', action: 'backup-then-overwrite' });
    const [backup] = await backupsOf(h.drRegion, plan, name);
    expect(o?.backup).toBe(backup!.Name);
    const m = await expectBackupOf(h.drRegion, backup!.Name!, before);
    expect(m.origin.arn).toBe(originalArn);
    // The Deny names the backup itself, not the (now overwritten) original.
    expect((await h.sm(h.drRegion).send(new GetResourcePolicyCommand({ SecretId: backup!.Name }))).ResourcePolicy).toContain(backup!.ARN);

    // Dry run: says what changes, writes nothing.
    await h.lab?.resetCounters([h.primaryRegion, h.drRegion]);
    const dry = await restore(plan, backup!.Name!, true);
    expect(dry).toMatchObject({ dryRun: true, plan: { target: 'replica', needsBackup: false } });
    if (h.lab) {
      const counters = await h.lab.counters([h.primaryRegion, h.drRegion]);
      const writes = Object.entries(counters).flatMap(([r, ops]) =>
        Object.keys(ops)
          .filter((op) => !/^(Describe|Get|List|BatchGet|events:)/.test(op))
          .map((op) => `${op} in ${r}`),
      );
      expect(writes).toEqual([]);
    }

    const restored = await restore(plan, backup!.Name!);
    expect(restored, JSON.stringify(restored.attention)).toMatchObject({ secret: name, region: h.drRegion, removedReplica: true, alreadyRestored: false });
    expect(restored.attention).toBeUndefined();
    expect(await snapshot(h.drRegion, name), 'restored field by field').toEqual(before);
    // Idempotent: a second run finds nothing to do.
    expect(await restore(plan, backup!.Name!)).toMatchObject({ alreadyRestored: true });

    const setupId = setupWorkflowId(plan.name);
    await scanHistories([conflictWorkflowId(setupId, h.drRegion, name), restoreWorkflowId(plan.name, backup!.Name!)]);
    // The restore's history replays against today's code (deterministic).
    const history = await h.client.workflow.getHandle(restoreWorkflowId(plan.name, backup!.Name!)).fetchHistory();
    await Worker.runReplayHistory(
      { dataConverter, workflowsPath: new URL('../../workflows/index.ts', import.meta.url).pathname },
      history,
      restoreWorkflowId(plan.name, backup!.Name!),
    );
  });

  it('a 500-character name and a 64 KiB binary secret are backed up and restored; what cannot be carried is not overwritten', async () => {
    const plan = planFor('limits');
    const prefix = `${h.names}limits/`;
    const long = `${prefix}${'x'.repeat(500 - prefix.length)}`;
    expect(long).toHaveLength(500);
    const bin = `${prefix}binary`;
    const tagged = `${prefix}many-tags`;
    const bytes = randomBytes(AWS_LIMITS.valueMaxBytes);
    // Needles a leak of these bytes would contain, however it was written: base64 (a slice from byte 0 is a prefix of
    // any base64 of the whole), hex, and JSON's forms of a Buffer ({"type":"Buffer","data":[…]}) and of a Uint8Array
    // ({"0":…,"1":…}). The whole value's base64 alone (87,382 characters) matched none of the last three.
    const needles = [
      bytes.subarray(0, 48).toString('base64'),
      bytes.subarray(0, 32).toString('hex'),
      [...bytes.subarray(0, 16)].join(','),
      [...bytes.subarray(0, 8)].map((b, i) => `"${i}":${b}`).join(','),
    ];
    for (const leak of [bytes.toString('base64'), bytes.toString('hex'), JSON.stringify({ v: bytes }), JSON.stringify({ v: new Uint8Array(bytes) })])
      expect(
        needles.some((n) => leak.includes(n)),
        'a needle finds each form of a leak',
      ).toBe(true);
    secretValues.push(...needles);
    for (const n of [long, bin, tagged]) await h.sm(h.primaryRegion).send(new CreateSecretCommand({ Name: n, SecretString: value('primary') }));
    await h.sm(h.drRegion).send(new CreateSecretCommand({ Name: long, SecretString: value('long-prev') }));
    await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: long, SecretString: value('long-cur') }));
    await h.sm(h.drRegion).send(new CreateSecretCommand({ Name: bin, SecretBinary: bytes }));
    const manyTags = Array.from({ length: 45 }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));
    const taggedDr = await h.sm(h.drRegion).send(new CreateSecretCommand({ Name: tagged, SecretString: value('tagged'), Tags: manyTags }));
    const before = { long: await snapshot(h.drRegion, long), bin: await snapshot(h.drRegion, bin) };

    const report = await runSetup(plan);

    const outcome = (n: string) => report.outcomes.find((x) => x.secret === n);
    expect(outcome(long), JSON.stringify(report.outcomes)).toMatchObject({ state: 'InSync', action: 'backup-then-overwrite' });
    expect(outcome(bin)).toMatchObject({ state: 'InSync', action: 'backup-then-overwrite' });
    // 45 tags + the origin tags exceed AWS's 50: nothing overwritten, the secret needs attention.
    expect(outcome(tagged)).toMatchObject({ state: 'Failed', detail: expect.stringMatching(/backup failed, nothing overwritten: .*exceed AWS's 50 tags/) });
    expect(report.attention).toBe(1);
    expect((await describeIn(h.drRegion, tagged)).ARN).toBe(taggedDr.ARN);
    for (const [n, snap] of [
      [long, before.long],
      [bin, before.bin],
    ] as const) {
      const [b] = await backupsOf(h.drRegion, plan, n);
      expect(b!.Name!.length).toBeLessThanOrEqual(AWS_LIMITS.nameMax);
      for (const t of b!.Tags ?? []) expect(t.Value!.length, t.Key).toBeLessThanOrEqual(AWS_LIMITS.tagValueMax);
      expect((await snapshot(h.drRegion, b!.Name!)).labels).toEqual(snap.labels);
      const r = await restore(plan, b!.Name!);
      expect(r.attention, JSON.stringify(r.attention)).toBeUndefined();
      expect(await snapshot(h.drRegion, n)).toEqual(snap);
    }
    expect(Buffer.from((await valueAt(h.drRegion, bin, 'AWSCURRENT')).SecretBinary!).equals(bytes)).toBe(true);
  });

  it('restoring over a secret that changed since the backup backs it up first; AWSPREVIOUS never moves without a copy', async () => {
    const plan = planFor('changed');
    const name = `${h.names}changed/api`;
    await h.sm(h.primaryRegion).send(new CreateSecretCommand({ Name: name, SecretString: value('primary') }));
    await richSecret(h.drRegion, name, 'GREEN');
    const before = await snapshot(h.drRegion, name);
    await runSetup(plan);
    const [backup] = await backupsOf(h.drRegion, plan, name);
    await restore(plan, backup!.Name!);
    // Someone writes to the restored secret, then the backup is restored again.
    const later = value('later');
    await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: name, SecretString: later }));
    await h.sm(h.drRegion).send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'added', Value: 'later' }] }));
    const changed = await snapshot(h.drRegion, name);
    const dry = await restore(plan, backup!.Name!, true);
    expect(dry.plan).toMatchObject({ target: 'standalone', needsBackup: true });
    expect(dry.plan!.changes.map((c) => c.field)).toEqual(expect.arrayContaining(['tags', 'label AWSCURRENT', 'label AWSPREVIOUS']));

    const again = await h.client.workflow.execute<typeof restoreBackupWorkflow>('restoreBackupWorkflow', {
      ...on(`${restoreWorkflowId(plan.name, backup!.Name!)}/again`),
      args: [{ plan, backup: backup!.Name!, taskQueuePrefix: h.prefix }],
    });

    expect(again.backupOfCurrent, 'the changed secret saved first').toBeDefined();
    expect(await snapshot(h.drRegion, name)).toEqual(before);
    const saved = await snapshot(h.drRegion, again.backupOfCurrent!);
    expect(saved.labels).toEqual(changed.labels);
    expect(saved.labels.AWSCURRENT).toBe(later);
  });

  it('adopt saves the primary before its AWSPREVIOUS moves (and nothing when it has none)', async () => {
    const plan = planFor('adopt', `conflicts:\n  policy: adopt\n`);
    const two = `${h.names}adopt/two-versions`;
    const one = `${h.names}adopt/one-version`;
    const p = h.sm(h.primaryRegion);
    const [oldPrev, oldCur] = [value('p-prev'), value('p-cur')];
    await p.send(new CreateSecretCommand({ Name: two, SecretString: oldPrev }));
    await p.send(new PutSecretValueCommand({ SecretId: two, SecretString: oldCur }));
    await p.send(new CreateSecretCommand({ Name: one, SecretString: value('p-one') }));
    for (const n of [two, one]) await h.sm(h.drRegion).send(new CreateSecretCommand({ Name: n, SecretString: value('dr') }));

    const report = await runSetup(plan);

    for (const n of [two, one])
      expect(
        report.outcomes.find((x) => x.secret === n),
        JSON.stringify(report.outcomes),
      ).toMatchObject({ state: 'InSync', action: 'adopted' });
    const [saved, ...more] = await backupsOf(h.primaryRegion, plan, two);
    expect(more).toHaveLength(0);
    expect((await valueAt(h.primaryRegion, saved!.Name!, 'AWSPREVIOUS')).SecretString, 'the value that lost AWSPREVIOUS is kept').toBe(oldPrev);
    expect((await valueAt(h.primaryRegion, saved!.Name!, 'AWSCURRENT')).SecretString).toBe(oldCur);
    expect(await backupsOf(h.primaryRegion, plan, one), 'no AWSPREVIOUS to lose: no backup').toHaveLength(0);
  });

  it.skipIf(onAws)(
    `failback re-replication over a DR secret with a GREEN version backs up every labelled value with key, policy, tags (${LAB_ONLY}: an outage)`,
    async () => {
      const plan = planFor(
        'failback',
        `rotation:\n  ${h.primaryRegion}: arn:aws:lambda:${h.primaryRegion}:${ACCOUNT}:function:rotate\n  ${h.drRegion}: arn:aws:lambda:${h.drRegion}:${ACCOUNT}:function:rotate\n`,
      );
      const name = `${h.names}failback/payments`;
      const key = `arn:aws:kms:${h.primaryRegion}:${ACCOUNT}:key/9999abcd-12ab-34cd-56ef-1234567890ab`;
      await h.sm(h.primaryRegion).send(
        new CreateSecretCommand({
          Name: name,
          SecretString: value('p'),
          KmsKeyId: key,
          Tags: [{ Key: 'team', Value: 'payments' }],
          AddReplicaRegions: [{ Region: h.drRegion, KmsKeyId: `arn:aws:kms:${h.drRegion}:${ACCOUNT}:key/dr-key` }],
        }),
      );
      // A second secret with an AWSPREVIOUS on the primary; it is written in the DR Region during the outage (copy-back).
      const rotated = `${h.names}failback/rotated`;
      const [rotPrev, rotCur] = [value('r-prev'), value('r-cur')];
      await h.sm(h.primaryRegion).send(new CreateSecretCommand({ Name: rotated, SecretString: rotPrev }));
      await h.sm(h.primaryRegion).send(new PutSecretValueCommand({ SecretId: rotated, SecretString: rotCur }));
      await h.sm(h.primaryRegion).send(
        new CreateSecretCommand({
          Name: hmacKeySecretName(plan.name),
          SecretString: randomBytes(32).toString('base64'),
          AddReplicaRegions: [{ Region: h.drRegion }],
        }),
      );
      await h.sm(h.primaryRegion).send(new ReplicateSecretToRegionsCommand({ SecretId: rotated, AddReplicaRegions: [{ Region: h.drRegion }] }));
      await eventually('replicas in sync', async () => {
        const ok = await Promise.all(
          [name, rotated, hmacKeySecretName(plan.name)].map(async (n) => (await describeIn(h.primaryRegion, n)).ReplicationStatus?.[0]?.Status === 'InSync'),
        );
        return ok.every(Boolean) ? true : undefined;
      });
      await h.lab!.fault('outage', { region: h.primaryRegion, mode: 'refuse' });
      let failover: FailoverReport;
      try {
        failover = await h.client.workflow.execute<typeof failoverWorkflow>('failoverWorkflow', {
          ...on(failoverWorkflowId(plan.name)),
          args: [{ plan, to: h.drRegion, mode: 'unplanned', skipApproval: true, dryRun: false, taskQueuePrefix: h.prefix, fenceRetryInitialMs: 300 }],
        });
      } finally {
        await h.lab!.fault('clear', { region: h.primaryRegion });
      }
      expect(failover.outcome, JSON.stringify(failover.attention)).toBe('done');
      await h.client.workflow.getHandle(fenceWorkflowId(plan.name, h.primaryRegion)).result();
      // During the outage, the standalone DR secret got a GREEN version, a Deny and a tag.
      const drArn = (await describeIn(h.drRegion, name)).ARN;
      await h.sm(h.drRegion).send(
        new PutResourcePolicyCommand({
          SecretId: name,
          ResourcePolicy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              { Sid: 'DenyVendor', Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/vendor` }, Action: 'secretsmanager:*', Resource: drArn },
            ],
          }),
        }),
      );
      await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: name, SecretString: value('green'), VersionStages: ['GREEN'] }));
      await h.sm(h.drRegion).send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'touched-in', Value: 'dr' }] }));
      await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: rotated, SecretString: value('r-dr') }));
      const original = await snapshot(h.primaryRegion, rotated);
      expect(
        (await describeIn(h.primaryRegion, rotated)).Tags?.some((t) => t.Key === FENCE_TAG),
        'the old primary is fenced',
      ).toBe(true);
      const dr = await snapshot(h.drRegion, name);
      expect(Object.keys(dr.labels)).toContain('GREEN');
      expect(dr.kmsKeyId).toContain('dr-key');
      expect(dr.policy?.Statement?.[0]).toMatchObject({ Sid: 'DenyVendor', Resource: '<self>' });

      const report = await h.client.workflow.execute<typeof failbackWorkflow>('failbackWorkflow', {
        ...on(failbackWorkflowId(plan.name), 'USE_EXISTING'),
        args: [{ plan, taskQueuePrefix: h.prefix, skipApproval: true }],
      });

      expect(report.outcome, JSON.stringify(report.attention ?? report)).toBe('done');
      const backups = (await backupsOf(h.drRegion, plan, name)).filter((b) =>
        b.Tags?.some((t) => t.Key === BackupTag.reason && /re-replication/.test(t.Value ?? '')),
      );
      expect(backups, 'the DR secret backed up before re-replication overwrote it').toHaveLength(1);
      const b = await snapshot(h.drRegion, backups[0]!.Name!);
      expect(b.labels).toEqual(dr.labels);
      expect(b.kmsKeyId).toBe(dr.kmsKeyId);
      expect(withoutOrigin(b.tags)).toEqual(dr.tags);
      expect(b.policy?.Statement?.find((s: { Sid?: string }) => s.Sid === 'DenyVendor')).toEqual(
        dr.policy?.Statement?.find((s: { Sid?: string }) => s.Sid === 'DenyVendor'),
      );
      // The copy-back moved AWSPREVIOUS on the (fenced) original: its labelled values were saved first, without our fence.
      const [saved, ...others] = await backupsOf(h.primaryRegion, plan, rotated);
      expect(others).toHaveLength(0);
      const kept = await snapshot(h.primaryRegion, saved!.Name!);
      expect(kept.labels).toEqual(original.labels);
      expect(kept.labels).toEqual({ AWSCURRENT: rotCur, AWSPREVIOUS: rotPrev });
      expect(kept.policy, 'the fence statement is not carried').toBeUndefined();
      expect(
        kept.tags.some((t) => t.startsWith(`${FENCE_TAG}=`)),
        'nor the fence tag',
      ).toBe(false);
      await scanHistories([failbackWorkflowId(plan.name)]);
    },
  );

  it('prune deletes old backups with the recovery window, never the only backup of an original that changed after it', async () => {
    const plan = planFor('prune');
    const region = h.drRegion;
    const sm = new SecretsManager({ region, requestHandler: { requestTimeout: 10_000 } });
    const acts = createBackupActivities({ region, secretsManager: sm, eventBridge: new EventBridge({ region }) });
    const env = new MockActivityEnvironment();
    const names = { same: `${h.names}prune/same`, changed: `${h.names}prune/changed`, twice: `${h.names}prune/twice` };
    const backupOf = (secret: string, n: number) =>
      env.run(() =>
        acts.backupSecret({
          planName: plan.name,
          secret,
          backup: `${backupPrefix(plan.name, secret)}b${n}`,
          reason: 'test',
          workflowId: `prune-test-${n}-${h.prefix}`,
          writeQuotaShare: 0.6,
        }),
      );
    const write = (secret: string) => sm.send(new PutSecretValueCommand({ SecretId: secret, SecretString: value('w') }));
    for (const n of Object.values(names)) await sm.send(new CreateSecretCommand({ Name: n, SecretString: value('c') }));
    await backupOf(names.same, 1);
    await backupOf(names.changed, 1);
    await write(names.changed);
    await backupOf(names.twice, 1);
    await write(names.twice);
    await backupOf(names.twice, 2);
    await write(names.twice);
    await new Promise((r) => setTimeout(r, 50));
    const prune = (olderThanMs: number, dryRun: boolean) =>
      h.client.workflow.execute<typeof pruneBackupsWorkflow>('pruneBackupsWorkflow', {
        ...on(`prune-${plan.name}-${randomBytes(3).toString('hex')}`),
        args: [{ plan, olderThanMs, dryRun, taskQueuePrefix: h.prefix }],
      });
    const removed = (r: PruneResult) => r.removed.map((b) => b.name).sort();

    expect(removed(await prune(30 * 86_400_000, false)), 'nothing is 30 days old').toEqual([]);
    await h.lab?.resetCounters([region]);
    const dry = await prune(10, true);
    const expected = [`${backupPrefix(plan.name, names.same)}b1`, `${backupPrefix(plan.name, names.twice)}b1`].sort();
    expect(removed(dry)).toEqual(expected);
    expect(
      dry.kept
        .filter((k) => k.why.startsWith('the only backup'))
        .map((k) => k.backup.name)
        .sort(),
    ).toEqual([`${backupPrefix(plan.name, names.changed)}b1`, `${backupPrefix(plan.name, names.twice)}b2`].sort());
    if (h.lab) expect((await h.lab.counters([region]))[region]?.DeleteSecret, 'dry run deletes nothing').toBeUndefined();

    const real = await prune(10, false);
    expect(removed(real)).toEqual(expected);
    for (const n of expected) expect((await describeIn(region, n)).DeletedDate, `${n} scheduled for deletion, recoverable`).toBeDefined();
    for (const n of [`${backupPrefix(plan.name, names.changed)}b1`, `${backupPrefix(plan.name, names.twice)}b2`])
      expect((await describeIn(region, n)).DeletedDate).toBeUndefined();
    sm.destroy();
  });

  it('the CLI: list shows origin, Region, reason, age, versions kept and monthly cost; restore and prune --dry-run say what would change', async () => {
    const plan = planFor('cli');
    const name = `${h.names}cli/db`;
    await h.sm(h.primaryRegion).send(new CreateSecretCommand({ Name: name, SecretString: value('p') }));
    await h.sm(h.drRegion).send(new CreateSecretCommand({ Name: name, SecretString: value('prev') }));
    await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: name, SecretString: value('cur') }));
    await runSetup(plan);
    const [backup] = await backupsOf(h.drRegion, plan, name);
    const dir = mkdtempSync(join(tmpdir(), 'secrets-dr-backups-'));
    const file = join(dir, 'plan.yaml');
    writeFileSync(
      file,
      `name: ${plan.name}\nprimaryRegion: ${h.primaryRegion}\ndrRegions: [{ region: ${h.drRegion} }]\nsecrets:\n  include: [{ prefix: "${h.names}cli/" }]\n`,
    );
    Object.assign(process.env, { TEMPORAL_ADDRESS: inject('temporalAddress'), SECRETS_DR_TASK_QUEUE_PREFIX: h.prefix });
    const capture = (json: boolean) => {
      const lines: string[] = [];
      const io: Io = { out: (l) => void lines.push(l), err: (l) => void lines.push(`ERR ${l}`), json, tty: false };
      return { io, text: () => lines.join('\n') };
    };

    const list = capture(true);
    expect(await backupsListCommand.run({ plan: file, json: true, positionals: [] }, list.io)).toBe(0);
    const listed = JSON.parse(list.text()) as { backups: Array<Record<string, unknown>>; monthlyCostUsd: number };
    expect(listed.backups).toEqual([
      expect.objectContaining({
        name: backup!.Name,
        region: h.drRegion,
        originName: name,
        reason: expect.stringContaining('setup'),
        versionsKept: 2,
        complete: true,
        monthlyCostUsd: 0.4,
      }),
    ]);
    expect(listed.monthlyCostUsd).toBeCloseTo(0.4);
    const table = capture(false);
    await backupsListCommand.run({ plan: file, json: false, positionals: [] }, table.io);
    expect(table.text()).toMatch(/BACKUP\s+REGION\s+ORIGIN\s+REASON\s+AGE\s+VERSIONS\s+\$\/MONTH/);
    expect(table.text()).toContain('1 backup(s), $0.40 per month');

    const dry = capture(false);
    expect(await backupsRestoreCommand.run({ plan: file, json: false, yes: false, 'dry-run': true, positionals: [backup!.Name!] }, dry.io)).toBe(0);
    expect(dry.text()).toContain('is our replica');
    expect(dry.text()).toContain('dry run: 1 change(s), nothing written');

    const prune = capture(false);
    expect(await backupsPruneCommand.run({ plan: file, json: false, 'dry-run': true, 'older-than': '1ms', positionals: [] }, prune.io)).toBe(0);
    expect(prune.text()).toContain(`kept: ${backup!.Name} (${h.drRegion}): the only backup of an original that changed after it`);
    expect(prune.text()).toContain('dry run: would delete 0 backup(s), saving $0.00 per month; 1 kept.');
    for (const v of secretValues) expect(list.text() + table.text() + dry.text() + prune.text()).not.toContain(v);
  });
});
