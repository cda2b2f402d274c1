/**
 * The whole inbound path on the dev server + lab, in Regions of its own: events install (every plan
 * Region) → injected CloudWatch alarms → lab rule → API destination → receiver → signal-with-start
 * → recover (own probes, veto window) → failover. Five duplicate alarm events from two Regions
 * start exactly one failover; a flapping primary starts none; install is idempotent and uninstall
 * removes what install made.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { EventBridgeClient, DescribeRuleCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { eventsInstallNames, type EventsInstallReport } from '../../domain/events-install.js';
import { eventsInstallWorkflowId, failoverWorkflowId, recoverWorkflowId } from '../../domain/ids.js';
import type { RecoverStatus } from '../../domain/recover.js';
import type { RecoveryHint } from '../../domain/inbound-events.js';
import type { recoverWorkflow } from '../../workflows/recover.workflow.js';
import type { eventsInstallWorkflow } from '../../workflows/events-install.workflow.js';
import { recoverHintSignal, recoverStatusQuery } from '../../workflows/recover.messages.js';
import type { Plan } from '../../domain/plan.js';
import { inject } from 'vitest';
import { Worker } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { workflowsPath } from '../../worker/worker.js';
import { startReceiver, type RunningReceiver } from '../../cli/receiver-server.js';
import { fingerprintOf } from '../../cli/commands/events.js';
import { runCli } from '../support/cli.js';
import { eventually, LAB_ONLY, onAws, startHarness, type Harness } from '../support/integration.js';
import { fastProbes, queueOf, regionPlan, sleep, startRegionWorkers, type RegionWorkers } from '../support/recovery.js';
import { dataConverter } from '../../worker/payload-codec.js';

const PRIMARY = 'us-east-2';
const DR = 'us-west-1';
const KEY = `recover-test-${randomBytes(12).toString('hex')}`;

let h: Harness;
let w: RegionWorkers;
let receiver: RunningReceiver;

beforeAll(async () => {
  process.env.SECRETS_DR_RECEIVER_API_KEY = KEY; // the in-process workers put it into the connections
  h = await startHarness('recover');
  w = await startRegionWorkers(h, [PRIMARY, DR]);
  receiver = await startReceiver({ client: h.client, apiKey: KEY, taskQueuePrefix: w.prefix, plans: [], plansDir: undefined, log: () => undefined });
});
afterAll(async () => {
  await receiver?.close();
  await w?.close();
  await h?.close();
});

async function installEvents(plan: Plan, action: 'install' | 'uninstall'): Promise<EventsInstallReport> {
  return h.client.workflow.execute<typeof eventsInstallWorkflow>('eventsInstallWorkflow', {
    taskQueue: queueOf(w.prefix),
    workflowId: `${eventsInstallWorkflowId(plan.name)}-${action}-${Date.now()}`,
    args: [{ plan, action, receiverUrl: receiver.url, apiKeyFingerprint: fingerprintOf(KEY), taskQueuePrefix: w.prefix }],
  });
}

async function executions(id: string): Promise<number> {
  let n = 0;
  for await (const _ of h.client.workflow.list({ query: `WorkflowId = '${id}'` })) n++;
  return n;
}

/** One secret `${names}db` in the primary, replicated to DR: the plan's fleet. */
async function seedFleet(names: string): Promise<void> {
  await h
    .sm(PRIMARY)
    .send(new CreateSecretCommand({ Name: `${names}db`, SecretString: `v-${randomBytes(8).toString('hex')}`, AddReplicaRegions: [{ Region: DR }] }));
}

/** A test's end: the plan's recover workflow is stopped (it keeps probing otherwise). */
async function stopRecover(workflowId: string): Promise<void> {
  await h.client.workflow
    .getHandle(workflowId)
    .terminate('test done')
    .catch(() => undefined);
}

/** After a test with an outage: the primary answers again, the recover workflow is stopped. */
async function endOutage(workflowId: string): Promise<void> {
  await h.lab!.fault('clear', { region: PRIMARY });
  await stopRecover(workflowId);
}

/** The i-th alarm hint about the primary (each its own dedup key: none is a re-delivery). */
const alarmHint = (tag: string, i: number): RecoveryHint => ({
  eventId: `${tag}-${i}`,
  dedupKey: `${tag}-${i}`,
  kind: 'alarm',
  region: PRIMARY,
  summary: `alarm ${i}`,
  receivedAt: new Date().toISOString(),
});

const recoverStatus = (plan: Plan): Promise<RecoverStatus> =>
  h.client.workflow.getHandle<typeof recoverWorkflow>(recoverWorkflowId(plan.name)).query(recoverStatusQuery);

describe.skipIf(onAws)(`recover (${LAB_ONLY})`, () => {
  it('five duplicate alarm events from two Regions within a second start exactly one failover (alarm → rule → API destination → receiver → recover)', async () => {
    const n = `${h.names}dup/`;
    await seedFleet(n);
    await sleep(800);
    const plan = fastProbes(
      regionPlan(`${h.prefix}-dup`, PRIMARY, DR, n, 'failover: { automatic: true }\nhealth: { unhealthyAfter: 3, alarms: [sm-errors] }'),
      { interval: 200 },
    );
    const r2 = await startReceiver({ client: h.client, apiKey: KEY, taskQueuePrefix: w.prefix, plans: [plan], log: () => undefined });
    const saved = receiver;
    receiver = r2;
    try {
      // install: every plan Region; a second install changes nothing.
      const first = await installEvents(plan, 'install');
      expect(first.regions.map((r) => r.error)).toEqual([undefined, undefined]);
      expect(first.regions.every((r) => r.created.length === 6)).toBe(true); // connection, destination, 2 rules, 2 targets
      await h.lab!.resetCounters([PRIMARY, DR]);
      const second = await installEvents(plan, 'install');
      expect(second.regions.every((r) => r.created.length === 0 && r.updated.length === 0 && r.unchanged.length === 6)).toBe(true);
      const counters = await h.lab!.counters();
      for (const region of [PRIMARY, DR]) {
        const writes = Object.entries(counters[region] ?? {}).filter(([op]) => /events:(Create|Update|Put|Delete|Remove)/.test(op));
        expect(writes, `EventBridge writes in ${region} on the second install`).toEqual([]);
      }

      // The outage, then five alarm events within a second: 3 delivered in the primary, 2 in the DR Region.
      await h.lab!.fault('outage', { region: PRIMARY, mode: 'refuse' });
      await Promise.all([
        ...[0, 1, 2].map(() => h.lab!.call('POST', 'inject/alarm', { region: PRIMARY, alarmName: 'sm-errors', state: 'ALARM' })),
        ...[0, 1].map(() => h.lab!.call('POST', 'inject/alarm', { region: DR, alarmName: 'sm-errors', state: 'ALARM' })),
      ]);
      const status = await eventually(
        'the failover to start',
        async () => {
          const s = await recoverStatus(plan).catch(() => undefined);
          return s && s.failovers >= 1 ? s : undefined;
        },
        60_000,
      );
      const deliveries = (await h.lab!.call<Array<{ outcome: string; status?: number; ruleName: string }>>('GET', 'deliveries')).filter(
        (d) => d.ruleName === eventsInstallNames(plan.name).alarmRule,
      );
      expect(deliveries.filter((d) => d.outcome === 'delivered' && d.status === 202).length).toBe(5);
      expect(status.hints + status.duplicates).toBe(5);
      // More hints while the failover runs join it; still one failover.
      await h.lab!.call('POST', 'inject/alarm', { region: DR, alarmName: 'sm-errors', state: 'ALARM' });
      await sleep(3_000);
      expect(await executions(failoverWorkflowId(plan.name))).toBe(1);
      expect((await recoverStatus(plan)).failovers).toBe(1);
      expect((await recoverStatus(plan)).journal.map((j) => j.what).join('\n')).toMatch(/outage confirmed by our own probes[\s\S]*started failover/);
    } finally {
      await h.lab!.fault('clear', { region: PRIMARY });
      receiver = saved;
      await r2.close();
    }

    // uninstall removes exactly what install made.
    const removed = await installEvents(plan, 'uninstall');
    expect(removed.regions.map((r) => r.removed.length)).toEqual([6, 6]);
    const eb = new EventBridgeClient({ region: DR });
    await expect(eb.send(new DescribeRuleCommand({ Name: eventsInstallNames(plan.name).alarmRule }))).rejects.toThrow(/does not exist/);
    await expect(eb.send(new ListTargetsByRuleCommand({ Rule: eventsInstallNames(plan.name).healthRule }))).rejects.toThrow();
    eb.destroy();
    await stopRecover(recoverWorkflowId(plan.name));
  });

  it('a flapping primary (outage on/off faster than unhealthyAfter probes) starts no failover', async () => {
    const plan = fastProbes(
      regionPlan(`${h.prefix}-flap`, PRIMARY, DR, `${h.names}flap/`, 'failover: { automatic: true }\nhealth: { unhealthyAfter: 3, alarms: [sm-errors] }'),
      { interval: 200 },
    );
    const hint = (i: number) => alarmHint('flap', i);
    try {
      for (let i = 0; i < 4; i++) {
        await h.lab!.fault('outage', { region: PRIMARY, mode: 'refuse' });
        await h.client.workflow.signalWithStart<typeof recoverWorkflow, [RecoveryHint]>('recoverWorkflow', {
          workflowId: recoverWorkflowId(plan.name),
          taskQueue: queueOf(w.prefix),
          args: [{ plan, taskQueuePrefix: w.prefix }],
          signal: recoverHintSignal,
          signalArgs: [hint(i)],
        });
        await sleep(1_200);
        await h.lab!.fault('clear', { region: PRIMARY });
        await sleep(1_300);
      }
      const s = await recoverStatus(plan);
      expect(s.failovers).toBe(0);
      expect(s.journal.map((j) => j.what)).toContain('the primary answered: outage not confirmed');
      expect(await executions(failoverWorkflowId(plan.name))).toBe(0);
    } finally {
      await endOutage(recoverWorkflowId(plan.name));
    }
  });

  it('a primary that answers "access denied" or "throttled" confirms no outage (one classifier with the monitor): no failover, the journal says why', async () => {
    const n = `${h.names}denied/`;
    await seedFleet(n);
    await sleep(800);
    const plan = fastProbes(
      regionPlan(
        `${h.prefix}-denied`,
        PRIMARY,
        DR,
        n,
        'failover: { automatic: true, requireApproval: false }\nhealth: { unhealthyAfter: 3, alarms: [sm-errors] }',
      ),
      { interval: 200 },
    );
    const hint = (i: number) => alarmHint('denied', i);
    try {
      for (const [i, error] of [
        [0, 'AccessDeniedException'],
        [1, 'ExpiredTokenException'],
        [2, 'ThrottlingException'],
      ] as const) {
        await h.lab!.fault('fail-next', { region: PRIMARY, op: 'ListSecrets', error, count: 100_000 });
        try {
          await h.client.workflow.signalWithStart<typeof recoverWorkflow, [RecoveryHint]>('recoverWorkflow', {
            workflowId: recoverWorkflowId(plan.name),
            taskQueue: queueOf(w.prefix),
            args: [{ plan, taskQueuePrefix: w.prefix }],
            signal: recoverHintSignal,
            signalArgs: [hint(i)],
          });
          const s = await eventually(
            `recover to decide (${error})`,
            async () => {
              const st = await recoverStatus(plan).catch(() => undefined);
              return st && st.hints === i + 1 && st.phase === 'idle' && st.journal.some((j) => j.what.includes(error)) ? st : undefined;
            },
            30_000,
          );
          expect(s.journal.map((j) => j.what).join('\n')).toMatch(new RegExp(`the primary answered with an error, not an outage: .*${error}.*not an outage`));
          // Longer than unhealthyAfter × interval: still nothing.
          await sleep(3 * plan.health.unhealthyAfter * plan.health.interval);
          expect((await recoverStatus(plan)).failovers, error).toBe(0);
        } finally {
          await h.lab!.fault('clear', { region: PRIMARY });
        }
      }
      expect(await executions(failoverWorkflowId(plan.name))).toBe(0);
    } finally {
      await endOutage(recoverWorkflowId(plan.name));
    }
  });

  it('`status` shows the open veto window and its time left; `secrets-dr veto` stops the failover; outside the window a veto is refused', async () => {
    const n = `${h.names}veto/`;
    await seedFleet(n);
    const name = `${h.prefix}-veto`;
    const plan = fastProbes(regionPlan(name, PRIMARY, DR, n, 'failover: { automatic: true }\nhealth: { unhealthyAfter: 2, alarms: [sm-errors] }'), {
      interval: 200,
    });
    const file = join(mkdtempSync(join(tmpdir(), 'secrets-dr-veto-')), 'secrets-dr.yaml');
    writeFileSync(file, `name: ${name}\nprimaryRegion: ${PRIMARY}\ndrRegions: [{ region: ${DR} }]\nsecrets:\n  include: [{ prefix: "${n}" }]\n`);
    const env = { TEMPORAL_ADDRESS: inject('temporalAddress'), SECRETS_DR_TASK_QUEUE_PREFIX: w.prefix };
    const id = recoverWorkflowId(name);
    try {
      await h.lab!.fault('outage', { region: PRIMARY, mode: 'refuse' });
      await h.client.workflow.signalWithStart<typeof recoverWorkflow, [RecoveryHint]>('recoverWorkflow', {
        workflowId: id,
        taskQueue: queueOf(w.prefix),
        args: [{ plan, taskQueuePrefix: w.prefix, vetoWindowMs: 120_000 }],
        signal: recoverHintSignal,
        signalArgs: [{ eventId: 'veto-1', dedupKey: 'veto-1', kind: 'alarm', region: PRIMARY, summary: 'alarm veto-1', receivedAt: new Date().toISOString() }],
      });
      await eventually(
        'the veto window to open',
        async () => ((await recoverStatus(plan).catch(() => undefined))?.phase === 'vetoWindow' ? true : undefined),
        30_000,
      );

      // Prepare done; Act: status (JSON and text) shows the window, where the failover would go and the time left.
      const json = await runCli(['status', '-f', file, '--json'], env);
      const shown = JSON.parse(json.out) as { recover?: { phase: string; target?: string; vetoWindowLeftMs?: number; workflowId: string } };
      expect(shown.recover, json.out + json.err).toMatchObject({ phase: 'vetoWindow', target: DR, workflowId: id });
      expect(shown.recover!.vetoWindowLeftMs).toBeGreaterThan(60_000);
      expect(shown.recover!.vetoWindowLeftMs).toBeLessThanOrEqual(120_000);
      const text = await runCli(['status', '-f', file], env);
      expect(text.out).toMatch(new RegExp(`VETO WINDOW OPEN: automatic failover to ${DR} in \\d+m?\\d*s`));
      expect(text.out).toContain(`secrets-dr veto ${id} --reason TEXT`);

      // A veto without a reason is bad input; with one, it stops the failover and the journal says who and why.
      const bare = await runCli(['veto', id], env);
      expect(bare.code).toBe(2);
      expect(bare.err).toMatch(/--reason/);
      const vetoed = await runCli(['veto', id, '--reason', 'planned maintenance'], env);
      expect(vetoed.code, vetoed.err).toBe(0);
      expect(vetoed.out).toContain(`${id}: vetoed (planned maintenance); no failover`);
      const after = await eventually('recover to go back to idle', async () => {
        const s = await recoverStatus(plan);
        return s.phase === 'idle' ? s : undefined;
      });
      expect(after.journal.at(-1)?.what).toMatch(/^vetoed( by \S+)? \(planned maintenance\): no failover$/);
      expect(after.vetoWindowEndsAt).toBeUndefined();

      // Outside the window the workflow refuses (its validator: nothing reaches history), exit 1, saying why.
      const late = await runCli(['veto', id, '--reason', 'again'], env);
      expect(late.code).toBe(1);
      expect(late.err).toMatch(/refused the answer: no veto window is open \(recover is idle\)/);
      const none = await runCli(['veto', recoverWorkflowId(`${name}-nope`), '--reason', 'x'], env);
      expect(none.code).toBe(2);
      expect(none.err).toMatch(/no running workflow with id/);
      expect(await executions(failoverWorkflowId(name))).toBe(0);

      // Its history (hint, probes, the window's timer, the veto update) replays; RECORD_HISTORIES=1 keeps it.
      const history = await h.client.workflow.getHandle(id).fetchHistory();
      await Worker.runReplayHistory({ dataConverter, workflowsPath: workflowsPath() }, history, id);
      if (process.env.RECORD_HISTORIES) writeFileSync(new URL('../fixtures/histories/recover.json', import.meta.url), historyToJSON(history));
    } finally {
      await endOutage(id);
    }
  });
});
