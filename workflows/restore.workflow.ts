/**
 * restore (`secrets-dr backups restore NAME`): puts a backup back under the name of the secret it
 * saved, in the backup's Region. Steps, each an idempotent activity on that Region's task queue:
 *   find      the backup among the plan's (its Region; several Regions → the operator names one)
 *   inspect   what would change, field by field (values compared in the activity, never returned)
 *   dry run   → the inspection is the answer
 *   save      a secret that changed since the backup is backed up first (invariant 2: the restore
 *             moves its labels, AWSPREVIOUS included)
 *   restore   key, tags, policy, values under their labels, rotation settings; described again after
 * Linear, so no machine: a crash resumes at the next step (activity results are in history), and
 * every write's ClientRequestToken derives from this workflow's id + step.
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { backupName, type RestoreResult } from '../domain/backup.js';
import { ErrorType } from '../domain/errors.js';
import type { BackupActivities } from '../activities/backup.activities.js';
import { regionActivities } from './activity-options.js';
import { WRITE_OPTIONS } from './setup-support.js';
import { listBackupsWorkflow } from './backups.workflow.js';
import { RestoreInput } from '../domain/workflow-inputs.js';
import { writeShareOf } from '../domain/plan.js';

export async function restoreBackupWorkflow(raw: RestoreInput): Promise<RestoreResult> {
  const input = RestoreInput.parse(raw);
  const { backups, errors } = await listBackupsWorkflow({ plan: input.plan, taskQueuePrefix: input.taskQueuePrefix });
  const found = backups.filter((b) => b.name === input.backup && (input.region === undefined || b.region === input.region));
  if (found.length === 0) {
    const unread = Object.keys(errors);
    throw ApplicationFailure.nonRetryable(
      `no backup named ${input.backup} in the plan's Regions${unread.length ? ` (could not read ${unread.join(', ')})` : ''}`,
      ErrorType.SecretNotFound,
    );
  }
  if (found.length > 1)
    throw ApplicationFailure.nonRetryable(
      `${input.backup} exists in several Regions (${found.map((b) => b.region).join(', ')}): name one with --region`,
      ErrorType.UsageError,
    );
  const { region } = found[0]!;
  const acts = regionActivities<BackupActivities>(region, input.taskQueuePrefix, WRITE_OPTIONS);
  const { workflowId } = workflowInfo();
  const plan = await acts.inspectRestore({ backup: input.backup });
  if (input.dryRun) {
    return {
      backup: input.backup,
      region,
      secret: plan.secret,
      arn: '',
      versionId: '',
      removedReplica: false,
      alreadyRestored: plan.target === 'standalone' && plan.changes.length === 0,
      dryRun: true,
      plan,
    };
  }
  let backupOfCurrent: string | undefined;
  if (plan.needsBackup) {
    const saved = await acts.backupSecret({
      planName: input.plan.name,
      secret: plan.secret,
      backup: backupName(input.plan.name, plan.secret, new Date()),
      reason: `restore of ${input.backup}: the secret changed since that backup`,
      workflowId,
      ...writeShareOf(input.plan.failover),
    });
    backupOfCurrent = saved.backup;
  }
  const result = await acts.restoreBackup({ backup: input.backup, workflowId, ...writeShareOf(input.plan.failover) });
  return { ...result, plan, ...(backupOfCurrent ? { backupOfCurrent } : {}) };
}
