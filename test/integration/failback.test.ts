import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { Worker } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { failbackWorkflowId, failoverWorkflowId, fenceWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import { FENCE_TAG } from '../../domain/status.js';
import { BACKUP_PREFIX } from '../../domain/replication.js';
import { hmacKeySecretName } from '../../domain/lineage.js';
import type { Plan } from '../../domain/plan.js';
import type { FailoverReport } from '../../domain/failover.js';
import type { FailbackInput, FailbackProgress, FailbackReport } from '../../domain/failback.js';
import { eventually, LAB_ONLY, onAws, startHarness, type Harness } from '../support/integration.js';
import { historyText } from '../support/leaks.js';
import { requireBuilt, spawnWorker } from '../support/worker-process.js';

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
  await h.lab!.seed(h.primaryRegion, names.map((name) => ({ name, value: value(), replicaRegions: [h.drRegion] })));
  await eventually('replicas of the seeded fleet', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
  const rotation = `rotation:\n  ${h.primaryRegion}: ${rotateArn(h.primaryRegion)}\n  ${h.drRegion}: ${rotateArn(h.drRegion)}\n`;
  // Rotation runs Lambda functions, as on AWS: the plan's functions exist in the lab.
  await h.lab!.ensureFunctions([rotateArn(h.primaryRegion), rotateArn(h.drRegion)]);
  const base = h.plan(`failover:\n  requireApproval: false\n${rotation}${extra}`);
  const plan = { ...base, name: `${base.name}-${tag}`, secrets: { include: [{ prefix }], exclude: [] } };
  planNames.push(plan.name);
  // As `secrets-dr setup` does: the plan's HMAC key, replicated to the DR Region (lineage records carry HMACs).
  await h.sm(h.primaryRegion).send(new CreateSecretCommand({ Name: hmacKeySecretName(plan.name), SecretString: randomBytes(32).toString('base64'), AddReplicaRegions: [{ Region: h.drRegion }] }));
  await eventually('the HMAC key replicated', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
  return { plan, names };
}

/** The real failover (unplanned; the primary in outage unless `outage: false`); waits for its pending fence when there is one. */
async function failOver(plan: Plan, { outage = true, prefix = h.prefix } = {}): Promise<FailoverReport> {
  if (outage) await h.lab!.fault('outage', { region: h.primaryRegion, mode: 'refuse' });
  let report: FailoverReport;
  try {
    const handle = await h.client.workflow.start('failoverWorkflow', {
      taskQueue: workflowTaskQueue(prefix),
      workflowId: failoverWorkflowId(plan.name),
      args: [{ plan, to: h.drRegion, mode: 'unplanned', skipApproval: true, dryRun: false, taskQueuePrefix: prefix, fenceRetryInitialMs: 300 }],
      workflowExecutionTimeout: '5m',
    });
    workflowIds.push(handle.workflowId);
    report = (await handle.result()) as FailoverReport;
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

function startFailback(plan: Plan, over: Partial<FailbackInput> = {}, prefix = h.prefix) {
  const workflowId = over.dryRun ? `${failbackWorkflowId(plan.name)}/dry-run` : failbackWorkflowId(plan.name);
  workflowIds.push(workflowId);
  return h.client.workflow.start('failbackWorkflow', {
    taskQueue: workflowTaskQueue(prefix),
    workflowId,
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [{ plan, taskQueuePrefix: prefix, skipApproval: true, ...over } satisfies FailbackInput],
    workflowExecutionTimeout: '5m',
  });
}

const get = async (region: string, name: string, stage = 'AWSCURRENT') => (await h.sm(region).send(new GetSecretValueCommand({ SecretId: name, VersionStage: stage }))).SecretString!;
const describeIn = (region: string, name: string) => h.sm(region).send(new DescribeSecretCommand({ SecretId: name }));
const versionCount = async (region: string, name: string) => (await h.sm(region).send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }))).Versions?.length ?? 0;
async function backupsOf(region: string, name: string): Promise<string[]> {
  const page = await h.sm(region).send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [BACKUP_PREFIX] }], MaxResults: 100 }));
  return (page.SecretList ?? []).filter((s) => s.Tags?.some((t) => t.Key === 'secrets-dr:origin-name' && t.Value === name)).map((s) => s.Name!);
}
/** Writes outside the lab's read operations, per Region (the dry run must have none). */
async function writeCalls(): Promise<string[]> {
  const counters = await h.lab!.counters([h.primaryRegion, h.drRegion]);
  return Object.entries(counters).flatMap(([region, ops]) => Object.keys(ops).filter((op) => !/^(Describe|Get|List|BatchGet|events:)/.test(op)).map((op) => `${op} in ${region}`));
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
    const rotation = await h.sm(h.drRegion).send(new RotateSecretCommand({ SecretId: names[0], RotationLambdaARN: rotateArn(h.drRegion), RotationRules: { AutomaticallyAfterDays: 30 } }));
    await eventually('the rotation in the DR Region', async () => ((await describeIn(h.drRegion, names[0]!)).VersionIdsToStages?.[rotation.VersionId!]?.includes('AWSCURRENT') ? true : undefined));
    await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: names[1], SecretString: value() }));
    const rotated = await get(h.drRegion, names[0]!);
    values.push(rotated);
    const written = await get(h.drRegion, names[1]!);
    expect(rotated).not.toBe(before[names[0]!]);
    const versionsBefore = await versionCount(h.primaryRegion, names[0]!);

    await h.lab!.resetCounters([h.primaryRegion, h.drRegion]);
    const dry = (await (await startFailback(plan, { dryRun: true })).result()) as FailbackReport;
    expect(dry.outcome, JSON.stringify([dry.problems, dry.warnings])).toBe('dry-run');
    expect(Object.fromEntries(dry.items.map((i) => [i.name, `${i.change}/${i.resolution}`]))).toEqual({
      [names[0]!]: 'dr-changed/copy-back', [names[1]!]: 'dr-changed/copy-back',
      ...Object.fromEntries(names.slice(2).map((n) => [n, 'unchanged/replicate'])),
    });
    expect(await writeCalls()).toEqual([]);

    const report = (await (await startFailback(plan)).result()) as FailbackReport;
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
      expect(d.Tags?.some((t) => t.Key === FENCE_TAG), `${n} unfenced`).toBe(false);
    }
    await h.sm(h.primaryRegion).send(new PutSecretValueCommand({ SecretId: names[2], SecretString: value() })); // writable again
    expect((await describeIn(h.primaryRegion, names[0]!)).RotationLambdaARN).toBe(plan.rotation[h.primaryRegion]);
    expect(report.rotation?.restored).toBe(1);
    const events = (await h.lab!.events({ source: 'secrets-dr' })) as Array<{ 'detail-type'?: string; detailType?: string; detail?: { workflowId?: string } }>;
    expect(events.some((e) => (e['detail-type'] ?? e.detailType) === 'Failback Completed' && e.detail?.workflowId === report.workflowId)).toBe(true);

    const history = await h.client.workflow.getHandle(report.workflowId).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: new URL('../../workflows/index.ts', import.meta.url).pathname }, history, report.workflowId);
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

    const report = (await (await startFailback(fenceless)).result()) as FailbackReport;
    expect(report.outcome, JSON.stringify(report.attention)).toBe('done');
    expect(report.items.map((i) => [i.change, i.resolution])).toEqual([['original-changed', 'copy-back'], ['both-changed', 'copy-back'], ['unchanged', 'replicate']]);
    await expectReplicatedWith(names[0]!, dr[names[0]!]!);
    await expectReplicatedWith(names[1]!, drNew);
    for (const [name, stray] of [[names[0]!, stray0], [names[1]!, stray1]] as const) {
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
      const q = await handle.query<FailbackProgress>('progress');
      return q.pendingAsks.length > 0 ? q : undefined;
    });
    expect(p.pendingAsks.map((a) => [a.subject, a.change])).toEqual([[names[0], 'original-changed']]);
    await new Promise((r) => setTimeout(r, 1_500));
    const events = ((await h.lab!.events({ source: 'aws.secretsmanager' })) as Array<{ detail: { eventName: string }; resources?: string[] }>).slice(seen);
    const writesToAsked = events.filter((e) => e.resources?.[0]?.includes(`:secret:${names[0]}-`) && !/^(Describe|Get|List)/.test(e.detail.eventName));
    expect(writesToAsked.map((e) => e.detail.eventName)).toEqual([]);
    expect([await versionCount(h.primaryRegion, names[0]!), await versionCount(h.drRegion, names[0]!)]).toEqual([vo, vd]);
    await expect(handle.executeUpdate('approval', { args: [{ decision: 'approve', subject: 'nope' }] })).rejects.toThrow();
    await handle.executeUpdate('approval', { args: [{ decision: 'approve', subject: names[0], by: 'test' }] });
    const report = (await handle.result()) as FailbackReport;
    expect(report.outcome, JSON.stringify(report.attention)).toBe('done');
    await expectReplicatedWith(names[0]!, drValue);
    expect(await backupsOf(h.primaryRegion, names[0]!)).toHaveLength(1);
  });

  it('--reverse leaves the DR Region as primary with the original Region as its replica (stale secrets backed up first)', async () => {
    const { plan, names } = await fleet('reverse', 3);
    await failOver(plan);
    const drNew = value();
    await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: names[0], SecretString: drNew }));
    const report = (await (await startFailback(plan, { reverse: true })).result()) as FailbackReport;
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
    const startWorker = () => spawnWorker({ temporalAddress: inject('temporalAddress'), labUrl: inject('labUrl'), prefix, regions: [h.primaryRegion, h.drRegion], logs });
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
      const report = (await handle.result()) as FailbackReport;
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

  it('no secret value in any history, lab event or worker log line of these tests', async () => {
    const ids = new Set(workflowIds);
    for await (const wf of h.client.workflow.list()) if (planNames.some((p) => wf.workflowId.startsWith(`secrets-dr/${p}/`))) ids.add(wf.workflowId);
    expect(ids.size).toBeGreaterThan(8);
    const texts: string[] = [JSON.stringify(await h.lab!.events()), logs.join('')];
    for (const id of ids) texts.push(historyText(await h.client.workflow.getHandle(id).fetchHistory()));
    const all = texts.join('\n');
    // The scan reads payload contents (a blind scan would pass for the wrong reason): secret names are in there.
    expect(all).toContain(h.names);
    for (const v of values) expect(all.includes(v), 'a secret value leaked').toBe(false);
  });
});
