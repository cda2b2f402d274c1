import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { conflictWorkflowId, setupBatchWorkflowId, setupWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import type { Plan } from '../../domain/plan.js';
import { backupPrefix, type SetupReport } from '../../domain/replication.js';
import type { replicateWorkflow } from '../../workflows/replicate.workflow.js';
import type { restoreBackupWorkflow } from '../../workflows/restore.workflow.js';
import { setupProgressQuery } from '../../workflows/setup.messages.js';
import { approvalUpdate } from '../../workflows/kit/control.messages.js';
import { startWorkers, workflowsPath, type RunningWorkers } from '../../worker/worker.js';
import { eventually, LAB_ONLY, onAws, startHarness, type Harness } from '../support/integration.js';
import { historyText } from '../support/leaks.js';
import { dataConverter } from '../../worker/payload-codec.js';

let h: Harness;
const values: string[] = [];
const value = () => {
  const v = `value-${randomBytes(12).toString('hex')}`;
  values.push(v);
  return v;
};

/** A plan of its own per test (own name → own workflow ids; own prefix → own secrets). */
function planFor(tag: string, extra = '', regions?: { primary: Plan['primaryRegion']; dr: Plan['primaryRegion'] }): Plan {
  const base = h.plan(extra);
  const n = `${h.names}${tag}/`;
  return {
    ...base,
    name: `${base.name}-${tag}`,
    ...(regions ? { primaryRegion: regions.primary, drRegions: [{ region: regions.dr }] } : {}),
    secrets: { include: [{ prefix: n }], exclude: [] },
  };
}

function startSetup(plan: Plan, prefix = h.prefix) {
  return h.client.workflow.start<typeof replicateWorkflow>('replicateWorkflow', {
    taskQueue: workflowTaskQueue(prefix),
    workflowId: setupWorkflowId(plan.name),
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [{ plan, taskQueuePrefix: prefix }],
    workflowExecutionTimeout: '3m',
  });
}
const runSetup = async (plan: Plan, prefix = h.prefix) => (await startSetup(plan, prefix)).result();
const outcome = (r: SetupReport, secret: string) => r.outcomes.find((o) => o.secret === secret);

async function valueIn(region: string, id: string, stage = 'AWSCURRENT') {
  return (await h.sm(region).send(new GetSecretValueCommand({ SecretId: id, VersionStage: stage }))).SecretString;
}
async function backupsOf(region: string, plan: Plan, secret: string) {
  const page = await h.sm(region).send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [backupPrefix(plan.name, secret)] }] }));
  return page.SecretList ?? [];
}
async function scanHistories(ids: string[]) {
  for (const id of ids) {
    const text = historyText(await h.client.workflow.getHandle(id).fetchHistory());
    expect(text, 'the scan reads payload contents').toContain(h.names);
    for (const v of values) expect(text, `history of ${id}`).not.toContain(v);
  }
}

beforeAll(async () => {
  h = await startHarness('setup');
});
afterAll(async () => {
  await h?.close();
});

describe('setup (replicate workflow on the dev server, real SDK clients against the lab)', () => {
  it('resolves conflicts by policy: backup-then-overwrite (default), overwrite-if-identical, adopt, fail — and restores a backup', async () => {
    const plan = planFor(
      'policies',
      `conflicts:\n  overrides:\n    - { match: { prefix: "${h.names}policies/same" }, policy: overwrite-if-identical }\n    - { match: { prefix: "${h.names}policies/adopt" }, policy: adopt }\n    - { match: { prefix: "${h.names}policies/keep" }, policy: fail }\n`,
    );
    const n = `${h.names}policies/`;
    const p = h.sm(h.primaryRegion);
    const d = h.sm(h.drRegion);
    // Prepare: the DR Region already holds same-named secrets; `clash` has an AWSPREVIOUS too.
    const [oldPrev, oldCur, same, drAdopt, drKeep] = [value(), value(), value(), value(), value()];
    const clashDr = await d.send(new CreateSecretCommand({ Name: `${n}clash`, SecretString: oldPrev }));
    await d.send(new PutSecretValueCommand({ SecretId: `${n}clash`, SecretString: oldCur }));
    await d.send(new CreateSecretCommand({ Name: `${n}same`, SecretString: same }));
    await d.send(new CreateSecretCommand({ Name: `${n}adopt`, SecretString: drAdopt }));
    await d.send(new CreateSecretCommand({ Name: `${n}keep`, SecretString: drKeep }));
    const primaryClash = value();
    const clashP = await p.send(new CreateSecretCommand({ Name: `${n}clash`, SecretString: primaryClash }));
    await p.send(new CreateSecretCommand({ Name: `${n}same`, SecretString: same }));
    await p.send(new CreateSecretCommand({ Name: `${n}adopt`, SecretString: value() }));
    await p.send(new CreateSecretCommand({ Name: `${n}keep`, SecretString: value() }));
    const free = value();
    await p.send(new CreateSecretCommand({ Name: `${n}free`, SecretString: free }));
    const keepBefore = await d.send(new DescribeSecretCommand({ SecretId: `${n}keep` }));

    // Act
    const report = await runSetup(plan);

    // Assess: the default policy backed up both labelled values, then overwrote; the ARN change is reported.
    const replicaArn = clashP.ARN!.replace(`:${h.primaryRegion}:`, `:${h.drRegion}:`);
    expect(outcome(report, `${n}clash`)).toMatchObject({ state: 'InSync', action: 'backup-then-overwrite', arnChange: { from: clashDr.ARN, to: replicaArn } });
    expect(await valueIn(h.drRegion, `${n}clash`)).toBe(primaryClash);
    const backups = await backupsOf(h.drRegion, plan, `${n}clash`);
    expect(backups).toHaveLength(1);
    expect(outcome(report, `${n}clash`)?.backup).toBe(backups[0]!.Name);
    expect(await valueIn(h.drRegion, backups[0]!.Name!)).toBe(oldCur);
    expect(await valueIn(h.drRegion, backups[0]!.Name!, 'AWSPREVIOUS')).toBe(oldPrev);
    expect(backups[0]!.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'secrets-dr:origin-arn', Value: clashDr.ARN },
        { Key: 'secrets-dr:workflow-id', Value: conflictWorkflowId(setupWorkflowId(plan.name), h.drRegion, `${n}clash`) },
      ]),
    );
    // overwrite-if-identical: equal HMACs, so no backup was needed.
    expect(outcome(report, `${n}same`)).toMatchObject({ state: 'InSync', action: 'overwrite-identical' });
    expect(await backupsOf(h.drRegion, plan, `${n}same`)).toHaveLength(0);
    // adopt: the DR value became the primary's AWSCURRENT, then replicated (after a backup).
    expect(outcome(report, `${n}adopt`)).toMatchObject({ state: 'InSync', action: 'adopted' });
    expect(await valueIn(h.primaryRegion, `${n}adopt`)).toBe(drAdopt);
    expect(await valueIn(h.drRegion, `${n}adopt`)).toBe(drAdopt);
    // fail: nothing changed in the target Region.
    expect(outcome(report, `${n}keep`)).toMatchObject({ state: 'Failed', reason: 'name-conflict' });
    const keepAfter = await d.send(new DescribeSecretCommand({ SecretId: `${n}keep` }));
    expect({ arn: keepAfter.ARN, versions: keepAfter.VersionIdsToStages, primary: keepAfter.PrimaryRegion }).toEqual({
      arn: keepBefore.ARN,
      versions: keepBefore.VersionIdsToStages,
      primary: undefined,
    });
    expect(await valueIn(h.drRegion, `${n}keep`)).toBe(drKeep);
    expect(outcome(report, `${n}free`)).toMatchObject({ state: 'InSync', action: 'replicated' });
    expect(await valueIn(h.drRegion, `${n}free`)).toBe(free);
    expect(report.attention).toBe(1);

    // No value in any history; the parent's history replays against today's code.
    const id = setupWorkflowId(plan.name);
    await scanHistories([id, setupBatchWorkflowId(id, 0), ...['clash', 'same', 'adopt', 'keep'].map((s) => conflictWorkflowId(id, h.drRegion, `${n}${s}`))]);
    const history = await h.client.workflow.getHandle(id).fetchHistory();
    await Worker.runReplayHistory({ dataConverter, workflowsPath: new URL('../../workflows/index.ts', import.meta.url).pathname }, history, id);
    if (process.env.RECORD_HISTORIES) {
      // Fixtures for test/unit/replay.test.ts (which replays under another workflow id): the batch (it drives the
      // machines) and the conflict child (compare → backup → overwrite) derive no ids from their own workflow id.
      const fixtures = { 'setup-batch.json': setupBatchWorkflowId(id, 0), 'setup-resolve-conflict.json': conflictWorkflowId(id, h.drRegion, `${n}clash`) };
      for (const [file, wid] of Object.entries(fixtures)) {
        writeFileSync(new URL(`../fixtures/histories/${file}`, import.meta.url), historyToJSON(await h.client.workflow.getHandle(wid).fetchHistory()));
      }
    }

    // Undo: restoring the backup puts the old value back under the name (the replica is removed first).
    const restored = await h.client.workflow.execute<typeof restoreBackupWorkflow>('restoreBackupWorkflow', {
      taskQueue: workflowTaskQueue(h.prefix),
      workflowId: `${id}/restore-test`,
      args: [{ plan, backup: backups[0]!.Name!, taskQueuePrefix: h.prefix }],
      workflowExecutionTimeout: '1m',
    });
    expect(restored).toMatchObject({ secret: `${n}clash`, region: h.drRegion, removedReplica: true });
    expect(await valueIn(h.drRegion, `${n}clash`)).toBe(oldCur);
    expect(await valueIn(h.drRegion, `${n}clash`, 'AWSPREVIOUS')).toBe(oldPrev);
    await scanHistories([`${id}/restore-test`]);
  });

  it('ask: waits for approval; approve proceeds, reject and timeout end Failed with nothing destroyed', async () => {
    const plan = planFor('ask', 'conflicts:\n  policy: ask\n  approvalTimeout: 8s\n');
    const n = `${h.names}ask/`;
    const d = h.sm(h.drRegion);
    const dr: Record<string, string> = {};
    for (const s of ['yes', 'no', 'late']) {
      dr[s] = value();
      await d.send(new CreateSecretCommand({ Name: `${n}${s}`, SecretString: dr[s] }));
      await h.sm(h.primaryRegion).send(new CreateSecretCommand({ Name: `${n}${s}`, SecretString: value() }));
    }
    const handle = await startSetup(plan);
    const id = setupWorkflowId(plan.name);
    const waiting = await eventually('three conflicts waiting for approval', async () => {
      const p = await handle.query(setupProgressQuery);
      return p.awaitingApproval.length === 3 ? p.awaitingApproval : undefined;
    });
    expect(waiting.map((w) => w.workflowId).sort()).toEqual(['late', 'no', 'yes'].map((s) => conflictWorkflowId(id, h.drRegion, `${n}${s}`)));
    // An answer about another secret is refused by the validator.
    await expect(
      h.client.workflow
        .getHandle(conflictWorkflowId(id, h.drRegion, `${n}yes`))
        .executeUpdate(approvalUpdate, { args: [{ decision: 'approve', subject: 'someone-else' }] }),
    ).rejects.toThrow();
    await h.client.workflow
      .getHandle(conflictWorkflowId(id, h.drRegion, `${n}yes`))
      .executeUpdate(approvalUpdate, { args: [{ decision: 'approve', by: 'test' }] });
    await h.client.workflow
      .getHandle(conflictWorkflowId(id, h.drRegion, `${n}no`))
      .executeUpdate(approvalUpdate, { args: [{ decision: 'reject', reason: 'that one is live', by: 'test' }] });

    const report = await handle.result();
    expect(outcome(report, `${n}yes`)).toMatchObject({ state: 'InSync', action: 'backup-then-overwrite' });
    expect(outcome(report, `${n}no`)).toMatchObject({ state: 'Failed', reason: 'rejected', detail: expect.stringContaining('that one is live') });
    expect(outcome(report, `${n}late`)).toMatchObject({ state: 'Failed', reason: 'approval-timeout' });
    for (const s of ['no', 'late']) {
      expect(await valueIn(h.drRegion, `${n}${s}`)).toBe(dr[s]);
      expect((await d.send(new DescribeSecretCommand({ SecretId: `${n}${s}` }))).PrimaryRegion).toBeUndefined();
      expect(await backupsOf(h.drRegion, plan, `${n}${s}`)).toHaveLength(0);
    }
    await scanHistories([id, ...['yes', 'no', 'late'].map((s) => conflictWorkflowId(id, h.drRegion, `${n}${s}`))]);
  });

  // Lag, pause and call counting use Regions no other test file touches: the lab's faults and counters are per Region.
  describe.skipIf(onAws)(`on Regions of its own (${LAB_ONLY})`, () => {
    const regions = { primary: 'eu-south-2', dr: 'eu-central-2' } as const;
    let iso: RunningWorkers;
    let conn: NativeConnection;
    let bundle: WorkflowBundle;
    const prefix = () => `${h.prefix}-iso`;
    const startIso = () =>
      startWorkers({
        connection: conn,
        namespace: 'default',
        regions: [regions.primary, regions.dr],
        taskQueuePrefix: prefix(),
        awsTimeoutMs: 5_000,
        workflowBundle: bundle,
        ...h.workerClients,
      });
    beforeAll(async () => {
      conn = await NativeConnection.connect({ address: inject('temporalAddress') });
      bundle = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
      iso = await startIso();
    });
    afterAll(async () => {
      await iso?.shutdown();
      await conn?.close();
    });

    it('polls InProgress until InSync under replication lag and reports the lag; a second setup makes zero write calls', async () => {
      const plan = planFor('lag', '', regions);
      const n = `${h.names}lag/`;
      await h.lab!.seed(
        regions.primary,
        Array.from({ length: 5 }, (_, i) => ({ name: `${n}s${i}`, value: value() })),
      );
      await h.lab!.fault('replication-lag', { region: regions.dr, ms: 1_500 });
      let report: SetupReport;
      try {
        report = await runSetup(plan, prefix());
      } finally {
        await h.lab!.fault('clear', { region: regions.dr });
      }
      expect(report.counts).toEqual({ InSync: 5 });
      for (const o of report.outcomes) expect(o.lagMs).toBeGreaterThanOrEqual(1_000);

      await h.lab!.resetCounters([regions.primary, regions.dr]);
      const again = await runSetup(plan, prefix());
      expect(again.outcomes.every((o) => o.state === 'InSync' && o.action === 'none')).toBe(true);
      const counters = await h.lab!.counters();
      const writes = /^(Create|Put|Update|Delete|Replicate|Remove|Stop|Tag|Untag|Rotate|Restore)/;
      for (const region of [regions.primary, regions.dr]) {
        const ops = Object.entries(counters[region] ?? {}).filter(([op, c]) => writes.test(op) && c.calls > 0);
        expect(ops, `write calls in ${region}`).toEqual([]);
      }
      expect(counters[regions.primary]?.DescribeSecret?.calls ?? 0).toBeGreaterThan(0); // it did look
    });

    it('a crash between backup and overwrite resumes without a second backup or replication', async () => {
      const plan = planFor('crash', '', regions);
      const n = `${h.names}crash/`;
      const old = value();
      await h.lab!.seed(regions.dr, [{ name: `${n}clash`, value: old }]);
      await h.lab!.seed(regions.primary, [{ name: `${n}clash`, value: value() }]);
      // The overwrite keeps failing until the workers are gone (a Region hiccup, then a crash).
      await h.lab!.fault('fail-next', { region: regions.primary, op: 'ReplicateSecretToRegions', count: 1000, secretIdPrefix: n });
      const handle = await startSetup(plan, prefix());
      await eventually('the backup', async () => ((await backupsOf(regions.dr, plan, `${n}clash`)).length === 1 ? true : undefined));
      await iso.shutdown();
      await h.lab!.fault('clear', { region: regions.primary });
      await h.lab!.resetCounters([regions.primary, regions.dr]);
      iso = await startIso();
      const report = await handle.result();
      expect(outcome(report, `${n}clash`)).toMatchObject({ state: 'InSync', action: 'backup-then-overwrite' });
      expect(await backupsOf(regions.dr, plan, `${n}clash`)).toHaveLength(1);
      const counters = await h.lab!.counters();
      expect(counters[regions.dr]?.CreateSecret?.calls ?? 0, 'no backup written after the restart').toBe(0);
      expect(counters[regions.primary]?.ReplicateSecretToRegions?.calls, 'one overwrite after the restart').toBe(1);
      const b = (await backupsOf(regions.dr, plan, `${n}clash`))[0]!;
      expect(await (async () => (await h.sm(regions.dr).send(new GetSecretValueCommand({ SecretId: b.Name }))).SecretString)()).toBe(old);
    });

    it('a paused replication ends in a clear timeout outcome, not a hang', async () => {
      const plan = planFor('pause', 'setup:\n  inSyncTimeout: 3s\n', regions);
      const n = `${h.names}pause/`;
      await h.lab!.seed(regions.primary, [{ name: `${n}stuck`, value: value() }]);
      await h.lab!.fault('replication-pause', { region: regions.dr });
      let report: SetupReport;
      const started = Date.now();
      try {
        report = await runSetup(plan, prefix());
      } finally {
        await h.lab!.fault('clear', { region: regions.dr });
      }
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(outcome(report, `${n}stuck`)).toMatchObject({ state: 'Failed', reason: 'timeout', detail: expect.stringMatching(/InProgress/) });
    });
  });
});
