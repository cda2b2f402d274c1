/** The workflow bundle's entry: every workflow the worker registers. */
export { statusWorkflow } from './status.workflow.js';
export { replicateWorkflow } from './replicate.workflow.js';
export { replicateBatchWorkflow } from './replicate-batch.workflow.js';
export { resolveConflictWorkflow } from './resolve-conflict.workflow.js';
export { listBackupsWorkflow, pruneBackupsWorkflow } from './backups.workflow.js';
export { restoreBackupWorkflow } from './restore.workflow.js';
export { failoverWorkflow } from './failover.workflow.js';
export { failoverChunkWorkflow } from './failover-chunk.workflow.js';
export { fenceWorkflow } from './fence.workflow.js';
export { monitorWorkflow } from './monitor.workflow.js';
export { recoverWorkflow } from './recover.workflow.js';
export { eventsInstallWorkflow } from './events-install.workflow.js';
export { failbackWorkflow } from './failback.workflow.js';
export { failbackBatchWorkflow } from './failback-batch.workflow.js';
export { drillWorkflow } from './drill.workflow.js';
export { readPathsWorkflow } from './read-paths.workflow.js';
export { writeLeaseWorkflow } from './write-lease.workflow.js';
