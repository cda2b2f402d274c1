/**
 * Demo stage "monitor → outage → automatic failover": the plan allows automatic failover; the
 * monitor watches both Regions; `events install` puts alarm + AWS Health rules in both Regions,
 * targeting an API destination that points at a receiver (started here, in-process). Then Tokyo
 * goes dark and the plan's CloudWatch alarm fires in both Regions: rule → API destination →
 * receiver → recover, which confirms the outage with its own probes, lets a short veto window
 * pass, and starts the failover. Nobody types `failover`.
 */
import { randomBytes } from 'node:crypto';
import { fenceWorkflowId, failoverWorkflowId, recoverWorkflowId } from '../../domain/ids.js';
import { formatDuration } from '../../domain/duration.js';
import type { FailoverReport } from '../../domain/failover.js';
import type { failoverWorkflow } from '../../workflows/failover.workflow.js';
import type { Plan } from '../../domain/plan.js';
import type { monitorWorkflow } from '../../workflows/monitor.workflow.js';
import { monitorHealthQuery, monitorStopSignal } from '../../workflows/monitor.messages.js';
import type { recoverWorkflow } from '../../workflows/recover.workflow.js';
import { recoverStatusQuery } from '../../workflows/recover.messages.js';
import { LabClient } from '../../lab/client.js';
import { printJson } from '../output.js';
import { startReceiver } from '../receiver-server.js';
import type { DemoFailoverContext } from './demo-failover.js';
import { fingerprintOf, runEventsInstall } from './events.js';
import { renderFailoverReport } from './failover.js';
import { startMonitor } from './monitor.js';

const ALARM = 'payments-sm-errors';

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still waiting after ${formatDuration(timeoutMs)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

export async function demoRecoveryStage({ c, plan: base, labUrl, io, say }: DemoFailoverContext): Promise<FailoverReport> {
  const from = base.primaryRegion;
  const lab = new LabClient(labUrl);
  const plan: Plan = {
    ...base,
    failover: { ...base.failover, automatic: true },
    health: { ...base.health, interval: 1_000, unhealthyAfter: 3, alarms: [ALARM] },
  };
  const prefix = c.env.SECRETS_DR_TASK_QUEUE_PREFIX;
  // The demo's workers run in this process: they read the key when they create the connections.
  const key = (process.env.SECRETS_DR_RECEIVER_API_KEY ??= randomBytes(24).toString('base64url'));
  const receiver = await startReceiver({ client: c.client, apiKey: key, taskQueuePrefix: prefix, plans: [plan], log: () => undefined });
  const t0 = Date.now();
  try {
    say('');
    say(
      '[recovery] the plan now says failover.automatic: true, health.alarms: [payments-sm-errors], unhealthyAfter: 3 probes; the demo probes every 1 s to save time (a plan file with automatic: true must say health.interval of at least 5s)',
    );
    say('[recovery] secrets-dr monitor start   (one cycle per second: probes, ListSecrets pages, parity, rotation, fences)');
    const monitor = await startMonitor(c, plan);
    const mh = c.client.workflow.getHandle<typeof monitorWorkflow>(monitor.workflowId);
    await until('the first monitor cycle', async () => ((await mh.query(monitorHealthQuery)).cycles >= 1 ? true : undefined), 30_000);
    say(`[recovery] secrets-dr events install --receiver-url ${receiver.url}   (in every plan Region: alarm + AWS Health rules → API destination → receiver)`);
    const installed = await runEventsInstall(c, { plan, action: 'install', receiverUrl: receiver.url, apiKeyFingerprint: fingerprintOf(key) });
    for (const r of installed.regions) say(`  ${r.region}: ${r.error ? `FAILED: ${r.error}` : `${r.created.length} created, ${r.unchanged.length} unchanged`}`);

    say('');
    say(`[recovery] Tokyo goes dark (lab fault outage --region ${from} --mode refuse), and the alarm ${ALARM} fires in both Regions`);
    await lab.fault('outage', { region: from, mode: 'refuse' });
    for (const region of [from, ...plan.drRegions.map((d) => d.region)]) await lab.call('POST', 'inject/alarm', { region, alarmName: ALARM, state: 'ALARM' });
    const started = await until(
      'recover to start the failover',
      async () => {
        const s = await c.client.workflow.getHandle<typeof recoverWorkflow>(recoverWorkflowId(plan.name)).query(recoverStatusQuery);
        return s.failovers >= 1 ? s : undefined;
      },
      90_000,
    );
    for (const j of started.journal) say(`  recover ${j.at.slice(11, 23)}  ${j.what}`);
    const report = await c.client.workflow.getHandle<typeof failoverWorkflow>(failoverWorkflowId(plan.name)).result();
    say(
      `[recovery] alarm → automatic failover finished in ${formatDuration(Date.now() - t0)} (${started.hints} hint(s), ${started.duplicates} duplicate(s), one failover):`,
    );
    if (io.json) printJson(io, { recovery: { recover: started, failover: report } });
    else renderFailoverReport(report, io);
    const health = await mh.query(monitorHealthQuery);
    say(
      `[recovery] secrets-dr status --from-monitor: ${health.regions.map((r) => `${r.region} ${r.state}${r.reasons.length ? ` (${r.reasons[0]!.message})` : ''}`).join(', ')}`,
    );
    await mh.signal(monitorStopSignal, {});
    await runEventsInstall(c, { plan, action: 'uninstall' });
    say('[recovery] monitor stopped, EventBridge rules uninstalled');
    await lab.fault('clear', { region: from });
    say(`[recovery] Tokyo answers again: the pending fence (${fenceWorkflowId(plan.name, from)}) lands on the old primaries`);
    await until(
      'the fence',
      () =>
        c.client.workflow
          .getHandle(fenceWorkflowId(plan.name, from))
          .result()
          .then(() => true),
      60_000,
    ).catch((err: Error) => say(`  ${err.message}`));
    return report;
  } finally {
    await lab.fault('clear', { region: from }).catch(() => undefined);
    await receiver.close();
  }
}
