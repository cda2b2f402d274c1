/**
 * `secrets-dr drill run|schedule|unschedule|list`: DR drills on canary secrets.
 * - `drill schedule [--cron EXPR]`: a Temporal Schedule (default cron: plan.drills.schedule;
 *   overlap SKIP, catch-up window 10 minutes), and one per recovery account (its account drill).
 *   Idempotent: an existing schedule is updated.
 * - `drill run [--wait] [--reports DIR]`: one drill now (`secrets-dr/<plan>/drill/<ts>`);
 *   `--account ID`: an account drill of that recovery account instead (`secrets-dr/<plan>/drill/account-<id>-<ts>`).
 * - `drill list`: past drills from their workflow results (list filter on the drill workflow
 *   type, then the plan's id prefix): when, outcome, RTO, RPO against rtoTarget.
 * Reports (JSON, Markdown, SVG timeline) are written into `--reports DIR`
 * (default ./secrets-dr-reports/). Exit codes: 0 passed · 1 failed/cancelled · 3 missed the RTO target.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { cronProblem } from '../../domain/cron.js';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type WorkflowHandle } from '@temporalio/client';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import { formatDuration } from '../../domain/duration.js';
import { drillStamp, type DrillInput, type DrillReport } from '../../domain/drill.js';
import { drillReportBaseName, formatFigure, renderDrillMarkdown, renderDrillSvg } from '../../domain/drill-report.js';
import { accountDrillScheduleId, drillScheduleId, drillWorkflowId, drillWorkflowIdPrefix, workflowTaskQueue } from '../../domain/ids.js';
import type { Plan } from '../../domain/plan.js';
import { defineCommand, PLAN_OPTION } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { printJson, table, type Io } from '../output.js';
import { withTemporal } from '../temporal.js';
import type { drillWorkflow } from '../../workflows/drill.workflow.js';
import type { accountDrillWorkflow } from '../../workflows/account-drill.workflow.js';

export const DEFAULT_REPORTS_DIR = 'secrets-dr-reports';
const DRILL_WORKFLOW_TYPE = 'drillWorkflow';
const ACCOUNT_DRILL_WORKFLOW_TYPE = 'accountDrillWorkflow';
const CATCHUP_WINDOW = '10m';

interface DrillTarget {
  client: Client;
  /** Task queue prefix of the workers. */
  prefix: string;
}

function drillInput(plan: Plan, prefix: string, trigger: 'schedule' | 'manual' | 'demo' | 'test', timeouts: DrillTimeouts = {}): DrillInput {
  return { plan, taskQueuePrefix: prefix, trigger, ...timeouts };
}

/** Bounds of a drill's waits (tests shorten them; the defaults suit AWS). */
type DrillTimeouts = Pick<DrillInput, 'inSyncTimeoutMs' | 'replicaRemovalTimeoutMs'>;

/** Creates a schedule, or updates it (cron, action, policies) when it exists. */
async function upsertSchedule(t: DrillTarget, scheduleId: string, action: Parameters<Client['schedule']['create']>[0]['action'], cron: string, plan: Plan) {
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP_WINDOW };
  const spec = { cronExpressions: [cron] };
  try {
    await t.client.schedule.create({ scheduleId, spec, action, policies, memo: { plan: plan.name } });
    return true;
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await t.client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action, policies }));
  return false;
}

/**
 * Creates the plan's drill schedule, or updates it (cron, plan, policies) when it exists; with recoveryAccounts, one
 * schedule per recovery account too (its account drill, same cron), so scheduled drills rehearse every account.
 */
export async function upsertDrillSchedule(
  t: DrillTarget,
  plan: Plan,
  cron = plan.drills.schedule,
): Promise<{ scheduleId: string; created: boolean; cron: string; accountSchedules: string[] }> {
  const scheduleId = drillScheduleId(plan.name);
  const created = await upsertSchedule(
    t,
    scheduleId,
    {
      type: 'startWorkflow' as const,
      workflowType: DRILL_WORKFLOW_TYPE,
      // Temporal appends the scheduled time: secrets-dr/<plan>/drill/scheduled-<time>.
      workflowId: drillWorkflowId(plan.name, 'scheduled'),
      taskQueue: workflowTaskQueue(t.prefix),
      args: [drillInput(plan, t.prefix, 'schedule')],
    },
    cron,
    plan,
  );
  const accountSchedules: string[] = [];
  for (const { accountId } of plan.recoveryAccounts) {
    const id = accountDrillScheduleId(plan.name, accountId);
    const action = {
      type: 'startWorkflow' as const,
      workflowType: ACCOUNT_DRILL_WORKFLOW_TYPE,
      workflowId: drillWorkflowId(plan.name, `account-${accountId}-scheduled`),
      taskQueue: workflowTaskQueue(t.prefix),
      args: [{ ...drillInput(plan, t.prefix, 'schedule'), accountId }],
    };
    await upsertSchedule(t, id, action, cron, plan);
    accountSchedules.push(id);
  }
  return { scheduleId, created, cron, accountSchedules };
}

/** Removes the plan's drill schedule and its recovery accounts' (true when the plan's existed). */
export async function removeDrillSchedule(t: DrillTarget, plan: Plan): Promise<boolean> {
  const remove = async (id: string) => {
    try {
      await t.client.schedule.getHandle(id).delete();
      return true;
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return false;
      throw err;
    }
  };
  for (const { accountId } of plan.recoveryAccounts) await remove(accountDrillScheduleId(plan.name, accountId));
  return remove(drillScheduleId(plan.name));
}

export async function startDrill(
  t: DrillTarget,
  plan: Plan,
  trigger: 'manual' | 'demo' | 'test' = 'manual',
  timeouts: DrillTimeouts = {},
): Promise<WorkflowHandle<typeof drillWorkflow>> {
  return t.client.workflow.start<typeof drillWorkflow>(DRILL_WORKFLOW_TYPE, {
    taskQueue: workflowTaskQueue(t.prefix),
    workflowId: drillWorkflowId(plan.name, drillStamp(new Date())),
    args: [drillInput(plan, t.prefix, trigger, timeouts)],
    workflowExecutionTimeout: '1h',
  });
}

/** An account drill of `accountId` now (it must be one of the plan's recoveryAccounts). */
export async function startAccountDrill(
  t: DrillTarget,
  plan: Plan,
  accountId: string,
  trigger: 'manual' | 'demo' | 'test' = 'manual',
  timeouts: DrillTimeouts = {},
): Promise<WorkflowHandle<typeof accountDrillWorkflow>> {
  if (!plan.recoveryAccounts.some((a) => a.accountId === accountId))
    throw new OperatorError(
      ErrorType.UsageError,
      `--account ${accountId} is not one of the plan's recoveryAccounts (${plan.recoveryAccounts.map((a) => a.accountId).join(', ') || 'none listed'}): add it under recoveryAccounts, or drill one of those`,
    );
  return t.client.workflow.start<typeof accountDrillWorkflow>(ACCOUNT_DRILL_WORKFLOW_TYPE, {
    taskQueue: workflowTaskQueue(t.prefix),
    workflowId: drillWorkflowId(plan.name, `account-${accountId}-${drillStamp(new Date())}`),
    args: [{ ...drillInput(plan, t.prefix, trigger, timeouts), accountId }],
    workflowExecutionTimeout: '1h',
  });
}

interface DrillListEntry {
  workflowId: string;
  startedAt: string;
  status: string;
  report?: DrillReport;
}

/** Past drills of a plan, newest first: the drill workflow type, filtered by the plan's id prefix. */
export async function listDrills(client: Client, plan: Plan, limit = 20): Promise<DrillListEntry[]> {
  const prefix = drillWorkflowIdPrefix(plan.name);
  const out: DrillListEntry[] = [];
  // Region drills and account drills: one report shape, one list.
  for await (const w of client.workflow.list({ query: `WorkflowType = '${DRILL_WORKFLOW_TYPE}' OR WorkflowType = '${ACCOUNT_DRILL_WORKFLOW_TYPE}'` })) {
    if (!w.workflowId.startsWith(prefix)) continue;
    const entry: DrillListEntry = { workflowId: w.workflowId, startedAt: w.startTime.toISOString(), status: w.status.name };
    if (w.status.name === 'COMPLETED') {
      entry.report = await client.workflow
        .getHandle<typeof drillWorkflow>(w.workflowId, w.runId)
        .result()
        .catch(() => undefined);
    }
    out.push(entry);
    if (out.length >= limit) break;
  }
  return out.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** Writes the JSON, Markdown and SVG reports; returns their paths. */
export function writeDrillReports(report: DrillReport, dir: string): { json: string; markdown: string; svg: string } {
  mkdirSync(dir, { recursive: true });
  const base = join(resolve(dir), drillReportBaseName(report));
  const paths = { json: `${base}.json`, markdown: `${base}.md`, svg: `${base}.svg` };
  writeFileSync(paths.json, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(paths.markdown, renderDrillMarkdown(report));
  writeFileSync(paths.svg, renderDrillSvg(report));
  return paths;
}

function exitCodeOfDrill(report: DrillReport): ExitCode {
  return report.outcome === 'passed' ? ExitCode.Ok : report.outcome === 'missed-target' ? ExitCode.NeedsAttention : ExitCode.Failed;
}

export function renderDrillSummary(r: DrillReport, io: Io): void {
  io.out(
    `drill ${r.workflowId}: ${r.outcome.toUpperCase()} — plan ${r.plan}, ${r.recoveryAccountId ? `primary account → account ${r.recoveryAccountId} in ${r.primaryRegion}` : `${r.primaryRegion} → ${r.drRegions.join(', ')}`}, ${r.canaries.length} canaries, took ${formatDuration(r.durationMs)}`,
  );
  io.out(
    `  RTO ${r.rtoMs === undefined ? 'not measured' : formatFigure(r.rtoMs)} (target ${formatDuration(r.rtoTargetMs)}${r.withinTarget === undefined ? '' : r.withinTarget ? ', within target' : ', OVER target'}) · RPO ${r.rpoMs === undefined ? 'not measured' : formatFigure(r.rpoMs)}`,
  );
  if (r.failure) io.out(`  failed at ${r.failure.step}${r.failure.region ? ` in ${r.failure.region}` : ''}: ${r.failure.reason}`);
  io.out(
    `  clean-up: ${r.cleanup.deleted} canary copies deleted, ${r.cleanup.leftoversRemoved} leftovers of earlier drills removed, ${r.cleanup.remaining.length === 0 ? 'nothing left behind' : `LEFT BEHIND: ${r.cleanup.remaining.join(', ')}`}`,
  );
  for (const w of r.warnings) io.out(`  warning: ${w}`);
}

const base = { plan: z.string(), json: z.boolean(), positionals: z.array(z.string()).max(0, { error: 'no arguments expected' }) };

export const drillRunCommand = defineCommand({
  words: ['drill', 'run'],
  summary: 'run a DR drill now on canary secrets (RTO/RPO measured, always cleaned up)',
  examples: [
    'secrets-dr drill run --wait',
    'secrets-dr drill run -f payments.yaml --wait --reports /var/lib/secrets-dr/reports',
    'secrets-dr drill run --account 210987654321 --wait',
  ],
  options: {
    ...PLAN_OPTION,
    account: {
      type: 'string',
      placeholder: 'ACCOUNT_ID',
      description: "drill this recovery account (account DR: cross-account canary replicas promoted there) instead of the plan's DR Regions",
    },
    wait: { type: 'boolean', default: false, description: 'follow the drill to its end and print its report (else: start it and print its id)' },
    reports: {
      type: 'string',
      default: DEFAULT_REPORTS_DIR,
      placeholder: 'DIR',
      description: 'where the drill report (Markdown, SVG timeline, JSON) is written',
    },
  },
  schema: z.object({
    ...base,
    wait: z.boolean(),
    reports: z.string().min(1),
    account: z
      .string()
      .regex(/^\d{12}$/, { error: 'expected a 12-digit AWS account id (quote it in shells that strip leading zeros)' })
      .optional(),
  }),
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    return withTemporal({ worker: true }, async (c) => {
      const t = { client: c.client, prefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX };
      const handle = opts.account ? await startAccountDrill(t, plan, opts.account) : await startDrill(t, plan);
      if (!opts.wait) {
        if (io.json) printJson(io, { workflowId: handle.workflowId, started: true });
        else io.out(`drill ${handle.workflowId} started; follow it with \`secrets-dr drill list\` (or run with --wait)`);
        return ExitCode.Ok;
      }
      const report = await handle.result();
      const paths = writeDrillReports(report, opts.reports);
      if (io.json) printJson(io, { report, files: paths });
      else {
        renderDrillSummary(report, io);
        io.out(`  reports: ${paths.markdown}, ${paths.svg}, ${paths.json}`);
      }
      return exitCodeOfDrill(report);
    });
  },
});

export const drillScheduleCommand = defineCommand({
  words: ['drill', 'schedule'],
  summary: 'schedule DR drills (a Temporal Schedule; overlap skip; updates an existing schedule)',
  examples: ['secrets-dr drill schedule', 'secrets-dr drill schedule --cron "0 3 * * 6"'],
  options: {
    ...PLAN_OPTION,
    cron: { type: 'string', placeholder: 'EXPR', description: "when drills run, a 5-field cron expression (default: the plan's drills.schedule)" },
  },
  schema: z.object({
    ...base,
    cron: z
      .string()
      .superRefine((v, ctx) => {
        const problem = cronProblem(v); // the plan's drills.schedule is checked by the same rule
        if (problem) ctx.addIssue({ code: 'custom', message: `expected a cron expression such as "0 3 * * 6", got "${v}": ${problem}` });
      })
      .optional(),
  }),
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    return withTemporal({}, async (c) => {
      const r = await upsertDrillSchedule({ client: c.client, prefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX }, plan, opts.cron ?? plan.drills.schedule);
      if (io.json) printJson(io, r);
      else {
        io.out(`drill schedule ${r.scheduleId} ${r.created ? 'created' : 'updated'}: "${r.cron}" (overlap: skip, catch-up window ${CATCHUP_WINDOW})`);
        for (const id of r.accountSchedules) io.out(`account drill schedule ${id}: "${r.cron}"`);
      }
      return ExitCode.Ok;
    });
  },
});

export const drillUnscheduleCommand = defineCommand({
  words: ['drill', 'unschedule'],
  summary: "remove the plan's drill schedule",
  examples: ['secrets-dr drill unschedule -f payments.yaml'],
  options: { ...PLAN_OPTION },
  schema: z.object(base),
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    return withTemporal({}, async (c) => {
      const removed = await removeDrillSchedule({ client: c.client, prefix: c.env.SECRETS_DR_TASK_QUEUE_PREFIX }, plan);
      if (io.json) printJson(io, { scheduleId: drillScheduleId(plan.name), removed });
      else io.out(removed ? `drill schedule ${drillScheduleId(plan.name)} removed` : `no drill schedule for plan ${plan.name}`);
      return ExitCode.Ok;
    });
  },
});

export const drillListCommand = defineCommand({
  words: ['drill', 'list'],
  summary: 'past drills: when, result, RTO and RPO against the RTO target',
  examples: ['secrets-dr drill list', 'secrets-dr drill list --json'],
  options: { ...PLAN_OPTION },
  schema: z.object(base),
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    return withTemporal({}, async (c) => {
      const drills = await listDrills(c.client, plan);
      if (io.json) {
        printJson(io, drills);
        return ExitCode.Ok;
      }
      if (drills.length === 0) io.out(`no drills yet for plan ${plan.name} (\`secrets-dr drill run --wait\` or \`secrets-dr drill schedule\`)`);
      const rows = drills.map((d) => {
        const r = d.report;
        return [
          d.startedAt,
          d.workflowId,
          r ? r.outcome : d.status.toLowerCase(),
          formatFigure(r?.rtoMs),
          formatDuration(plan.drills.rtoTarget),
          formatFigure(r?.rpoMs),
          r?.failure ? `${r.failure.step}: ${r.failure.reason.slice(0, 60)}` : '',
        ];
      });
      if (rows.length) for (const l of table(['WHEN', 'DRILL', 'RESULT', 'RTO', 'TARGET', 'RPO', 'FAILURE'], rows)) io.out(l);
      return ExitCode.Ok;
    });
  },
});
