/**
 * drill: a rehearsal of failover on canary secrets, with RTO and RPO measured. The machine
 * (machines/drill.machine.ts) decides, and decides the outcome; the steps (drill.steps.ts) act.
 *
 * Decisions:
 * - Canaries only (`secrets-dr-drill/<plan>/<n>` in the primary Region); production secrets are
 *   never touched, whatever the plan says (`drills.useProductionSecrets` only earns a warning).
 * - Saga: before each step that creates something, the compensation that removes it is pushed
 *   (sweep of that Region's canaries). The clean-up runs them in reverse, then sweeps every plan
 *   Region once more (describe, don't assume) — inside `CancellationScope.nonCancellable`, so a
 *   cancelled drill still leaves nothing behind. A failure or a cancel ends in a report, not in a
 *   failed workflow: the report says which step failed, where and why.
 * - RPO and RTO are measured inside one activity each (polling every 50 ms), not across
 *   Temporal's scheduling; step bars for those two steps use the activities' own timestamps.
 * - Every step answers with its event, so the driver never waits for a signal: its `wait` only
 *   checks (a `condition` would throw once the workflow is cancelled, before the clean-up ran).
 */
import { workflowInfo } from '@temporalio/workflow';
import { DrillInput, type DrillReport } from '../domain/drill.js';
import { DrillRun } from './drill.steps.js';
import { driveDrill } from './drill-kit.js';

export async function drillWorkflow(raw: DrillInput): Promise<DrillReport> {
  const input = DrillInput.parse(raw);
  return driveDrill(new DrillRun(input, workflowInfo().workflowId), input.plan.drills.rtoTarget);
}
