/**
 * `secrets-dr failover --to REGION [--mode planned|unplanned] [--reason TEXT] [--rotation-wait DURATION] [--yes] [--approve] [--dry-run] [--wait]`:
 * on a terminal without --yes, shows the dry run's figures and asks for the Region (cli/confirm.ts); then starts (or attaches to: one failover per plan, USE_EXISTING) the failover workflow.
 * Exit codes: 0 done (or started) · 1 failed/rejected · 2 bad input · 3 finished, some secrets need
 * attention · 4 waiting for approval (without --wait).
 */
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { z } from 'zod';
import type { WorkflowHandle } from '@temporalio/client';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import { formatDuration, parseDuration } from '../../domain/duration.js';
import { DEFAULT_ROTATION_WAIT_MS, type FailoverInput, type FailoverProgress, type FailoverReport } from '../../domain/failover.js';
import type { failoverWorkflow } from '../../workflows/failover.workflow.js';
import { failoverProgressQuery } from '../../workflows/failover.messages.js';
import { failoverWorkflowId } from '../../domain/ids.js';
import { FailoverMode } from '../../domain/plan.js';
import { defineCommand, PLAN_OPTION } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { printJson, table, type Io } from '../output.js';
import { oneRunPerId, type Connected, withTemporal } from '../temporal.js';
import { confirmByRegion, shouldConfirm } from '../confirm.js';
import { failoverPreview } from '../confirm-previews.js';
import { runAccountFailover } from './account.js';
import { approvalHint, follow, type FollowSpec } from '../follow.js';

function exitCodeOf(report: FailoverReport): ExitCode {
  switch (report.outcome) {
    case 'done':
    case 'dry-run':
      return ExitCode.Ok;
    case 'partial':
      return ExitCode.NeedsAttention;
    default:
      return ExitCode.Failed;
  }
}

const c = (n: number) => String(n);
/** Up to this many secrets, the report prints one line per secret (all of them are in --json up to 2,000). */
const SECRET_TABLE_LIMIT = 100;

export function renderFailoverReport(r: FailoverReport, io: Io): void {
  if (io.json) {
    printJson(io, r);
    return;
  }
  if (r.outcome === 'dry-run') {
    io.out(`dry run: failover of plan ${r.plan} from ${r.from} to ${r.to} (${r.mode}) — nothing was changed`);
    const rows = (r.preview ?? []).map((i) => [
      i.name,
      String(i.group),
      i.action === 'promote' ? 'promote (StopReplicationToReplica)' : i.action,
      [i.reason, i.lagging ? 'replica behind its primary' : undefined].filter(Boolean).join('; '),
    ]);
    for (const line of table(['SECRET', 'GROUP', 'WOULD', 'NOTE'], rows)) io.out(line);
    if ((r.preview?.length ?? 0) < r.total) io.out(`... and ${r.total - (r.preview?.length ?? 0)} more`);
  } else {
    io.out(`failover ${r.workflowId}: ${r.outcome.toUpperCase()} — plan ${r.plan}, ${r.from} → ${r.to} (${r.mode})${r.detail ? `: ${r.detail}` : ''}`);
    io.out(
      `  ${c(r.counts.promoted)} promoted, ${c(r.counts.alreadyStandalone)} already standalone, ${c(r.counts.failed)} failed, ${c(r.counts.skipped)} skipped (of ${r.total})`,
    );
    io.out(
      `  took ${formatDuration(r.durationMs)}${r.rtoMs !== undefined ? `, RTO ${formatDuration(r.rtoMs)}` : ''} (expected from the quota: ${formatDuration(r.expectedMs)})`,
    );
    io.out(
      `  fence: ${r.fence.state}${r.fence.fenced ? ` (${r.fence.fenced} fenced)` : ''}${r.fence.detail ? ` — ${r.fence.detail}` : ''}${r.fence.handedTo ? ` → ${r.fence.handedTo}` : ''}`,
    );
    if (r.runs?.length)
      io.out(
        `  standalone in ${r.to}, by failover run: ${r.runs.map((x) => `${x.failoverId}${x.failoverId === r.failoverId ? ' (this run)' : ''}: ${x.promoted}`).join(', ')}`,
      );
    if (r.rotation) io.out(`  rotation: ${r.rotation.detail}`);
    if (r.lineage)
      io.out(
        `  lineage: ${r.lineage.records} record(s) under ${r.lineage.prefix} in ${r.to}${r.lineage.hmacs ? '' : ` — ${r.lineage.detail ?? 'without HMACs'}`}`,
      );
    if (r.outcomes?.length && r.outcomes.length <= SECRET_TABLE_LIMIT) {
      const rows = r.outcomes.map((o) => [o.name, o.status, o.by ? `${o.by}${o.by === r.failoverId ? ' (this run)' : ''}` : '-', o.fence ?? '-']);
      for (const line of table(['SECRET', 'DONE', 'PROMOTED BY RUN', `FENCE IN ${r.from}`], rows)) io.out(`  ${line}`);
    }
    if (r.attention.length) {
      io.out(`  ${r.attention.length} secret(s) need attention:`);
      for (const o of r.attention.slice(0, 50)) {
        io.out(`    ${o.name}: ${o.status}${o.by ? ` by ${o.by}` : ''}${o.reason ? ` — ${o.reason}` : ''}`);
        for (const step of o.remains ?? []) io.out(`      - ${step}`);
      }
      if (r.attention.length > 50) io.out(`    ... and ${r.attention.length - 50} more (--json for all)`);
    }
  }
  io.out(`expected promotion time from the quota: ${formatDuration(r.expectedMs)}`);
  for (const p of r.problems) io.out(`problem: ${p}`);
  for (const w of r.warnings) io.out(`warning: ${w}`);
}

function progressLine(p: FailoverProgress): string {
  const done = p.counts.promoted + p.counts.alreadyStandalone;
  const width = 30;
  const filled = p.total > 0 ? Math.round((p.processed / p.total) * width) : 0;
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const state = p.paused ? 'PAUSED' : p.cancelRequested ? 'cancelling' : p.step;
  const eta = p.etaMs !== undefined ? `, ETA ${formatDuration(p.etaMs)}` : '';
  const failed = p.counts.failed ? `, ${p.counts.failed} failed` : '';
  return `${bar} ${done}/${p.total} standalone${failed} · ${p.ratePerSecond}/s${eta} · ${state}`;
}

/** How `follow` shows a failover: progress bar, the approval gate, the report. */
export const failoverFollow: FollowSpec<typeof failoverWorkflow, FailoverProgress> = {
  noun: 'failover',
  progressQuery: failoverProgressQuery,
  line: progressLine,
  gates: (p) => (p.step === 'awaitingApproval' ? [''] : []),
  render: renderFailoverReport,
  exitCode: exitCodeOf,
  quietMs: 5_000,
};

const who = () => {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
};

export async function startFailover(c: Connected, input: FailoverInput): Promise<{ handle: WorkflowHandle<typeof failoverWorkflow>; attached: boolean }> {
  const id = input.dryRun ? `${failoverWorkflowId(input.plan.name)}/dry-run/${randomUUID().slice(0, 8)}` : failoverWorkflowId(input.plan.name);
  const before = Date.now();
  // One failover per plan: a second trigger attaches to the running one.
  const handle = await c.client.workflow.start<typeof failoverWorkflow>('failoverWorkflow', { ...oneRunPerId(c, id), args: [input] });
  const started = (await handle.describe()).startTime.getTime();
  return { handle, attached: started < before - 2_000 };
}

export const failoverCommand = defineCommand({
  words: ['failover'],
  args: '(--to REGION | --to-account ACCOUNT_ID)',
  summary: "promote the DR Region's replicas to standalone secrets (runbook)",
  examples: [
    'secrets-dr failover --to ap-northeast-3 --dry-run',
    'secrets-dr failover --to ap-northeast-3 --mode unplanned --reason "Tokyo outage" --wait',
    'secrets-dr failover --to-account 210987654321 --reason "primary account compromised" --wait   (account DR; --dry-run first)',
  ],
  options: {
    ...PLAN_OPTION,
    to: { type: 'string', placeholder: 'REGION', description: 'the DR Region whose replicas become standalone secrets' },
    'to-account': {
      type: 'string',
      placeholder: 'ACCOUNT_ID',
      description: "account DR: promote the recovery account's cross-account replicas instead (the primary account is the disaster)",
    },
    mode: {
      type: 'string',
      description:
        "planned: fence and catch up first (old primary reachable); unplanned: promote now (default: the plan's failover.mode; with --to-account: the probe decides, and a primary account that refuses our credentials needs --mode unplanned)",
    },
    reason: { type: 'string', placeholder: 'TEXT', description: 'why, kept in the history, events and lineage' },
    'rotation-wait': {
      type: 'string',
      placeholder: 'DURATION',
      description: `planned: how long to wait for a rotation in flight before refusing that secret (default ${formatDuration(DEFAULT_ROTATION_WAIT_MS)})`,
    },
    yes: {
      type: 'boolean',
      short: 'y',
      default: false,
      description: 'do not ask to type the Region (asked only on a terminal); the approval gate still waits',
    },
    approve: {
      type: 'boolean',
      default: false,
      description: "answer the plan's approval gate now (requireApproval); without it the gate waits for `secrets-dr approve`",
    },
    'dry-run': { type: 'boolean', default: false, description: 'show what would be promoted, per secret and group, and the expected time; change nothing' },
    wait: { type: 'boolean', default: false, description: 'follow the failover to its end (else: exit 4 at the approval gate, 0 once it runs)' },
  },
  schema: z.object({
    plan: z.string(),
    to: z.string().min(1).optional(),
    'to-account': z
      .string()
      .regex(/^\d{12}$/, { error: 'expected a 12-digit AWS account id (a recovery account of the plan)' })
      .optional(),
    mode: FailoverMode.optional(),
    reason: z.string().max(1_000).optional(),
    // Planned mode: how long to wait for a rotation in flight on the old primary before refusing to promote that secret.
    'rotation-wait': z
      .string()
      .optional()
      .transform((text, ctx) => {
        if (text === undefined) return undefined;
        const ms = parseDuration(text);
        if (ms === undefined || ms > 86_400_000) {
          ctx.addIssue({
            code: 'custom',
            message: `"${text}" is not a duration up to 1d; write it like "5m" (units ms, s, m, h, d; default ${formatDuration(DEFAULT_ROTATION_WAIT_MS)})`,
          });
          return z.NEVER;
        }
        return ms;
      }),
    yes: z.boolean(),
    approve: z.boolean(),
    'dry-run': z.boolean(),
    wait: z.boolean(),
    json: z.boolean(),
    positionals: z.array(z.string()).max(0, { error: 'failover takes no positional arguments' }),
  }),
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    if ((opts.to === undefined) === (opts['to-account'] === undefined)) {
      throw new OperatorError(
        ErrorType.UsageError,
        'say where to fail over: --to REGION (a DR Region of the plan) or --to-account ACCOUNT_ID (a recovery account of the plan), not both',
      );
    }
    if (opts['to-account'] !== undefined) {
      return runAccountFailover(
        plan,
        {
          accountId: opts['to-account'],
          mode: opts.mode,
          rotationWaitMs: opts['rotation-wait'],
          reason: opts.reason,
          approve: opts.approve,
          wait: opts.wait,
          dryRun: opts['dry-run'],
          yes: opts.yes,
        },
        io,
      );
    }
    if (opts.to === undefined) throw new OperatorError(ErrorType.UsageError, 'say where to fail over: --to REGION');
    if (!plan.drRegions.some((d) => d.region === opts.to)) {
      throw new OperatorError(
        ErrorType.UsageError,
        `--to ${opts.to}: not a DR Region of plan ${plan.name} (DR Regions: ${plan.drRegions.map((d) => d.region).join(', ')})`,
      );
    }
    const input: FailoverInput = {
      plan,
      to: opts.to,
      mode: opts.mode ?? plan.failover.mode,
      reason: opts.reason,
      requestedBy: who(),
      skipApproval: opts.approve,
      dryRun: opts['dry-run'],
      ...(opts['rotation-wait'] !== undefined ? { rotationWaitMs: opts['rotation-wait'] } : {}),
    };
    return withTemporal({ worker: true }, async (conn) => {
      input.taskQueuePrefix = conn.env.SECRETS_DR_TASK_QUEUE_PREFIX;
      if (!input.dryRun && shouldConfirm(opts.yes)) {
        // On a terminal, the operator sees the dry run's figures and types the Region before anything starts.
        const preview = await (await startFailover(conn, { ...input, dryRun: true })).handle.result();
        await confirmByRegion(io, { action: `fail over to ${input.to}`, regions: [input.to], preview: failoverPreview(preview, plan, opts.approve) });
      }
      const { handle, attached } = await startFailover(conn, input);
      const say = (l: string) => (io.json ? io.err(l) : io.out(l));
      if (input.dryRun) {
        const report = await handle.result();
        renderFailoverReport(report, io);
        return report.problems.length ? ExitCode.Failed : ExitCode.Ok;
      }
      if (attached) say(`a failover of plan ${plan.name} is already running: attached to ${handle.workflowId} (its own --to/--mode apply)`);
      else say(`failover ${handle.workflowId} started: ${plan.primaryRegion} → ${input.to} (${input.mode})`);
      if (opts.wait) return (await follow(handle, failoverFollow, io)).code;
      // Without --wait: report where it stands after preflight (approval gate → exit 4).
      const deadline = Date.now() + 15_000;
      for (;;) {
        const p = await handle.query(failoverProgressQuery).catch(() => undefined);
        if (p?.step === 'awaitingApproval') {
          say(approvalHint(handle.workflowId, ''));
          return ExitCode.AwaitingApproval;
        }
        const d = await handle.describe();
        if (d.status.name !== 'RUNNING') {
          const report = await handle.result();
          renderFailoverReport(report, io);
          return exitCodeOf(report);
        }
        if ((p && p.step !== 'preflight') || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 300));
      }
      say(`follow it with: secrets-dr watch ${handle.workflowId}   (pause/resume/cancel ${handle.workflowId})`);
      if (io.json) printJson(io, { workflowId: handle.workflowId, attached });
      return ExitCode.Ok;
    });
  },
});
