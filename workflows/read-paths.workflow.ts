/**
 * read paths (`secrets-dr status --read-paths`, and the monitor's slower optional cycle): in each
 * DR Region, every secret of the plan read as applications read it — GetSecretValue and the
 * Parameter Store reference — and compared with the current version (the primary's AWSCURRENT).
 * Version ids only; the values stay in the activity. `checkReadPathsIn` is shared with the monitor.
 */
import type { Plan } from '../domain/plan.js';
import { isCoveredByPlan } from '../domain/selection.js';
import { mergeRegionReadPaths, readPathReason, readPathTargets, type ReadPathsReport, type RegionReadPaths } from '../domain/read-paths.js';
import type { ReadPathState } from '../domain/health.js';
import type { RegionInventory } from '../domain/status.js';
import type { InventoryActivities } from '../activities/inventory.activities.js';
import type { ReadPathsActivities } from '../activities/read-paths.activities.js';
import { regionActivities } from './activity-options.js';

const BATCH = 100;

const coveredBy = (plan: Plan) => (e: { name: string; tags?: Array<[string, string]> }) =>
  isCoveredByPlan(plan, { name: e.name, tags: (e.tags ?? []).map(([Key, Value]) => ({ Key, Value })) });

/** Both read paths of the plan's secrets in one DR Region, in batches of 100 secrets (one activity each). */
async function checkReadPathsIn(
  plan: Plan,
  region: string,
  prefix: string | undefined,
  primary: RegionInventory | undefined,
  dr: RegionInventory | undefined,
): Promise<RegionReadPaths> {
  const acts = regionActivities<ReadPathsActivities>(region, prefix);
  const targets = readPathTargets(plan, coveredBy(plan), primary, dr);
  const parts: RegionReadPaths[] = [];
  for (let i = 0; i < targets.length; i += BATCH) parts.push(await acts.checkReadPaths({ region, secrets: targets.slice(i, i + BATCH) }));
  return mergeRegionReadPaths(region, parts, new Date().toISOString());
}

export async function readPathsWorkflow({ plan, taskQueuePrefix }: { plan: Plan; taskQueuePrefix?: string }): Promise<ReadPathsReport> {
  const inventory = (region: string) =>
    regionActivities<InventoryActivities>(region, taskQueuePrefix)
      .listInventory({ region })
      .catch(() => undefined);
  const primary = await inventory(plan.primaryRegion);
  const regions: RegionReadPaths[] = [];
  for (const { region } of plan.drRegions) {
    const dr = primary ? undefined : await inventory(region);
    regions.push(
      await checkReadPathsIn(plan, region, taskQueuePrefix, primary, dr).catch((err: unknown) => ({
        ...mergeRegionReadPaths(region, [], new Date().toISOString()),
        error: (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message,
      })),
    );
  }
  return { plan: plan.name, regions, attention: regions.reduce((n, r) => n + r.failedCount + (r.error ? 1 : 0), 0) };
}

/**
 * The monitor's slower cycle: both read paths in each DR Region that answered this cycle, with the
 * primary's inventory from the same cycle's survey. A Region that cannot be checked keeps no
 * read-path finding (its reachability is the survey's to judge).
 */
export async function monitorReadPaths(
  plan: Plan,
  prefix: string | undefined,
  surveys: ReadonlyArray<{ region: string; reachable: boolean; problem?: string; inventory?: RegionInventory }>,
  nowMs: number,
): Promise<ReadPathState> {
  const primary = surveys.find((s) => s.region === plan.primaryRegion)?.inventory;
  const reasons: ReadPathState['reasons'] = {};
  for (const { region } of plan.drRegions) {
    const s = surveys.find((x) => x.region === region);
    if (!s?.inventory) continue;
    try {
      const reason = readPathReason(await checkReadPathsIn(plan, region, prefix, primary, s.inventory));
      if (reason) reasons[region] = reason;
    } catch {
      // not checkable this time: no finding
    }
  }
  return { at: nowMs, reasons };
}
