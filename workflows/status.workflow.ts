/**
 * status: one pass of ListSecrets per Region (in parallel, each on its Region's task queue),
 * DescribeSecret on the primary only for secrets whose replica is missing or conflicting, then the
 * table secret × Region. Read-only; a Region that does not answer shows as `unknown`.
 */
import { ApplicationFailure, patched } from '@temporalio/workflow';
import type { Plan } from '../domain/plan.js';
import { planRegions } from '../domain/plan.js';
import { classifyFailure } from '../domain/aws-error-class.js';
import type { RegionInventory, ReplicationState, StatusInput, StatusReport } from '../domain/status.js';
import { buildStatusReport, secretsNeedingDescribe } from '../domain/status.js';
import type { InventoryActivities } from '../activities/inventory.activities.js';
import { regionActivities } from './activity-options.js';

export interface StatusWorkflowInput {
  plan: Plan;
  taskQueuePrefix?: string;
  /** ListSecrets pages per inventory activity (default the activity's: 10); tests make it small. */
  pagesPerCall?: number;
}

export const INVENTORY_PAGES_PATCH = 'status-inventory-pages';

const DESCRIBE_BATCH = 100;

function failureMessage(err: unknown): string {
  const e = err as { cause?: { message?: string }; message?: string };
  return e.cause?.message ?? e.message ?? String(err);
}

export async function statusWorkflow({ plan, taskQueuePrefix, pagesPerCall }: StatusWorkflowInput): Promise<StatusReport> {
  const acts = (region: string) => regionActivities<InventoryActivities>(region, taskQueuePrefix);

  // Page by page (a cursor per call): no activity result carries a whole Region. Histories recorded
  // before the patch read it in one call.
  const paged = patched(INVENTORY_PAGES_PATCH);
  const readInventory = async (region: string): Promise<RegionInventory> => {
    if (!paged) return acts(region).listInventory({ region });
    const out: RegionInventory = { region, entries: [], listCalls: 0 };
    let nextToken: string | undefined;
    do {
      const page = await acts(region).listInventoryPage({ region, ...(nextToken ? { nextToken } : {}), ...(pagesPerCall ? { maxPages: pagesPerCall } : {}) });
      out.entries.push(...page.entries);
      out.listCalls += page.listCalls;
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  };
  const regions = planRegions(plan);
  const results = await Promise.all(
    regions.map(async (region) => {
      try {
        return [region, { inventory: await readInventory(region) }] as const;
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
  return buildStatusReport({ plan, generatedAt: new Date().toISOString(), inventories, replication, describeCalls });
}
