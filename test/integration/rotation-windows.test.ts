/**
 * Rotation windows survive failover and failback (issue 16 §5): a `cron(0 7 * * ? *)` schedule with
 * a `1h` window, recorded from the primary in the failover's lineage, re-homed with it in the DR
 * Region (the lab runs real rotation functions), and restored on the original at failback even
 * after the original's settings drifted. `status` shows the schedule and the next window.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  RotateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { failbackWorkflowId, failoverWorkflowId, statusWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import { hmacKeySecretName } from '../../domain/lineage.js';
import { lineageRecordPrefix, LineageRecord } from '../../domain/failover.js';
import type { FailbackInput } from '../../domain/failback.js';
import { eventually, LAB_ONLY, onAws, startHarness, type Harness } from '../support/integration.js';
import { historyText } from '../support/leaks.js';
import type { statusWorkflow } from '../../workflows/status.workflow.js';
import type { failbackWorkflow } from '../../workflows/failback.workflow.js';
import type { failoverWorkflow } from '../../workflows/failover.workflow.js';

let h: Harness;
const values: string[] = [];
const workflowIds: string[] = [];

beforeAll(async () => {
  h = await startHarness('rotation-windows');
});
afterAll(async () => {
  // No fault to clear: this file injects none (its Regions are shared, see LAB_REGIONS).
  await h?.close();
});

const rotateArn = (region: string) => `arn:aws:lambda:${region}:123456789012:function:rotate-windows`;
const CRON = 'cron(0 7 * * ? *)';
const describeIn = (region: string, name: string) => h.sm(region).send(new DescribeSecretCommand({ SecretId: name }));
const HOUR = 3_600_000;

/** The schedule as DescribeSecret lists it, without the AutomaticallyAfterDays AWS derives from the expression. */
async function scheduleIn(region: string, name: string) {
  const d = await describeIn(region, name);
  return {
    lambda: d.RotationLambdaARN,
    enabled: d.RotationEnabled,
    expression: d.RotationRules?.ScheduleExpression,
    duration: d.RotationRules?.Duration,
    days: d.RotationRules?.AutomaticallyAfterDays,
    next: d.NextRotationDate,
  };
}

describe.skipIf(onAws)(`rotation windows through failover and failback (${LAB_ONLY}: the lab's rotation functions)`, () => {
  it('a cron(0 7 * * ? *) + 1h rule is recorded from the primary, re-homed in the DR Region, and restored on the original at failback', async () => {
    // Prepare: one secret rotating on cron(0 7 * * ? *) with a 1h window, replicated; the plan's functions and HMAC key.
    const name = `${h.names}rot/db`;
    const secret = `rotation-value-${randomBytes(12).toString('hex')}`;
    values.push(secret);
    await h.lab!.ensureFunctions([rotateArn(h.primaryRegion), rotateArn(h.drRegion)]);
    const base = h.plan(
      `failover:\n  requireApproval: false\nrotation:\n  ${h.primaryRegion}: ${rotateArn(h.primaryRegion)}\n  ${h.drRegion}: ${rotateArn(h.drRegion)}\n`,
    );
    const plan = { ...base, secrets: { include: [{ prefix: `${h.names}rot/` }], exclude: [] } };
    await h.sm(h.primaryRegion).send(
      new CreateSecretCommand({
        Name: hmacKeySecretName(plan.name),
        SecretString: randomBytes(32).toString('base64'),
        AddReplicaRegions: [{ Region: h.drRegion }],
      }),
    );
    await h.sm(h.primaryRegion).send(new CreateSecretCommand({ Name: name, SecretString: secret, AddReplicaRegions: [{ Region: h.drRegion }] }));
    await h.sm(h.primaryRegion).send(
      new RotateSecretCommand({
        SecretId: name,
        RotationLambdaARN: rotateArn(h.primaryRegion),
        RotationRules: { ScheduleExpression: CRON, Duration: '1h' },
        RotateImmediately: false,
      }),
    );
    await eventually('the replica caught up', async () =>
      (await h.lab!.status()).pendingReplications === 0 && (await describeIn(h.drRegion, name)).RotationRules?.ScheduleExpression === CRON ? true : undefined,
    );

    // Act 1: a planned failover (the primary answers, so the schedule is read from it).
    const failover = await h.client.workflow.start<typeof failoverWorkflow>('failoverWorkflow', {
      taskQueue: workflowTaskQueue(h.prefix),
      workflowId: failoverWorkflowId(plan.name),
      args: [{ plan, to: h.drRegion, mode: 'planned', skipApproval: true, dryRun: false, taskQueuePrefix: h.prefix, fenceRetryInitialMs: 300 }],
      workflowExecutionTimeout: '5m',
    });
    workflowIds.push(failover.workflowId);
    const report = await failover.result();
    expect(report.outcome, JSON.stringify(report.attention)).toBe('done');

    // Assess 1: the DR copy rotates with the DR Region's function, on the same cron and window; NextRotationDate is 07:59:59 UTC.
    expect(report.rotation).toMatchObject({ rehomed: 1, failed: 0 });
    const dr = await scheduleIn(h.drRegion, name);
    expect(dr).toMatchObject({ lambda: rotateArn(h.drRegion), enabled: true, expression: CRON, duration: '1h' });
    expect(dr.next!.toISOString()).toMatch(/T07:59:59/);
    // ... and the lineage record in the DR Region holds the rules as read from the primary.
    const records = await h.sm(h.drRegion).send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [lineageRecordPrefix(plan.name)] }] }));
    const record = LineageRecord.parse(
      JSON.parse((await h.sm(h.drRegion).send(new GetSecretValueCommand({ SecretId: records.SecretList![0]!.ARN }))).SecretString!),
    );
    expect(record.secrets.find((s) => s.name === name)?.rotation).toEqual({
      rules: { AutomaticallyAfterDays: 1, ScheduleExpression: CRON, Duration: '1h' },
      source: 'primary',
    });

    // status: the schedule and the next window (07:00–08:00 UTC), rotating in the DR Region now.
    const status = await h.client.workflow.execute<typeof statusWorkflow>('statusWorkflow', {
      taskQueue: workflowTaskQueue(h.prefix),
      workflowId: statusWorkflowId(plan.name, 'rot1'),
      args: [{ plan, taskQueuePrefix: h.prefix }],
    });
    const row = status.rows.find((r) => r.name === name)!;
    expect(row.rotation).toMatchObject({ region: h.drRegion, schedule: `${CRON}, 1h window` });
    expect(new Date(row.rotation!.nextWindow!.start!).toISOString()).toMatch(/T07:00:00/);
    expect(row.rotation!.nextWindow!.end - row.rotation!.nextWindow!.start!).toBe(HOUR);

    // Prepare 2: while failed over, the original's settings drift (someone lifted the fence and set 30 days).
    await h.sm(h.primaryRegion).send(new DeleteResourcePolicyCommand({ SecretId: name }));
    await h.sm(h.primaryRegion).send(
      new RotateSecretCommand({
        SecretId: name,
        RotationLambdaARN: rotateArn(h.primaryRegion),
        RotationRules: { AutomaticallyAfterDays: 30 },
        RotateImmediately: false,
      }),
    );
    expect((await scheduleIn(h.primaryRegion, name)).expression).toBeUndefined();

    // Act 2: failback.
    const failback = await h.client.workflow.start<typeof failbackWorkflow>('failbackWorkflow', {
      taskQueue: workflowTaskQueue(h.prefix),
      workflowId: failbackWorkflowId(plan.name),
      args: [{ plan, taskQueuePrefix: h.prefix, skipApproval: true } satisfies FailbackInput],
      workflowExecutionTimeout: '5m',
    });
    workflowIds.push(failback.workflowId);
    const back = await failback.result();
    expect(back.rotation, JSON.stringify(back)).toMatchObject({ restored: 1, failed: 0 });

    // Assess 2: the original rotates again with its own function on the recorded cron and 1h window.
    const original = await scheduleIn(h.primaryRegion, name);
    expect(original).toMatchObject({ lambda: rotateArn(h.primaryRegion), enabled: true, expression: CRON, duration: '1h' });
    expect(original.next!.toISOString()).toMatch(/T07:59:59/);
    await eventually('the replica shows the restored schedule', async () =>
      (await describeIn(h.drRegion, name)).RotationRules?.ScheduleExpression === CRON ? true : undefined,
    );

    // No value in any history (positive control: the schedule is in the failover's history).
    const texts: string[] = [];
    for (const id of workflowIds) texts.push(historyText(await h.client.workflow.getHandle(id).fetchHistory()));
    expect(texts.join('\n')).toContain(CRON);
    for (const v of values) expect(texts.join('\n').includes(v)).toBe(false);
  }, 180_000);
});
