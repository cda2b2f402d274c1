/**
 * Workflow ids and task queues. Ids carry the plan name so that "one failover per plan at a time"
 * is enforced by Temporal itself (workflow id conflict policy), whatever triggers it.
 */
export const DEFAULT_TASK_QUEUE_PREFIX = 'secrets-dr';

/** The queue of workflows (and of activities that need no particular Region). */
export function workflowTaskQueue(prefix: string = DEFAULT_TASK_QUEUE_PREFIX): string {
  return prefix;
}

/** Activities that call AWS run on their Region's queue, served by a worker holding that Region's clients. */
export function regionTaskQueue(region: string, prefix: string = DEFAULT_TASK_QUEUE_PREFIX): string {
  return `${prefix}.${region}`;
}

/**
 * The write leases' own queue (worker/region-lease.ts): lease renewals are workflow tasks that must not wait behind a
 * busy workflow queue (a late renewal closes a Region's writes). Not a Region name, so never a Region's queue.
 */
export function writeLeaseTaskQueue(prefix: string = DEFAULT_TASK_QUEUE_PREFIX): string {
  return `${prefix}.write-leases`;
}

export function statusWorkflowId(planName: string, nonce: string): string {
  return `secrets-dr/${planName}/status/${nonce}`;
}

/** One failover per plan at a time: a second trigger attaches to the running one (USE_EXISTING). */
export function failoverWorkflowId(planName: string): string {
  return `secrets-dr/${planName}/failover`;
}

/** A pending fence of a plan's old primary Region, applied when that Region answers again. */
export function fenceWorkflowId(planName: string, region: string): string {
  return `secrets-dr/${planName}/fence/${region}`;
}

/** `setup` (the replicate workflow): one per plan at a time; a second `setup` attaches to the running one. */
export function setupWorkflowId(planName: string): string {
  return `secrets-dr/${planName}/setup`;
}

/** A batch of setup (child of the replicate workflow). */
export function setupBatchWorkflowId(setupId: string, index: number): string {
  return `${setupId}/batch-${index}`;
}

/** The conflict of one secret in one Region (child of a setup batch): the id `secrets-dr approve` takes. */
export function conflictWorkflowId(setupId: string, region: string, secret: string): string {
  return `${setupId}/conflict/${region}/${secret}`;
}

export function backupsWorkflowId(planName: string, nonce: string): string {
  return `secrets-dr/${planName}/backups/${nonce}`;
}

/** One restore per backup at a time. */
export function restoreWorkflowId(planName: string, backup: string): string {
  return `secrets-dr/${planName}/restore/${backup}`;
}

/** The plan's health monitor (long-running, continue-as-new). */
export function monitorWorkflowId(planName: string): string {
  return `secrets-dr/${planName}/monitor`;
}

/** EventBridge-driven recovery: one per plan; every hint is signal-with-started into it. */
export function recoverWorkflowId(planName: string): string {
  return `secrets-dr/${planName}/recover`;
}

/** `events install|uninstall`: one at a time per plan. */
export function eventsInstallWorkflowId(planName: string): string {
  return `secrets-dr/${planName}/events-install`;
}

/** One failback per plan at a time: a second `failback` attaches to the running one (USE_EXISTING). */
export function failbackWorkflowId(planName: string): string {
  return `secrets-dr/${planName}/failback`;
}

/** Drills: one id per run (`secrets-dr/<plan>/drill/<ts>`), all findable by the plan's drill prefix. */
export function drillWorkflowIdPrefix(planName: string): string {
  return `secrets-dr/${planName}/drill/`;
}

export function drillWorkflowId(planName: string, stamp: string): string {
  return `${drillWorkflowIdPrefix(planName)}${stamp}`;
}

/** The plan's drill schedule (Temporal Schedule); its runs get `<prefix>scheduled-<time>` ids. */
export function drillScheduleId(planName: string): string {
  return `secrets-dr/${planName}/drill-schedule`;
}

/** The schedule of a recovery account's drills (account DR): one per account, created beside the plan's. */
export function accountDrillScheduleId(planName: string, accountId: string): string {
  return `${drillScheduleId(planName)}/account/${accountId}`;
}

/**
 * A run's id from its start time, compact and sortable, to the millisecond (`20261202T061500.123Z`):
 * two runs of one failover or failback started within the same second must not share an id
 * (their lineage records and tags would collide).
 */
export function runStamp(started: Date, withMilliseconds = true): string {
  const iso = started.toISOString().replace(/[-:]/g, '');
  // Runs started before the change kept whole seconds (their ids live in histories and AWS records).
  return withMilliseconds ? iso : iso.replace(/\.\d+Z$/, 'Z');
}

/** The workflow patch id under which run ids carry milliseconds (`patched(RUN_STAMP_MS_PATCH)`). */
export const RUN_STAMP_MS_PATCH = 'run-stamp-ms';

/** A Region's write lease (workflows/write-lease.workflow.ts): one per task queue prefix and Region, the id is the lock. */
export function writeLeaseWorkflowId(region: string, prefix: string = DEFAULT_TASK_QUEUE_PREFIX): string {
  return `secrets-dr/write-lease/${prefix}/${region}`;
}
