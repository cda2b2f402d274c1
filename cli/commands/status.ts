/** `secrets-dr status`: the secret × Region table, read by the status workflow. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ExitCode } from '../../domain/errors.js';
import { statusWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import type { Plan } from '../../domain/plan.js';
import type { StatusReport, StatusCell } from '../../domain/status.js';
import { defineCommand, PLAN_OPTION } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { printJson, table, type Io } from '../output.js';
import { requireWorker, type Connected, withTemporal } from '../temporal.js';
import type { statusWorkflow } from '../../workflows/status.workflow.js';
import { monitorHealth, renderHealth } from './monitor.js';
import { renderRecover, runningRecover } from '../recover-status.js';

export async function fetchStatus(c: Connected, plan: Plan): Promise<StatusReport> {
  await requireWorker(c);
  const prefix = c.env.SECRETS_DR_TASK_QUEUE_PREFIX;
  return c.client.workflow.execute<typeof statusWorkflow>('statusWorkflow', {
    taskQueue: workflowTaskQueue(prefix),
    workflowId: statusWorkflowId(plan.name, randomUUID().slice(0, 8)),
    args: [{ plan, taskQueuePrefix: prefix }],
    workflowExecutionTimeout: '5m',
  });
}

function cellText(cell: StatusCell | undefined): string {
  if (!cell) return '-';
  let text: string = cell.state;
  if (cell.fenced) text += ' (fenced)';
  if (cell.detail && cell.state !== 'InSync' && cell.state !== 'primary') text += `: ${cell.detail}`;
  return text;
}

export function renderStatus(report: StatusReport, io: Io): void {
  const regions = [report.primaryRegion, ...report.drRegions];
  io.out(`plan ${report.plan}: primary ${report.primaryRegion}, DR ${report.drRegions.join(', ')} — ${report.rows.length} secrets (read ${report.generatedAt})`);
  for (const r of report.regions) {
    const access = r.reachable ? 'reachable' : r.problem ? `DEGRADED (${r.problem}; not an outage, no failover): ${r.error ?? r.problem}` : `UNREACHABLE: ${r.error ?? 'no answer'}`;
    io.out(`  ${r.region} (${r.role}): ${access}, ${r.listCalls} list call(s)${r.describeCalls ? `, ${r.describeCalls} describe call(s)` : ''}`);
  }
  io.out('');
  const headers = ['SECRET', 'GROUP', ...regions.map((r) => (r === report.primaryRegion ? `${r} (primary)` : r))];
  const rows = report.rows.map((row) => [row.name, row.group ?? '-', ...regions.map((r) => cellText(row.cells[r]))]);
  for (const line of table(headers, rows)) io.out(line);
  io.out('');
  for (const region of regions) {
    const counts = Object.entries(report.counts[region] ?? {}).map(([s, n]) => `${n} ${s}`);
    io.out(`${region}: ${counts.join(', ') || 'no secrets'}`);
  }
  io.out(report.attention === 0 ? 'all secrets protected.' : `${report.attention} secret(s) need attention.`);
}

export const statusCommand = defineCommand({
  words: ['status'],
  summary: 'per secret × Region: replication state, parity, standalone/replica, fenced',
  usage: 'secrets-dr status [-f PLAN] [--from-monitor] [--json]   (--from-monitor: the running monitor\'s per-Region health, no AWS call)',
  options: { ...PLAN_OPTION, 'from-monitor': { type: 'boolean', default: false } },
  schema: z.object({ plan: z.string(), json: z.boolean(), 'from-monitor': z.boolean().default(false), positionals: z.array(z.string()).max(0, { error: 'status takes no arguments' }) }),
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    return withTemporal({}, async (c) => {
      if (opts['from-monitor']) {
        const health = await monitorHealth(c, plan.name);
        const recover = await runningRecover(c, plan.name);
        if (io.json) printJson(io, recover ? { ...health, recover } : health);
        else {
          renderHealth(health, io);
          if (recover) renderRecover(recover, io);
        }
        return health.regions.every((r) => r.state === 'healthy') ? ExitCode.Ok : ExitCode.NeedsAttention;
      }
      const report = await fetchStatus(c, plan);
      const recover = await runningRecover(c, plan.name);
      if (io.json) printJson(io, recover ? { ...report, recover } : report);
      else {
        renderStatus(report, io);
        if (recover) renderRecover(recover, io);
      }
      return report.attention === 0 ? ExitCode.Ok : ExitCode.NeedsAttention;
    });
  },
});
