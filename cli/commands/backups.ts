/**
 * `secrets-dr backups list|restore`: the backups setup took before overwriting same-named secrets
 * (invariant 2). Both run as workflows: the CLI never reads or writes a value.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { WorkflowFailedError } from '@temporalio/client';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import { backupsWorkflowId, restoreWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import type { BackupInfo, RestoreResult } from '../../domain/replication.js';
import { defineCommand, PLAN_ONLY_SCHEMA, PLAN_OPTION } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { printJson, table } from '../output.js';
import { withTemporal } from '../temporal.js';

export const backupsListCommand = defineCommand({
  words: ['backups', 'list'],
  summary: 'backups of same-named secrets that setup overwrote (per Region)',
  usage: 'secrets-dr backups list [-f PLAN] [--json]',
  options: { ...PLAN_OPTION },
  schema: PLAN_ONLY_SCHEMA,
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    return withTemporal({ worker: true }, async (c) => {
      const prefix = c.env.SECRETS_DR_TASK_QUEUE_PREFIX;
      const out = (await c.client.workflow.execute('listBackupsWorkflow', {
        taskQueue: workflowTaskQueue(prefix),
        workflowId: backupsWorkflowId(plan.name, randomUUID().slice(0, 8)),
        args: [{ plan, taskQueuePrefix: prefix }],
        workflowExecutionTimeout: '2m',
      })) as { backups: BackupInfo[]; errors: Record<string, string> };
      if (io.json) printJson(io, out);
      else {
        const rows = out.backups.map((b) => [b.name, b.region, b.originArn ?? '-', b.reason ?? '-', b.createdAt ?? '-']);
        for (const line of table(['BACKUP', 'REGION', 'ORIGIN ARN', 'REASON', 'CREATED'], rows)) io.out(line);
        for (const [r, e] of Object.entries(out.errors)) io.err(`warning: ${r} could not be read: ${e}`);
        io.out(`${out.backups.length} backup(s). Restore one with \`secrets-dr backups restore BACKUP_NAME\`.`);
      }
      return Object.keys(out.errors).length ? ExitCode.NeedsAttention : ExitCode.Ok;
    });
  },
});

export const backupsRestoreCommand = defineCommand({
  words: ['backups', 'restore'],
  summary: 'put a backup’s value back as AWSCURRENT of the secret it came from (same Region)',
  usage: 'secrets-dr backups restore BACKUP_NAME [--region REGION] [--yes] [-f PLAN] [--json]',
  options: { ...PLAN_OPTION, yes: { type: 'boolean', default: false }, region: { type: 'string' } },
  schema: z.object({
    plan: z.string(),
    json: z.boolean(),
    yes: z.boolean(),
    region: z.string().optional(),
    positionals: z.tuple([z.string().min(1)], { error: 'expected exactly one BACKUP_NAME' }),
  }),
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    const backup = opts.positionals[0];
    if (!opts.yes) {
      throw new OperatorError(
        ErrorType.UsageError,
        `restoring ${backup} replaces the current value of the secret it came from in its Region (if that name is now a replica, the replica is removed from replication first; the primary keeps its value). Run again with --yes to proceed.`,
      );
    }
    return withTemporal({ worker: true }, async (c) => {
      const prefix = c.env.SECRETS_DR_TASK_QUEUE_PREFIX;
      let result: RestoreResult;
      try {
        result = (await c.client.workflow.execute('restoreBackupWorkflow', {
          taskQueue: workflowTaskQueue(prefix),
          workflowId: restoreWorkflowId(plan.name, backup),
          workflowIdConflictPolicy: 'USE_EXISTING',
          args: [{ plan, backup, ...(opts.region ? { region: opts.region } : {}), taskQueuePrefix: prefix }],
          workflowExecutionTimeout: '5m',
        })) as RestoreResult;
      } catch (err) {
        if (err instanceof WorkflowFailedError) throw new OperatorError(ErrorType.AwsRejected, `restore of ${backup} failed: ${(err.cause as Error | undefined)?.message ?? err.message}`, [], ExitCode.Failed);
        throw err;
      }
      if (io.json) printJson(io, result);
      else {
        io.out(`${result.secret} (${result.region}) holds the value of ${result.backup} again as AWSCURRENT (version ${result.versionId}${result.alreadyRestored ? ', already restored' : ''}).`);
        if (result.removedReplica) io.out(`note: the name was held by our replica; ${result.region} was removed from its replication. A later \`setup\` will see the conflict again: add a per-secret override (policy skip or fail) to keep this secret.`);
      }
      return ExitCode.Ok;
    });
  },
});
