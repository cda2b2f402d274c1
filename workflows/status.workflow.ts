/**
 * status: one pass of ListSecrets per Region (in parallel, each on its Region's task queue),
 * DescribeSecret on the primary only for secrets whose replica is missing or conflicting, then the
 * table secret × Region. Read-only; a Region that does not answer shows as `unknown`.
 * A large fleet: each Region is listed PAGES_PER_ACTIVITY pages (1,000 secrets) per activity, so no
 * result outgrows a payload or an activity timeout; the report keeps at most STATUS_ROWS_LIMIT rows
 * (those that need attention; counts cover every secret).
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { planRegions } from '../domain/plan.js';
import { classifyFailure } from '../domain/aws-error-class.js';
import type { ReplicationState, StatusInput, StatusReport } from '../domain/status.js';
import { buildStatusReport, secretsNeedingDescribe, trimStatusReport, type RegionInventory } from '../domain/status.js';
import type { InventoryActivities } from '../activities/inventory.activities.js';
import { regionActivities } from './activity-options.js';
import { StatusWorkflowInput } from '../domain/workflow-inputs.js';

const DESCRIBE_BATCH = 100;
const PAGES_PER_ACTIVITY = 10;

function failureMessage(err: unknown): string {
  const e = err as { cause?: { message?: string }; message?: string };
  return e.cause?.message ?? e.message ?? String(err);
}

export async function statusWorkflow(raw: StatusWorkflowInput): Promise<StatusReport> {
  const { plan, taskQueuePrefix, pagesPerCall = PAGES_PER_ACTIVITY } = StatusWorkflowInput.parse(raw);
  const acts = (region: string) => regionActivities<InventoryActivities>(region, taskQueuePrefix);

  const regions = planRegions(plan);
  const results = await Promise.all(
    regions.map(async (region) => {
      try {
        const inventory: RegionInventory = { region, entries: [], listCalls: 0 };
        let nextToken: string | undefined;
        do {
          const page = await acts(region).listInventory({ region, nextToken, maxPages: pagesPerCall });
          for (const e of page.entries) inventory.entries.push(e);
          inventory.listCalls += page.listCalls;
          nextToken = page.nextToken;
        } while (nextToken);
        return [region, { inventory }] as const;
      } catch (err) {
        // Denied or throttled is not an outage (invariant 9): say which, so status does not print UNREACHABLE.
        const cause = (err as { cause?: { type?: string; details?: unknown[] } }).cause;
        const awsError = (cause?.details?.[0] as { awsError?: unknown } | undefined)?.awsError;
        const kind = classifyFailure(cause?.type, typeof awsError === 'string' ? awsError : undefined, failureMessage(err));
        return [region, { error: failureMessage(err), ...(kind === 'unreachable' ? {} : { problem: kind }) }] as const;
      }
    }),
  );
  const inventories: StatusInput['inventories'] = Object.fromEntries(results);
  if (regions.every((r) => inventories[r]?.inventory === undefined)) {
    throw ApplicationFailure.nonRetryable(
      `no Region of plan ${plan.name} could be read: ${regions.map((r) => `${r}: ${inventories[r]?.error}`).join('; ')}`,
      'RegionUnreachable',
    );
  }

  // Only anomalies cost a DescribeSecret: the list pages already tell parity for the rest.
  const replication: Record<string, ReplicationState[]> = {};
  let describeCalls = 0;
  const names = secretsNeedingDescribe(plan, inventories);
  for (let i = 0; i < names.length; i += DESCRIBE_BATCH) {
    try {
      const r = await acts(plan.primaryRegion).describeReplication({ region: plan.primaryRegion, names: names.slice(i, i + DESCRIBE_BATCH) });
      Object.assign(replication, r.replication);
      describeCalls += r.describeCalls;
    } catch {
      break; // the table still shows missing/conflict without the primary's message
    }
  }
  return trimStatusReport(buildStatusReport({ plan, generatedAt: new Date().toISOString(), inventories, replication, describeCalls }));
}
