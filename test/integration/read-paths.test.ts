/**
 * Applications' read paths in the DR Region (issue 16 §6): GetSecretValue and Parameter Store
 * references (`GetParameter /aws/reference/secretsmanager/<name>` with decryption), checked by
 * `status --read-paths` (readPathsWorkflow) and by every drill, which measures the RTO an
 * application sees through each path. Version ids only: no value in any history or report.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { statusWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import type { Plan } from '../../domain/plan.js';
import type { ReadPathsReport } from '../../domain/read-paths.js';
import type { DrillReport } from '../../domain/drill.js';
import { startDrill } from '../../cli/commands/drill.js';
import { eventually, LAB_ONLY, onAws, startHarness, type Harness } from '../support/integration.js';
import { historyText } from '../support/leaks.js';
import type { readPathsWorkflow } from '../../workflows/read-paths.workflow.js';

let h: Harness;
let plan: Plan;
const values: string[] = [];
const workflowIds: string[] = [];

beforeAll(async () => {
  h = await startHarness('read-paths');
  plan = h.plan('drills:\n  canaries: 2\n  rtoTarget: 30s\n');
});
afterAll(async () => {
  for (const region of [h?.primaryRegion, h?.drRegion]) if (region) await h?.lab?.fault('clear', { region });
  await h?.close();
});

const value = () => {
  const v = `read-path-value-${randomBytes(12).toString('hex')}`;
  values.push(v);
  return v;
};

async function readPaths(tag: string): Promise<ReadPathsReport> {
  const workflowId = statusWorkflowId(plan.name, `read-paths-${tag}`);
  workflowIds.push(workflowId);
  return await h.client.workflow.execute<typeof readPathsWorkflow>('readPathsWorkflow', {
    taskQueue: workflowTaskQueue(h.prefix),
    workflowId,
    args: [{ plan, taskQueuePrefix: h.prefix }],
  });
}

describe.skipIf(onAws)(`read paths in the DR Region (${LAB_ONLY}: a denied Parameter Store read is a lab fault)`, () => {
  it('status --read-paths: both paths return the current version; a replica behind or Parameter Store denied is named per secret and path', async () => {
    // Prepare: three replicated secrets.
    const names = [0, 1, 2].map((i) => `${h.names}app/s${i}`);
    await h.lab!.seed(
      h.primaryRegion,
      names.map((name) => ({ name, value: value(), replicaRegions: [h.drRegion] })),
    );
    await eventually('replicas', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));

    // Act + Assess: all current through both paths, two reads per secret.
    const ok = await readPaths('ok');
    expect(ok.regions).toEqual([expect.objectContaining({ region: h.drRegion, checked: 3, current: 3, failedCount: 0, calls: 6 })]);
    expect(ok.attention).toBe(0);

    // A new version the replica has not received yet: both paths still answer the old one, and say which.
    await h.lab!.fault('replication-pause', { region: h.drRegion });
    const put = await h.sm(h.primaryRegion).send(new PutSecretValueCommand({ SecretId: names[0], SecretString: value() }));
    const behind = await readPaths('behind');
    expect(behind.regions[0]).toMatchObject({ checked: 3, current: 2, failedCount: 1 });
    const failed = behind.regions[0]!.failed[0]!;
    expect(failed).toMatchObject({ name: names[0], expected: put.VersionId, current: false });
    expect(failed.paths.ParameterStore).toMatchObject({ ok: true });
    expect(failed.paths.ParameterStore!.versionId).not.toBe(put.VersionId);
    await h.lab!.fault('clear', { region: h.drRegion });
    await eventually('caught up', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));

    // Parameter Store denied in the DR Region: GetSecretValue still works, the reference path is reported.
    await h.lab!.fault('deny', { region: h.drRegion, op: 'ssm:GetParameter' });
    const denied = await readPaths('denied');
    await h.lab!.fault('clear', { region: h.drRegion });
    expect(denied.regions[0]).toMatchObject({ checked: 3, current: 0, failedCount: 3 });
    for (const f of denied.regions[0]!.failed) {
      expect(f.paths.GetSecretValue).toMatchObject({ ok: true });
      expect(f.paths.ParameterStore).toMatchObject({ ok: false, error: expect.stringMatching(/AccessDenied/) });
    }
  });

  it('a drill checks both read paths in the DR Region and reports the RTO an application sees through each', async () => {
    const report = await (await startDrill({ client: h.client, prefix: h.prefix }, plan, 'test')).result();
    workflowIds.push(report.workflowId);
    expect(report.outcome, JSON.stringify(report.failure)).toBe('passed');
    const dr = report.regions.find((r) => r.region === h.drRegion)!;
    expect(dr.readPaths).toEqual({
      GetSecretValue: { rtoMs: expect.any(Number), current: true },
      ParameterStore: { rtoMs: expect.any(Number), current: true },
    });
    // From the promote decision to a read of a version written in the DR Region: at least the promote calls' own time.
    expect(dr.promoteMs).toBeGreaterThan(0);
    expect(dr.readPaths!.GetSecretValue.rtoMs!).toBeGreaterThanOrEqual(dr.promoteMs!);
    expect(dr.readPaths!.ParameterStore.rtoMs!).toBeGreaterThanOrEqual(dr.promoteMs!);
    expect(dr.rtoMs).toBe(Math.max(dr.readPaths!.GetSecretValue.rtoMs!, dr.readPaths!.ParameterStore.rtoMs!));
    expect(report.rtoMs).toBe(dr.rtoMs);
    expect(dr.verified).toBe(true);
    expect(report.cleanup.remaining).toEqual([]);
    console.info(
      `drill RTO through GetSecretValue ${dr.readPaths!.GetSecretValue.rtoMs} ms, through Parameter Store ${dr.readPaths!.ParameterStore.rtoMs} ms; promote calls ${dr.promoteMs} ms`,
    );
  });

  it('a drill with Parameter Store denied in the DR Region says so instead of hiding it behind GetSecretValue', async () => {
    await h.lab!.fault('deny', { region: h.drRegion, op: 'ssm:GetParameter' });
    let report: DrillReport;
    try {
      report = await (await startDrill({ client: h.client, prefix: h.prefix }, plan, 'test')).result();
    } finally {
      await h.lab!.fault('clear', { region: h.drRegion });
    }
    workflowIds.push(report.workflowId);
    const dr = report.regions.find((r) => r.region === h.drRegion)!;
    expect(dr.readPaths!.ParameterStore).toMatchObject({ current: false, error: expect.stringMatching(/AccessDenied/) });
    expect(dr.readPaths!.GetSecretValue.current).toBe(true);
    expect(report.warnings.join('\n')).toMatch(/Parameter Store .*did not get the canaries' current version/);
  });

  it('no value in any history (positive control: version ids are there)', async () => {
    const texts: string[] = [];
    for (const id of workflowIds) texts.push(historyText(await h.client.workflow.getHandle(id).fetchHistory()));
    const all = texts.join('\n');
    expect(all).toContain('ParameterStore');
    for (const v of values) expect(all.includes(v)).toBe(false);
  });
});
