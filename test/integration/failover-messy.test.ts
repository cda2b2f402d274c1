/**
 * Failover in a messy outage (issue 13, items 1–5): re-runs after a partial run, promotion
 * attempts that time out and run on beside their retry, a rotation cut off in flight, a
 * same-named secret that is not our replica, and the report of a second run. Each case runs the
 * workflows on the dev server and the lab, and reads the CLI's report.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { failoverWorkflowId, fenceWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import { FENCE_TAG } from '../../domain/status.js';
import type { Plan } from '../../domain/plan.js';
import { FailoverReport, type FailoverInput } from '../../domain/failover.js';
import { main } from '../../cli/main.js';
import { renderFailoverReport } from '../../cli/commands/failover.js';
import { eventually, LAB_ONLY, onAws, startHarness, type Harness } from '../support/integration.js';
import { historyText } from '../support/leaks.js';
import type { failoverWorkflow } from '../../workflows/failover.workflow.js';
import { failoverProgressQuery } from '../../workflows/failover.messages.js';

let h: Harness;
const values: string[] = [];
const planNames: string[] = [];
const outputs: string[] = [];
const value = () => {
  const v = `messy-value-${randomBytes(12).toString('hex')}`;
  values.push(v);
  return v;
};
const PROMOTED_BY = 'secrets-dr:promoted-by';
const LAMBDA = (region: string) => `arn:aws:lambda:${region}:123456789012:function:rotate-messy`;

beforeAll(async () => {
  h = await startHarness('failover-messy');
});
afterAll(async () => {
  for (const region of [h?.primaryRegion, h?.drRegion]) if (region) await h?.lab?.fault('clear', { region });
  await h?.close();
});

/** `n` replicated secrets under a fresh prefix, and the plan (object and YAML file) covering exactly them. */
async function fleet(tag: string, n: number, extra = ''): Promise<{ plan: Plan; names: string[]; file: string; prefix: string }> {
  const prefix = `${h.names}${tag}/`;
  const names = Array.from({ length: n }, (_, i) => `${prefix}s${String(i).padStart(3, '0')}`);
  await h.lab!.seed(
    h.primaryRegion,
    names.map((name) => ({ name, value: value(), replicaRegions: [h.drRegion] })),
  );
  await eventually('replicas of the seeded fleet', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
  const planName = `${h.plan().name}-${tag}`;
  const text = `name: ${planName}\nprimaryRegion: ${h.primaryRegion}\ndrRegions: [{ region: ${h.drRegion} }]\nsecrets:\n  include: [{ prefix: "${prefix}" }]\nfailover:\n  requireApproval: false\n${extra}`;
  const base = h.plan(`failover:\n  requireApproval: false\n${extra}`);
  const plan: Plan = { ...base, name: planName, secrets: { include: [{ prefix }], exclude: [] } };
  await h.allowPlan(plan); // the CLI reads it from a file: its worker policy (rotation functions included) is bound here
  const file = join(mkdtempSync(join(tmpdir(), 'secrets-dr-messy-')), 'secrets-dr.yaml');
  writeFileSync(file, text);
  planNames.push(planName);
  return { plan, names, file, prefix };
}

function input(plan: Plan, over: Partial<FailoverInput> = {}): FailoverInput {
  return { plan, to: h.drRegion, mode: 'unplanned', skipApproval: true, dryRun: false, taskQueuePrefix: h.prefix, fenceRetryInitialMs: 500, ...over };
}

function startFailover(plan: Plan, over: Partial<FailoverInput> = {}) {
  return h.client.workflow.start<typeof failoverWorkflow>('failoverWorkflow', {
    taskQueue: workflowTaskQueue(h.prefix),
    workflowId: failoverWorkflowId(plan.name),
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [input(plan, over)],
    workflowExecutionTimeout: '5m',
  });
}

/** The CLI `failover ... --wait --json`: its exit code and the report it printed. */
async function cliFailover(file: string, mode: 'planned' | 'unplanned'): Promise<{ code: number; report: FailoverReport }> {
  Object.assign(process.env, { TEMPORAL_ADDRESS: inject('temporalAddress'), SECRETS_DR_TASK_QUEUE_PREFIX: h.prefix });
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
  let code: number;
  try {
    code = await main(['failover', '--to', h.drRegion, '--mode', mode, '--yes', '--approve', '--wait', '--json', '-f', file]);
  } finally {
    spy.mockRestore();
  }
  outputs.push(out.join(''));
  const lines = out
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'));
  return { code, report: FailoverReport.parse(JSON.parse(lines.at(-1)!)) };
}

/** An unplanned failover through the CLI while the primary refuses every call; the outage ends with it. */
async function failoverDuringOutage(file: string): Promise<{ code: number; report: FailoverReport }> {
  await h.lab!.fault('outage', { region: h.primaryRegion, mode: 'refuse' });
  try {
    return await cliFailover(file, 'unplanned');
  } finally {
    await h.lab!.fault('clear', { region: h.primaryRegion });
  }
}

/** The report as a person reads it (the CLI's renderer). */
function rendered(report: FailoverReport): string {
  const lines: string[] = [];
  renderFailoverReport(report, { out: (l) => lines.push(l), err: (l) => lines.push(l), json: false, tty: false });
  outputs.push(lines.join('\n'));
  return lines.join('\n');
}

const describeIn = (region: string, name: string) => h.sm(region).send(new DescribeSecretCommand({ SecretId: name }));
const isFenced = async (name: string) => ((await describeIn(h.primaryRegion, name)).Tags ?? []).some((t) => t.Key === FENCE_TAG);
const tagOf = async (region: string, name: string, key: string) => ((await describeIn(region, name)).Tags ?? []).find((t) => t.Key === key)?.Value;

/** Puts AWSPENDING on a new version (AWSCURRENT stays): a rotation cut off between createSecret and finishSecret. */
async function cutOffRotation(name: string): Promise<{ pending: string; current: string }> {
  const current = Object.entries((await describeIn(h.primaryRegion, name)).VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))![0];
  const put = await h.sm(h.primaryRegion).send(new PutSecretValueCommand({ SecretId: name, SecretString: value(), VersionStages: ['AWSPENDING'] }));
  return { pending: put.VersionId!, current };
}

async function awaitFence(plan: Plan): Promise<void> {
  await h.client.workflow.getHandle(fenceWorkflowId(plan.name, h.primaryRegion)).result();
}

describe.skipIf(onAws)(`failover in a messy outage (${LAB_ONLY})`, () => {
  it('a primary that hangs (answers nothing, no error): promotion starts after a 5-s grace, not after the primary’s timeouts; the fence lands when it answers', async () => {
    const { plan, names } = await fleet('hang', 5);
    await h.lab!.fault('outage', { region: h.primaryRegion, mode: 'hang' });
    let report: FailoverReport;
    let history: Awaited<ReturnType<Awaited<ReturnType<typeof startFailover>>['fetchHistory']>>;
    try {
      const handle = await startFailover(plan);
      report = await handle.result();
      history = await handle.fetchHistory();
    } finally {
      await h.lab!.fault('clear', { region: h.primaryRegion });
    }
    expect(report.outcome, JSON.stringify(report.problems)).toBe('done');
    expect(report.counts).toMatchObject({ promoted: 5, failed: 0 });
    expect(report.warnings.join('\n')).toMatch(/answered no ListSecrets page within 5s after .*: planned from .* alone/);
    expect(report.fence.state).toBe('pending');
    // The order of the history, not a timing: the first chunk child started while every listing call sent to
    // the primary was still unanswered (a call that hangs ends only after 3 sends × the 5-s SDK timeout).
    const events = history.events ?? [];
    const toPrimary = new Set(
      events.filter((e) => e.activityTaskScheduledEventAttributes?.taskQueue?.name?.includes(h.primaryRegion)).map((e) => Number(e.eventId)),
    );
    expect(toPrimary.size).toBeGreaterThan(0);
    const firstChild = events.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
    expect(firstChild).toBeDefined();
    const answeredBefore = events.filter((e) => {
      const end = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
      return end && toPrimary.has(Number(end.scheduledEventId)) && Number(e.eventId) < Number(firstChild!.eventId);
    });
    expect(answeredBefore).toEqual([]);
    // The primary answers again: the pending fence lands on every promoted secret.
    await awaitFence(plan);
    for (const name of names) expect(await isFenced(name), `${name} fenced on the old primary`).toBe(true);
  });

  it('a primary that is slow but answers (2 s a call) is waited for: no grace, its inventory is used', async () => {
    const { plan } = await fleet('slow-primary', 3);
    await h.lab!.fault('latency', { region: h.primaryRegion, ms: 2_000 });
    let report: FailoverReport;
    try {
      report = await (await startFailover(plan)).result();
    } finally {
      await h.lab!.fault('clear', { region: h.primaryRegion });
    }
    expect(report.outcome, JSON.stringify(report.problems)).toBe('done');
    expect(report.counts).toMatchObject({ promoted: 3, failed: 0 });
    expect(report.warnings.join('\n')).not.toMatch(/answered no ListSecrets page/);
    expect(report.warnings.join('\n')).not.toMatch(/does not answer/);
  });

  it('1+5. a re-run after a partial run: every secret any run promoted is fenced, and the second report covers both runs', async () => {
    const { plan, names, file } = await fleet('rerun', 10);
    await h.lab!.fault('outage', { region: h.primaryRegion, mode: 'refuse' });
    let first: FailoverReport;
    let second: { code: number; report: FailoverReport };
    try {
      for (const i of [3, 8])
        await h.lab!.fault('fail-next', {
          region: h.drRegion,
          op: 'StopReplicationToReplica',
          count: 1,
          error: 'AccessDeniedException',
          secretIdPrefix: names[i],
        });
      first = await (await startFailover(plan)).result();
      expect(first.outcome).toBe('partial');
      expect(first.counts).toMatchObject({ promoted: 8, failed: 2 });
      expect(first.fence.state).toBe('pending');
      second = await cliFailover(file, 'unplanned');
    } finally {
      await h.lab!.fault('clear', { region: h.primaryRegion });
      await h.lab!.fault('clear', { region: h.drRegion });
    }
    // The old primary answers: every secret either run promoted is fenced there.
    await awaitFence(plan);
    for (const name of names) expect(await isFenced(name), `${name} fenced on the old primary`).toBe(true);
    await expect(h.sm(h.primaryRegion).send(new PutSecretValueCommand({ SecretId: names[3], SecretString: value() }))).rejects.toThrow(/explicit deny/);

    const { code, report } = second;
    expect(code, JSON.stringify(report.attention)).toBe(0);
    expect(report.outcome).toBe('done');
    expect(report.failoverId).not.toBe(first.failoverId);
    // The union: every secret, what was done and by which run.
    expect(report.outcomes).toHaveLength(10);
    const by = Object.fromEntries(report.outcomes!.map((o) => [o.name, o.by]));
    for (const [i, name] of names.entries()) expect(by[name], name).toBe(i === 3 || i === 8 ? report.failoverId : first.failoverId);
    expect(report.counts).toMatchObject({ promoted: 2, alreadyStandalone: 8, failed: 0 });
    expect(report.runs).toEqual(
      expect.arrayContaining([
        { failoverId: first.failoverId, promoted: 8 },
        { failoverId: report.failoverId, promoted: 2 },
      ]),
    );
    for (const o of report.outcomes!) expect(o.remains?.join(' '), o.name).toMatch(/fence .*pending/);
    const text = rendered(report);
    expect(text).toContain(first.failoverId);
    expect(text).toContain(report.failoverId);
  }, 180_000);

  it("1b. another order: the first run's fence has landed before the second run promotes the rest; the second run fences what it promoted", async () => {
    const { plan, names } = await fleet('rerun-order', 5);
    await h.lab!.fault('outage', { region: h.primaryRegion, mode: 'refuse' });
    try {
      await h.lab!.fault('fail-next', {
        region: h.drRegion,
        op: 'StopReplicationToReplica',
        count: 1,
        error: 'AccessDeniedException',
        secretIdPrefix: names[2],
      });
      expect((await (await startFailover(plan)).result()).counts).toMatchObject({ promoted: 4, failed: 1 });
    } finally {
      await h.lab!.fault('clear', { region: h.primaryRegion });
    }
    await awaitFence(plan);
    expect(await isFenced(names[2]!), 'not promoted: not fenced').toBe(false);
    await h.lab!.fault('outage', { region: h.primaryRegion, mode: 'refuse' });
    let second: FailoverReport;
    try {
      second = await (await startFailover(plan)).result();
    } finally {
      await h.lab!.fault('clear', { region: h.primaryRegion });
    }
    expect(second.counts).toMatchObject({ promoted: 1, alreadyStandalone: 4, failed: 0 });
    await awaitFence(plan);
    for (const name of names) expect(await isFenced(name), name).toBe(true);
  }, 180_000);

  it('2. at 2.5 s of latency per call, 20 secrets are reported promoted by this failover (not "already standalone")', async () => {
    const { plan, names } = await fleet('latency', 20);
    await h.lab!.resetCounters([h.primaryRegion, h.drRegion]);
    await h.lab!.fault('latency', { region: h.drRegion, ms: 2_500 });
    let report: FailoverReport;
    try {
      report = await (await startFailover(plan)).result();
    } finally {
      await h.lab!.fault('clear', { region: h.drRegion });
    }
    expect(report.counts, JSON.stringify(report.warnings)).toMatchObject({ promoted: 20, alreadyStandalone: 0, failed: 0 });
    expect(report.outcome).toBe('done');
    expect(rendered(report)).toMatch(/20 promoted/);
    const counters = await h.lab!.counters([h.primaryRegion, h.drRegion]);
    expect(counters[h.drRegion]?.StopReplicationToReplica?.calls).toBe(20);
    for (const name of names) expect(await tagOf(h.drRegion, name, PROMOTED_BY), name).toBe(report.failoverId);
    await awaitFence(plan);
  }, 300_000);

  it('3a. planned: a rotation in flight on the primary is waited for; one that finishes is promoted, one that does not is refused (not fenced)', async () => {
    const { plan, names } = await fleet('rotation-planned', 4);
    const stuck = await cutOffRotation(names[1]!);
    const finishing = await cutOffRotation(names[2]!);
    await eventually('the pending versions replicated', async () =>
      ((await describeIn(h.drRegion, names[1]!)).VersionIdsToStages ?? {})[stuck.pending] ? true : undefined,
    );
    const handle = await startFailover(plan, { mode: 'planned', rotationWaitMs: 8_000 });
    await eventually(
      'waiting for the rotations',
      async () => ((await handle.query(failoverProgressQuery)).step === 'settlingRotations' ? true : undefined),
      30_000,
      100,
    );
    // finishSecret of names[2] runs on the primary while the failover waits.
    await h.sm(h.primaryRegion).send(
      new UpdateSecretVersionStageCommand({
        SecretId: names[2],
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: finishing.pending,
        RemoveFromVersionId: finishing.current,
      }),
    );
    const report = await handle.result();
    expect(report.outcome).toBe('partial');
    const refused = report.attention.find((o) => o.name === names[1]);
    expect(refused, JSON.stringify(report.attention)).toMatchObject({ status: 'skipped' });
    expect(refused!.reason).toMatch(/rotation in flight/);
    expect(refused!.reason).toContain(stuck.pending);
    expect(refused!.reason).toContain(stuck.current);
    expect(refused!.remains?.join('\n')).toContain(`--remove-from-version-id ${stuck.pending}`);
    expect(report.outcomes!.find((o) => o.name === names[2])).toMatchObject({ status: 'promoted' });
    expect(report.warnings.join('\n')).toMatch(/waited .* for 2 rotation\(s\) in flight/);
    // names[1]: still a replica in the DR Region, never fenced on the primary.
    expect((await describeIn(h.drRegion, names[1]!)).PrimaryRegion).toBe(h.primaryRegion);
    expect(await isFenced(names[1]!)).toBe(false);
    // names[2]: promoted with the finished rotation's version as AWSCURRENT.
    const promoted = await describeIn(h.drRegion, names[2]!);
    expect(promoted.PrimaryRegion).toBeUndefined();
    expect(promoted.VersionIdsToStages?.[finishing.pending]).toContain('AWSCURRENT');
    const text = rendered(report);
    expect(text).toContain(names[1]);
    expect(text).toMatch(/rotation in flight/);
  }, 180_000);

  it('3b. unplanned: a rotation in flight is promoted and reported (exit 3) with its versions and next steps; rotation is not re-homed onto it', async () => {
    const { plan, names, file } = await fleet(
      'rotation-unplanned',
      3,
      `rotation:\n  ${'PRIMARY'}: ${LAMBDA('PRIMARY')}\n  DR: ${LAMBDA('DR')}\n`.replace(/PRIMARY/g, h.primaryRegion).replace(/DR/g, h.drRegion),
    );
    await h.lab?.ensureFunctions([LAMBDA(h.primaryRegion), LAMBDA(h.drRegion)]); // as on AWS, RotateSecret needs a function it may invoke
    for (const name of names.slice(0, 2)) {
      await h.sm(h.primaryRegion).send(
        new RotateSecretCommand({
          SecretId: name,
          RotationLambdaARN: LAMBDA(h.primaryRegion),
          RotationRules: { AutomaticallyAfterDays: 30 },
          RotateImmediately: false,
        }),
      );
    }
    const stuck = await cutOffRotation(names[1]!);
    await eventually('the pending version replicated', async () =>
      ((await describeIn(h.drRegion, names[1]!)).VersionIdsToStages ?? {})[stuck.pending] ? true : undefined,
    );
    const { code, report } = await failoverDuringOutage(file);
    expect(code, JSON.stringify(report.attention)).toBe(3);
    expect(report.counts).toMatchObject({ promoted: 3, failed: 0 });
    const a = report.attention.find((o) => o.name === names[1]);
    expect(a, JSON.stringify(report.attention)).toMatchObject({ status: 'promoted', rotationInFlight: { pending: stuck.pending, current: stuck.current } });
    const steps = a!.remains!.join('\n');
    expect(steps).toContain(`aws secretsmanager update-secret-version-stage --region ${h.drRegion}`);
    expect(steps).toContain(`--remove-from-version-id ${stuck.pending}`);
    expect(steps).toContain(LAMBDA(h.drRegion));
    expect(report.rotation).toMatchObject({ rehomed: 1, heldBack: 1 });
    expect((await describeIn(h.drRegion, names[0]!)).RotationLambdaARN).toBe(LAMBDA(h.drRegion));
    expect((await describeIn(h.drRegion, names[1]!)).RotationLambdaARN).not.toBe(LAMBDA(h.drRegion));
    expect((await describeIn(h.drRegion, names[1]!)).PrimaryRegion).toBeUndefined();
    expect(rendered(report)).toContain(`--remove-from-version-id ${stuck.pending}`);
    await awaitFence(plan);
  }, 180_000);

  it('4. primary unreachable: a same-named standalone secret that is not our replica needs attention and is not fenced on the primary', async () => {
    const { plan, names, file, prefix } = await fleet('not-ours', 4);
    const stranger = `${prefix}conflict`;
    await h.lab!.seed(h.primaryRegion, [{ name: stranger, value: value() }]);
    await h.sm(h.drRegion).send(new CreateSecretCommand({ Name: stranger, SecretString: value() })); // setup skipped it: a conflict
    const { code, report } = await failoverDuringOutage(file);
    expect(code, JSON.stringify(report)).toBe(3);
    expect(report.counts).toMatchObject({ promoted: 4, alreadyStandalone: 0 });
    const a = report.attention.find((o) => o.name === stranger);
    expect(a, JSON.stringify(report.attention)).toMatchObject({ status: 'skipped' });
    expect(a!.reason).toMatch(/not (known to be )?our replica/);
    expect(a).toMatchObject({ notOurs: true });
    expect(a!.remains!.join('\n')).toMatch(/neither counted nor fenced/);
    expect(rendered(report)).toContain(stranger);
    await awaitFence(plan);
    for (const name of names) expect(await isFenced(name), name).toBe(true);
    expect(await isFenced(stranger), "the primary's real copy is not fenced").toBe(false);
    await h.sm(h.primaryRegion).send(new PutSecretValueCommand({ SecretId: stranger, SecretString: value() })); // still writable there
  }, 180_000);

  it('no secret value in any history or CLI output of these tests', async () => {
    const texts: string[] = [outputs.join('\n')];
    for await (const wf of h.client.workflow.list()) {
      if (planNames.some((p) => wf.workflowId.startsWith(`secrets-dr/${p}/`)))
        texts.push(historyText(await h.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()));
    }
    expect(texts.length).toBeGreaterThan(5);
    const all = texts.join('\n');
    expect(all).toContain(h.names);
    for (const v of values) expect(all.includes(v), 'a seeded value leaked').toBe(false);
  });
});
