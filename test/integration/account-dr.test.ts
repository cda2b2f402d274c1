/**
 * Account DR across two lab accounts: setup (cross-account replicas in the recovery account, a
 * same-name conflict resolved by the plan's policy with a backup), failover while the primary
 * account answers (detach, then promote), failback (copy back what changed in the recovery
 * account, after a backup of the primary; re-associate), and failover when the primary account's
 * keys are revoked (promote as they stand; the report says what that means). The safety gaps
 * (issue 19): a planned account failover fences the primary's secrets, setup after a failover
 * leaves the promoted copies alone, and failback fences the recovery copy before it reads it (a
 * writer there during failback loses nothing). The operator's controls: --dry-run, the approval
 * gate answered with `approve`, and `watch` following the run, through the CLI.
 * Its one lab fault, a short replication-pause on its primary Region (me-south-1), holds only replication into that
 * Region (the quiet files sharing it replicate out of it) and is cleared at once.
 * Workers reach the recovery account only through STS AssumeRole of the plan's role (ExternalId),
 * under the generated recovery-role policy, which the lab enforces.
 */
import type { Plan } from '../../domain/plan.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { FENCE_SID, FENCED_ACTIONS } from '../../domain/failover.js';
import { policyWithDeny } from '../../domain/failback.js';
import { runCli } from '../support/cli.js';
import { NativeConnection } from '@temporalio/worker';
import { inject } from 'vitest';
import { workflowTaskQueue } from '../../domain/ids.js';
import { accountFailbackWorkflowId, accountFailoverWorkflowId, accountHealthOf, accountSetupWorkflowId } from '../../domain/account-dr.js';
import { createCrossAccountClient } from '../../worker/cross-account-client.js';
import { createAccountClients } from '../../worker/account-clients.js';
import { createRegionClients } from '../../worker/aws-clients.js';
import { startWorkers, type RunningWorkers } from '../../worker/worker.js';
import { LAB_ONLY, onAws, startHarness, testWorkflowBundle, type Harness } from '../support/integration.js';
import { historyText } from '../support/leaks.js';
import { accountFixtures, DOOMED, EXTERNAL_ID, KEY, keyOf, LAB_DEFAULT, RECOVERY, ROLE } from '../support/accounts.js';
import type { accountSetupWorkflow } from '../../workflows/account-setup.workflow.js';
import type { accountFailoverWorkflow } from '../../workflows/account-failover.workflow.js';
import type { accountFailbackWorkflow } from '../../workflows/account-failback.workflow.js';
import type { accountStatusWorkflow } from '../../workflows/account-status.workflow.js';
import { accountProgressQuery } from '../../workflows/account.messages.js';

let h: Harness;
const values: string[] = [];
const workflowIds: string[] = [];
const value = () => {
  const v = `acct-value-${randomBytes(12).toString('hex')}`;
  values.push(v);
  return v;
};
let labUrl: string;
let fx: ReturnType<typeof accountFixtures>;
const signed = (account: string, region: string) => createCrossAccountClient({ region, endpoint: labUrl, credentials: keyOf(account) });
const read = (account: string, name: string) => fx.read(account, name);
/** A write by the applications of `account`: undefined when taken, else the error's name (a fence: AccessDeniedException). */
const write = async (account: string, name: string, v: string): Promise<string | undefined> => {
  try {
    await fx.sm(account).send(new PutSecretValueCommand({ SecretId: name, SecretString: v }));
    return undefined;
  } catch (err) {
    return (err as Error).name;
  }
};
const fenceTag = async (account: string, name: string) =>
  (await fx.sm(account).send(new DescribeSecretCommand({ SecretId: name }))).Tags?.find((t) => t.Key === 'secrets-dr:fenced')?.Value;

/** Runs the CLI in this process against the harness's Temporal and workers. */
const cli = (argv: string[]) => runCli(argv, { TEMPORAL_ADDRESS: inject('temporalAddress'), SECRETS_DR_TASK_QUEUE_PREFIX: h.prefix });
/** Account setup / failover of `plan` into the recovery account, on this file's workers, to their reports. */
const setUp = (plan: Plan) =>
  h.client.workflow.execute<typeof accountSetupWorkflow>('accountSetupWorkflow', {
    taskQueue: workflowTaskQueue(h.prefix),
    workflowId: accountSetupWorkflowId(plan.name, RECOVERY),
    args: [{ plan, accountId: RECOVERY, taskQueuePrefix: h.prefix, pollMs: 200 }],
  });
const failOver = (plan: Plan) =>
  h.client.workflow.execute<typeof accountFailoverWorkflow>('accountFailoverWorkflow', {
    taskQueue: workflowTaskQueue(h.prefix),
    workflowId: accountFailoverWorkflowId(plan.name, RECOVERY),
    args: [{ plan, accountId: RECOVERY, taskQueuePrefix: h.prefix }],
  });

beforeAll(async () => {
  h = await startHarness('account-dr');
  labUrl = inject('labUrl');
  fx = accountFixtures(h, labUrl);
  if (!onAws) await fx.accounts();
}, 60_000);
afterAll(async () => {
  if (!onAws && labUrl) await fx.lab(`/_lab/accounts/${DOOMED}/restore`, {}).catch(() => undefined);
  if (h && workflowIds.length) {
    // Invariant 1: no value in any of these workflows' histories.
    for (const id of workflowIds) {
      const text = historyText(await h.client.workflow.getHandle(id).fetchHistory());
      for (const v of values) expect(text.includes(v), `a value in the history of ${id}`).toBe(false);
    }
  }
  await h?.close();
});

describe.skipIf(onAws)('account DR across two lab accounts', () => {
  it('setup → failover (primary answers: detach, then promote) → failback (copy back, re-associate)', async (ctx) => {
    if (onAws) return ctx.skip(LAB_ONLY);
    const prefix = `${h.names}graceful/`;
    const names = [`${prefix}db`, `${prefix}api`, `${prefix}taken`];
    const seeded = await fx.seed(LAB_DEFAULT, names, value);
    // A same-name secret already in the recovery account: backup-then-overwrite (the default policy) backs it up first.
    const squatter = value();
    await fx.sm(RECOVERY).send(new CreateSecretCommand({ Name: `${prefix}taken`, SecretString: squatter }));
    const plan = await fx.planFor(prefix);
    const common = { taskQueue: workflowTaskQueue(h.prefix) };

    // Setup.
    const setupId = accountSetupWorkflowId(plan.name, RECOVERY);
    workflowIds.push(setupId);
    const setup = await h.client.workflow.execute<typeof accountSetupWorkflow>('accountSetupWorkflow', {
      ...common,
      workflowId: setupId,
      args: [{ plan, accountId: RECOVERY, taskQueuePrefix: h.prefix, pollMs: 200 }],
    });
    expect(setup.problems).toEqual([]);
    expect(setup.outcome, JSON.stringify(setup)).toBe('done');
    expect(setup.counts).toEqual({ 'in-sync': 3 });
    expect(setup.warnings.join('\n')).toMatch(/taken: the same-name secret in account 210987654321 was backed up as secrets-dr-backup\//);
    for (const n of names) expect(await read(RECOVERY, n)).toBe(seeded[n]);
    const listed = await fx.sm(RECOVERY).send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [`secrets-dr-backup/${plan.name}/`] }] }));
    const backup = listed.SecretList?.find((s) => s.Name?.includes('taken'));
    expect(backup, 'the squatter is backed up in the recovery account').toBeDefined();
    expect(await read(RECOVERY, backup!.Name!)).toBe(squatter);
    const d = await signed(LAB_DEFAULT, h.primaryRegion).describeSecretCrossAccount({ SecretId: `${prefix}db` });
    expect(d.CrossAccountReplicas?.[0]?.ReplicationStatus).toBe('InSync');

    // Status (what the monitor folds in): healthy, every replica InSync.
    const status = await h.client.workflow.execute<typeof accountStatusWorkflow>('accountStatusWorkflow', {
      ...common,
      workflowId: `${setupId}-status`,
      args: [{ plan, accountId: RECOVERY, taskQueuePrefix: h.prefix }],
    });
    expect(accountHealthOf(status)).toEqual({ accountId: RECOVERY, state: 'healthy', reasons: [], inSync: 3, total: 3 });

    // A second setup converges without a write.
    const again = await h.client.workflow.execute<typeof accountSetupWorkflow>('accountSetupWorkflow', {
      ...common,
      workflowId: `${setupId}-again`,
      args: [{ plan, accountId: RECOVERY, taskQueuePrefix: h.prefix, pollMs: 200 }],
    });
    expect(again.outcome).toBe('done');
    expect(again.counts).toEqual({ 'in-sync': 3 });

    // Failover while the primary account answers.
    const failoverId = accountFailoverWorkflowId(plan.name, RECOVERY);
    workflowIds.push(failoverId);
    const failover = await h.client.workflow.execute<typeof accountFailoverWorkflow>('accountFailoverWorkflow', {
      ...common,
      workflowId: failoverId,
      args: [{ plan, accountId: RECOVERY, taskQueuePrefix: h.prefix, reason: 'integration test' }],
    });
    expect(failover.outcome, JSON.stringify(failover)).toBe('done');
    expect(failover).toMatchObject({ primaryAccount: 'answers', detachedFromPrimary: true, consequences: [] });
    expect(failover.counts).toEqual({ promoted: 3 });
    for (const n of names) {
      const r = await signed(RECOVERY, h.primaryRegion).describeSecretCrossAccount({ SecretId: n });
      expect(r.CrossAccountPrimary, `${n} is standalone in the recovery account`).toBeUndefined();
    }
    // Planned: the primary account's secrets were fenced before the replicas were detached; a late writer there is refused.
    expect(failover.primaryFence).toEqual({ state: 'fenced', fenced: 3, failed: [], next: [] });
    expect(await write(LAB_DEFAULT, `${prefix}api`, value())).toBe('AccessDeniedException');
    expect(await read(LAB_DEFAULT, `${prefix}api`)).toBe(seeded[`${prefix}api`]);
    expect(await fenceTag(LAB_DEFAULT, `${prefix}api`)).toBe(`account failover ${failoverId} to account ${RECOVERY}`);
    // The applications write in the recovery account now.
    const during = value();
    await fx.sm(RECOVERY).send(new PutSecretValueCommand({ SecretId: `${prefix}db`, SecretString: during }));

    // Setup after the failover leaves the promoted copies as they are and says to fail back (M1): nothing reverted, nothing backed up.
    const setupAfter = await h.client.workflow.execute<typeof accountSetupWorkflow>('accountSetupWorkflow', {
      ...common,
      workflowId: `${setupId}-after-failover`,
      args: [{ plan, accountId: RECOVERY, taskQueuePrefix: h.prefix, pollMs: 200 }],
    });
    expect(setupAfter.outcome).toBe('partial');
    expect(setupAfter.counts).toEqual({ 'needs-failback': 3 });
    expect(setupAfter.attention[0]?.reason).toMatch(
      /holds the copy account failover .* promoted .*run secrets-dr account failback --from-account 210987654321/,
    );
    expect(setupAfter.warnings).toEqual([]);
    expect(await read(RECOVERY, `${prefix}db`)).toBe(during);
    expect((await signed(RECOVERY, h.primaryRegion).describeSecretCrossAccount({ SecretId: `${prefix}db` })).CrossAccountPrimary).toBeUndefined();

    // Failback: the recovery account's newer value goes back to the primary (after a backup), the replicas are re-associated.
    const failbackId = accountFailbackWorkflowId(plan.name, RECOVERY);
    workflowIds.push(failbackId);
    const failback = await h.client.workflow.execute<typeof accountFailbackWorkflow>('accountFailbackWorkflow', {
      ...common,
      workflowId: failbackId,
      args: [{ plan, accountId: RECOVERY, taskQueuePrefix: h.prefix, pollMs: 200 }],
    });
    expect(failback.outcome, JSON.stringify(failback)).toBe('done');
    expect(failback.counts).toEqual({ 'copied-back': 1, 'in-sync': 2 });
    expect(await read(LAB_DEFAULT, `${prefix}db`)).toBe(during);
    expect(await read(LAB_DEFAULT, `${prefix}api`)).toBe(seeded[`${prefix}api`]);
    const db = failback.outcomes.find((o) => o.name === `${prefix}db`)!;
    expect(db.backups?.map((b) => b.account)).toEqual(['primary', RECOVERY]);
    for (const n of names) {
      const r = await signed(RECOVERY, h.primaryRegion).describeSecretCrossAccount({ SecretId: n });
      expect(r.CrossAccountPrimary?.ReplicationStatus, `${n} is a replica again`).toBe('InSync');
      // The primary is the writable side again: account failover's fence is gone (statement and tag).
      expect(await fenceTag(LAB_DEFAULT, n)).toBeUndefined();
    }
    const after = value();
    expect(await write(LAB_DEFAULT, `${prefix}api`, after)).toBeUndefined();
  }, 60_000);

  it('failback: a secret changed on both sides since the promotion is left untouched on both sides when the policy says ask (exit 3)', async (ctx) => {
    if (onAws) return ctx.skip(LAB_ONLY);
    const prefix = `${h.names}both/`;
    const names = [`${prefix}db`, `${prefix}api`];
    await fx.seed(LAB_DEFAULT, names, value);
    // failover.fence: false — this case needs a stray write to the old primary, which the fence would refuse.
    const base = await fx.planFor(prefix);
    const plan = {
      ...base,
      failover: { ...base.failover, fence: false },
      failback: { onOriginalChanged: 'keep-dr' as const, onBothChanged: 'ask' as const, approvalTimeout: 60_000 },
    };
    const common = { taskQueue: workflowTaskQueue(h.prefix) };
    const args = [{ plan, accountId: RECOVERY, taskQueuePrefix: h.prefix, pollMs: 200 }] as const;
    const setup = await h.client.workflow.execute<typeof accountSetupWorkflow>('accountSetupWorkflow', {
      ...common,
      workflowId: accountSetupWorkflowId(plan.name, RECOVERY),
      args: [...args],
    });
    expect(setup.outcome).toBe('done');
    const failover = await h.client.workflow.execute<typeof accountFailoverWorkflow>('accountFailoverWorkflow', {
      ...common,
      workflowId: accountFailoverWorkflowId(plan.name, RECOVERY),
      args: [{ plan, accountId: RECOVERY, taskQueuePrefix: h.prefix }],
    });
    expect(failover.outcome).toBe('done');
    expect(failover.primaryFence.state).toBe('off');
    // A stray write to the old primary, and the applications' write in the recovery account: both changed.
    const [stray, during] = [value(), value()];
    await fx.sm(LAB_DEFAULT).send(new PutSecretValueCommand({ SecretId: `${prefix}db`, SecretString: stray }));
    await fx.sm(RECOVERY).send(new PutSecretValueCommand({ SecretId: `${prefix}db`, SecretString: during }));
    const failbackId = accountFailbackWorkflowId(plan.name, RECOVERY);
    workflowIds.push(failbackId);
    const failback = await h.client.workflow.execute<typeof accountFailbackWorkflow>('accountFailbackWorkflow', {
      ...common,
      workflowId: failbackId,
      args: [...args],
    });
    expect(failback.outcome).toBe('partial');
    expect(failback.attention).toEqual([
      { name: `${prefix}db`, status: 'conflict', reason: expect.stringMatching(/^both sides changed since the promotion; failback.onBothChanged is ask/) },
    ]);
    expect(failback.outcomes.find((o) => o.name === `${prefix}api`)?.status).toBe('in-sync');
    // Nothing written over on either side; the recovery copy stays standalone (not re-associated).
    expect(await read(LAB_DEFAULT, `${prefix}db`)).toBe(stray);
    expect(await read(RECOVERY, `${prefix}db`)).toBe(during);
    expect((await signed(RECOVERY, h.primaryRegion).describeSecretCrossAccount({ SecretId: `${prefix}db` })).CrossAccountPrimary).toBeUndefined();
    // Failback fenced the recovery copy to read it, and lifted that fence when it left it: the applications there still write.
    expect(await write(RECOVERY, `${prefix}db`, value())).toBeUndefined();
  }, 60_000);

  it('a failback step that fails leaves exactly one side writable: the recovery copy stays writable, the primary stays fenced', async (ctx) => {
    if (onAws) return ctx.skip(LAB_ONLY);
    const prefix = `${h.names}onewritable/`;
    const name = `${prefix}db`;
    const seeded = await fx.seed(LAB_DEFAULT, [name], value);
    const base = await fx.planFor(prefix);
    const plan = { ...base, failover: { ...base.failover, fence: false } };
    expect((await setUp(plan)).outcome).toBe('done');
    expect((await failOver(plan)).outcome).toBe('done');
    const during = value();
    expect(await write(RECOVERY, name, during)).toBeUndefined();
    // A Region failover's fence on the primary (not ours): account failback must not lift it, so its copy-back is refused.
    await fx.sm(LAB_DEFAULT).send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: policyWithDeny(undefined, FENCE_SID, FENCED_ACTIONS) }));
    await fx
      .sm(LAB_DEFAULT)
      .send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'secrets-dr:fenced', Value: 'failover secrets-dr/x/failover to ap-northeast-3' }] }));
    const failbackId = accountFailbackWorkflowId(plan.name, RECOVERY);
    workflowIds.push(failbackId);
    const failback = await h.client.workflow.execute<typeof accountFailbackWorkflow>('accountFailbackWorkflow', {
      taskQueue: workflowTaskQueue(h.prefix),
      workflowId: failbackId,
      args: [{ plan, accountId: RECOVERY, taskQueuePrefix: h.prefix, pollMs: 200 }],
    });
    expect(failback.outcome).toBe('partial');
    expect(failback.attention).toEqual([
      expect.objectContaining({
        name,
        status: 'failed',
        reason: expect.stringMatching(/^the primary is fenced by a Region failover .*: fail that back first/),
      }),
    ]);
    // The primary kept its value and its fence; the recovery copy kept the applications' value, is not fenced, and is still the standalone copy.
    expect(await read(LAB_DEFAULT, name)).toBe(seeded[name]);
    expect(await write(LAB_DEFAULT, name, value())).toBe('AccessDeniedException');
    expect(await read(RECOVERY, name)).toBe(during);
    expect(await write(RECOVERY, name, value())).toBeUndefined();
    expect((await signed(RECOVERY, h.primaryRegion).describeSecretCrossAccount({ SecretId: name })).CrossAccountPrimary).toBeUndefined();
  }, 60_000);

  it('planned: a secret whose fence fails is neither detached nor promoted (two writable copies otherwise); the others are', async (ctx) => {
    if (onAws) return ctx.skip(LAB_ONLY);
    const prefix = `${h.names}fencefail/`;
    const [blocked, ok] = [`${prefix}blocked`, `${prefix}ok`];
    await fx.seed(LAB_DEFAULT, [blocked, ok], value);
    const plan = await fx.planFor(prefix);
    expect(plan.failover.fence).toBe(true);
    expect((await setUp(plan)).outcome).toBe('done');
    // Nobody may change this primary's resource policy: the fence (PutResourcePolicy) is refused for it.
    await fx
      .sm(LAB_DEFAULT)
      .send(new PutResourcePolicyCommand({ SecretId: blocked, ResourcePolicy: policyWithDeny(undefined, 'Locked', ['secretsmanager:PutResourcePolicy']) }));
    workflowIds.push(accountFailoverWorkflowId(plan.name, RECOVERY));
    const failover = await failOver(plan);
    expect(failover.outcome).toBe('partial');
    expect(failover.attention).toEqual([
      expect.objectContaining({ name: blocked, status: 'failed', reason: expect.stringMatching(/^not promoted: fence failed \(.*AccessDeniedException/) }),
    ]);
    expect(failover.outcomes.find((o) => o.name === ok)?.status).toBe('promoted');
    expect(failover.primaryFence).toMatchObject({ state: 'partial', fenced: 1, failed: [{ name: blocked }] });
    // The blocked secret: still a replica in the recovery account (not writable there), still associated on the primary.
    expect((await signed(RECOVERY, h.primaryRegion).describeSecretCrossAccount({ SecretId: blocked })).CrossAccountPrimary).toBeDefined();
    const entry = (await signed(LAB_DEFAULT, h.primaryRegion).describeSecretCrossAccount({ SecretId: blocked })).CrossAccountReplicas?.[0];
    expect(entry?.ReplicationStatus).not.toBe('Detached');
    expect((await signed(RECOVERY, h.primaryRegion).describeSecretCrossAccount({ SecretId: ok })).CrossAccountPrimary).toBeUndefined();
  }, 60_000);

  it('planned: a write accepted just before the fence reaches the replica before the detach; a replica that does not catch up is not promoted', async (ctx) => {
    if (onAws) return ctx.skip(LAB_ONLY);
    const prefix = `${h.names}catchup/`;
    const name = `${prefix}db`;
    await fx.seed(LAB_DEFAULT, [name], value);
    const base = await fx.planFor(prefix);
    expect((await setUp(base)).outcome).toBe('done');
    const plan = { ...base, setup: { ...base.setup, inSyncTimeout: 1_500 } };
    workflowIds.push(accountFailoverWorkflowId(plan.name, RECOVERY));
    try {
      // Replication held (a sync still on its way): the last write before the fence is not in the replica yet.
      await h.lab!.fault('replication-pause', { region: h.primaryRegion });
      const last = value();
      expect(await write(LAB_DEFAULT, name, last)).toBeUndefined();
      const held = await failOver(plan);
      expect(held.outcome).toBe('partial');
      expect(held.attention).toEqual([
        expect.objectContaining({
          name,
          status: 'failed',
          reason: expect.stringMatching(/^not promoted: the replica in account 210987654321 does not hold the primary's AWSCURRENT yet .*stays fenced/),
        }),
      ]);
      // Not cut: still a replica (not writable there), the primary fenced (not writable either, nothing lost).
      expect((await signed(RECOVERY, h.primaryRegion).describeSecretCrossAccount({ SecretId: name })).CrossAccountPrimary).toBeDefined();
      expect(await write(LAB_DEFAULT, name, value())).toBe('AccessDeniedException');
      // Replication resumes: a re-run converges, and the promoted copy holds the last write.
      await h.lab!.fault('clear', { region: h.primaryRegion });
      const done = await failOver(base);
      expect(done.outcome, JSON.stringify(done)).toBe('done');
      expect(done.counts).toEqual({ promoted: 1 });
      expect(await read(RECOVERY, name)).toBe(last);
    } finally {
      await h.lab!.fault('clear', { region: h.primaryRegion });
    }
  }, 60_000);

  it('failback lifts the fence of a primary the failover fenced but did not promote, and re-associates it', async (ctx) => {
    if (onAws) return ctx.skip(LAB_ONLY);
    const prefix = `${h.names}stranded/`;
    const name = `${prefix}db`;
    await fx.seed(LAB_DEFAULT, [name], value);
    const base = await fx.planFor(prefix);
    expect((await setUp(base)).outcome).toBe('done');
    const plan = { ...base, setup: { ...base.setup, inSyncTimeout: 1_000 } };
    workflowIds.push(accountFailoverWorkflowId(plan.name, RECOVERY), accountFailbackWorkflowId(plan.name, RECOVERY));
    try {
      await h.lab!.fault('replication-pause', { region: h.primaryRegion });
      expect(await write(LAB_DEFAULT, name, value())).toBeUndefined();
      expect((await failOver(plan)).outcome).toBe('partial');
    } finally {
      await h.lab!.fault('clear', { region: h.primaryRegion });
    }
    // Fenced on the primary, still a replica in the recovery account: nothing writable anywhere until failback.
    expect(await write(LAB_DEFAULT, name, value())).toBe('AccessDeniedException');
    const failback = await h.client.workflow.execute<typeof accountFailbackWorkflow>('accountFailbackWorkflow', {
      taskQueue: workflowTaskQueue(h.prefix),
      workflowId: accountFailbackWorkflowId(plan.name, RECOVERY),
      args: [{ plan: base, accountId: RECOVERY, taskQueuePrefix: h.prefix, pollMs: 200 }],
    });
    expect(failback.outcome, JSON.stringify(failback)).toBe('done');
    expect(failback.warnings.join('\n')).toMatch(/fence on the primary was lifted/);
    expect(await fenceTag(LAB_DEFAULT, name)).toBeUndefined();
    const last = value();
    expect(await write(LAB_DEFAULT, name, last)).toBeUndefined();
    await expect.poll(() => read(RECOVERY, name), { timeout: 10_000 }).toBe(last);
  }, 60_000);

  it('failback fences the recovery copy before it reads it: a writer there during failback loses nothing (refused, or carried back)', async (ctx) => {
    if (onAws) return ctx.skip(LAB_ONLY);
    const prefix = `${h.names}writer/`;
    const name = `${prefix}db`;
    await fx.seed(LAB_DEFAULT, [name, `${prefix}api`], value);
    const plan = await fx.planFor(prefix);
    const common = { taskQueue: workflowTaskQueue(h.prefix) };
    const args = [{ plan, accountId: RECOVERY, taskQueuePrefix: h.prefix, pollMs: 200 }] as const;
    expect((await setUp(plan)).outcome).toBe('done');
    expect((await failOver(plan)).outcome).toBe('done');

    // The applications in the recovery account keep writing while failback runs.
    const taken: string[] = [];
    const refused = new Map<string, number>();
    const attempt = async () => {
      const v = value();
      const e = await write(RECOVERY, name, v);
      if (e === undefined) taken.push(v);
      else refused.set(e, (refused.get(e) ?? 0) + 1);
    };
    await attempt();
    const failbackId = accountFailbackWorkflowId(plan.name, RECOVERY);
    workflowIds.push(failbackId);
    const handle = await h.client.workflow.start<typeof accountFailbackWorkflow>('accountFailbackWorkflow', {
      ...common,
      workflowId: failbackId,
      args: [...args],
    });
    let finished = false;
    const result = handle.result().finally(() => (finished = true));
    while (!finished) {
      await attempt();
      await new Promise((r) => setTimeout(r, 40));
    }
    const failback = await result;
    expect(failback.outcome, JSON.stringify(failback)).toBe('done');
    expect(failback.counts).toEqual({ 'copied-back': 1, 'in-sync': 1 });
    expect(taken.length).toBeGreaterThan(0);
    // Every write taken before the fence is carried back: the last one is the primary's value; every later write was refused.
    expect(await read(LAB_DEFAULT, name)).toBe(taken.at(-1));
    expect(await read(RECOVERY, name)).toBe(taken.at(-1)); // the new replica, from the primary
    const refusals = ['AccessDeniedException', 'ResourceNotFoundException', 'InvalidParameterException', 'InvalidRequestException', 'ThrottlingException'];
    expect(
      [...refused.keys()].filter((e) => !refusals.includes(e)),
      'a write failed for another reason than a refusal',
    ).toEqual([]);
    expect(refused.size, 'the writer kept trying after the recovery copy was fenced and replaced').toBeGreaterThan(0);
  }, 90_000);

  it('operator controls on the CLI: --dry-run changes nothing; the approval gate waits (exit 4), approve answers it, watch follows it to its report', async (ctx) => {
    if (onAws) return ctx.skip(LAB_ONLY);
    const prefix = `${h.names}gate/`;
    const names = [`${prefix}db`, `${prefix}api`];
    await fx.seed(LAB_DEFAULT, names, value);
    const plan = await fx.planFor(prefix);
    await h.allowPlan(plan); // the CLI reads it from a file
    expect((await setUp(plan)).outcome).toBe('done');
    const file = join(mkdtempSync(join(tmpdir(), 'secrets-dr-account-')), 'secrets-dr.yaml');
    writeFileSync(
      file,
      `name: ${plan.name}\nprimaryRegion: ${h.primaryRegion}\ndrRegions: [{ region: ${h.drRegion} }]\nsecrets:\n  include: [{ prefix: "${prefix}" }]\n` +
        `recoveryAccounts:\n  - { accountId: "${RECOVERY}", roleArn: "${ROLE}", externalId: ${EXTERNAL_ID}, kmsKeyId: ${KEY} }\nfailover:\n  requireApproval: true\n`,
    );

    // --dry-run: what would happen per secret, nothing changed.
    const dry = await cli(['failover', '--to-account', RECOVERY, '--dry-run', '--json', '-f', file]);
    expect(dry.code, dry.out).toBe(0);
    const preview = JSON.parse(dry.out) as { outcome: string; items: Array<{ name: string; action: string; fence: boolean; detach: boolean }> };
    expect(preview.outcome).toBe('dry-run');
    expect(preview.items.map((i) => [i.name, i.action, i.fence, i.detach]).sort()).toEqual(names.map((n) => [n, 'promote', true, true]).sort());
    for (const n of names) {
      expect((await signed(RECOVERY, h.primaryRegion).describeSecretCrossAccount({ SecretId: n })).CrossAccountPrimary?.ReplicationStatus).toBe('InSync');
      expect(await fenceTag(LAB_DEFAULT, n)).toBeUndefined();
    }

    // The plan's approval gate: without --wait the CLI stops there (exit 4), nothing written yet.
    const id = accountFailoverWorkflowId(plan.name, RECOVERY);
    workflowIds.push(id);
    const started = await cli(['failover', '--to-account', RECOVERY, '--yes', '-f', file]);
    expect(started.code, started.out).toBe(4);
    expect(started.out).toMatch(new RegExp(`secrets-dr approve ${id.replace(/[/.]/g, '\\$&')}`));
    expect(await fenceTag(LAB_DEFAULT, names[0]!)).toBeUndefined();
    expect((await cli(['approve', id])).code).toBe(0);

    // watch follows it to its report (--json: progress lines, then the report).
    const watched = await cli(['watch', id, '--json']);
    expect(watched.code, watched.out).toBe(0);
    const lines = watched.out.split('\n').filter((l) => l.startsWith('{'));
    const report = JSON.parse(lines.at(-1)!) as { type: string; outcome: string; counts: Record<string, number>; primaryFence: { state: string } };
    expect(report).toMatchObject({ type: 'report', outcome: 'done', counts: { promoted: 2 }, primaryFence: { state: 'fenced' } });

    // Account failback --dry-run: each promoted copy would be reconciled; nothing changed (the primary still fenced).
    const backDry = await cli(['account', 'failback', '--from-account', RECOVERY, '--dry-run', '--json', '-f', file]);
    expect(backDry.code, backDry.out).toBe(0);
    const backPreview = JSON.parse(backDry.out) as { outcome: string; items: Array<{ name: string; action: string }> };
    expect(backPreview.items.map((i) => [i.name, i.action]).sort()).toEqual(names.map((n) => [n, 'reconcile']).sort());
    expect(await write(LAB_DEFAULT, names[1]!, value())).toBe('AccessDeniedException');

    // Account failback honours the same gate: it waits after preflight, writes nothing until approved.
    const backId = accountFailbackWorkflowId(plan.name, RECOVERY);
    workflowIds.push(backId);
    const back = await h.client.workflow.start<typeof accountFailbackWorkflow>('accountFailbackWorkflow', {
      taskQueue: workflowTaskQueue(h.prefix),
      workflowId: backId,
      args: [{ plan: { ...plan, failover: { ...plan.failover, requireApproval: true } }, accountId: RECOVERY, taskQueuePrefix: h.prefix, pollMs: 200 }],
    });
    await expect.poll(async () => (await back.query(accountProgressQuery)).state, { timeout: 10_000 }).toBe('awaitingApproval');
    expect(await write(LAB_DEFAULT, names[0]!, value())).toBe('AccessDeniedException'); // still fenced: nothing reconciled yet
    expect((await signed(RECOVERY, h.primaryRegion).describeSecretCrossAccount({ SecretId: names[0]! })).CrossAccountPrimary).toBeUndefined();
    expect((await cli(['approve', backId])).code).toBe(0);
    expect((await back.result()).outcome).toBe('done');
    expect(await fenceTag(LAB_DEFAULT, names[0]!)).toBeUndefined();
  }, 90_000);

  it('the primary account is compromised (its keys revoked): promote the replicas as they stand, and say what that means', async (ctx) => {
    if (onAws) return ctx.skip(LAB_ONLY);
    const prefix = `${h.names}revoked/`;
    const names = [`${prefix}db`, `${prefix}queue`];
    // Selected by a tag: a cross-account replica does not carry the primary's tags, so the recovery side must know the
    // plan's secrets by the tag setup puts on each replica (with the primary revoked, nothing else can tell).
    const tier = { key: 'dr-tier', value: `t-${h.prefix.slice(-6)}` };
    const seeded = await fx.seed(DOOMED, names, value, [{ Key: tier.key, Value: tier.value }]);
    const plan: Plan = { ...(await fx.planFor(prefix)), secrets: { include: [{ tag: tier }], exclude: [] } };
    // Workers whose own (primary-account) credentials are the doomed account's key.
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const prefixQ = `${h.prefix}-doomed`;
    let workers: RunningWorkers | undefined;
    try {
      workers = await startWorkers({
        connection,
        namespace: 'default',
        regions: [h.primaryRegion],
        taskQueuePrefix: prefixQ,
        workflowBundle: await testWorkflowBundle(),
        clientsFor: (region) => createRegionClients(region, { requestTimeoutMs: 5_000, credentials: keyOf(DOOMED) }),
        accountClientsFor: createAccountClients({ requestTimeoutMs: 5_000, credentials: keyOf(DOOMED) }),
      });
      const common = { taskQueue: workflowTaskQueue(prefixQ) };
      const setup = await h.client.workflow.execute<typeof accountSetupWorkflow>('accountSetupWorkflow', {
        ...common,
        workflowId: accountSetupWorkflowId(plan.name, RECOVERY),
        args: [{ plan, accountId: RECOVERY, taskQueuePrefix: prefixQ, pollMs: 200 }],
      });
      expect(setup.outcome, JSON.stringify(setup)).toBe('done');

      await fx.lab(`/_lab/accounts/${DOOMED}/revoke`, {});
      await expect(read(DOOMED, names[0]!)).rejects.toThrow(/security token|UnrecognizedClient/i);

      // Status: the revoked primary is `denied` (degraded, with the reason), not an outage.
      const status = await h.client.workflow.execute<typeof accountStatusWorkflow>('accountStatusWorkflow', {
        ...common,
        workflowId: `${accountSetupWorkflowId(plan.name, RECOVERY)}-status`,
        args: [{ plan, accountId: RECOVERY, taskQueuePrefix: prefixQ }],
      });
      expect(accountHealthOf(status)).toMatchObject({ state: 'degraded', reasons: [expect.stringMatching(/^primary account: denied/)], inSync: 2 });

      const failoverId = accountFailoverWorkflowId(plan.name, RECOVERY);
      workflowIds.push(failoverId, `${failoverId}-refused`);
      // AccessDenied alone is not an outage: without --mode unplanned the run refuses, naming the cause and the flag.
      const refused = await h.client.workflow.execute<typeof accountFailoverWorkflow>('accountFailoverWorkflow', {
        ...common,
        workflowId: `${failoverId}-refused`,
        args: [{ plan, accountId: RECOVERY, taskQueuePrefix: prefixQ, skipApproval: true }],
      });
      expect(refused.outcome).toBe('rejected');
      expect(refused.problems.join('\n')).toMatch(/primary account refused our credentials .*--mode unplanned/);
      expect(refused.counts).toEqual({});
      const failover = await h.client.workflow.execute<typeof accountFailoverWorkflow>('accountFailoverWorkflow', {
        ...common,
        workflowId: failoverId,
        args: [{ plan, accountId: RECOVERY, taskQueuePrefix: prefixQ, reason: 'primary account compromised', mode: 'unplanned' }],
      });
      expect(failover.outcome, JSON.stringify(failover)).toBe('done');
      expect(failover).toMatchObject({ primaryAccount: 'denied', detachedFromPrimary: false });
      expect(failover.consequences.join('\n')).toMatch(/RPO unknown/);
      expect(failover.consequences.join('\n')).toMatch(/writes made to the primary account from now on are lost/);
      expect(failover.counts).toEqual({ promoted: 2 });
      // Unplanned: the primary's secrets could not be fenced; the report says how to fence them later.
      expect(failover.primaryFence.state).toBe('unfenced');
      expect(failover.primaryFence.next.join('\n')).toMatch(
        /once the primary account answers again: secrets-dr failover --to-account 210987654321 .*secrets-dr approve ID/,
      );
      // The applications' read path in the recovery account: the values as last replicated, and writable.
      for (const n of names) expect(await read(RECOVERY, n)).toBe(seeded[n]);
      await fx.sm(RECOVERY).send(new PutSecretValueCommand({ SecretId: names[0], SecretString: value() }));
    } finally {
      await fx.lab(`/_lab/accounts/${DOOMED}/restore`, {}).catch(() => undefined);
      await workers?.shutdown();
      await connection.close();
    }
  }, 120_000);
});
