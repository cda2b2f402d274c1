/**
 * Account DR operations across two lab accounts: the account drill on canaries (cross-account replicas
 * associated, InSync, a canary write's lag measured, promoted by detach + StopReplicationToReplica with the RTO an
 * application in the recovery account sees, cleaned up in both accounts, listed by `drill list`, no canary value in
 * its report or history), and the monitor's account health (a revoked primary is degraded/denied, never an outage,
 * and never starts a failover).
 *
 * Regions: confirm's pair (sa-east-1, eu-central-2): neither file injects a Region fault. This file revokes only an
 * account of its own (OWN_PRIMARY), and uses a role of its own in the recovery account (the role's policy is bound to
 * each STS session when it is issued: sharing account-dr's role would race its policy).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NativeConnection } from '@temporalio/worker';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Plan } from '../../domain/plan.js';
import { accountDrillScheduleId, monitorWorkflowId, recoverWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import { accountDrillCanaryName, accountDrillCanaryPrefix } from '../../domain/account-drill.js';
import { accountSetupWorkflowId } from '../../domain/account-dr.js';
import { renderDrillMarkdown, renderDrillSvg } from '../../domain/drill-report.js';
import type { MonitorHealth } from '../../domain/health.js';
import { listDrills, removeDrillSchedule, startAccountDrill, upsertDrillSchedule } from '../../cli/commands/drill.js';
import type { accountDrillWorkflow } from '../../workflows/account-drill.workflow.js';
import { createAccountClients } from '../../worker/account-clients.js';
import { createRegionClients } from '../../worker/aws-clients.js';
import { startWorkers, type RunningWorkers } from '../../worker/worker.js';
import { eventually, LAB_ONLY, onAws, startHarness, testWorkflowBundle, type Harness } from '../support/integration.js';
import { historyText } from '../support/leaks.js';
import { accountFixtures, keyOf, LAB_DEFAULT, RECOVERY } from '../support/accounts.js';
import { monitorHealthQuery, monitorStopSignal } from '../../workflows/monitor.messages.js';
import type { accountSetupWorkflow } from '../../workflows/account-setup.workflow.js';
import type { monitorWorkflow } from '../../workflows/monitor.workflow.js';

/** A role of this file in the recovery account. */
const ROLE = `arn:aws:iam::${RECOVERY}:role/secrets-dr-drill-test`;
/** A primary account of this file, revoked by the monitor test. */
const OWN_PRIMARY = '410987654321';

let h: Harness;
let labUrl: string;
let fx: ReturnType<typeof accountFixtures>;

beforeAll(async () => {
  h = await startHarness('account-drill');
  labUrl = inject('labUrl');
  fx = accountFixtures(h, labUrl, {
    roleArn: ROLE,
    primary: OWN_PRIMARY,
    settings: (extra) => `drills: { canaries: 2 }\n${extra || 'failover: { requireApproval: false }'}`,
  });
  if (!onAws) for (const accountId of [RECOVERY, OWN_PRIMARY]) await fx.lab('/_lab/accounts', { accountId });
}, 60_000);
afterAll(async () => {
  if (!onAws && labUrl) await fx.lab(`/_lab/accounts/${OWN_PRIMARY}/restore`, {}).catch(() => undefined);
  await h?.close();
});

/** A plan over `prefix` with the recovery account reached through this file's role; the role and key policies set for it. */
const planFor = (prefix: string, extra = ''): Promise<Plan> => fx.planFor(prefix, extra);

const listed = async (account: string, prefix: string) =>
  ((await fx.sm(account).send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [prefix] }] }))).SecretList ?? []).map((s) => s.Name);

describe.skipIf(onAws)('account drill on canaries', () => {
  it('associates, measures RPO and the RTO an application in the recovery account sees, cleans up both accounts; no canary value anywhere', async (ctx) => {
    if (onAws) return ctx.skip(LAB_ONLY);
    // Prepare: a plan with the recovery account, and a reader that catches every canary value it can (the leak scan's positive control).
    const plan = await planFor(`${h.names}drill/`);
    const seen = new Set<string>();
    let reading = true;
    const reader = (async () => {
      const clients = [LAB_DEFAULT, RECOVERY].map(
        (a) => new SecretsManagerClient({ region: h.primaryRegion, endpoint: labUrl, credentials: keyOf(a), maxAttempts: 1 }),
      );
      while (reading) {
        for (const c of clients)
          for (let n = 0; n < plan.drills.canaries; n++) {
            const v = await c.send(new GetSecretValueCommand({ SecretId: accountDrillCanaryName(plan.name, RECOVERY, n) })).catch(() => undefined);
            if (v?.SecretString) seen.add(v.SecretString);
          }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    // Act
    const handle = await startAccountDrill({ client: h.client, prefix: h.prefix }, plan, RECOVERY, 'test', {
      inSyncTimeoutMs: 30_000,
      replicaRemovalTimeoutMs: 10_000,
    });
    const report = await handle.result().finally(() => (reading = false));
    await reader;

    // Assess: the outcome and figures.
    expect(report.outcome, JSON.stringify(report, null, 2)).toBe('passed');
    expect(report.recoveryAccountId).toBe(RECOVERY);
    expect(report.rpoMs).toBeGreaterThan(0);
    expect(report.rtoMs).toBeGreaterThan(0);
    expect(report.withinTarget).toBe(true);
    expect(report.regions).toEqual([expect.objectContaining({ region: `${h.primaryRegion}@${RECOVERY}`, verified: true })]);
    expect(new Set(report.steps.map((s) => s.step))).toEqual(
      new Set(['prepare', 'cleanLeftovers', 'create', 'replicate', 'measureRpo', 'promote', 'verify', 'cleanUp']),
    );
    expect(report.steps.every((s) => s.ok)).toBe(true);
    // Both accounts cleaned up: 2 primaries and 2 promoted replicas deleted, nothing left.
    expect(report.cleanup).toMatchObject({ deleted: 4, remaining: [] });
    expect(await listed(LAB_DEFAULT, accountDrillCanaryPrefix(plan.name))).toEqual([]);
    expect(await listed(RECOVERY, accountDrillCanaryPrefix(plan.name))).toEqual([]);
    // No canary value in the report, its Markdown and SVG, or the workflow history (the reader saw values: the scan can fail).
    expect(seen.size).toBeGreaterThan(0);
    const texts = [JSON.stringify(report), renderDrillMarkdown(report), renderDrillSvg(report), historyText(await handle.fetchHistory())];
    for (const v of seen) for (const t of texts) expect(t.includes(v), 'a canary value in the report or history').toBe(false);
    // `drill list` lists account drills beside Region drills.
    const drills = await listDrills(h.client, plan);
    expect(drills.find((d) => d.workflowId === handle.workflowId)?.report).toMatchObject({ outcome: 'passed', recoveryAccountId: RECOVERY });
  }, 120_000);

  it('a drill whose replication fails (a recovery key that does not let the primary encrypt) still leaves nothing in either account, and says where and why', async (ctx) => {
    if (onAws) return ctx.skip(LAB_ONLY);
    // Prepare: the recovery account's key without a grant for the primary account (KMS's default policy: its own account only).
    const planned = await planFor(`${h.names}nokey/`);
    const plan: Plan = { ...planned, recoveryAccounts: planned.recoveryAccounts.map((a) => ({ ...a, kmsKeyId: 'alias/no-grant-for-primary' })) };

    // Act
    const handle = await startAccountDrill({ client: h.client, prefix: h.prefix }, plan, RECOVERY, 'test', {
      inSyncTimeoutMs: 10_000,
      replicaRemovalTimeoutMs: 10_000,
    });
    const report = await handle.result();

    // Assess: failed at a step before the promotion, with the reason; the clean-up removed both sides anyway.
    expect(report.outcome, JSON.stringify(report, null, 2)).toBe('failed');
    expect(['create', 'replicate']).toContain(report.failure?.step);
    expect(report.failure?.reason).toMatch(/kms|KMS|Encrypt|GenerateDataKey|AccessDenied/);
    expect(report.rtoMs).toBeUndefined();
    expect(report.cleanup.remaining).toEqual([]);
    expect(report.steps.find((s) => s.step === 'cleanUp')?.ok).toBe(true);
    expect(await listed(LAB_DEFAULT, accountDrillCanaryPrefix(plan.name))).toEqual([]);
    expect(await listed(RECOVERY, accountDrillCanaryPrefix(plan.name))).toEqual([]);
  }, 120_000);

  it('a cancelled drill still cleans up both accounts and reports cancelled', async (ctx) => {
    if (onAws) return ctx.skip(LAB_ONLY);
    const plan = await planFor(`${h.names}cancel/`);
    const handle = await startAccountDrill({ client: h.client, prefix: h.prefix }, plan, RECOVERY, 'test', {
      inSyncTimeoutMs: 30_000,
      replicaRemovalTimeoutMs: 10_000,
    });
    // Cancelled once its canaries exist in the recovery account (mid-drill).
    await eventually(
      'the canary replicas in the recovery account',
      async () => ((await listed(RECOVERY, accountDrillCanaryPrefix(plan.name))).length ? true : undefined),
      20_000,
      20,
    );
    await handle.cancel();
    const report = await handle.result();
    expect(report.outcome, JSON.stringify(report, null, 2)).toBe('cancelled');
    expect(report.cleanup.remaining).toEqual([]);
    expect(await listed(LAB_DEFAULT, accountDrillCanaryPrefix(plan.name))).toEqual([]);
    expect(await listed(RECOVERY, accountDrillCanaryPrefix(plan.name))).toEqual([]);
  }, 120_000);

  it('drill schedule adds a schedule per recovery account: triggered, it runs that account drill; unschedule removes both', async (ctx) => {
    if (onAws) return ctx.skip(LAB_ONLY);
    const plan = await planFor(`${h.names}sched/`);
    await h.allowPlan(plan); // a schedule starts the workflow without the harness's client: bind the plan's worker policy first
    const target = { client: h.client, prefix: h.prefix };
    try {
      const r = await upsertDrillSchedule(target, plan, '0 3 * * 6');
      expect(r.accountSchedules).toEqual([accountDrillScheduleId(plan.name, RECOVERY)]);
      const schedule = h.client.schedule.getHandle(r.accountSchedules[0]!);
      expect((await schedule.describe()).action).toMatchObject({ workflowType: 'accountDrillWorkflow' });
      await schedule.trigger();
      const workflowId = await eventually(
        'the scheduled account drill to start',
        async () => (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId,
        20_000,
      );
      const report = await h.client.workflow.getHandle<typeof accountDrillWorkflow>(workflowId).result();
      expect(report).toMatchObject({ outcome: 'passed', trigger: 'schedule', recoveryAccountId: RECOVERY });
    } finally {
      expect(await removeDrillSchedule(target, plan)).toBe(true);
    }
    await expect(h.client.schedule.getHandle(accountDrillScheduleId(plan.name, RECOVERY)).describe()).rejects.toThrow(/not found/i);
  }, 120_000);

  it('refuses an account that is not one of the plan’s recoveryAccounts, naming the field, before starting anything', async () => {
    const plan = h.plan();
    await expect(startAccountDrill({ client: h.client, prefix: h.prefix }, plan, '999999999999')).rejects.toThrow(
      /--account 999999999999 is not one of the plan's recoveryAccounts \(none listed\)/,
    );
  });
});

describe.skipIf(onAws)("the monitor's account health", () => {
  it('recovery account health in the monitor: absent → healthy after setup (events), a revoked primary is degraded (denied), no failover', async (ctx) => {
    if (onAws) return ctx.skip(LAB_ONLY);
    const prefix = `${h.names}monitor/`;
    await fx.seed(OWN_PRIMARY, [`${prefix}db`, `${prefix}api`], () => `v-${randomBytes(8).toString('hex')}`);
    const parsed = await planFor(prefix, 'health: { interval: 300ms, unhealthyAfter: 2 }\nfailover: { requireApproval: false }');
    // Automatic failover allowed (plan validation wants ≥ 5 s between probes then; the test keeps them short): account health must still never start one.
    const plan: Plan = { ...parsed, failover: { ...parsed.failover, automatic: true } };
    // Workers whose own (primary-account) credentials are OWN_PRIMARY's key, for both plan Regions.
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const q = `${h.prefix}-mon`;
    let workers: RunningWorkers | undefined;
    try {
      workers = await startWorkers({
        connection,
        namespace: 'default',
        regions: [h.primaryRegion, h.drRegion],
        taskQueuePrefix: q,
        workflowBundle: await testWorkflowBundle(),
        clientsFor: (region) => createRegionClients(region, { requestTimeoutMs: 5_000, credentials: keyOf(OWN_PRIMARY) }),
        accountClientsFor: createAccountClients({ requestTimeoutMs: 5_000, credentials: keyOf(OWN_PRIMARY) }),
      });
      await workers.ready();
      const monitor = await h.client.workflow.start<typeof monitorWorkflow>('monitorWorkflow', {
        taskQueue: workflowTaskQueue(q),
        workflowId: monitorWorkflowId(plan.name),
        args: [{ plan, taskQueuePrefix: q }],
      });
      const until = async (what: string, ok: (m: MonitorHealth) => boolean): Promise<MonitorHealth> => {
        const deadline = Date.now() + 30_000;
        for (;;) {
          const m = await monitor.query(monitorHealthQuery);
          if (ok(m)) return m;
          if (Date.now() > deadline) throw new Error(`monitor never showed ${what}: ${JSON.stringify(m.accounts)}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      // No cross-account replicas yet: degraded, with the secrets counted as absent.
      const before = await until('the account degraded (no replicas yet)', (m) => m.accounts?.[0]?.state === 'degraded');
      expect(before.accounts![0]).toMatchObject({ accountId: RECOVERY, primaryReach: 'answers', recoveryReach: 'answers', replicas: { absent: 2 } });

      const setup = await h.client.workflow.execute<typeof accountSetupWorkflow>('accountSetupWorkflow', {
        taskQueue: workflowTaskQueue(q),
        workflowId: accountSetupWorkflowId(plan.name, RECOVERY),
        args: [{ plan, accountId: RECOVERY, taskQueuePrefix: q, pollMs: 200 }],
      });
      expect(setup.outcome, JSON.stringify(setup)).toBe('done');
      const healthy = await until('the account healthy', (m) => m.accounts?.[0]?.state === 'healthy');
      expect(healthy.accounts![0]).toMatchObject({ replicas: { InSync: 2 }, inSync: 2, total: 2, previous: 'degraded' });
      expect(healthy.events, 'Health Changed for degraded, then healthy').toBeGreaterThanOrEqual(2);

      // The primary account's keys are revoked: denied, degraded with the reason, never an outage, and no failover.
      await fx.lab(`/_lab/accounts/${OWN_PRIMARY}/revoke`, {});
      const denied = await until('the primary denied', (m) => m.accounts?.[0]?.primaryReach === 'denied');
      expect(denied.accounts![0]!.state).toBe('degraded');
      expect(denied.accounts![0]!.reasons[0]).toMatch(/^primary account: denied/);
      // A few more cycles: still degraded (never unreachable), and nothing handed to recover.
      const later = await until('three more cycles', (m) => m.cycles >= denied.cycles + 3);
      expect(later.accounts![0]!.state).toBe('degraded');
      expect(later.recoveryRequestedAt).toBeUndefined();
      await expect(h.client.workflow.getHandle(recoverWorkflowId(plan.name)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
      await monitor.signal(monitorStopSignal);
      await monitor.result();
    } finally {
      await fx.lab(`/_lab/accounts/${OWN_PRIMARY}/restore`, {}).catch(() => undefined);
      await workers?.shutdown();
      await connection.close();
    }
  }, 120_000);
});
