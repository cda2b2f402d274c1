/**
 * The demo's failover stage: Tokyo goes dark (a lab outage fault), the on-call engineer runs
 * `secrets-dr failover --to ap-northeast-3 --mode unplanned --yes --approve --wait`, and an application in
 * Osaka reads (and can write) its secrets there. Values are never printed: only that they are
 * readable/writable. When Tokyo answers again, the pending fence lands on the old primaries.
 */
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { formatDuration } from '../../domain/duration.js';
import type { FailoverReport } from '../../domain/failover.js';
import { fenceWorkflowId } from '../../domain/ids.js';
import { writeShareText, type Plan } from '../../domain/plan.js';
import { LabClient } from '../../lab/client.js';
import { printJson, type Io } from '../output.js';
import type { Connected } from '../temporal.js';
import { renderFailoverReport, startFailover } from './failover.js';

export interface DemoFailoverContext {
  c: Connected;
  plan: Plan;
  labUrl: string;
  io: Io;
  say: (line: string) => void;
}

export async function demoFailoverStage({ c, plan, labUrl, io, say }: DemoFailoverContext): Promise<FailoverReport> {
  const from = plan.primaryRegion;
  const to = plan.drRegions[0]!.region;
  const lab = new LabClient(labUrl);
  say('');
  say(`[failover] Tokyo goes dark: secrets-dr lab fault outage --region ${from} --mode refuse`);
  await lab.fault('outage', { region: from, mode: 'refuse' });
  say(
    `[failover] secrets-dr failover --to ${to} --mode unplanned --yes --approve --wait   (StopReplicationToReplica in ${to}, at ${writeShareText(plan.failover)})`,
  );
  say('');
  let report: FailoverReport;
  try {
    const { handle } = await startFailover(c, {
      plan,
      to,
      mode: 'unplanned',
      reason: 'demo: Tokyo outage',
      skipApproval: true,
      dryRun: false,
      taskQueuePrefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX,
    });
    report = await handle.result();
    if (io.json) printJson(io, { failover: report });
    else renderFailoverReport(report, io);

    // An application in Osaka: every promoted secret readable, standalone, and accepts a metadata write.
    say('');
    say(`[failover] an application in ${to} reads its secrets (values are never shown):`);
    const sm = new SecretsManagerClient({ region: to });
    try {
      for (const o of report.outcomes ?? []) {
        if (o.status !== 'promoted' && o.status !== 'already-standalone') continue;
        const d = await sm.send(new DescribeSecretCommand({ SecretId: o.name }));
        const v = await sm.send(new GetSecretValueCommand({ SecretId: o.name }));
        const readable = typeof v.SecretString === 'string' || v.SecretBinary !== undefined;
        let writable = false;
        try {
          await sm.send(new TagResourceCommand({ SecretId: o.name, Tags: [{ Key: 'demo:checked-in', Value: to }] }));
          writable = true;
        } catch {
          writable = false;
        }
        say(
          `  ${o.name}: ${d.PrimaryRegion ? `still a replica of ${d.PrimaryRegion}` : 'standalone'}, ${readable ? 'readable' : 'NOT readable'}, ${writable ? 'writable' : 'NOT writable'}`,
        );
      }
    } finally {
      sm.destroy();
    }
  } finally {
    await lab.fault('clear', { region: from });
  }

  say('');
  say(`[failover] Tokyo answers again: the pending fence (${fenceWorkflowId(plan.name, from)}) lands on the old primaries`);
  const t0 = Date.now();
  try {
    const fence = (await Promise.race([
      c.client.workflow.getHandle(fenceWorkflowId(plan.name, from)).result(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('still waiting after 60 s')), 60_000)),
    ])) as { fenced: number; alreadyFenced: number; failed: unknown[] };
    say(
      `  ${fence.fenced + fence.alreadyFenced} old primaries fenced in ${from} after ${formatDuration(Date.now() - t0)} (deny-write policy + secrets-dr:fenced tag): writes there are refused now.`,
    );
  } catch (err) {
    say(`  the fence is still pending: ${(err as Error).message} (see \`secrets-dr status\`)`);
  }
  return report;
}
