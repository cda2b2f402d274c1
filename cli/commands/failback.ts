/**
 * `secrets-dr failback [--reverse] [--yes] [--approve] [--dry-run] [--wait] [--json] [--write-plan] [-f PLAN]`:
 * on a terminal without --yes, shows the dry run's decisions and asks for the Region; then starts (or attaches to: one failback per plan, USE_EXISTING) the failback workflow and follows
 * it like `failover` (a progress line; `--json` streams JSON lines), then prints the per-secret
 * decisions and outcomes. `--reverse --write-plan` edits the plan file (comments kept) so the DR
 * Region becomes its primaryRegion.
 * Exit codes: 0 done (or dry run, or started) · 1 failed/rejected · 2 bad input · 3 finished, some
 * secrets need attention · 4 waiting for approval (without --wait).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { z } from 'zod';
import { isMap, isSeq, parseDocument } from 'yaml';
import type { WorkflowHandle } from '@temporalio/client';
import { ExitCode } from '../../domain/errors.js';
import { formatDuration } from '../../domain/duration.js';
import { type FailbackInput, type FailbackProgress, type FailbackReport, type PlanChange } from '../../domain/failback.js';
import { failbackWorkflowId } from '../../domain/ids.js';
import { defineCommand, PLAN_OPTION } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { printJson, table, type Io } from '../output.js';
import { oneRunPerId, type Connected, withTemporal } from '../temporal.js';
import { confirmByRegion, shouldConfirm } from '../confirm.js';
import { failbackPreview } from '../confirm-previews.js';
import { follow, type FollowSpec } from '../follow.js';
import type { failbackWorkflow } from '../../workflows/failback.workflow.js';
import { failbackProgressQuery } from '../../workflows/failback.messages.js';

function failbackExitCode(r: FailbackReport): ExitCode {
  if (r.outcome === 'done') return ExitCode.Ok;
  if (r.outcome === 'dry-run') return r.problems.length ? ExitCode.Failed : ExitCode.Ok;
  if (r.outcome === 'partial') return ExitCode.NeedsAttention;
  return ExitCode.Failed;
}

const WOULD: Record<string, string> = {
  replicate: 're-replicate (values agree)',
  'copy-back': 'copy the DR value back, then re-replicate',
  'keep-original': "keep the original's value, re-replicate over the DR secret",
  ask: 'ask (approval per secret)',
  reverse: 'back up the original, replicate into it from the DR Region',
  verify: 'verify only (already replicated)',
  skip: 'skip',
};

export function renderFailbackReport(r: FailbackReport, io: Io): void {
  if (io.json) {
    printJson(io, r);
    return;
  }
  const direction = r.reverse ? `${r.to} stays primary, replicating into ${r.from}` : `${r.to} → ${r.from}`;
  if (r.outcome === 'dry-run') io.out(`dry run: failback of plan ${r.plan} (${direction}) — nothing was changed`);
  else io.out(`failback ${r.workflowId}: ${r.outcome.toUpperCase()} — plan ${r.plan}, ${direction}${r.detail ? `: ${r.detail}` : ''}`);
  // Every failover since the last failback is reconciled, not only the latest.
  for (const f of r.failovers ?? [])
    io.out(
      `  failover ${f.failoverId} to ${f.region}${f.from ? ` (from ${f.from})` : ''}: ${f.secrets} secret(s) reconciled against it${f.hmacs ? '' : ' (lineage without HMACs)'}`,
    );
  const regions = new Set(r.items.map((i) => i.dr).filter(Boolean));
  const rows = r.items.map((i) => {
    const notes = [
      i.backupOriginal ? `back up the stray value in ${r.from}` : undefined,
      i.backupOverwritten ? `back up the secret in ${r.reverse ? r.from : r.to} first` : undefined,
      i.copiedBack ? 'copied back' : undefined,
      i.hmacMatch ? 'same value both sides (HMAC)' : undefined,
      regions.size > 1 && i.dr ? `promoted in ${i.dr}` : undefined,
      (r.failovers?.length ?? 0) > 1 && i.failoverId ? `since failover ${i.failoverId}` : undefined,
      i.targetFenced && i.status !== 'verified' ? `failback's deny-writes fence still on the copy in ${r.reverse ? r.from : (i.dr ?? r.to)}` : undefined,
      i.kmsKeyId ? `replica key ${i.kmsKeyId}` : undefined,
      ...(i.backups ?? []).map((b) => `backup ${b}`),
      i.reason,
    ].filter(Boolean);
    return [i.name, i.change, r.outcome === 'dry-run' ? (WOULD[i.resolution] ?? i.resolution) : i.resolution, i.status, notes.join('; ')];
  });
  for (const line of table(['SECRET', 'CHANGED', r.outcome === 'dry-run' ? 'WOULD' : 'RESOLUTION', 'STATUS', 'NOTES'], rows)) io.out(line);
  if (r.items.length < r.total) io.out(`... and ${r.total - r.items.length} more (--json)`);
  io.out(
    `  ${
      Object.entries(r.counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ') || 'no secrets'
    } (of ${r.total})`,
  );
  io.out(
    `  writes in the shared 50 TPS bucket: ${r.writes.expected} (at least ${formatDuration(r.writes.expectedMs)} at the plan's writeQuotaShare)${r.outcome === 'dry-run' ? '' : `; took ${formatDuration(r.durationMs)}`}`,
  );
  if (r.rotation) io.out(`  rotation: ${r.rotation.detail}`);
  if (r.unfenced !== undefined) io.out(`  unfenced: ${r.unfenced} secret(s) in ${r.from}`);
  if (r.planChange) io.out(`  plan change: ${r.planChange.note}`);
  for (const p of r.problems) io.out(`problem: ${p}`);
  for (const w of r.warnings) io.out(`warning: ${w}`);
}

/** Edits the plan file for --reverse: primaryRegion ↔ the DR Region, comments and layout kept. */
export function applyReversePlanChange(text: string, change: PlanChange): string {
  const doc = parseDocument(text);
  doc.set('primaryRegion', change.primaryRegion.to);
  // KMS keys are regional: each key follows its Region.
  if (change.primaryKmsKeyId) doc.set('primaryKmsKeyId', change.primaryKmsKeyId);
  else doc.delete('primaryKmsKeyId');
  const drs = doc.get('drRegions');
  if (isSeq(drs)) {
    for (const item of drs.items) {
      if (isMap(item) && item.get('region') === change.drRegion.from) {
        item.set('region', change.drRegion.to);
        if (change.drRegion.kmsKeyId) item.set('kmsKeyId', change.drRegion.kmsKeyId);
        else item.delete('kmsKeyId');
      }
    }
  }
  return doc.toString();
}

function progressLine(p: FailbackProgress): string {
  const done = (p.counts.verified ?? 0) + (p.counts.failed ?? 0) + (p.counts.skipped ?? 0);
  const width = 30;
  const filled = p.total > 0 ? Math.round((done / p.total) * width) : 0;
  const counts = Object.entries(p.counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  const state = p.paused ? 'PAUSED' : p.cancelRequested ? `${p.step} (cancelling)` : p.step;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${state}${counts ? ` · ${counts}` : ''}${p.pendingAsks.length ? ` · ${p.pendingAsks.length} waiting for an answer` : ''}`;
}

/** How `follow` shows a failback: progress bar, the fleet-wide gate and the per-secret asks, the report. */
export const failbackFollow: FollowSpec<typeof failbackWorkflow, FailbackProgress> = {
  noun: 'failback',
  progressQuery: failbackProgressQuery,
  line: progressLine,
  gates: (p) => (p.step === 'awaitingApproval' ? [''] : p.pendingAsks.map((a) => a.subject)),
  render: renderFailbackReport,
  exitCode: failbackExitCode,
};

const who = () => {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
};

export async function startFailback(c: Connected, input: FailbackInput): Promise<WorkflowHandle<typeof failbackWorkflow>> {
  const id = input.dryRun ? `${failbackWorkflowId(input.plan.name)}/dry-run/${randomUUID().slice(0, 8)}` : failbackWorkflowId(input.plan.name);
  // One failback per plan: a second one attaches.
  return c.client.workflow.start<typeof failbackWorkflow>('failbackWorkflow', { ...oneRunPerId(c, id), args: [input] });
}

export const failbackCommand = defineCommand({
  words: ['failback'],
  summary: 'make the original primary authoritative again: reconcile what changed, then re-replicate (nothing lost)',
  examples: ['secrets-dr failback --dry-run', 'secrets-dr failback --wait', 'secrets-dr failback --reverse --write-plan --wait'],
  options: {
    ...PLAN_OPTION,
    reverse: { type: 'boolean', default: false, description: 'keep the DR Region as the primary and replicate back into the old one' },
    yes: {
      type: 'boolean',
      short: 'y',
      default: false,
      description: 'do not ask to type the Region (asked only on a terminal); the approval gate still waits',
    },
    approve: { type: 'boolean', default: false, description: "answer the plan's approval gate now; without it the gate waits for `secrets-dr approve`" },
    'dry-run': { type: 'boolean', default: false, description: 'show the per-secret decisions and the writes it would take; change nothing' },
    wait: { type: 'boolean', default: false, description: 'follow the failback to its end, also through approval gates (else: exit 4 at a gate)' },
    'write-plan': { type: 'boolean', default: false, description: 'with --reverse: edit the plan file so the DR Region becomes primaryRegion (comments kept)' },
    'failover-id': {
      type: 'string',
      placeholder: 'ID',
      description: "reconcile only this failover run's promotions (default: every failover since the last failback)",
    },
  },
  schema: z
    .object({
      plan: z.string(),
      reverse: z.boolean(),
      yes: z.boolean(),
      approve: z.boolean(),
      'dry-run': z.boolean(),
      wait: z.boolean(),
      'write-plan': z.boolean(),
      'failover-id': z.string().optional(),
      json: z.boolean(),
      positionals: z.array(z.string()).max(0, { error: 'failback takes no positional arguments' }),
    })
    .refine((o) => !o['write-plan'] || o.reverse, {
      error: '--write-plan only makes sense with --reverse (the plan changes only when the DR Region stays primary)',
      path: ['write-plan'],
    }),
  async run(opts, io) {
    const { plan, path } = loadPlanFile(opts.plan);
    const input: FailbackInput = {
      plan,
      reverse: opts.reverse,
      dryRun: opts['dry-run'],
      skipApproval: opts.approve,
      requestedBy: who(),
      ...(opts['failover-id'] ? { failoverId: opts['failover-id'] } : {}),
    };
    return withTemporal({ worker: true }, async (conn) => {
      input.taskQueuePrefix = conn.env.SECRETS_DR_TASK_QUEUE_PREFIX;
      if (!input.dryRun && shouldConfirm(opts.yes)) {
        // On a terminal: the dry run's decisions, then the operator types the Region that gets written.
        const preview = await (await startFailback(conn, { ...input, dryRun: true })).result();
        await confirmByRegion(io, {
          action: `fail back into ${preview.from}`,
          regions: [preview.from],
          preview: failbackPreview(preview, plan, opts.approve, WOULD),
        });
      }
      const handle = await startFailback(conn, input);
      const say = (l: string) => (io.json ? io.err(l) : io.out(l));
      if (!input.dryRun)
        say(`failback ${handle.workflowId} started (${opts.reverse ? 'reverse: the DR Region stays primary' : `back to ${plan.primaryRegion}`})`);
      const { code, report } = await follow(handle, failbackFollow, io, { wait: opts.wait });
      if (report?.planChange && (report.outcome === 'done' || report.outcome === 'partial')) {
        if (opts['write-plan']) {
          writeFileSync(path, applyReversePlanChange(readFileSync(path, 'utf8'), report.planChange));
          say(`plan ${path} updated: primaryRegion ${report.planChange.primaryRegion.from} → ${report.planChange.primaryRegion.to}`);
        } else {
          say(`make this change to ${path} (or re-run with --write-plan): ${report.planChange.note}`);
        }
      }
      return code;
    });
  },
});
