/**
 * `secrets-dr backups list|restore|prune`: the backups secrets-dr took before overwriting or relabelling
 * a secret (invariants 2 and 8; what one holds: domain/backup.ts). All run as workflows: the CLI never
 * reads or writes a value.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { WorkflowFailedError } from '@temporalio/client';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import { backupsWorkflowId, restoreWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import type { RestoreResult } from '../../domain/backup.js';
import { formatDuration, parseDuration } from '../../domain/duration.js';
import type { listBackupsWorkflow, pruneBackupsWorkflow } from '../../workflows/backups.workflow.js';
import type { restoreBackupWorkflow } from '../../workflows/restore.workflow.js';
import { defineCommand, PLAN_ONLY_SCHEMA, PLAN_OPTION } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { printJson, table, type Io } from '../output.js';
import { withTemporal } from '../temporal.js';
import { confirmByRegion, shouldConfirm } from '../confirm.js';
import { restoreLines } from '../confirm-previews.js';
import { loadPrices, PRICES_OPTION } from '../prices-file.js';

/** The innermost message of a failed workflow, as an operator error (exit 1; 2 when it was the input). */
function failed(what: string, err: unknown): never {
  if (err instanceof WorkflowFailedError) {
    let cause = err.cause as (Error & { type?: string; cause?: unknown }) | undefined;
    while (cause?.cause instanceof Error) cause = cause.cause as typeof cause;
    const type = cause?.type;
    const exit = type === ErrorType.UsageError || type === ErrorType.SecretNotFound ? ExitCode.BadInput : ExitCode.Failed;
    throw new OperatorError(
      type === ErrorType.UsageError ? ErrorType.UsageError : ErrorType.AwsRejected,
      `${what} failed: ${cause?.message ?? err.message}`,
      [],
      exit,
    );
  }
  throw err;
}

const age = (createdAt: string | undefined, now: number) =>
  createdAt ? formatDuration(Math.max(0, now - Date.parse(createdAt))).replace(/(\d+[dh]).*$/, '$1') : '-';
const usd = (n: number) => `$${n.toFixed(2)}`;
const warnRegions = (io: Io, errors: Record<string, string>) => {
  for (const [r, e] of Object.entries(errors)) io.err(`warning: ${r} could not be read: ${e}`);
};

export const backupsListCommand = defineCommand({
  words: ['backups', 'list'],
  summary: 'backups of secrets that secrets-dr overwrote or relabelled: origin, Region, reason, age, versions kept, monthly cost',
  examples: ['secrets-dr backups list', 'secrets-dr backups list -f payments.yaml --json'],
  options: { ...PLAN_OPTION, ...PRICES_OPTION },
  schema: PLAN_ONLY_SCHEMA.extend({ prices: z.string().min(1).optional() }),
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    const prices = loadPrices(opts.prices); // a bad price file or override fails before any call
    const price = prices.secretPerMonthUsd;
    return withTemporal({ worker: true }, async (c) => {
      const prefix = c.env.SECRETS_DR_TASK_QUEUE_PREFIX;
      const out = await c.client.workflow.execute<typeof listBackupsWorkflow>('listBackupsWorkflow', {
        taskQueue: workflowTaskQueue(prefix),
        workflowId: backupsWorkflowId(plan.name, randomUUID().slice(0, 8)),
        args: [{ plan, taskQueuePrefix: prefix }],
        workflowExecutionTimeout: '2m',
      });
      const now = Date.now();
      const monthly = out.backups.length * price;
      if (io.json) {
        printJson(io, {
          ...out,
          backups: out.backups.map((b) => ({ ...b, monthlyCostUsd: price })),
          monthlyCostUsd: monthly,
          price: { secretPerMonthUsd: price, asOf: prices.asOf, source: prices.source },
        });
      } else {
        const rows = out.backups.map((b) => [
          b.name,
          b.region,
          b.originName ?? '-',
          b.reason ?? '-',
          age(b.createdAt, now),
          `${b.versionsKept ?? '-'}${b.complete === false ? ' (incomplete)' : ''}`,
          usd(price),
        ]);
        for (const line of table(['BACKUP', 'REGION', 'ORIGIN', 'REASON', 'AGE', 'VERSIONS', '$/MONTH'], rows)) io.out(line);
        warnRegions(io, out.errors);
        io.out(
          `${out.backups.length} backup(s), ${usd(monthly)} per month (${usd(price)} per secret per month, prices of ${prices.asOf}, ${prices.source}; --prices FILE, SECRETS_DR_PRICES or SECRETS_DR_PRICE_SECRET_MONTH override).`,
        );
        io.out('Restore one with `secrets-dr backups restore BACKUP_NAME --dry-run`; delete old ones with `secrets-dr backups prune --older-than 30d`.');
      }
      return Object.keys(out.errors).length ? ExitCode.NeedsAttention : ExitCode.Ok;
    });
  },
});

export const backupsRestoreCommand = defineCommand({
  words: ['backups', 'restore'],
  summary: 'put a backup back under the name of the secret it saved: every labelled version, key, policy, tags, rotation settings',
  args: 'BACKUP_NAME',
  examples: [
    'secrets-dr backups restore secrets-dr-backup/payments/prod/db/2026-12-02T050000Z --dry-run',
    'secrets-dr backups restore secrets-dr-backup/payments/prod/db/2026-12-02T050000Z --region ap-northeast-3 --yes',
  ],
  options: {
    ...PLAN_OPTION,
    yes: { type: 'boolean', short: 'y', default: false, description: 'do not ask for confirmation (without a terminal, restore needs --yes or --dry-run)' },
    'dry-run': { type: 'boolean', default: false, description: 'show what the restore would change, write nothing' },
    region: { type: 'string', placeholder: 'REGION', description: 'the Region of the backup, when its name exists in several Regions' },
  },
  schema: z.object({
    plan: z.string(),
    json: z.boolean(),
    yes: z.boolean(),
    'dry-run': z.boolean(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'expected a Region name such as ap-northeast-3' })
      .optional(),
    positionals: z.tuple([z.string().min(1)], { error: 'expected exactly one BACKUP_NAME (see `secrets-dr backups list`)' }),
  }),
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    const backup = opts.positionals[0];
    const dryRun = opts['dry-run'];
    const ask = !dryRun && shouldConfirm(opts.yes);
    if (!dryRun && !opts.yes && !ask) {
      throw new OperatorError(
        ErrorType.UsageError,
        `restoring ${backup} replaces what the secret it came from holds in its Region (values, labels, key, policy, tags, rotation; a secret that changed since is backed up first; if the name is now our replica, the replica is removed from replication, the primary keeps its value). See what would change with --dry-run; run again with --yes to proceed (on a terminal, it asks instead).`,
      );
    }
    return withTemporal({ worker: true }, async (c) => {
      const prefix = c.env.SECRETS_DR_TASK_QUEUE_PREFIX;
      const restore = async (dry: boolean): Promise<RestoreResult> => {
        try {
          return await c.client.workflow.execute<typeof restoreBackupWorkflow>('restoreBackupWorkflow', {
            taskQueue: workflowTaskQueue(prefix),
            workflowId: dry ? `${restoreWorkflowId(plan.name, backup)}/dry-run/${randomUUID().slice(0, 8)}` : restoreWorkflowId(plan.name, backup),
            workflowIdConflictPolicy: 'USE_EXISTING',
            args: [{ plan, backup, ...(opts.region ? { region: opts.region } : {}), ...(dry ? { dryRun: dry } : {}), taskQueuePrefix: prefix }],
            workflowExecutionTimeout: '10m',
          });
        } catch (err) {
          failed(`restore of ${backup}`, err);
        }
      };
      if (ask) {
        // On a terminal: the dry run's changes, then the operator types the Region of the secret that is replaced.
        const preview = await restore(true);
        await confirmByRegion(io, {
          action: `restore ${backup} over ${preview.secret} in ${preview.region}`,
          regions: [preview.region],
          preview: restoreLines(preview, true),
        });
      }
      const result = await restore(dryRun);
      if (io.json) printJson(io, result);
      else {
        for (const line of restoreLines(result, dryRun)) io.out(line);
        if (dryRun)
          io.out(
            result.plan?.changes.length
              ? `dry run: ${result.plan.changes.length} change(s), nothing written. Run with --yes to restore.`
              : 'dry run: nothing to change.',
          );
        else {
          io.out(
            `${result.secret} (${result.region}) holds ${result.backup} again${result.alreadyRestored ? ' (it already did)' : ''}: AWSCURRENT is version ${result.versionId}.`,
          );
          if (result.removedReplica)
            io.out(
              `note: ${result.region} was removed from the replication of ${result.secret}. A later \`setup\` sees the conflict again: add a per-secret override (policy skip or fail) to keep this secret.`,
            );
          for (const a of result.attention ?? []) io.err(`needs attention: ${a}`);
        }
      }
      return result.attention?.length ? ExitCode.NeedsAttention : ExitCode.Ok;
    });
  },
});

export const backupsPruneCommand = defineCommand({
  words: ['backups', 'prune'],
  summary: 'delete backups older than a duration (recovery window kept; never the only backup of a secret that changed after it)',
  examples: ['secrets-dr backups prune --older-than 30d --dry-run', 'secrets-dr backups prune --older-than 90d'],
  options: {
    ...PLAN_OPTION,
    'older-than': { type: 'string', placeholder: 'DURATION', description: 'delete backups older than this (30d, 12h, 1d12h)' },
    'dry-run': { type: 'boolean', default: false, description: 'list what would be deleted, delete nothing' },
    ...PRICES_OPTION,
  },
  schema: z.object({
    plan: z.string(),
    json: z.boolean(),
    'dry-run': z.boolean(),
    'older-than': z
      .string({ error: 'required: a duration such as 30d or 12h' })
      .refine((s) => (parseDuration(s) ?? 0) > 0, { error: 'expected a positive duration such as 30d, 12h or 1d12h' }),
    prices: z.string().min(1).optional(),
    positionals: z.array(z.string()).max(0, { error: 'this command takes no arguments' }),
  }),
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    const olderThanMs = parseDuration(opts['older-than'])!;
    const dryRun = opts['dry-run'];
    const prices = loadPrices(opts.prices); // a bad price file or override fails before any call
    const price = prices.secretPerMonthUsd;
    return withTemporal({ worker: true }, async (c) => {
      const prefix = c.env.SECRETS_DR_TASK_QUEUE_PREFIX;
      let r;
      try {
        r = await c.client.workflow.execute<typeof pruneBackupsWorkflow>('pruneBackupsWorkflow', {
          taskQueue: workflowTaskQueue(prefix),
          workflowId: backupsWorkflowId(plan.name, `prune-${randomUUID().slice(0, 8)}`),
          args: [{ plan, olderThanMs, ...(dryRun ? { dryRun } : {}), taskQueuePrefix: prefix }],
          workflowExecutionTimeout: '10m',
        });
      } catch (err) {
        failed('prune', err);
      }
      if (io.json) printJson(io, r);
      else {
        const now = Date.now();
        const verb = dryRun ? 'would delete' : 'deleted';
        for (const b of r.removed)
          io.out(`${verb}: ${b.name} (${b.region}, ${age(b.createdAt, now)} old)${b.skipped ? ' — already scheduled for deletion' : ''}`);
        for (const k of r.kept) if (k.why !== 'younger than the threshold') io.out(`kept: ${k.backup.name} (${k.backup.region}): ${k.why}`);
        for (const f of r.failed) io.err(`not deleted: ${f.name} (${f.region}): ${f.reason}`);
        warnRegions(io, r.errors);
        io.out(
          `${dryRun ? 'dry run: would delete' : 'deleted'} ${r.removed.length} backup(s)${dryRun ? '' : ' with the normal recovery window (RestoreSecret brings one back within it)'}, saving ${usd(r.removed.length * price)} per month; ${r.kept.length} kept.`,
        );
      }
      return r.failed.length || Object.keys(r.errors).length ? ExitCode.NeedsAttention : ExitCode.Ok;
    });
  },
});
