import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeSecretCommand, GetResourcePolicyCommand, PutSecretValueCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { inject } from 'vitest';
import { failoverWorkflowId, fenceWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import { FENCE_TAG } from '../../domain/status.js';
import type { Plan } from '../../domain/plan.js';
import type { FailoverInput, FailoverProgress, FailoverReport } from '../../domain/failover.js';
import { LAB_CREDENTIALS } from '../../lab/stack.js';
import { eventually, LAB_ONLY, onAws, startHarness, type Harness } from '../support/integration.js';

let h: Harness;
const values: string[] = [];
const workflowIds: string[] = [];
const value = () => {
  const v = `failover-value-${randomBytes(12).toString('hex')}`;
  values.push(v);
  return v;
};

beforeAll(async () => {
  h = await startHarness('failover');
});
afterAll(async () => {
  await h?.lab?.fault('clear', {});
  await h?.close();
});

/** Seeds `n` replicated secrets under a fresh prefix; returns the plan covering exactly them. */
async function fleet(tag: string, n: number, extra = ''): Promise<{ plan: Plan; names: string[] }> {
  const prefix = `${h.names}${tag}/`;
  const names = Array.from({ length: n }, (_, i) => `${prefix}s${String(i).padStart(3, '0')}`);
  await h.lab!.seed(h.primaryRegion, names.map((name, i) => ({ name, value: value(), replicaRegions: [h.drRegion], ...(i % 5 === 0 ? { tags: [{ Key: 'dr-tier', Value: '0' }] } : {}) })));
  await eventually('replicas of the seeded fleet', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
  const base = h.plan(`failover:\n  requireApproval: false\n  groups: [{ name: tier0, match: { tag: { key: dr-tier, value: "0" } } }]\n${extra}`);
  // Each test its own plan name: one failover per plan, and its own pending fence.
  return { plan: { ...base, name: `${base.name}-${tag}`, secrets: { include: [{ prefix }], exclude: [] } }, names };
}

function input(plan: Plan, over: Partial<FailoverInput> = {}): FailoverInput {
  return { plan, to: h.drRegion, mode: 'unplanned', skipApproval: true, dryRun: false, taskQueuePrefix: h.prefix, fenceRetryInitialMs: 500, ...over };
}

async function failover(plan: Plan, over: Partial<FailoverInput> = {}, prefix = h.prefix) {
  const workflowId = over.dryRun ? `${failoverWorkflowId(plan.name)}/dry-run` : failoverWorkflowId(plan.name);
  workflowIds.push(workflowId);
  const handle = await h.client.workflow.start('failoverWorkflow', {
    taskQueue: workflowTaskQueue(prefix),
    workflowId,
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [input(plan, { taskQueuePrefix: prefix, ...over })],
    workflowExecutionTimeout: '5m',
  });
  return handle;
}

const standalone = async (region: string, name: string) => (await h.sm(region).send(new DescribeSecretCommand({ SecretId: name }))).PrimaryRegion === undefined;

describe.skipIf(onAws)(`failover on the dev server + lab (${LAB_ONLY})`, () => {
  it('unplanned, primary in outage: every secret standalone and writable in the DR Region; the pending fence lands when the primary answers again', async () => {
    const { plan, names } = await fleet('unplanned', 20);
    await h.lab!.resetCounters();
    await h.lab!.fault('outage', { region: h.primaryRegion, mode: 'refuse' });
    let report: FailoverReport;
    try {
      report = (await (await failover(plan)).result()) as FailoverReport;
      expect(report.outcome, JSON.stringify(report.problems)).toBe('done');
      expect(report.counts).toMatchObject({ promoted: 20, failed: 0, skipped: 0 });
      expect(report.fence).toMatchObject({ state: 'pending', handedTo: fenceWorkflowId(plan.name, h.primaryRegion) });
      expect(report.lineage?.records).toBeGreaterThan(0);
      // Tier 0 first: group order is kept in the outcome table.
      expect(report.outcomes!.slice(0, 4).every((o) => Number(o.name.slice(-3)) % 5 === 0)).toBe(true);
      for (const name of names) {
        expect(await standalone(h.drRegion, name), name).toBe(true);
        await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: name, SecretString: value() })); // writable
      }
      const counters = await h.lab!.counters();
      expect(counters[h.drRegion]?.StopReplicationToReplica?.calls).toBe(20);
    } finally {
      await h.lab!.fault('clear', { region: h.primaryRegion });
    }
    // The primary answers again: the fence workflow fences every old primary.
    await h.client.workflow.getHandle(fenceWorkflowId(plan.name, h.primaryRegion)).result();
    workflowIds.push(fenceWorkflowId(plan.name, h.primaryRegion));
    for (const name of names) {
      const d = await h.sm(h.primaryRegion).send(new DescribeSecretCommand({ SecretId: name }));
      expect(d.Tags?.some((t) => t.Key === FENCE_TAG), name).toBe(true);
    }
    await expect(h.sm(h.primaryRegion).send(new PutSecretValueCommand({ SecretId: names[0], SecretString: value() }))).rejects.toThrow(/explicit deny/);
    const events = (await h.lab!.events({ source: 'secrets-dr' })) as Array<{ 'detail-type'?: string; detailType?: string }>;
    const types = events.map((e) => e['detail-type'] ?? e.detailType);
    expect(types).toContain('Failover Started');
    expect(types).toContain('Failover Completed');
  });
});
