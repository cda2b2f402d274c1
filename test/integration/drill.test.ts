import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { workflowsPath } from '../../worker/worker.js';
import { DeleteSecretCommand, ListSecretsCommand, RemoveRegionsFromReplicationCommand } from '@aws-sdk/client-secrets-manager';
import { drillCanaryPrefix, type DrillReport } from '../../domain/drill.js';
import { drillWorkflowIdPrefix } from '../../domain/ids.js';
import type { Plan } from '../../domain/plan.js';
import { listDrills, removeDrillSchedule, startDrill, upsertDrillSchedule, writeDrillReports } from '../../cli/commands/drill.js';
import { eventually, LAB_ONLY, onAws, startHarness, type Harness } from '../support/integration.js';
import { historyText } from '../support/leaks.js';
import type { drillWorkflow } from '../../workflows/drill.workflow.js';
import { dataConverter } from '../../worker/payload-codec.js';

let h: Harness;
let plan: Plan;
const reports: DrillReport[] = [];

beforeAll(async () => {
  h = await startHarness('drill');
  plan = h.plan('drills:\n  canaries: 2\n  rtoTarget: 30s\n');
});
afterAll(async () => {
  // The measured figures, for whoever reads the test log (and reports to look at with SECRETS_DR_DRILL_REPORTS=DIR).
  for (const r of reports)
    console.info(`drill ${r.workflowId}: ${r.outcome}, RTO ${r.rtoMs ?? '-'} ms, RPO ${r.rpoMs ?? '-'} ms${r.failure ? `, failed at ${r.failure.step}` : ''}`);
  if (process.env.SECRETS_DR_DRILL_REPORTS) for (const r of reports) writeDrillReports(r, process.env.SECRETS_DR_DRILL_REPORTS);
  for (const region of [h?.primaryRegion, h?.drRegion]) if (region) await h?.lab?.fault('clear', { region });
  await removeDrillSchedule({ client: h.client, prefix: h.prefix }, plan).catch(() => undefined);
  await h?.close();
});

const target = () => ({ client: h.client, prefix: h.prefix });

async function drill(): Promise<DrillReport> {
  const report = await (await startDrill(target(), plan, 'test')).result();
  reports.push(report);
  return report;
}

/** Canary copies of this plan still present, per Region. */
async function canariesLeft(): Promise<string[]> {
  const left: string[] = [];
  for (const region of [h.primaryRegion, h.drRegion]) {
    const page = await h.sm(region).send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [drillCanaryPrefix(plan.name)] }] }));
    left.push(...(page.SecretList ?? []).map((s) => `${region}:${s.Name}`));
  }
  return left;
}

describe.skipIf(onAws)(`drills on the dev server + lab (${LAB_ONLY})`, () => {
  it('a schedule triggered now runs a drill that passes, measures RTO and RPO, and leaves nothing behind', async () => {
    const first = await upsertDrillSchedule(target(), plan, '0 3 * * 6');
    const again = await upsertDrillSchedule(target(), plan, '0 4 * * 6');
    expect([first.created, again.created]).toEqual([true, false]);
    const described = await h.client.schedule.getHandle(first.scheduleId).describe();
    expect(described.spec.calendars?.[0]?.hour).toEqual([{ start: 4, end: 4, step: 1 }]);
    expect(described.policies.overlap).toBe('SKIP');

    await h.client.schedule.getHandle(first.scheduleId).trigger();
    const id = await eventually(
      'the scheduled drill to start',
      async () => {
        const d = await h.client.schedule.getHandle(first.scheduleId).describe();
        return d.info.recentActions[0]?.action.workflow.workflowId;
      },
      20_000,
    );
    expect(id.startsWith(drillWorkflowIdPrefix(plan.name))).toBe(true);
    const report = await h.client.workflow.getHandle<typeof drillWorkflow>(id).result();
    reports.push(report);

    expect(report.outcome, JSON.stringify(report.failure)).toBe('passed');
    expect(report.trigger).toBe('schedule');
    expect(report.rtoMs).toBeGreaterThan(0);
    expect(report.rpoMs).toBeGreaterThan(0);
    expect(report.withinTarget).toBe(true);
    expect(report.regions).toEqual([expect.objectContaining({ region: h.drRegion, verified: true })]);
    const steps = new Set(report.steps.map((s) => `${s.step}@${s.region}`));
    for (const s of ['create', 'measureRpo', 'promote', 'verify', 'cleanUp'])
      expect(
        [...steps].some((x) => x.startsWith(`${s}@`)),
        s,
      ).toBe(true);
    expect(steps.has(`promote@${h.drRegion}`)).toBe(true);
    expect(report.cleanup.remaining).toEqual([]);
    expect(await canariesLeft()).toEqual([]);

    const listed = await listDrills(h.client, plan);
    expect(listed.some((d) => d.workflowId === id && d.report?.outcome === 'passed')).toBe(true);

    // Its history replays against today's code; RECORD_HISTORIES=1 keeps it for test/unit/replay.test.ts.
    const history = await h.client.workflow.getHandle(id).fetchHistory();
    await Worker.runReplayHistory({ dataConverter, workflowsPath: workflowsPath() }, history, id);
    if (process.env.RECORD_HISTORIES) writeFileSync(new URL('../fixtures/histories/drill.json', import.meta.url), historyToJSON(history));
  });

  it('with 2 s of replication lag into the DR Region, the reported RPO is about 2 s', async () => {
    await h.lab!.fault('replication-lag', { region: h.drRegion, ms: 2_000 });
    let report: DrillReport;
    try {
      report = await drill();
    } finally {
      await h.lab!.fault('clear', { region: h.drRegion });
    }
    expect(report.outcome, JSON.stringify(report.failure)).toBe('passed');
    expect(report.rpoMs).toBeGreaterThanOrEqual(1_800);
    expect(report.rpoMs).toBeLessThanOrEqual(3_500);
  });

  it('latency injected in the DR Region makes the RTO grow accordingly', async () => {
    const base = await drill();
    await h.lab!.fault('latency', { region: h.drRegion, ms: 300 });
    let slow: DrillReport;
    try {
      slow = await drill();
    } finally {
      await h.lab!.fault('clear', { region: h.drRegion });
    }
    expect(base.outcome).toBe('passed');
    expect(slow.outcome, JSON.stringify(slow.failure)).toBe('passed');
    // Promotion = describe + StopReplicationToReplica, then describe + get until standalone: ≥ 3 calls at +300 ms each.
    expect(slow.rtoMs! - base.rtoMs!).toBeGreaterThanOrEqual(900);
    expect(slow.rtoMs!).toBeLessThan(base.rtoMs! + 10_000);
  });

  it('a drill that fails in the middle still deletes every canary in every Region, and its report says where and why', async () => {
    await h.lab!.fault('fail-next', {
      region: h.drRegion,
      op: 'StopReplicationToReplica',
      error: 'AccessDeniedException',
      secretIdPrefix: drillCanaryPrefix(plan.name),
    });
    const report = await drill();
    expect(report.outcome).toBe('failed');
    expect(report.failure).toMatchObject({ step: 'promote', region: h.drRegion });
    expect(report.failure!.reason).toMatch(/AccessDeniedException/);
    expect(report.steps.find((s) => s.step === 'promote' && !s.ok)?.region).toBe(h.drRegion);
    expect(report.cleanup.remaining).toEqual([]);
    expect(await canariesLeft()).toEqual([]);
  });

  it('leftovers of a "crashed" drill are removed by the next one', async () => {
    await h.lab!.seed(h.primaryRegion, [{ name: `${drillCanaryPrefix(plan.name)}0`, value: 'leftover-of-a-crashed-drill', replicaRegions: [h.drRegion] }]);
    await eventually('the leftover replica', async () => ((await canariesLeft()).length === 2 ? true : undefined));
    const report = await drill();
    expect(report.outcome, JSON.stringify(report.failure)).toBe('passed');
    expect(report.cleanup.leftoversRemoved).toBeGreaterThanOrEqual(1);
    expect(await canariesLeft()).toEqual([]);
  });

  // On AWS a replica disappears tens of seconds after RemoveRegionsFromReplication answered, and
  // deleting its primary first may strand it: the lab keeps removed replicas for a while, and strands
  // them when their primary is deleted meanwhile.
  it('clean-up waits for removed replicas to disappear before deleting the primary canaries', async () => {
    await h.lab!.fault('replica-delete-delay', { region: h.drRegion, ms: 3_000 });
    // The promotion fails, so canaries are still replicas when the clean-up removes them.
    await h.lab!.fault('fail-next', {
      region: h.drRegion,
      op: 'StopReplicationToReplica',
      error: 'AccessDeniedException',
      secretIdPrefix: drillCanaryPrefix(plan.name),
    });
    let report: DrillReport;
    try {
      report = await drill();
    } finally {
      await h.lab!.fault('clear', { region: h.drRegion });
    }
    expect(report.failure).toMatchObject({ step: 'promote', region: h.drRegion });
    expect(report.cleanup.remaining).toEqual([]);
    expect(report.warnings.filter((w) => /still being removed/.test(w))).toEqual([]);
    expect(await canariesLeft()).toEqual([]);
  });

  it('a replica still being removed when the wait ends: its primary canary is kept and reported, and the next drill removes both', async () => {
    await h.lab!.fault('replica-delete-delay', { region: h.drRegion, ms: 8_000 });
    await h.lab!.fault('fail-next', {
      region: h.drRegion,
      op: 'StopReplicationToReplica',
      error: 'AccessDeniedException',
      secretIdPrefix: drillCanaryPrefix(plan.name),
    });
    let first: DrillReport;
    try {
      first = await (await startDrill(target(), plan, 'test', { replicaRemovalTimeoutMs: 1_000 })).result();
      reports.push(first);
    } finally {
      await h.lab!.fault('clear', { region: h.drRegion });
    }
    expect(first.outcome).toBe('failed');
    expect(
      first.warnings.some((w) => w.includes(`replica ${h.drRegion}:${drillCanaryPrefix(plan.name)}`) && /still being removed/.test(w)),
      first.warnings.join('\n'),
    ).toBe(true);
    expect(first.cleanup.remaining.some((r) => r.startsWith(`${h.primaryRegion}:`))).toBe(true);
    expect((await canariesLeft()).some((c) => c.startsWith(`${h.primaryRegion}:`))).toBe(true);

    const next = await drill();
    expect(next.outcome, JSON.stringify(next.failure)).toBe('passed');
    expect(next.cleanup.leftoversRemoved).toBeGreaterThanOrEqual(1);
    expect(await canariesLeft()).toEqual([]);
  });

  it('a stranded replica (its primary deleted before the replica disappeared) is removed by the next drill', async () => {
    const name = `${drillCanaryPrefix(plan.name)}0`;
    await h.lab!.seed(h.primaryRegion, [{ name, value: 'leftover-of-a-crashed-drill', replicaRegions: [h.drRegion] }]);
    await eventually('the replica', async () => ((await canariesLeft()).length === 2 ? true : undefined));
    await h.lab!.fault('replica-delete-delay', { region: h.drRegion, ms: 1_000 });
    try {
      await h.sm(h.primaryRegion).send(new RemoveRegionsFromReplicationCommand({ SecretId: name, RemoveReplicaRegions: [h.drRegion] }));
      await h.sm(h.primaryRegion).send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    } finally {
      await h.lab!.fault('clear', { region: h.drRegion });
    }
    await new Promise((r) => setTimeout(r, 2_000)); // past the delay: the replica stays, stranded
    expect(await canariesLeft()).toEqual([`${h.drRegion}:${name}`]);
    const report = await drill();
    expect(report.outcome, JSON.stringify(report.failure)).toBe('passed');
    expect(report.cleanup.leftoversRemoved).toBeGreaterThanOrEqual(1);
    expect(await canariesLeft()).toEqual([]);
  });

  it('no canary value in any drill history or lab event', async () => {
    expect(reports.length).toBeGreaterThanOrEqual(8);
    // Canary values are generated inside the activities as {"canary":"<random>"}: their shape is what we look for.
    const shape = /\\?"canary\\?"\s*:/;
    for (const r of reports) {
      const history = historyText(await h.client.workflow.getHandle(r.workflowId).fetchHistory());
      expect(history, 'the scan reads payload contents').toContain('secrets-dr-drill/');
      expect(shape.test(history), r.workflowId).toBe(false);
      expect(history.includes('leftover-of-a-crashed-drill')).toBe(false);
    }
    const events = JSON.stringify(await h.lab!.events({}));
    expect(shape.test(events)).toBe(false);
    const drillEvents = (await h.lab!.events({ source: 'secrets-dr', detailType: 'Drill Completed' })) as Array<{
      detail: { workflowId: string; rtoMs?: number };
    }>;
    expect(drillEvents.filter((e) => reports.some((r) => r.workflowId === e.detail.workflowId)).length).toBe(reports.length);
  });
});
