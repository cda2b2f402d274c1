/**
 * `secrets-dr monitor start|stop`: the plan's health monitor (one per plan, id
 * `secrets-dr/<plan>/monitor`). `start` is idempotent (a running monitor is kept: USE_EXISTING);
 * `stop` asks it to finish its cycle and end. `secrets-dr status --from-monitor` reads its health.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import type { MonitorHealth } from '../../domain/health.js';
import { monitorWorkflowId } from '../../domain/ids.js';
import { formatDuration } from '../../domain/duration.js';
import type { Plan } from '../../domain/plan.js';
import { defineCommand, PLAN_ONLY_SCHEMA, PLAN_OPTION } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { printJson, table, type Io } from '../output.js';
import { type Connected, oneRunPerId, withTemporal } from '../temporal.js';
import type { monitorWorkflow } from '../../workflows/monitor.workflow.js';
import { monitorHealthQuery, monitorStopSignal } from '../../workflows/monitor.messages.js';

export async function startMonitor(c: Connected, plan: Plan): Promise<{ workflowId: string; runId: string }> {
  const prefix = c.env.SECRETS_DR_TASK_QUEUE_PREFIX;
  const handle = await c.client.workflow.start<typeof monitorWorkflow>('monitorWorkflow', {
    ...oneRunPerId(c, monitorWorkflowId(plan.name)),
    args: [{ plan, taskQueuePrefix: prefix }],
  });
  return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
}

/** The monitor's health, from its memory (a query: no AWS call). */
export async function monitorHealth(c: Connected, planName: string): Promise<MonitorHealth> {
  try {
    return await c.client.workflow.getHandle<typeof monitorWorkflow>(monitorWorkflowId(planName)).query(monitorHealthQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || /not found|completed/i.test((err as Error).message)) {
      throw new OperatorError(
        ErrorType.UsageError,
        `no monitor is running for plan ${planName}: start it with \`secrets-dr monitor start\``,
        [],
        ExitCode.Failed,
      );
    }
    throw err;
  }
}

export function renderHealth(h: MonitorHealth, io: Io): void {
  io.out(`plan ${h.plan}: monitor ${h.workflowId}, ${h.cycles} cycle(s) every ${formatDuration(h.intervalMs)}, last ${h.updatedAt ?? 'not yet'}`);
  const rows = h.regions.map((r) => [
    r.region === h.primaryRegion ? `${r.region} (primary)` : r.region,
    r.state.toUpperCase(),
    r.latencyMs === undefined ? '-' : `${r.latencyMs} ms`,
    `since ${r.since}`,
    r.reasons.map((x) => x.message).join('; ') || '-',
  ]);
  for (const line of table(['REGION', 'HEALTH', 'LATENCY', 'SINCE', 'REASONS'], rows)) io.out(line);
  if (h.accounts?.length) {
    // Account DR: a denied primary is DEGRADED (revoked or compromised keys), never an outage; no failover starts from here.
    const accountRows = h.accounts.map((a) => [
      a.accountId,
      a.state.toUpperCase(),
      `primary ${a.primaryReach}, recovery ${a.recoveryReach}`,
      Object.entries(a.replicas)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ') || '-',
      `since ${a.since}`,
      a.reasons.join('; ') || '-',
    ]);
    for (const line of table(['RECOVERY ACCOUNT', 'HEALTH', 'REACH', 'CROSS-ACCOUNT REPLICAS', 'SINCE', 'REASONS'], accountRows)) io.out(line);
  }
  if (h.recoveryRequestedAt) io.out(`recovery requested at ${h.recoveryRequestedAt} (see \`secrets-dr watch secrets-dr/${h.plan}/recover\`)`);
}

export const monitorStartCommand = defineCommand({
  words: ['monitor', 'start'],
  summary: "start the plan's health monitor (idempotent)",
  examples: ['secrets-dr monitor start', 'secrets-dr monitor start -f payments.yaml'],
  options: { ...PLAN_OPTION },
  schema: PLAN_ONLY_SCHEMA,
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    return withTemporal({ worker: true }, async (c) => {
      const started = await startMonitor(c, plan);
      if (io.json) printJson(io, started);
      else io.out(`monitor running: ${started.workflowId} (every ${formatDuration(plan.health.interval)}; \`secrets-dr status --from-monitor\` reads it)`);
      return ExitCode.Ok;
    });
  },
});

export const monitorStopCommand = defineCommand({
  words: ['monitor', 'stop'],
  summary: "stop the plan's health monitor",
  examples: ['secrets-dr monitor stop -f payments.yaml'],
  options: { ...PLAN_OPTION },
  schema: PLAN_ONLY_SCHEMA,
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    return withTemporal({}, async (c) => {
      const handle = c.client.workflow.getHandle<typeof monitorWorkflow>(monitorWorkflowId(plan.name));
      try {
        await handle.signal(monitorStopSignal, {});
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) {
          io.out(`no monitor running for plan ${plan.name}`);
          return ExitCode.Ok;
        }
        throw err;
      }
      const last = await handle.result();
      if (io.json) printJson(io, last);
      else io.out(`monitor of plan ${plan.name} stopped after ${last.cycles} cycle(s)`);
      return ExitCode.Ok;
    });
  },
});
