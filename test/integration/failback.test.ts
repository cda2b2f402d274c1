import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ReplicateSecretToRegionsCommand,
  RotateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { NativeConnection, Worker } from '@temporalio/worker';
import { startWorkers } from '../../worker/worker.js';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { failbackWorkflowId, failoverWorkflowId, fenceWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import { FENCE_TAG } from '../../domain/status.js';
import { BACKUP_PREFIX } from '../../domain/replication.js';
import { hmacKeySecretName } from '../../domain/lineage.js';
import type { Plan } from '../../domain/plan.js';
import type { FailoverReport } from '../../domain/failover.js';
import type { FailbackInput, FailbackReport } from '../../domain/failback.js';
import type { failoverWorkflow } from '../../workflows/failover.workflow.js';
import type { failbackWorkflow } from '../../workflows/failback.workflow.js';
import { failbackProgressQuery } from '../../workflows/failback.messages.js';
import { approvalUpdate } from '../../workflows/kit/control.messages.js';
import { main } from '../../cli/main.js';
import { eventually, LAB_ONLY, onAws, startHarness, type Harness } from '../support/integration.js';
import { leakScanText } from '../support/leaks.js';
import { requireBuilt, spawnWorker } from '../support/worker-process.js';
import { deniedByResourcePolicy } from '../../lab/secrets-manager/resource-policy.js';
import { dataConverter } from '../../worker/payload-codec.js';

let h: Harness;
const values: string[] = [];
const workflowIds: string[] = [];
const planNames: string[] = [];
const logs: string[] = [];
const value = () => {
  const v = `failback-value-${randomBytes(12).toString('hex')}`;
  values.push(v);
  return v;
};
const sha = (v: string) => createHash('sha256').update(v).digest('hex');

beforeAll(async () => {
  h = await startHarness('failback');
});
afterAll(async () => {
  for (const region of [h?.primaryRegion, h?.drRegion]) if (region) await h?.lab?.fault('clear', { region });
  await h?.close();
});

const rotateArn = (region: string) => `arn:aws:lambda:${region}:123456789012:function:rotate`;

/** Seeds `n` replicated secrets under a fresh prefix and returns a plan covering exactly them. */
async function fleet(tag: string, n: number, extra = ''): Promise<{ plan: Plan; names: string[] }> {
  const prefix = `${h.names}${tag}/`;
  const names = Array.from({ length: n }, (_, i) => `${prefix}s${String(i).padStart(2, '0')}`);
  await h.lab!.seed(
    h.primaryRegion,
    names.map((name) => ({ name, value: value(), replicaRegions: [h.drRegion] })),
  );
  await eventually('replicas of the seeded fleet', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
  const rotation = `rotation:\n  ${h.primaryRegion}: ${rotateArn(h.primaryRegion)}\n  ${h.drRegion}: ${rotateArn(h.drRegion)}\n`;
  // Rotation runs Lambda functions, as on AWS: the plan's functions exist in the lab.
  await h.lab!.ensureFunctions([rotateArn(h.primaryRegion), rotateArn(h.drRegion)]);
  const base = h.plan(`failover:\n  requireApproval: false\n${rotation}${extra}`);
  const plan = { ...base, name: `${base.name}-${tag}`, secrets: { include: [{ prefix }], exclude: [] } };
  planNames.push(plan.name);
  // As `secrets-dr setup` does: the plan's HMAC key, replicated to the DR Region (lineage records carry HMACs).
  await h.sm(h.primaryRegion).send(
    new CreateSecretCommand({
      Name: hmacKeySecretName(plan.name),
      SecretString: randomBytes(32).toString('base64'),
      AddReplicaRegions: [{ Region: h.drRegion }],
    }),
  );
  await eventually('the HMAC key replicated', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
  return { plan, names };
}

/** The real failover (unplanned; the primary in outage unless `outage: false`); waits for its pending fence when there is one. */
async function failOver(plan: Plan, { outage = true, prefix = h.prefix } = {}): Promise<FailoverReport> {
  if (outage) await h.lab!.fault('outage', { region: h.primaryRegion, mode: 'refuse' });
  let report: FailoverReport;
  try {
    const handle = await h.client.workflow.start<typeof failoverWorkflow>('failoverWorkflow', {
      taskQueue: workflowTaskQueue(prefix),
      workflowId: failoverWorkflowId(plan.name),
      args: [{ plan, to: h.drRegion, mode: 'unplanned', skipApproval: true, dryRun: false, taskQueuePrefix: prefix, fenceRetryInitialMs: 300 }],
      workflowExecutionTimeout: '5m',
    });
    workflowIds.push(handle.workflowId);
    report = await handle.result();
  } finally {
    if (outage) await h.lab!.fault('clear', { region: h.primaryRegion });
  }
  expect(report.outcome, JSON.stringify(report.attention)).toBe('done');
  if (plan.failover.fence) {
    workflowIds.push(fenceWorkflowId(plan.name, h.primaryRegion));
    await h.client.workflow.getHandle(fenceWorkflowId(plan.name, h.primaryRegion)).result();
  }
  return report;
}

/** One failover run that may end partial (no outcome asserted); waits for its pending fence when there is one. */
async function failOverRun(plan: Plan, to = h.drRegion): Promise<FailoverReport> {
  await h.lab!.fault('outage', { region: h.primaryRegion, mode: 'refuse' });
  try {
    const handle = await h.client.workflow.start<typeof failoverWorkflow>('failoverWorkflow', {
      taskQueue: workflowTaskQueue(h.prefix),
      workflowId: failoverWorkflowId(plan.name),
      args: [{ plan, to, mode: 'unplanned', skipApproval: true, dryRun: false, taskQueuePrefix: h.prefix, fenceRetryInitialMs: 300 }],
      workflowExecutionTimeout: '5m',
    });
    workflowIds.push(handle.workflowId);
    return await handle.result();
  } finally {
    await h.lab!.fault('clear', { region: h.primaryRegion });
  }
}

/** Every backup of `name` in `region` (all pages), with the values of its labelled versions (read by the test only). */
async function backedUpValues(region: string, name: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await h.sm(region).send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [BACKUP_PREFIX] }], MaxResults: 100, NextToken: token }));
    for (const s of page.SecretList ?? []) {
      if (!s.Tags?.some((t) => t.Key === 'secrets-dr:origin-name' && t.Value === name)) continue;
      for (const [versionId, stages] of Object.entries(s.SecretVersionsToStages ?? {})) {
        if (!stages?.length) continue;
        out.push((await h.sm(region).send(new GetSecretValueCommand({ SecretId: s.ARN, VersionId: versionId }))).SecretString!);
      }
    }
    token = page.NextToken;
  } while (token);
  return out;
}

/** Whether a side of a secret accepts PutSecretValue now: a standalone secret whose resource policy does not deny it to everyone. */
async function acceptsWrites(region: string, name: string): Promise<boolean> {
  const standalone = async () => {
    const d = await describeIn(region, name);
    return !d.DeletedDate && !(d.PrimaryRegion && d.PrimaryRegion !== region);
  };
  if (!(await standalone())) return false;
  const p = await h.sm(region).send(new GetResourcePolicyCommand({ SecretId: name }));
  // Described again: a copy replaced by a replica between the two reads carries its primary's policy,
  // which says nothing about whether the (gone) standalone copy accepted writes.
  return !deniedByResourcePolicy(p.ResourcePolicy, 'PutSecretValue') && (await standalone());
}

function startFailback(plan: Plan, over: Partial<FailbackInput> = {}, prefix = h.prefix, id?: string) {
  const workflowId = id ?? (over.dryRun ? `${failbackWorkflowId(plan.name)}/dry-run` : failbackWorkflowId(plan.name));
  workflowIds.push(workflowId);
  return h.client.workflow.start<typeof failbackWorkflow>('failbackWorkflow', {
    taskQueue: workflowTaskQueue(prefix),
    workflowId,
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [{ plan, taskQueuePrefix: prefix, skipApproval: true, ...over } satisfies FailbackInput],
    workflowExecutionTimeout: '5m',
  });
}

const get = async (region: string, name: string, stage = 'AWSCURRENT') =>
  (await h.sm(region).send(new GetSecretValueCommand({ SecretId: name, VersionStage: stage }))).SecretString!;
const describeIn = (region: string, name: string) => h.sm(region).send(new DescribeSecretCommand({ SecretId: name }));
const versionCount = async (region: string, name: string) =>
  (await h.sm(region).send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }))).Versions?.length ?? 0;
async function backupsOf(region: string, name: string): Promise<string[]> {
  const page = await h.sm(region).send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [BACKUP_PREFIX] }], MaxResults: 100 }));
  return (page.SecretList ?? []).filter((s) => s.Tags?.some((t) => t.Key === 'secrets-dr:origin-name' && t.Value === name)).map((s) => s.Name!);
}
/** Writes outside the lab's read operations, per Region (the dry run must have none). */
async function writeCalls(): Promise<string[]> {
  const counters = await h.lab!.counters([h.primaryRegion, h.drRegion]);
  return Object.entries(counters).flatMap(([region, ops]) =>
    Object.keys(ops)
      .filter((op) => !/^(Describe|Get|List|BatchGet|events:)/.test(op))
      .map((op) => `${op} in ${region}`),
  );
}
async function expectReplicatedWith(name: string, expected: string) {
  const d = await describeIn(h.primaryRegion, name);
  expect(d.PrimaryRegion === undefined || d.PrimaryRegion === h.primaryRegion, `${name} primary in ${h.primaryRegion}`).toBe(true);
  expect(d.ReplicationStatus?.find((r) => r.Region === h.drRegion)?.Status, `${name} InSync`).toBe('InSync');
  expect((await describeIn(h.drRegion, name)).PrimaryRegion).toBe(h.primaryRegion);
  expect(sha(await get(h.primaryRegion, name)), `${name} value in ${h.primaryRegion}`).toBe(sha(expected));
  expect(sha(await get(h.drRegion, name)), `${name} value in ${h.drRegion}`).toBe(sha(expected));
}

describe.skipIf(onAws)(`failback on the dev server + lab (${LAB_ONLY})`, () => {
  it('a secret rotated (and one written) in the DR Region keeps its new value; untouched secrets are back under replication unchanged; dry run writes nothing', async () => {
    const { plan, names } = await fleet('main', 6);
    const before = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await get(h.primaryRegion, n)] as const)));
    await failOver(plan);
    // During the outage: rotation ran in the DR Region (its rotation function, four steps after the call), and an engineer changed a password there.
    const rotation = await h
      .sm(h.drRegion)
      .send(new RotateSecretCommand({ SecretId: names[0], RotationLambdaARN: rotateArn(h.drRegion), RotationRules: { AutomaticallyAfterDays: 30 } }));
    await eventually('the rotation in the DR Region', async () =>
      (await describeIn(h.drRegion, names[0]!)).VersionIdsToStages?.[rotation.VersionId!]?.includes('AWSCURRENT') ? true : undefined,
    );
    await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: names[1], SecretString: value() }));
    const rotated = await get(h.drRegion, names[0]!);
    values.push(rotated);
    const written = await get(h.drRegion, names[1]!);
    expect(rotated).not.toBe(before[names[0]!]);
    const versionsBefore = await versionCount(h.primaryRegion, names[0]!);

    await h.lab!.resetCounters([h.primaryRegion, h.drRegion]);
    const dry = await (await startFailback(plan, { dryRun: true })).result();
    expect(dry.outcome, JSON.stringify([dry.problems, dry.warnings])).toBe('dry-run');
    expect(Object.fromEntries(dry.items.map((i) => [i.name, `${i.change}/${i.resolution}`]))).toEqual({
      [names[0]!]: 'dr-changed/copy-back',
      [names[1]!]: 'dr-changed/copy-back',
      ...Object.fromEntries(names.slice(2).map((n) => [n, 'unchanged/replicate'])),
    });
    expect(await writeCalls()).toEqual([]);

    const report = await (await startFailback(plan)).result();
    expect(report.outcome, JSON.stringify(report.attention)).toBe('done');
    expect(report.counts).toEqual({ verified: 6 });
    await expectReplicatedWith(names[0]!, rotated);
    await expectReplicatedWith(names[1]!, written);
    for (const n of names.slice(2)) await expectReplicatedWith(n, before[n]!);
    // Exactly one new version for the copied-back value; the old value is its AWSPREVIOUS.
    expect(await versionCount(h.primaryRegion, names[0]!)).toBe(versionsBefore + 1);
    expect(sha(await get(h.primaryRegion, names[0]!, 'AWSPREVIOUS'))).toBe(sha(before[names[0]!]!));
    // Unfenced, rotation back on the original's Lambda, event published.
    for (const n of names) {
      const d = await describeIn(h.primaryRegion, n);
      expect(
        d.Tags?.some((t) => t.Key === FENCE_TAG),
        `${n} unfenced`,
      ).toBe(false);
    }
    await h.sm(h.primaryRegion).send(new PutSecretValueCommand({ SecretId: names[2], SecretString: value() })); // writable again
    expect((await describeIn(h.primaryRegion, names[0]!)).RotationLambdaARN).toBe(plan.rotation[h.primaryRegion]);
    expect(report.rotation?.restored).toBe(1);
    const events = (await h.lab!.events({ source: 'secrets-dr' })) as Array<{ 'detail-type'?: string; detailType?: string; detail?: { workflowId?: string } }>;
    expect(events.some((e) => (e['detail-type'] ?? e.detailType) === 'Failback Completed' && e.detail?.workflowId === report.workflowId)).toBe(true);

    const history = await h.client.workflow.getHandle(report.workflowId).fetchHistory();
    await Worker.runReplayHistory({ dataConverter, workflowsPath: new URL('../../workflows/index.ts', import.meta.url).pathname }, history, report.workflowId);
    if (process.env.RECORD_HISTORIES) writeFileSync(new URL('../fixtures/histories/failback.json', import.meta.url), historyToJSON(history));
  });

  it('a stray write to the old primary: under keep-dr it is saved in a backup and the DR value wins (also when both sides changed)', async () => {
    const { plan, names } = await fleet('keepdr', 3);
    // No fence (or one that had not landed yet): applications could still write to the old primary.
    const fenceless = { ...plan, failover: { ...plan.failover, fence: false }, failback: { ...plan.failback, onBothChanged: 'keep-dr' as const } };
    await failOver(fenceless);
    const dr = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await get(h.drRegion, n)] as const)));
    const stray0 = value();
    const stray1 = value();
    await h.sm(h.primaryRegion).send(new PutSecretValueCommand({ SecretId: names[0], SecretString: stray0 }));
    await h.sm(h.primaryRegion).send(new PutSecretValueCommand({ SecretId: names[1], SecretString: stray1 }));
    const drNew = value();
    await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: names[1], SecretString: drNew }));

    const report = await (await startFailback(fenceless)).result();
    expect(report.outcome, JSON.stringify(report.attention)).toBe('done');
    expect(report.items.map((i) => [i.change, i.resolution])).toEqual([
      ['original-changed', 'copy-back'],
      ['both-changed', 'copy-back'],
      ['unchanged', 'replicate'],
    ]);
    await expectReplicatedWith(names[0]!, dr[names[0]!]!);
    await expectReplicatedWith(names[1]!, drNew);
    for (const [name, stray] of [
      [names[0]!, stray0],
      [names[1]!, stray1],
    ] as const) {
      const backups = await backupsOf(h.primaryRegion, name);
      expect(backups, `${name} backed up in ${h.primaryRegion}`).toHaveLength(1);
      expect(sha(await get(h.primaryRegion, backups[0]!))).toBe(sha(stray));
    }
  });

  it('under ask nothing of the asked secret is written until approved; then the DR value wins', async () => {
    const { plan, names } = await fleet('ask', 2);
    const asking = { ...plan, failover: { ...plan.failover, fence: false }, failback: { ...plan.failback, onOriginalChanged: 'ask' as const } };
    await failOver(asking);
    const drValue = await get(h.drRegion, names[0]!);
    await h.sm(h.primaryRegion).send(new PutSecretValueCommand({ SecretId: names[0], SecretString: value() }));
    const [vo, vd] = [await versionCount(h.primaryRegion, names[0]!), await versionCount(h.drRegion, names[0]!)];
    const seen = ((await h.lab!.events({ source: 'aws.secretsmanager' })) as unknown[]).length;
    const handle = await startFailback(asking);
    const p = await eventually('the question about the stray write', async () => {
      const q = await handle.query(failbackProgressQuery);
      return q.pendingAsks.length > 0 ? q : undefined;
    });
    expect(p.pendingAsks.map((a) => [a.subject, a.change])).toEqual([[names[0], 'original-changed']]);
    await new Promise((r) => setTimeout(r, 1_500));
    const events = ((await h.lab!.events({ source: 'aws.secretsmanager' })) as Array<{ detail: { eventName: string }; resources?: string[] }>).slice(seen);
    const writesToAsked = events.filter((e) => e.resources?.[0]?.includes(`:secret:${names[0]}-`) && !/^(Describe|Get|List)/.test(e.detail.eventName));
    expect(writesToAsked.map((e) => e.detail.eventName)).toEqual([]);
    expect([await versionCount(h.primaryRegion, names[0]!), await versionCount(h.drRegion, names[0]!)]).toEqual([vo, vd]);
    await expect(handle.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', subject: 'nope' }] })).rejects.toThrow();
    await handle.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', subject: names[0], by: 'test' }] });
    const report = await handle.result();
    expect(report.outcome, JSON.stringify(report.attention)).toBe('done');
    await expectReplicatedWith(names[0]!, drValue);
    expect(await backupsOf(h.primaryRegion, names[0]!)).toHaveLength(1);
  });

  it('--reverse leaves the DR Region as primary with the original Region as its replica (stale secrets backed up first)', async () => {
    const { plan, names } = await fleet('reverse', 3);
    // Without a key named for the old primary, its replica keeps the key the secret had there (never silently aws/secretsmanager).
    const own = `${h.names}reverse/own`;
    await h
      .sm(h.primaryRegion)
      .send(new CreateSecretCommand({ Name: own, SecretString: value(), KmsKeyId: 'alias/own-primary-key', AddReplicaRegions: [{ Region: h.drRegion }] }));
    await eventually('replica of the own-key secret', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
    await failOver(plan);
    const drNew = value();
    await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: names[0], SecretString: drNew }));
    const report = await (await startFailback(plan, { reverse: true })).result();
    expect(report.outcome, JSON.stringify(report.attention)).toBe('done');
    expect(report.planChange?.primaryRegion).toEqual({ from: h.primaryRegion, to: h.drRegion });
    for (const n of names) {
      const dr = await describeIn(h.drRegion, n);
      expect(dr.PrimaryRegion === undefined || dr.PrimaryRegion === h.drRegion).toBe(true);
      expect(dr.ReplicationStatus?.find((r) => r.Region === h.primaryRegion)?.Status).toBe('InSync');
      expect((await describeIn(h.primaryRegion, n)).PrimaryRegion).toBe(h.drRegion);
      expect(sha(await get(h.primaryRegion, n))).toBe(sha(await get(h.drRegion, n)));
      expect(await backupsOf(h.primaryRegion, n), `${n} backed up before the overwrite`).toHaveLength(1);
    }
    expect(sha(await get(h.primaryRegion, names[0]!))).toBe(sha(drNew));
    expect((await describeIn(h.primaryRegion, own)).KmsKeyId).toBe('alias/own-primary-key');
    expect(report.items.find((i) => i.name === own)?.kmsKeyId).toBe('alias/own-primary-key');
    expect(
      report.warnings.some((w) => w.includes('aws/secretsmanager') && w.includes(h.primaryRegion)),
      report.warnings.join('\n'),
    ).toBe(true);
  });

  it('SIGKILL of the worker during copy-back and during re-replication: resumes with no duplicate version and no lost value', async () => {
    requireBuilt();
    const { plan, names } = await fleet('kill', 20);
    const slow = { ...plan, failover: { ...plan.failover, writeQuotaShare: 0.1, fence: false } }; // 5 TPS: ~4 s of copy-back, ~4 s of re-replication
    await failOver(slow);
    for (const n of names) await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: n, SecretString: value() }));
    const drBefore = Object.fromEntries(await Promise.all(names.map(async (n) => [n, sha(await get(h.drRegion, n))] as const)));
    const versionsBefore = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await versionCount(h.primaryRegion, n)] as const)));
    const prefix = `t-failback-kill-${randomBytes(4).toString('hex')}`;
    const startWorker = () =>
      spawnWorker({ temporalAddress: inject('temporalAddress'), labUrl: inject('labUrl'), prefix, regions: [h.primaryRegion, h.drRegion], logs });
    const calls = async (op: string) => (await h.lab!.counters([h.primaryRegion, h.drRegion]))[h.primaryRegion]?.[op]?.calls ?? 0;
    let worker = await startWorker();
    try {
      await h.lab!.resetCounters([h.primaryRegion, h.drRegion]);
      const handle = await startFailback(slow, {}, prefix);
      await eventually('copy-back under way', async () => ((await calls('PutSecretValue')) >= 6 ? true : undefined), 30_000, 50);
      await worker.kill();
      expect(await calls('PutSecretValue')).toBeLessThan(20);
      worker = await startWorker();
      await eventually('re-replication under way', async () => ((await calls('ReplicateSecretToRegions')) >= 6 ? true : undefined), 60_000, 50);
      await worker.kill();
      expect(await calls('ReplicateSecretToRegions')).toBeLessThan(20);
      worker = await startWorker();
      const report = await handle.result();
      expect(report.outcome, JSON.stringify(report.attention)).toBe('done');
      for (const n of names) {
        expect(await versionCount(h.primaryRegion, n), `${n}: one copied-back version, no duplicate`).toBe(versionsBefore[n]! + 1);
        const d = await describeIn(h.primaryRegion, n);
        expect(d.ReplicationStatus?.find((r) => r.Region === h.drRegion)?.Status).toBe('InSync');
        // Lineage after = lineage before: the DR value is AWSCURRENT on both sides.
        expect(sha(await get(h.primaryRegion, n)), n).toBe(drBefore[n]);
        expect(sha(await get(h.drRegion, n)), n).toBe(drBefore[n]);
      }
    } finally {
      await worker.kill();
    }
  });

  it('reconciles every failover since the last completed failback: a secret promoted by an earlier (partial) run too; the next cycle sees only its own failover', async () => {
    const { plan, names } = await fleet('runs', 6);
    const p = { ...plan, failover: { ...plan.failover, fence: false } };
    const before = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await get(h.primaryRegion, n)] as const)));
    // Run 1 is partial: two promotions are refused.
    await h.lab!.fault('fail-next', { region: h.drRegion, op: 'StopReplicationToReplica', count: 2, error: 'InvalidRequestException' });
    const run1 = await failOverRun(p);
    expect(run1.counts.promoted).toBe(4);
    const early = (run1.outcomes ?? []).filter((o) => o.status === 'promoted').map((o) => o.name);
    // During the outage the application writes to a secret run 1 promoted; then run 2 promotes the rest.
    const written = value();
    await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: early[0], SecretString: written }));
    await new Promise((r) => setTimeout(r, 1_100)); // failover ids are per second
    const run2 = await failOverRun(p);
    expect(run2.counts.promoted).toBe(2);

    const dry = await (await startFailback(p, { dryRun: true })).result();
    expect(dry.outcome, JSON.stringify([dry.problems, dry.warnings])).toBe('dry-run');
    expect(Object.fromEntries(dry.items.map((i) => [i.name, `${i.change}/${i.resolution}`]))).toEqual(
      Object.fromEntries(names.map((n) => [n, n === early[0] ? 'dr-changed/copy-back' : 'unchanged/replicate'])),
    );
    expect(dry.failovers?.map((f) => [f.failoverId, f.region, f.secrets])).toEqual([
      [run1.failoverId, h.drRegion, 4],
      [run2.failoverId, h.drRegion, 2],
    ]);
    const report = await (await startFailback(p)).result();
    expect(report.outcome, JSON.stringify(report.attention)).toBe('done');
    expect(report.counts).toEqual({ verified: 6 });
    await expectReplicatedWith(early[0]!, written);
    for (const n of names.filter((x) => x !== early[0])) await expectReplicatedWith(n, before[n]!);

    // The next cycle: only the failover after that (completed) failback counts; its baseline is the value it promoted.
    await new Promise((r) => setTimeout(r, 1_100));
    const run3 = await failOverRun(p);
    expect(run3.counts.promoted).toBe(6);
    const again = value();
    await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: names[5], SecretString: again }));
    const dry2 = await (await startFailback(p, { dryRun: true })).result();
    expect(dry2.failovers?.map((f) => f.failoverId)).toEqual([run3.failoverId]);
    expect(Object.fromEntries(dry2.items.map((i) => [i.name, `${i.change}/${i.resolution}`]))).toEqual(
      Object.fromEntries(names.map((n) => [n, n === names[5] ? 'dr-changed/copy-back' : 'unchanged/replicate'])),
    );
    const report2 = await (await startFailback(p)).result();
    expect(report2.outcome, JSON.stringify(report2.attention)).toBe('done');
    await expectReplicatedWith(names[5]!, again);
    await expectReplicatedWith(early[0]!, written);
  });

  it('reconciles failovers to different DR Regions since the last failback: each secret against the Region it was promoted in', async () => {
    // A third Region, shared with monitor's quiet plan (no faults are injected there), served by a worker of its own.
    const third = 'ap-southeast-2' as const;
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const extra = await startWorkers({
      connection,
      namespace: 'default',
      regions: [third],
      taskQueuePrefix: h.prefix,
      awsTimeoutMs: 5_000,
      ...h.workerClients,
    });
    try {
      const { plan, names } = await fleet('regions', 6);
      for (const n of [...names, hmacKeySecretName(plan.name)])
        await h.sm(h.primaryRegion).send(new ReplicateSecretToRegionsCommand({ SecretId: n, AddReplicaRegions: [{ Region: third }] }));
      await eventually('replicas in the third Region', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
      const p = { ...plan, drRegions: [...plan.drRegions, { region: third }], failover: { ...plan.failover, fence: false } };
      const only = (list: string[]) => ({ ...p, secrets: { include: list.map((name) => ({ name })), exclude: [] } });
      const before = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await get(h.primaryRegion, n)] as const)));
      // Two failovers since the last failback: half the fleet to one DR Region, the other half (later) to the other.
      const first = await failOverRun(only(names.slice(0, 3)), h.drRegion);
      await new Promise((r) => setTimeout(r, 1_100));
      const second = await failOverRun(only(names.slice(3)), third);
      expect([first.counts.promoted, second.counts.promoted]).toEqual([3, 3]);
      const written = value();
      await h.sm(third).send(new PutSecretValueCommand({ SecretId: names[4], SecretString: written }));

      const dry = await (await startFailback(p, { dryRun: true })).result();
      expect(Object.fromEntries(dry.items.map((i) => [i.name, `${i.dr}:${i.change}/${i.resolution}`]))).toEqual(
        Object.fromEntries(names.map((n, k) => [n, `${k < 3 ? h.drRegion : third}:${n === names[4] ? 'dr-changed/copy-back' : 'unchanged/replicate'}`])),
      );
      expect(dry.failovers?.map((f) => [f.failoverId, f.region, f.secrets])).toEqual([
        [first.failoverId, h.drRegion, 3],
        [second.failoverId, third, 3],
      ]);
      const report = await (await startFailback(p)).result();
      expect(report.outcome, JSON.stringify(report.attention)).toBe('done');
      expect(report.counts).toEqual({ verified: 6 });
      for (const [k, n] of names.entries()) {
        const d = await describeIn(h.primaryRegion, n);
        expect(d.PrimaryRegion === undefined || d.PrimaryRegion === h.primaryRegion, n).toBe(true);
        for (const r of [h.drRegion, third]) {
          expect(d.ReplicationStatus?.find((x) => x.Region === r)?.Status, `${n} → ${r}`).toBe('InSync');
          expect((await describeIn(r, n)).PrimaryRegion, `${n} in ${r}`).toBe(h.primaryRegion);
        }
        expect(sha(await get(h.primaryRegion, n)), n).toBe(sha(k === 4 ? written : before[n]!));
      }
    } finally {
      await extra.shutdown();
      await connection.close();
    }
  });

  it('the original is protected until it is authoritative again: at no observed moment do both sides accept PutSecretValue', async () => {
    const { plan, names } = await fleet('onewriter', 6);
    await failOver(plan);
    for (const n of names) await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: n, SecretString: value() }));
    // Slow Regions and small batches: the failback takes seconds, the observer samples throughout.
    for (const region of [h.primaryRegion, h.drRegion]) await h.lab!.fault('latency', { region, ms: 40 });
    const seen = new Set<string>();
    const bothWritable: string[] = [];
    let running = true;
    const observer = (async () => {
      while (running) {
        for (const n of names) {
          // Original first, then DR: once the original accepts writes it must already be the only writer.
          const o = await acceptsWrites(h.primaryRegion, n).catch(() => false);
          const d = await acceptsWrites(h.drRegion, n).catch(() => false);
          seen.add(`${o ? 'original' : '-'}/${d ? 'dr' : '-'}`);
          if (o && d) bothWritable.push(n);
        }
      }
    })();
    try {
      const report = await (await startFailback(plan, { batchSize: 2 })).result();
      expect(report.outcome, JSON.stringify(report.attention)).toBe('done');
    } finally {
      running = false;
      await observer;
      for (const region of [h.primaryRegion, h.drRegion]) await h.lab!.fault('clear', { region });
    }
    expect([...new Set(bothWritable)], 'secrets writable on both sides at once').toEqual([]);
    // The observer saw the hand-over (a check that cannot fail proves nothing).
    expect(seen.has('-/dr') && seen.has('original/-'), [...seen].join(' ')).toBe(true);
  });

  it('a copied-back secret whose re-replication is refused gets its original fenced again before the DR copy opens: one writable side', async () => {
    // Prepare: one secret changed in the DR Region (copy-back, which leaves the original's fence lifted for the re-replication).
    const { plan, names } = await fleet('refence', 1);
    const [name] = names as [string];
    await failOver(plan);
    const newer = value();
    await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: name, SecretString: newer }));
    // The re-replication is refused for this secret (not a Region failure: the secret fails, the failback goes on).
    await h.lab!.fault('fail-next', { region: h.primaryRegion, op: 'ReplicateSecretToRegions', count: 1, error: 'InvalidRequestException' });

    // Act
    const report = await (await startFailback(plan)).result();
    await h.lab!.fault('clear', { region: h.primaryRegion });

    // Assess: the secret did not fail back; the original holds the copied value but refuses writes again (by its
    // statement, the fenced tag still on), and the DR copy, still the primary, accepts them (failback's fence lifted).
    const item = report.attention.find((i) => i.name === name);
    expect(item?.status, JSON.stringify(report.attention)).toBe('failed');
    expect(item?.copiedBack).toBe(true);
    expect(sha(await get(h.primaryRegion, name))).toBe(sha(newer));
    expect(await acceptsWrites(h.primaryRegion, name), 'the original refuses writes').toBe(false);
    expect((await describeIn(h.primaryRegion, name)).Tags?.some((t) => t.Key === FENCE_TAG)).toBe(true);
    expect(await acceptsWrites(h.drRegion, name), 'the DR copy accepts writes').toBe(true);
  });

  it('no write to the DR copy is lost: 200 secrets written continuously during failback end as the final value or in a backup', async () => {
    const { plan, names } = await fleet('writer', 200);
    const fast = { ...plan, failover: { ...plan.failover, writeQuotaShare: 0.5 } };
    await failOver(fast);
    // Replication that takes a moment (as on AWS) widens the window between the check and the overwrite.
    await h.lab!.fault('replication-lag', { region: h.drRegion, ms: 400 });
    const written = new Map<string, string[]>(names.map((n) => [n, []]));
    let running = true;
    let refused = 0;
    const writer = (async () => {
      // Each secret is written at most twice, so every value the writer wrote stays labelled (AWSCURRENT or
      // AWSPREVIOUS) unless failback replaces it: then it must be the final value or in a backup.
      for (let round = 0; round < 2 && running; round++) {
        for (const n of [...names].sort(() => Math.random() - 0.5)) {
          if (!running) break;
          const v = `failback-value-${randomBytes(12).toString('hex')}`;
          values.push(v);
          try {
            await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: n, SecretString: v }));
            written.get(n)!.push(v);
          } catch {
            refused++; // fenced, a replica already, or throttled: not written
          }
          await new Promise((r) => setTimeout(r, 40));
        }
      }
    })();
    let report: FailbackReport;
    try {
      await new Promise((r) => setTimeout(r, 500));
      report = await (await startFailback(fast, { batchSize: 25 })).result();
    } finally {
      running = false;
      await writer;
      await h.lab!.fault('clear', { region: h.drRegion });
    }
    const total = [...written.values()].reduce((a, l) => a + l.length, 0);
    expect(total, 'the writer wrote during the failback').toBeGreaterThan(50);
    expect(refused, 'some writes met the fence or the replica').toBeGreaterThan(0);
    const lost: string[] = [];
    const differ: string[] = [];
    for (const n of names) {
      const mine = written.get(n)!;
      if (mine.length === 0) continue;
      const [o, d] = [sha(await get(h.primaryRegion, n)), sha(await get(h.drRegion, n))];
      if (o !== d) differ.push(n);
      const kept = new Set([o, d, ...(await backedUpValues(h.drRegion, n)).map(sha), ...(await backedUpValues(h.primaryRegion, n)).map(sha)]);
      mine.forEach((v, k) => {
        if (!kept.has(sha(v))) lost.push(`${n} write #${k + 1}`);
      });
    }
    expect(lost, 'written values neither current nor in a backup').toEqual([]);
    expect(report.outcome, JSON.stringify(report.attention.slice(0, 5))).toBe('done');
    expect(differ, 'secrets whose two sides differ after failback').toEqual([]);
  }, 480_000);

  it('--reverse re-protects into the old primary with the KMS key the plan names for that Region, never silently the AWS managed key', async () => {
    const { plan, names } = await fleet('reversekms', 2);
    // A secret of the old primary encrypted with its own customer managed key: the plan's key wins.
    const own = `${h.names}reversekms/own`;
    await h
      .sm(h.primaryRegion)
      .send(new CreateSecretCommand({ Name: own, SecretString: value(), KmsKeyId: 'alias/own-primary-key', AddReplicaRegions: [{ Region: h.drRegion }] }));
    await eventually('replica of the own-key secret', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
    await failOver(plan);
    const keyed = { ...plan, primaryKmsKeyId: 'alias/failback-primary' };
    const report = await (await startFailback(keyed, { reverse: true })).result();
    expect(report.outcome, JSON.stringify(report.attention)).toBe('done');
    for (const n of [...names, own]) {
      expect((await describeIn(h.primaryRegion, n)).PrimaryRegion).toBe(h.drRegion);
      expect((await describeIn(h.primaryRegion, n)).KmsKeyId, `${n}: the replica in ${h.primaryRegion}`).toBe('alias/failback-primary');
      expect((await describeIn(h.drRegion, n)).ReplicationStatus?.find((r) => r.Region === h.primaryRegion)?.KmsKeyId).toBe('alias/failback-primary');
    }
    expect(report.items.every((i) => i.kmsKeyId === 'alias/failback-primary')).toBe(true);
    expect(report.planChange?.note).toContain('alias/failback-primary');
  });

  it('pause, resume and cancel a failback between chunks (also through the CLI): what is done stays done, the report says what remains', async () => {
    // Prepare: 8 failed-over secrets; the plan's gate lets the test pause before anything is reconciled.
    const { plan, names } = await fleet('control', 8);
    await failOver(plan);
    const gated = { ...plan, failover: { ...plan.failover, requireApproval: true } };
    const handle = await startFailback(gated, { skipApproval: false, chunkSize: 1, batchSize: 1, chunksInFlight: 1 });
    const progress = () => handle.query(failbackProgressQuery);
    await eventually('the approval gate', async () => ((await progress()).step === 'awaitingApproval' ? true : undefined));
    Object.assign(process.env, { TEMPORAL_ADDRESS: inject('temporalAddress'), SECRETS_DR_TASK_QUEUE_PREFIX: h.prefix });
    const cli = async (...args: string[]) => {
      const out: string[] = [];
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
      try {
        return { code: await main(args), out: out.join('') };
      } finally {
        spy.mockRestore();
      }
    };

    // Act 1: paused (by the CLI), then approved: the failback holds before its first chunk.
    expect((await cli('pause', handle.workflowId)).code).toBe(0);
    await handle.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', by: 'test' }] });
    await eventually('held in reconciling', async () => {
      const p = await progress();
      return p.step === 'reconciling' && p.paused ? true : undefined;
    });
    await new Promise((r) => setTimeout(r, 1_500));
    // Assess 1: nothing reconciled while paused.
    const held = await progress();
    expect(held).toMatchObject({ step: 'reconciling', paused: true, cancelRequested: false, total: 8 });
    expect(held.counts).toEqual({ planned: 8 });

    // Act 2: resume, and cancel as soon as a chunk is reconciled; `watch` follows it to the end.
    expect((await cli('resume', handle.workflowId)).code).toBe(0);
    await eventually('a first secret reconciled', async () => (((await progress()).counts.planned ?? 0) < 8 ? true : undefined), 30_000, 50);
    expect((await cli('cancel', handle.workflowId, '--reason', 'primary flapping')).code).toBe(0);
    const watched = await cli('watch', handle.workflowId, '--json');
    const report = await handle.result();

    // Assess 2: partial and cancelled; every secret either failed back or left exactly as it was.
    expect(watched.code, watched.out).toBe(3);
    expect(
      JSON.parse(
        watched.out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .at(-1)!,
      ),
    ).toMatchObject({ type: 'report', outcome: 'partial', cancelled: true });
    expect(report).toMatchObject({ outcome: 'partial', cancelled: true, detail: expect.stringContaining('primary flapping') });
    const done = report.items.filter((i) => i.status === 'verified').map((i) => i.name);
    const left = report.items.filter((i) => i.status === 'skipped');
    expect(done.length, JSON.stringify(report.counts)).toBeGreaterThan(0);
    expect(left.length, JSON.stringify(report.counts)).toBeGreaterThan(0);
    expect(done.length + left.length).toBe(8);
    for (const i of left) expect(i.reason).toMatch(/failback cancelled before this secret was reconciled: left as it is/);
    expect(report.attention.map((i) => i.name).sort()).toEqual(left.map((i) => i.name).sort());
    for (const n of done) await expectReplicatedWith(n, await get(h.primaryRegion, n));
    for (const { name } of left) {
      expect((await describeIn(h.drRegion, name)).PrimaryRegion, `${name} still standalone in ${h.drRegion}`).toBeUndefined();
      expect(await acceptsWrites(h.drRegion, name), `${name} still writable in ${h.drRegion}`).toBe(true);
      expect(
        (await describeIn(h.primaryRegion, name)).Tags?.some((t) => t.Key === FENCE_TAG),
        `${name} still fenced in ${h.primaryRegion}`,
      ).toBe(true);
    }

    // Act 3 + Assess 3: what remains is failed back by the next run; what was done is only verified.
    const again = await (await startFailback(plan, {}, h.prefix, `${failbackWorkflowId(plan.name)}/again`)).result();
    expect(again.outcome, JSON.stringify(again.attention)).toBe('done');
    expect(again.counts).toEqual({ verified: left.length });
    expect(again.items.map((i) => i.name).sort()).toEqual(left.map((i) => i.name).sort());
    for (const n of names) expect((await describeIn(h.drRegion, n)).PrimaryRegion).toBe(h.primaryRegion);
  });

  it('no secret value in any history, lab event or worker log line of these tests', async () => {
    const { text: all, workflows } = await leakScanText(h, { workflowIds, planNames, logs });
    expect(workflows).toBeGreaterThan(8);
    // The scan reads payload contents (a blind scan would pass for the wrong reason): secret names are in there.
    expect(all).toContain(h.names);
    for (const v of values) expect(all.includes(v), 'a secret value leaked').toBe(false);
  });
});
