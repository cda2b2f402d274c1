import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { Worker } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { statusWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import type { Plan } from '../../domain/plan.js';
import type { StatusReport } from '../../domain/status.js';
import { eventually, LAB_ONLY, onAws, startHarness, type Harness } from '../support/integration.js';
import { renderStatus } from '../../cli/commands/status.js';
import { historyText, payloadJson } from '../support/leaks.js';
import type { statusWorkflow } from '../../workflows/status.workflow.js';
import { dataConverter } from '../../worker/payload-codec.js';

let h: Harness;
const values: string[] = [];
const value = () => {
  const v = `value-${randomBytes(12).toString('hex')}`;
  values.push(v);
  return v;
};

async function runStatus(plan: Plan, id = `${Date.now()}`) {
  const workflowId = statusWorkflowId(plan.name, id);
  const report = await h.client.workflow.execute<typeof statusWorkflow>('statusWorkflow', {
    taskQueue: workflowTaskQueue(h.prefix),
    workflowId,
    args: [{ plan, taskQueuePrefix: h.prefix }],
    workflowExecutionTimeout: '2m',
  });
  return { report, workflowId };
}

const cell = (report: StatusReport, name: string, region: string) => report.rows.find((r) => r.name === name)?.cells[region];

beforeAll(async () => {
  h = await startHarness('status');
});
afterAll(async () => {
  await h?.close();
});

describe('status (workflow on the dev server, real SDK clients against the lab)', () => {
  it('tells replicated, missing, conflicting and out-of-plan secrets apart, and keeps values out of history', async () => {
    const n = h.names;
    const p = h.sm(h.primaryRegion);
    const d = h.sm(h.drRegion);
    await p.send(new CreateSecretCommand({ Name: `${n}replicated`, SecretString: value(), AddReplicaRegions: [{ Region: h.drRegion }] }));
    await p.send(new CreateSecretCommand({ Name: `${n}unreplicated`, SecretString: value() }));
    await d.send(new CreateSecretCommand({ Name: `${n}clash`, SecretString: value() }));
    await p.send(new CreateSecretCommand({ Name: `${n}clash`, SecretString: value(), AddReplicaRegions: [{ Region: h.drRegion }] }));
    await p.send(new CreateSecretCommand({ Name: `other-${n}`, SecretString: value() }));

    const plan = h.plan();
    let result = await runStatus(plan, 'a');
    // Replication is asynchronous: wait until the replica has caught up.
    for (let i = 0; i < 50 && cell(result.report, `${n}replicated`, h.drRegion)?.state !== 'InSync'; i++) {
      await new Promise((r) => setTimeout(r, 300));
      result = await runStatus(plan, `a${i}`);
    }
    const { report, workflowId } = result;

    expect(report.rows.map((r) => r.name)).toEqual([`${n}clash`, `${n}replicated`, `${n}unreplicated`]);
    expect(cell(report, `${n}replicated`, h.primaryRegion)?.state).toBe('primary');
    expect(cell(report, `${n}replicated`, h.drRegion)?.state).toBe('InSync');
    expect(cell(report, `${n}unreplicated`, h.drRegion)?.state).toBe('missing');
    expect(cell(report, `${n}clash`, h.drRegion)).toMatchObject({ state: 'conflict', detail: expect.stringMatching(/already exists/i) });
    expect(report.attention).toBe(2);

    const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
    const text = historyText(history);
    expect(text, 'the scan reads payload contents').toContain(`${n}replicated`);
    for (const v of values) expect(text).not.toContain(v);

    // The history replays deterministically against the current workflow code.
    await Worker.runReplayHistory({ dataConverter, workflowsPath: new URL('../../workflows/index.ts', import.meta.url).pathname }, history, workflowId);
    if (process.env.RECORD_HISTORIES) writeFileSync(new URL('../fixtures/histories/status.json', import.meta.url), historyToJSON(history));
  });

  it.skipIf(onAws)(`reads 1,000 secrets with at most 2 × ⌈1000/100⌉ list calls per Region (${LAB_ONLY})`, async () => {
    const n = `${h.names}fleet/`;
    const secrets = Array.from({ length: 1000 }, (_, i) => ({
      name: `${n}s${String(i).padStart(4, '0')}`,
      value: value(),
      replicaRegions: i % 2 === 0 ? [h.drRegion] : [],
    }));
    await h.lab!.seed(h.primaryRegion, secrets);
    const plan = { ...h.plan(), secrets: { include: [{ prefix: n }], exclude: [] } };
    await eventually('replicas of the seeded fleet', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
    await h.lab!.resetCounters([h.primaryRegion, h.drRegion]);
    const { report } = await runStatus(plan, 'fleet');
    const counters = await h.lab!.counters([h.primaryRegion, h.drRegion]);
    // The primary holds the 1,000 (so at least 10 pages); the DR Region holds the 500 replicas.
    expect(counters[h.primaryRegion]?.ListSecrets?.calls, 'ListSecrets calls in the primary Region').toBeGreaterThanOrEqual(10);
    for (const region of [h.primaryRegion, h.drRegion]) {
      expect(counters[region]?.ListSecrets?.calls ?? 0, `ListSecrets calls in ${region}`).toBeLessThanOrEqual(2 * 10);
    }
    // Only the unreplicated half is described (on the primary), never the whole fleet in the DR Region.
    expect(counters[h.drRegion]?.DescribeSecret?.calls ?? 0).toBe(0);
    expect(report.rows).toHaveLength(1000);
    expect(report.counts[h.drRegion]).toMatchObject({ missing: 500 });
  });

  it.skipIf(onAws)(
    `an inventory larger than one activity page is read page by page: no activity result carries more than its pages (${LAB_ONLY})`,
    async () => {
      // Prepare: 350 secrets (with the other tests' secrets, the primary lists several pages of 100).
      const n = `${h.names}paged/`;
      await h.lab!.seed(
        h.primaryRegion,
        Array.from({ length: 350 }, (_, i) => ({ name: `${n}s${String(i).padStart(4, '0')}`, value: value() })),
      );
      const plan = { ...h.plan(), secrets: { include: [{ prefix: n }], exclude: [] } };
      const workflowId = statusWorkflowId(plan.name, 'paged');
      // Act: one ListSecrets page per activity.
      const report = await h.client.workflow.execute<typeof statusWorkflow>('statusWorkflow', {
        taskQueue: workflowTaskQueue(h.prefix),
        workflowId,
        args: [{ plan, taskQueuePrefix: h.prefix, pagesPerCall: 1 }],
        workflowExecutionTimeout: '2m',
      });
      // Assess: every secret is in the report, read through ≥ 4 activity results of ≤ 100 entries each, chained by their cursor.
      expect(report.rows).toHaveLength(350);
      const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
      const pages = (history.events ?? []).flatMap((e) => {
        const data = e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data;
        const v = payloadJson<{ region?: string; entries?: unknown[]; nextToken?: string }>(data);
        return v && Array.isArray(v.entries) ? [v as { region: string; entries: unknown[]; nextToken?: string }] : [];
      });
      const primary = pages.filter((p) => p.region === h.primaryRegion);
      expect(primary.length, 'activity results of the primary Region').toBeGreaterThanOrEqual(4);
      for (const p of pages) expect(p.entries.length).toBeLessThanOrEqual(100);
      expect(primary.slice(0, -1).every((p) => typeof p.nextToken === 'string')).toBe(true);
      expect(primary.at(-1)?.nextToken).toBeUndefined();
    },
  );

  it.skipIf(onAws)(`still answers during a primary outage, from the DR Region (${LAB_ONLY})`, async () => {
    const n = `${h.names}outage/`;
    await h.lab!.seed(h.primaryRegion, [{ name: `${n}db`, value: value(), replicaRegions: [h.drRegion] }]);
    const plan = { ...h.plan(), secrets: { include: [{ prefix: n }], exclude: [] } };
    await new Promise((r) => setTimeout(r, 800)); // replication lag
    await h.lab!.fault('outage', { region: h.primaryRegion, mode: 'refuse' });
    try {
      const { report } = await runStatus(plan, 'outage');
      expect(report.regions.find((r) => r.region === h.primaryRegion)).toMatchObject({ reachable: false });
      expect(cell(report, `${n}db`, h.primaryRegion)?.state).toBe('unknown');
      expect(cell(report, `${n}db`, h.drRegion)?.state).toBe('InSync');
    } finally {
      await h.lab!.fault('clear', { region: h.primaryRegion });
    }
  });

  it.skipIf(onAws)(`a Region that answers "access denied" or "throttled" is shown degraded with the reason, not UNREACHABLE (${LAB_ONLY})`, async () => {
    const plan = h.plan();
    for (const [error, problem] of [
      ['AccessDeniedException', 'denied'],
      ['ThrottlingException', 'throttled'],
    ] as const) {
      await h.lab!.fault('fail-next', { region: h.drRegion, op: 'ListSecrets', error, count: 100_000 });
      try {
        const { report } = await runStatus(plan, `denied-${problem}`);
        expect(report.regions.find((r) => r.region === h.drRegion)).toMatchObject({ reachable: false, problem, error: expect.stringContaining(error) });
        expect(report.regions.find((r) => r.region === h.primaryRegion)?.problem).toBeUndefined();
        const lines: string[] = [];
        renderStatus(report, { out: (l: string) => lines.push(l), err: () => undefined, json: false, tty: false });
        const line = lines.find((l) => l.includes(`${h.drRegion} (dr)`));
        expect(line).toMatch(new RegExp(`DEGRADED \\(${problem}; not an outage, no failover\\): .*${error}`));
        expect(line).not.toMatch(/UNREACHABLE/);
      } finally {
        await h.lab!.fault('clear', { region: h.drRegion });
      }
    }
  });
});
