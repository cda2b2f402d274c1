import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DescribeSecretCommand, GetResourcePolicyCommand, PutSecretValueCommand, type ListSecretsCommandInput } from '@aws-sdk/client-secrets-manager';
import { inject } from 'vitest';
import { failoverWorkflowId, fenceWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import { FENCE_TAG } from '../../domain/status.js';
import type { Plan } from '../../domain/plan.js';
import { FailoverReport, type FailoverInput } from '../../domain/failover.js';
import { NativeConnection, Worker } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { main } from '../../cli/main.js';
import { eventually, LAB_ONLY, onAws, startHarness, testWorkflowBundle, type Harness } from '../support/integration.js';
import { startWorkers } from '../../worker/worker.js';
import { historyText, leakScanText } from '../support/leaks.js';
import { requireBuilt, spawnWorker } from '../support/worker-process.js';
import type { failoverWorkflow } from '../../workflows/failover.workflow.js';
import { failoverProgressQuery } from '../../workflows/failover.messages.js';
import { approvalUpdate, cancelSignal, pauseSignal, resumeSignal } from '../../workflows/kit/control.messages.js';
import { dataConverter } from '../../worker/payload-codec.js';

let h: Harness;
const values: string[] = [];
const workflowIds: string[] = [];
const planNames: string[] = [];
const logs: string[] = [];
const value = () => {
  const v = `failover-value-${randomBytes(12).toString('hex')}`;
  values.push(v);
  return v;
};

beforeAll(async () => {
  h = await startHarness('failover');
});
afterAll(async () => {
  for (const region of [h?.primaryRegion, h?.drRegion]) if (region) await h?.lab?.fault('clear', { region });
  await h?.close();
});

/** Seeds `n` replicated secrets under a fresh prefix; returns the plan covering exactly them. */
async function fleet(tag: string, n: number, extra = ''): Promise<{ plan: Plan; names: string[] }> {
  const prefix = `${h.names}${tag}/`;
  const names = Array.from({ length: n }, (_, i) => `${prefix}s${String(i).padStart(3, '0')}`);
  await h.lab!.seed(
    h.primaryRegion,
    names.map((name, i) => ({ name, value: value(), replicaRegions: [h.drRegion], ...(i % 5 === 0 ? { tags: [{ Key: 'dr-tier', Value: '0' }] } : {}) })),
  );
  await eventually('replicas of the seeded fleet', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
  const base = h.plan(`failover:\n  requireApproval: false\n  groups: [{ name: tier0, match: { tag: { key: dr-tier, value: "0" } } }]\n${extra}`);
  // Each test its own plan name: one failover per plan, and its own pending fence.
  const plan = { ...base, name: `${base.name}-${tag}`, secrets: { include: [{ prefix }], exclude: [] } };
  planNames.push(plan.name);
  return { plan, names };
}

function input(plan: Plan, over: Partial<FailoverInput> = {}): FailoverInput {
  return { plan, to: h.drRegion, mode: 'unplanned', skipApproval: true, dryRun: false, taskQueuePrefix: h.prefix, fenceRetryInitialMs: 500, ...over };
}

async function failover(plan: Plan, over: Partial<FailoverInput> = {}, prefix = h.prefix) {
  const workflowId = over.dryRun ? `${failoverWorkflowId(plan.name)}/dry-run` : failoverWorkflowId(plan.name);
  workflowIds.push(workflowId);
  const handle = await h.client.workflow.start<typeof failoverWorkflow>('failoverWorkflow', {
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
    await h.lab!.resetCounters([h.primaryRegion, h.drRegion]);
    await h.lab!.fault('outage', { region: h.primaryRegion, mode: 'refuse' });
    let report: FailoverReport;
    try {
      report = await (await failover(plan)).result();
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
      const counters = await h.lab!.counters([h.primaryRegion, h.drRegion]);
      expect(counters[h.drRegion]?.StopReplicationToReplica?.calls).toBe(20);
    } finally {
      await h.lab!.fault('clear', { region: h.primaryRegion });
    }
    // The primary answers again: the fence workflow fences every old primary.
    await h.client.workflow.getHandle(fenceWorkflowId(plan.name, h.primaryRegion)).result();
    workflowIds.push(fenceWorkflowId(plan.name, h.primaryRegion));
    for (const name of names) {
      const d = await h.sm(h.primaryRegion).send(new DescribeSecretCommand({ SecretId: name }));
      expect(
        d.Tags?.some((t) => t.Key === FENCE_TAG),
        name,
      ).toBe(true);
    }
    await expect(h.sm(h.primaryRegion).send(new PutSecretValueCommand({ SecretId: names[0], SecretString: value() }))).rejects.toThrow(/explicit deny/);
    const events = (await h.lab!.events({ source: 'secrets-dr' })) as Array<{ 'detail-type'?: string; detailType?: string }>;
    const types = events.map((e) => e['detail-type'] ?? e.detailType);
    expect(types).toContain('Failover Started');
    expect(types).toContain('Failover Completed');
  });

  it('planned: the fence is applied before the first promotion, and writes to the old primary are refused afterwards', async () => {
    const { plan, names } = await fleet('planned', 12);
    const before = ((await h.lab!.events({ source: 'aws.secretsmanager' })) as unknown[]).length;
    const report = await (await failover(plan, { mode: 'planned' })).result();
    expect(report.outcome, JSON.stringify(report)).toBe('done');
    expect(report.fence).toMatchObject({ state: 'applied', fenced: 12 });
    // A recorded history of the whole planned path (fence, catch-up, promotion, fence lifting) for the replay test.
    const history = await h.client.workflow.getHandle(report.workflowId).fetchHistory();
    await Worker.runReplayHistory({ dataConverter, workflowsPath: new URL('../../workflows/index.ts', import.meta.url).pathname }, history, report.workflowId);
    if (process.env.RECORD_HISTORIES) writeFileSync(new URL('../fixtures/histories/failover-planned.json', import.meta.url), historyToJSON(history));
    const events = (
      (await h.lab!.events({ source: 'aws.secretsmanager' })) as Array<{ detail: { eventName: string; awsRegion: string }; resources?: string[] }>
    )
      .slice(before)
      .filter((e) => names.some((n) => e.resources?.[0]?.includes(`:secret:${n}-`)));
    const at = (name: string, region: string) => events.flatMap((e, i) => (e.detail.eventName === name && e.detail.awsRegion === region ? [i] : []));
    const fences = [...at('PutResourcePolicy', h.primaryRegion), ...at('TagResource', h.primaryRegion)];
    const stops = at('StopReplicationToReplica', h.drRegion);
    expect(fences).toHaveLength(24);
    expect(stops).toHaveLength(12);
    expect(Math.max(...fences)).toBeLessThan(Math.min(...stops));
    for (const name of names) {
      await expect(h.sm(h.primaryRegion).send(new PutSecretValueCommand({ SecretId: name, SecretString: value() })), name).rejects.toThrow(/explicit deny/);
      // The fence replicated to the replica before promotion must not lock the new primary.
      await h.sm(h.drRegion).send(new PutSecretValueCommand({ SecretId: name, SecretString: value() }));
      const policy = await h.sm(h.drRegion).send(new GetResourcePolicyCommand({ SecretId: name }));
      expect(policy.ResourcePolicy ?? '').not.toContain('SecretsDrFence');
    }
  });

  it('SIGKILL of the worker in the middle of promoting: a new worker finishes, each secret promoted exactly once', async () => {
    requireBuilt();
    const { plan, names } = await fleet('kill', 60, '  writeQuotaShare: 0.1\n'); // 5 TPS: 12 s of promoting
    const prefix = `t-failover-kill-${randomBytes(4).toString('hex')}`;
    const startWorker = () =>
      spawnWorker({ temporalAddress: inject('temporalAddress'), labUrl: inject('labUrl'), prefix, regions: [h.primaryRegion, h.drRegion], logs });
    let worker = await startWorker();
    try {
      await h.lab!.resetCounters([h.primaryRegion, h.drRegion]);
      const handle = await failover(plan, {}, prefix);
      await eventually(
        'promotion under way',
        async () => (((await h.lab!.counters([h.primaryRegion, h.drRegion]))[h.drRegion]?.StopReplicationToReplica?.calls ?? 0) >= 15 ? true : undefined),
        30_000,
        100,
      );
      await worker.kill();
      const stoppedAtKill = (await h.lab!.counters([h.primaryRegion, h.drRegion]))[h.drRegion]?.StopReplicationToReplica?.calls ?? 0;
      expect(stoppedAtKill).toBeLessThan(60);
      worker = await startWorker();
      const report = await handle.result();
      expect(report.outcome, JSON.stringify(report.attention)).toBe('done');
      expect(report.counts.failed + report.counts.skipped).toBe(0);
      // Promoted by this failover, also those the killed attempt promoted after its last heartbeat:
      // counted from what the failover recorded, not from "already standalone when the retry looked".
      expect(report.counts).toMatchObject({ promoted: 60, alreadyStandalone: 0 });
      expect(report.runs).toEqual([{ failoverId: report.failoverId, promoted: 60 }]);
      const counters = await h.lab!.counters([h.primaryRegion, h.drRegion]);
      expect(counters[h.drRegion]?.StopReplicationToReplica).toMatchObject({ calls: 60, failed: 0 });
      for (const name of names) expect(await standalone(h.drRegion, name), name).toBe(true);
      // No error left behind: the workflow completed and its pending fence is the only follow-up.
      expect((await handle.describe()).status.name).toBe('COMPLETED');
    } finally {
      await worker.kill();
      await h.client.workflow
        .getHandle(fenceWorkflowId(plan.name, h.primaryRegion))
        .terminate('test cleanup')
        .catch(() => undefined);
    }
  });

  it('throttling at a tenth of the quota: slows down and finishes, no secret failed', async () => {
    const { plan } = await fleet('throttle', 30);
    await h.lab!.resetCounters([h.primaryRegion, h.drRegion]);
    await h.lab!.fault('throttle', { region: h.drRegion, group: 'write', tps: 5 });
    try {
      const report = await (await failover(plan)).result();
      expect(report.outcome, JSON.stringify(report.attention)).toBe('done');
      expect(report.counts).toMatchObject({ promoted: 30, failed: 0 });
      const c = (await h.lab!.counters([h.primaryRegion, h.drRegion]))[h.drRegion]?.StopReplicationToReplica;
      expect(c?.throttled ?? 0, 'the lab throttled some calls').toBeGreaterThan(0);
      expect(report.durationMs).toBeGreaterThan((30 / 5) * 1_000 * 0.8);
    } finally {
      await h.lab!.fault('clear', { region: h.drRegion });
    }
  });

  it('fail-next on some secrets: exit 3 from the CLI, those secrets named with reasons, the rest promoted', async () => {
    const { plan, names } = await fleet('failnext', 15);
    await h.lab!.fault('fail-next', { region: h.drRegion, op: 'StopReplicationToReplica', count: 3, error: 'AccessDeniedException', secretIdPrefix: names[3] });
    await h.lab!.fault('fail-next', { region: h.drRegion, op: 'StopReplicationToReplica', count: 2, error: 'InternalServiceError', secretIdPrefix: names[7] }); // retried: not a failure
    const file = join(mkdtempSync(join(tmpdir(), 'secrets-dr-failover-')), 'secrets-dr.yaml');
    writeFileSync(
      file,
      `name: ${plan.name}\nprimaryRegion: ${plan.primaryRegion}\ndrRegions: [{ region: ${h.drRegion} }]\nsecrets:\n  include: [{ prefix: "${plan.secrets.include[0] && 'prefix' in plan.secrets.include[0] ? plan.secrets.include[0].prefix : ''}" }]\nfailover:\n  requireApproval: true\n`,
    );
    Object.assign(process.env, { TEMPORAL_ADDRESS: inject('temporalAddress'), SECRETS_DR_TASK_QUEUE_PREFIX: h.prefix });
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
    let code: number;
    try {
      code = await main(['failover', '--to', h.drRegion, '--mode', 'unplanned', '--yes', '--approve', '--wait', '--json', '-f', file]);
    } finally {
      spy.mockRestore();
    }
    expect(code, out.join('')).toBe(3);
    const lines = out
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{'));
    const report = FailoverReport.parse(JSON.parse(lines.at(-1)!));
    expect(report.outcome).toBe('partial');
    expect(report.attention.map((a) => a.name)).toEqual([names[3]]);
    expect(report.attention[0]!.reason).toMatch(/AccessDeniedException/);
    expect(report.counts).toMatchObject({ promoted: 14, failed: 1 });
    expect(await standalone(h.drRegion, names[7]!)).toBe(true);
    expect(await standalone(h.drRegion, names[3]!)).toBe(false);
    workflowIds.push(failoverWorkflowId(plan.name));
    // Its pending fence lands at once (the primary answers): wait for it, so later tests count only their own calls.
    await h.client.workflow.getHandle(fenceWorkflowId(plan.name, h.primaryRegion)).result();
  });

  it('--dry-run: per secret what would happen and the expected duration, zero writes', async () => {
    const { plan, names } = await fleet('dryrun', 10);
    await h.lab!.resetCounters([h.primaryRegion, h.drRegion]);
    const report = await (await failover(plan, { dryRun: true, mode: 'planned' })).result();
    expect(report.outcome).toBe('dry-run');
    expect(report.preview?.map((p) => p.action)).toEqual(names.map(() => 'promote'));
    expect(report.expectedMs).toBe(Math.ceil((10 / 30) * 1_000));
    const counters = await h.lab!.counters([h.primaryRegion, h.drRegion]);
    for (const [region, ops] of Object.entries(counters)) {
      for (const op of Object.keys(ops)) expect(op, `${op} in ${region}`).toMatch(/^(Describe|Get|List|BatchGet|events:)/);
    }
    for (const name of names) expect(await standalone(h.drRegion, name)).toBe(false);
  });

  it('a Region listed from both ends: the dry run of 1,050 secrets sees each once, in about ⌈N/100⌉ pages per Region', async () => {
    const { plan, names } = await fleet('both-ends', 1_050);
    await h.lab!.resetCounters([h.primaryRegion, h.drRegion]);
    const handle = await failover(plan, { dryRun: true, mode: 'planned' });
    const report = await handle.result();
    expect(report.outcome).toBe('dry-run');
    expect(report.total).toBe(names.length);
    // Both ends were read, and the lab's answers ran in the order asked (the activity echoes it only then).
    const text = historyText(await handle.fetchHistory());
    // (An answer is the JSON `…,"order":"asc","last":"…"}` inside the history's JSON, its quotes escaped.)
    for (const order of ['asc', 'desc']) expect(text, `an answer sorted ${order}`).toMatch(new RegExp(`order\\\\?":\\\\?"${order}\\\\?",\\\\?"last`));
    const counters = await h.lab!.counters([h.primaryRegion, h.drRegion]);
    for (const region of [h.primaryRegion, h.drRegion]) {
      const calls = counters[region]?.ListSecrets?.calls ?? 0;
      // 11 pages to read. The two ends read them, the page where they meet, and at most one call of 5 pages
      // still in flight at one end when they met: never the whole Region twice (22). Preflight lists each Region once.
      expect(calls, `ListSecrets in ${region}`).toBeGreaterThanOrEqual(11);
      expect(calls, `ListSecrets in ${region}`).toBeLessThanOrEqual(11 + 1 + 5);
    }
  });

  it('an endpoint that ignores SortBy (lists by creation date both ways): the ends never count as met, nothing is lost', async () => {
    // Names created in shuffled order, and worker clients that drop SortBy from every ListSecrets: both ends then
    // read creation-date order, which is not a name order, so no answer may claim `order` and the ends may not
    // "meet" on names (the pre-review rule, which trusted the request, met at once here and lost most names: tied
    // creation times list in one order both ways). One end reads the Region to its end instead.
    const tag = 'unsorted';
    const prefix = `${h.names}${tag}/`;
    const names = Array.from({ length: 650 }, (_, i) => `${prefix}s${String(i).padStart(3, '0')}`);
    const shuffled = [...names].sort(() => Math.random() - 0.5);
    // One seed call: many share a creation time, and ties list in the store's order both ways (as AWS does).
    await h.lab!.seed(
      h.primaryRegion,
      shuffled.map((name) => ({ name, value: value(), replicaRegions: [h.drRegion] })),
    );
    await eventually('replicas of the seeded fleet', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
    const base = h.plan('failover:\n  requireApproval: false\n');
    const plan = { ...base, name: `${base.name}-${tag}`, secrets: { include: [{ prefix }], exclude: [] } };
    planNames.push(plan.name);
    const sorted = h.workerClients.clientsFor!;
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const uPrefix = `${h.prefix}-unsorted`;
    let unsorted: Awaited<ReturnType<typeof startWorkers>> | undefined;
    try {
      unsorted = await startWorkers({
        connection,
        namespace: 'default',
        regions: [h.primaryRegion, h.drRegion],
        taskQueuePrefix: uPrefix,
        awsTimeoutMs: 5_000,
        workflowBundle: await testWorkflowBundle(),
        accountClientsFor: h.workerClients.accountClientsFor!,
        clientsFor: (region) => {
          const c = sorted(region);
          const sm = c.secretsManager;
          const listSecrets = (req: ListSecretsCommandInput) => sm.listSecrets({ ...req, SortBy: undefined });
          return { ...c, secretsManager: Object.assign(Object.create(sm) as typeof sm, { listSecrets }) };
        },
      });
      await unsorted.ready();
      await h.lab!.resetCounters([h.primaryRegion, h.drRegion]);
      const handle = await failover(plan, { dryRun: true, mode: 'planned' }, uPrefix);
      const report = await handle.result();
      expect(report.outcome).toBe('dry-run');
      expect(report.total).toBe(names.length);
      const text = historyText(await handle.fetchHistory());
      // (The same pattern matches both orders in the "both ends" test above: it is not vacuous.)
      expect(text, 'no answer may claim a sort order').not.toMatch(/order\\?":\\?"(asc|desc)\\?",\\?"last/);
      const counters = await h.lab!.counters([h.primaryRegion, h.drRegion]);
      // 7 pages: one end read them all (the other end's calls overlap it, up to the whole Region again).
      for (const region of [h.primaryRegion, h.drRegion])
        expect(counters[region]?.ListSecrets?.calls ?? 0, `ListSecrets in ${region}`).toBeGreaterThanOrEqual(7);
    } finally {
      await unsorted?.shutdown();
      await connection.close();
    }
  });

  it('pause, resume, cancel while promoting; a second trigger attaches to the running failover; the approval gate', async () => {
    const { plan } = await fleet('control', 40, '  writeQuotaShare: 0.1\n');
    const gated = { ...plan, failover: { ...plan.failover, requireApproval: true } };
    const handle = await failover(gated, { skipApproval: false, batchSize: 4 });
    await eventually('the approval gate', async () => ((await handle.query(failoverProgressQuery)).step === 'awaitingApproval' ? true : undefined));
    await handle.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', by: 'test' }] });
    const again = await failover(gated, { skipApproval: false, batchSize: 4 });
    expect(again.firstExecutionRunId).toBe(handle.firstExecutionRunId);
    await eventually('some promoted', async () => ((await handle.query(failoverProgressQuery)).processed >= 8 ? true : undefined), 30_000, 100);
    await handle.signal(pauseSignal);
    await new Promise((r) => setTimeout(r, 4_000)); // batches in flight (at 5 TPS) finish
    const p1 = await handle.query(failoverProgressQuery);
    expect(p1.paused).toBe(true);
    await new Promise((r) => setTimeout(r, 2_000));
    const p2 = await handle.query(failoverProgressQuery);
    expect(p2.processed, 'no progress while paused').toBe(p1.processed);
    await handle.signal(resumeSignal);
    await eventually(
      'progress after resume',
      async () => ((await handle.query(failoverProgressQuery)).processed > p2.processed ? true : undefined),
      20_000,
      100,
    );
    await handle.signal(cancelSignal, { reason: 'test' });
    const report = await handle.result();
    expect(report.outcome).toBe('partial');
    expect(report.cancelled).toBe(true);
    expect(report.counts.promoted).toBeGreaterThan(8);
    expect(report.counts.skipped).toBeGreaterThan(0);
    expect(report.counts.promoted + report.counts.skipped).toBe(40);
    for (const o of report.outcomes!.filter((x) => x.status === 'promoted')) expect(await standalone(h.drRegion, o.name)).toBe(true);
  });

  it('no secret value in any history, lab event or worker log line of these tests', async () => {
    const { text: all, workflows } = await leakScanText(h, { workflowIds, planNames, logs });
    expect(workflows).toBeGreaterThan(5);
    // The scan reads payload contents (a blind scan would pass for the wrong reason): secret names are in there.
    expect(all).toContain(h.names);
    for (const v of values) expect(all.includes(v), 'a seeded value leaked').toBe(false);
  });
});
