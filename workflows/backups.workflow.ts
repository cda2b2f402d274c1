/**
 * Backups of a plan (`secrets-dr backups list|restore`): the CLI never touches values, so listing and
 * restoring run as workflows whose activities read and write in the backup's Region.
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { planRegions, type Plan } from '../domain/plan.js';
import type { BackupInfo, RestoreResult } from '../domain/replication.js';
import { ErrorType } from '../domain/errors.js';
import type { BackupActivities } from '../activities/backup.activities.js';
import { regionActivities } from './activity-options.js';
import { WRITE_OPTIONS } from './setup-support.js';

export async function listBackupsWorkflow({ plan, taskQueuePrefix }: { plan: Plan; taskQueuePrefix?: string }): Promise<{ backups: BackupInfo[]; errors: Record<string, string> }> {
  const errors: Record<string, string> = {};
  const lists = await Promise.all(
    planRegions(plan).map((region) =>
      regionActivities<BackupActivities>(region, taskQueuePrefix)
        .listPlanBackups({ planName: plan.name })
        .catch((err: Error) => {
          errors[region] = err.cause instanceof Error ? err.cause.message : err.message;
          return [] as BackupInfo[];
        }),
    ),
  );
  return { backups: lists.flat().sort((a, b) => a.name.localeCompare(b.name) || a.region.localeCompare(b.region)), errors };
}

export async function restoreBackupWorkflow(input: { plan: Plan; backup: string; region?: string; taskQueuePrefix?: string }): Promise<RestoreResult> {
  const { backups } = await listBackupsWorkflow({ plan: input.plan, taskQueuePrefix: input.taskQueuePrefix });
  const found = backups.filter((b) => b.name === input.backup && (input.region === undefined || b.region === input.region));
  if (found.length === 0) throw ApplicationFailure.nonRetryable(`no backup named ${input.backup} in the plan's Regions`, ErrorType.SecretNotFound);
  if (found.length > 1) throw ApplicationFailure.nonRetryable(`${input.backup} exists in several Regions (${found.map((b) => b.region).join(', ')}): name one`, ErrorType.UsageError);
  const { region } = found[0]!;
  return regionActivities<BackupActivities>(region, input.taskQueuePrefix, WRITE_OPTIONS).restoreBackup({
    backup: input.backup,
    // Per run: a later restore of the same backup is a new write, a retried one is not.
    workflowId: `${workflowInfo().workflowId}/${workflowInfo().runId}`,
    writeQuotaShare: input.plan.failover.writeQuotaShare,
  });
}
