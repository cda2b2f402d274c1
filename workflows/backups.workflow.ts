/**
 * Backups of a plan (`secrets-dr backups list|prune`; restore: restore.workflow.ts): the CLI never
 * touches values, so listing and pruning run as workflows whose activities act in each Region.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { planRegions, writeShareOf, type Plan } from '../domain/plan.js';
import { selectPrunable, type BackupInfo } from '../domain/backup.js';
import { ErrorType } from '../domain/errors.js';
import type { BackupActivities } from '../activities/backup.activities.js';
import { regionActivities } from './activity-options.js';
import { WRITE_OPTIONS } from './setup-support.js';

export interface BackupList {
  backups: BackupInfo[];
  /** Regions that could not be read, with why. */
  errors: Record<string, string>;
}

export async function listBackupsWorkflow({
  plan,
  taskQueuePrefix,
  withOrigin,
}: {
  plan: Plan;
  taskQueuePrefix?: string;
  withOrigin?: boolean;
}): Promise<BackupList> {
  const errors: Record<string, string> = {};
  const lists = await Promise.all(
    planRegions(plan).map((region) =>
      regionActivities<BackupActivities>(region, taskQueuePrefix)
        .listPlanBackups({ planName: plan.name, ...(withOrigin ? { withOrigin } : {}) })
        .catch((err: Error) => {
          errors[region] = err.cause instanceof Error ? err.cause.message : err.message;
          return [] as BackupInfo[];
        }),
    ),
  );
  return { backups: lists.flat().sort((a, b) => a.name.localeCompare(b.name) || a.region.localeCompare(b.region)), errors };
}

export interface PruneResult {
  dryRun: boolean;
  olderThanMs: number;
  removed: Array<BackupInfo & { skipped?: boolean }>;
  kept: Array<{ backup: BackupInfo; why: string }>;
  failed: Array<{ name: string; region: string; reason: string }>;
  errors: Record<string, string>;
}

/**
 * Deletes backups older than `olderThanMs` with the normal recovery window (DeleteSecret without
 * ForceDeleteWithoutRecovery: recoverable with RestoreSecret), never the only backup of a secret whose
 * original changed after it (domain/backup.ts selectPrunable). A Region that cannot be read prunes nothing.
 */
export async function pruneBackupsWorkflow(input: { plan: Plan; olderThanMs: number; dryRun?: boolean; taskQueuePrefix?: string }): Promise<PruneResult> {
  if (!(input.olderThanMs > 0)) throw ApplicationFailure.nonRetryable('olderThanMs must be a positive number of milliseconds', ErrorType.UsageError);
  const { backups, errors } = await listBackupsWorkflow({ plan: input.plan, taskQueuePrefix: input.taskQueuePrefix, withOrigin: true });
  const { remove, keep } = selectPrunable(backups, Date.now(), input.olderThanMs);
  const result: PruneResult = { dryRun: input.dryRun === true, olderThanMs: input.olderThanMs, removed: [], kept: keep, failed: [], errors };
  if (input.dryRun) return { ...result, removed: remove };
  const byRegion = new Map<string, BackupInfo[]>();
  for (const b of remove) byRegion.set(b.region, [...(byRegion.get(b.region) ?? []), b]);
  await Promise.all(
    [...byRegion].map(async ([region, list]) => {
      const r = await regionActivities<BackupActivities>(region, input.taskQueuePrefix, WRITE_OPTIONS).deleteBackups({
        planName: input.plan.name,
        names: list.map((b) => b.name),
        ...writeShareOf(input.plan.failover),
      });
      r.forEach((x, i) => {
        if (x.ok) result.removed.push({ ...list[i]!, ...(x.skipped ? { skipped: true } : {}) });
        else result.failed.push({ name: x.name, region, reason: x.reason ?? 'DeleteSecret failed' });
      });
    }),
  );
  return result;
}
