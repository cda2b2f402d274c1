/**
 * `secrets-dr setup`: replicate the plan's secrets (the replicate workflow). One setup per plan at a
 * time: a second `setup` attaches to the running one. Progress from the workflow's `progress`
 * query (a bar on a terminal, JSON lines with --json), then the per-secret outcome table.
 * Exit: 0 all InSync · 3 some need attention · 4 waiting for approval (without --wait) · 1 failed.
 */
import { z } from 'zod';
import { WorkflowFailedError } from '@temporalio/client';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import { costText } from '../../domain/cost.js';
import { setupPreview, setupPreviewText } from '../../domain/setup-preview.js';
import { loadPrices, PRICES_OPTION } from '../prices-file.js';
import { fetchStatus } from './status.js';
import { costOfReport } from './plan.js';
import { formatDuration } from '../../domain/duration.js';
import { setupWorkflowId } from '../../domain/ids.js';
import type { Plan } from '../../domain/plan.js';
import type { SetupProgress, SetupReport } from '../../domain/replication.js';
import { defineCommand, PLAN_OPTION } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { printJson, table, type Io } from '../output.js';
import { oneRunPerId, requireWorker, type Connected, withTemporal } from '../temporal.js';
import type { replicateWorkflow } from '../../workflows/replicate.workflow.js';
import { confirmByRegion, shouldConfirm } from '../confirm.js';
import { setupConfirmLines, setupMayOverwrite, setupOverwrites } from '../confirm-previews.js';
import { setupProgressQuery } from '../../workflows/setup.messages.js';

const POLL_MS = 500;

function bar(p: SetupProgress): string {
  const width = 30;
  const filled = p.total === 0 ? 0 : Math.round((p.done / p.total) * width);
  const counts = Object.entries(p.counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} ${p.phase}${counts ? ` (${counts})` : ''}${p.awaitingApproval.length ? ` · ${p.awaitingApproval.length} awaiting approval` : ''}`;
}

export function renderSetup(report: SetupReport, io: Io): void {
  io.out(
    `setup of plan ${report.plan}: ${report.primaryRegion} → ${report.drRegions.join(', ')} in ${formatDuration(report.durationMs)} (workflow ${report.workflowId})`,
  );
  io.out('');
  const rows = report.outcomes.map((o) => {
    const notes: string[] = [];
    if (o.reason) notes.push(o.reason);
    if (o.detail) notes.push(o.detail);
    if (o.lagMs !== undefined && o.action !== 'none') notes.push(`lag ${formatDuration(o.lagMs)}`);
    if (o.backup) notes.push(`backup ${o.backup}`);
    if (o.arnChange) notes.push(`ARN changed ${o.arnChange.from} → ${o.arnChange.to} (update consumers that pin the old ARN)`);
    return [o.secret, o.region, o.state, o.action, notes.join('; ')];
  });
  for (const line of table(['SECRET', 'REGION', 'STATE', 'ACTION', 'NOTES'], rows)) io.out(line);
  if (report.omittedOutcomes) io.out(`… ${report.omittedOutcomes} more (InSync) not listed: a large fleet's report lists those that need attention`);
  io.out('');
  io.out(
    Object.entries(report.counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ') || 'no secrets in the plan',
  );
  io.out(report.attention === 0 ? 'all secrets protected.' : `${report.attention} secret(s) need attention.`);
}

/** Starts setup (or attaches to the running one) and follows it. */
export async function runSetup(c: Connected, plan: Plan, io: Io, opts: { wait: boolean }): Promise<{ code: ExitCode; report?: SetupReport }> {
  await requireWorker(c);
  const prefix = c.env.SECRETS_DR_TASK_QUEUE_PREFIX;
  const handle = await c.client.workflow.start<typeof replicateWorkflow>('replicateWorkflow', {
    ...oneRunPerId(c, setupWorkflowId(plan.name)),
    args: [{ plan, taskQueuePrefix: prefix }],
  });
  const result = handle.result().then(
    (r) => ({ ok: true as const, r }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  let settled: Awaited<typeof result> | undefined;
  void result.then((s) => (settled = s));
  let lastLine = '';
  while (!settled) {
    const p = await handle.query(setupProgressQuery).catch(() => undefined);
    if (p) {
      if (io.json) io.out(JSON.stringify({ progress: p }));
      else if (io.tty) process.stderr.write(`\r${bar(p)}`);
      else if (bar(p) !== lastLine) io.err(bar(p));
      lastLine = bar(p);
      if (!opts.wait && p.awaitingApproval.length > 0) {
        if (io.tty) process.stderr.write('\n');
        const waiting = p.awaitingApproval.map(
          (a) => `  ${a.secret} (${a.region}): secrets-dr approve ${a.workflowId}   |   secrets-dr reject ${a.workflowId} --reason TEXT`,
        );
        if (io.json) io.out(JSON.stringify({ awaitingApproval: p.awaitingApproval, workflowId: handle.workflowId }));
        else
          io.out(
            [
              'setup is waiting for approval to overwrite same-named secrets (a backup is taken first):',
              ...waiting,
              `follow it with \`secrets-dr setup --wait -f ${'PLAN'}\``,
            ].join('\n'),
          );
        return { code: ExitCode.AwaitingApproval };
      }
    }
    await Promise.race([result, new Promise((r) => setTimeout(r, POLL_MS))]);
  }
  if (io.tty) process.stderr.write('\n');
  if (!settled.ok) {
    const err = settled.err;
    const msg = err instanceof WorkflowFailedError ? `${err.message}: ${(err.cause as Error | undefined)?.message ?? ''}` : (err as Error).message;
    if (io.json) io.out(JSON.stringify({ error: { type: 'SetupFailed', message: msg } }));
    else io.err(`error: setup failed: ${msg}`);
    return { code: ExitCode.Failed };
  }
  const report = settled.r;
  return { code: report.attention === 0 ? ExitCode.Ok : ExitCode.NeedsAttention, report };
}

/** Says, before setup starts, which replicas would get the AWS managed key instead of a customer managed one (best effort). */
async function warnKeyDowngrades(c: Connected, plan: Plan, io: Io): Promise<void> {
  const report = await fetchStatus(c, plan).catch(() => undefined);
  if (!report) return;
  const preview = setupPreview(plan, report);
  if (preview.keyDowngrades.length === 0) return;
  const lines = setupPreviewText({ ...preview, regions: [] }).slice(1);
  if (io.json) io.out(JSON.stringify({ warning: { keyDowngrades: preview.keyDowngrades } }));
  else for (const line of lines) io.err(line);
}

export const setupCommand = defineCommand({
  words: ['setup'],
  summary: 'replicate the plan’s secrets into every DR Region, resolving same-named secrets by policy',
  examples: ['secrets-dr setup --wait', 'secrets-dr setup --dry-run', 'secrets-dr setup -f payments.yaml --yes --json'],
  options: {
    ...PLAN_OPTION,
    wait: { type: 'boolean', default: false, description: 'follow setup to its end, also through approval gates (else: exit 4 at a gate)' },
    yes: {
      type: 'boolean',
      short: 'y',
      default: false,
      description: 'do not ask to type the DR Region before a conflict policy that overwrites runs (asked only on a terminal)',
    },
    'dry-run': {
      type: 'boolean',
      default: false,
      description: "change nothing: print what setup would replicate per Region, key warnings and the plan's monthly cost",
    },
    ...PRICES_OPTION,
  },
  schema: z.object({
    plan: z.string(),
    json: z.boolean(),
    wait: z.boolean(),
    yes: z.boolean(),
    'dry-run': z.boolean().default(false),
    prices: z.string().min(1).optional(),
    positionals: z.array(z.string()).max(0, { error: 'setup takes no arguments' }),
  }),
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    if (opts['dry-run']) {
      const prices = loadPrices(opts.prices);
      return withTemporal({}, async (c) => {
        const report = await fetchStatus(c, plan); // read-only: ListSecrets per Region
        const preview = setupPreview(plan, report);
        const cost = costOfReport(plan, report, prices);
        if (io.json) printJson(io, { dryRun: true, plan: plan.name, preview, cost });
        else for (const line of [...setupPreviewText(preview), ...costText(cost)]) io.out(line);
        return ExitCode.Ok;
      });
    }
    if (opts.prices !== undefined)
      throw new OperatorError(
        ErrorType.UsageError,
        '--prices only applies with --dry-run (setup prints the cost only in a dry run); add --dry-run or leave --prices out',
      );
    return withTemporal({}, async (c) => {
      await warnKeyDowngrades(c, plan, io);
      if (setupMayOverwrite(plan) && shouldConfirm(opts.yes)) {
        // On a terminal, before a policy replaces same-named secrets: what status sees, then the Region(s) typed.
        const status = await fetchStatus(c, plan);
        const overwrites = setupOverwrites(plan, status);
        if (overwrites.length)
          await confirmByRegion(io, { action: 'run setup', regions: overwrites.map((o) => o.region), preview: setupConfirmLines(plan, status, overwrites) });
      }
      const { code, report } = await runSetup(c, plan, io, { wait: opts.wait });
      if (report) {
        if (io.json) io.out(JSON.stringify({ report }));
        else renderSetup(report, io);
      }
      return code;
    });
  },
});
