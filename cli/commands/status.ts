/** `secrets-dr status`: the secret × Region table, read by the status workflow. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ExitCode } from '../../domain/errors.js';
import { statusWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import type { Plan } from '../../domain/plan.js';
import type { RotationView, StatusReport, StatusCell } from '../../domain/status.js';
import { defineCommand, PLAN_OPTION } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { printJson, table, type Io } from '../output.js';
import { requireWorker, type Connected, withTemporal } from '../temporal.js';
import type { statusWorkflow } from '../../workflows/status.workflow.js';
import type { readPathsWorkflow } from '../../workflows/read-paths.workflow.js';
import { readPathProblem, type ReadPathsReport } from '../../domain/read-paths.js';
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

async function fetchReadPaths(c: Connected, plan: Plan): Promise<ReadPathsReport> {
  await requireWorker(c);
  const prefix = c.env.SECRETS_DR_TASK_QUEUE_PREFIX;
  return c.client.workflow.execute<typeof readPathsWorkflow>('readPathsWorkflow', {
    taskQueue: workflowTaskQueue(prefix),
    workflowId: statusWorkflowId(plan.name, `read-paths-${randomUUID().slice(0, 8)}`),
    args: [{ plan, taskQueuePrefix: prefix }],
    workflowExecutionTimeout: '10m',
  });
}

function renderReadPaths(report: ReadPathsReport, io: Io): void {
  io.out(`plan ${report.plan}: applications' read paths in the DR Regions (GetSecretValue and Parameter Store /aws/reference/secretsmanager/<name>)`);
  for (const r of report.regions) {
    if (r.error) {
      io.out(`  ${r.region}: NOT CHECKED: ${r.error}`);
      continue;
    }
    io.out(`  ${r.region}: ${r.current} of ${r.checked} secret(s) current through both paths (${r.calls} read calls)`);
    for (const f of r.failed) io.out(`    ${readPathProblem(f)}`);
    if (r.failedCount > r.failed.length) io.out(`    ... and ${r.failedCount - r.failed.length} more (--json lists ${r.failed.length})`);
  }
  io.out(report.attention === 0 ? 'every secret is readable at its current version through both paths.' : `${report.attention} problem(s) need attention.`);
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
  io.out(
    `plan ${report.plan}: primary ${report.primaryRegion}, DR ${report.drRegions.join(', ')} — ${report.rows.length + (report.omittedRows ?? 0)} secrets (read ${report.generatedAt})`,
  );
  for (const r of report.regions) {
    const access = r.reachable
      ? 'reachable'
      : r.problem
        ? `DEGRADED (${r.problem}; not an outage, no failover): ${r.error ?? r.problem}`
        : `UNREACHABLE: ${r.error ?? 'no answer'}`;
    io.out(`  ${r.region} (${r.role}): ${access}, ${r.listCalls} list call(s)${r.describeCalls ? `, ${r.describeCalls} describe call(s)` : ''}`);
  }
  io.out('');
  const headers = ['SECRET', 'GROUP', ...regions.map((r) => (r === report.primaryRegion ? `${r} (primary)` : r))];
  const rows = report.rows.map((row) => [row.name, row.group ?? '-', ...regions.map((r) => cellText(row.cells[r]))]);
  for (const line of table(headers, rows)) io.out(line);
  if (report.omittedRows)
    io.out(`… ${report.omittedRows} more secret(s) not listed (a large fleet: the report lists those that need attention first); the counts above cover all`);
  io.out('');
  for (const region of regions) {
    const counts = Object.entries(report.counts[region] ?? {}).map(([s, n]) => `${n} ${s}`);
    io.out(`${region}: ${counts.join(', ') || 'no secrets'}`);
  }
  const rotating = report.rows.filter((r) => r.rotation);
  if (rotating.length) {
    io.out('');
    for (const line of table(
      ['SECRET', 'ROTATES IN', 'SCHEDULE', 'NEXT WINDOW (UTC)', 'LAST ROTATED'],
      rotating.map((r) => rotationCells(r.name, r.rotation!)),
    ))
      io.out(line);
  }
  io.out('');
  io.out(report.attention === 0 ? 'all secrets protected.' : `${report.attention} secret(s) need attention.`);
}

const utc = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

function rotationCells(name: string, r: RotationView): string[] {
  const w = r.nextWindow;
  const window = !w ? '-' : w.start !== undefined ? `${utc(w.start)}–${utc(w.end).slice(11)}` : `by ${utc(w.end)}`;
  return [name, r.region, r.schedule, window, r.lastRotatedMs !== undefined ? utc(r.lastRotatedMs) : 'never'];
}

export const statusCommand = defineCommand({
  words: ['status'],
  summary: 'per secret × Region: replication state, parity, standalone/replica, fenced',
  examples: ['secrets-dr status -f secrets-dr.yaml', 'secrets-dr status --read-paths', 'secrets-dr status --from-monitor --json'],
  options: {
    ...PLAN_OPTION,
    'from-monitor': { type: 'boolean', default: false, description: "the running monitor's per-Region health, no AWS call" },
    'read-paths': {
      type: 'boolean',
      default: false,
      description:
        'in each DR Region, read every secret through GetSecretValue and Parameter Store and check both return the current version (version ids only)',
    },
  },
  schema: z
    .object({
      plan: z.string(),
      json: z.boolean(),
      'from-monitor': z.boolean().default(false),
      'read-paths': z.boolean().default(false),
      positionals: z.array(z.string()).max(0, { error: 'status takes no arguments' }),
    })
    .refine((o) => !(o['from-monitor'] && o['read-paths']), {
      error: '--from-monitor and --read-paths cannot be combined: the monitor does not read values; run them one at a time',
      path: ['read-paths'],
    }),
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    return withTemporal({}, async (c) => {
      if (opts['read-paths']) {
        const report = await fetchReadPaths(c, plan);
        if (io.json) printJson(io, report);
        else renderReadPaths(report, io);
        return report.attention === 0 ? ExitCode.Ok : ExitCode.NeedsAttention;
      }
      if (opts['from-monitor']) {
        const health = await monitorHealth(c, plan.name);
        const recover = await runningRecover(c, plan.name);
        if (io.json) printJson(io, recover ? { ...health, recover } : health);
        else {
          renderHealth(health, io);
          if (recover) renderRecover(recover, io);
        }
        const healthy = health.regions.every((r) => r.state === 'healthy') && (health.accounts ?? []).every((a) => a.state === 'healthy');
        return healthy ? ExitCode.Ok : ExitCode.NeedsAttention;
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
