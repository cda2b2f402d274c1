/**
 * The monitor's and recover's probes. `probeRegion` is one cheap call (ListSecrets, one entry)
 * timed for latency; `surveyRegion` adds the Region's inventory (`listInventory`: one ListSecrets
 * page per 100 secrets), so a cycle costs ⌈N/100⌉ + 1 list calls per Region — within 2 × ⌈N/100⌉.
 * A Region that does not answer is data here, not an error: both return `reachable: false`.
 */
import type { RegionSurvey } from '../domain/health.js';
import type { RegionClients } from './clients.js';
import { describeAwsError } from './aws-errors.js';
import { createInventoryActivities } from './inventory.activities.js';

function errorText(err: unknown): string {
  // An ActivityFailure/ApplicationFailure from listInventory already names the Region and the AWS error.
  const info = describeAwsError(err);
  return info.code && !info.message.includes(info.code) ? `${info.name}: ${info.message} (${info.code})` : `${info.name}: ${info.message}`;
}

export function createMonitorActivities(clients: RegionClients) {
  const { region, secretsManager } = clients;
  const inventory = createInventoryActivities(clients);

  async function probe(): Promise<{ reachable: boolean; latencyMs: number; error?: string }> {
    const started = performance.now();
    try {
      await secretsManager.listSecrets({ MaxResults: 1 });
      return { reachable: true, latencyMs: Math.round(performance.now() - started) };
    } catch (err) {
      return { reachable: false, latencyMs: Math.round(performance.now() - started), error: errorText(err) };
    }
  }

  return {
    /** Reachability and latency of the Region (one ListSecrets call of one entry). */
    async probeRegion(input: { region: string }): Promise<Omit<RegionSurvey, 'inventory'>> {
      if (input.region !== region) throw new Error(`probeRegion for ${input.region} reached the worker of ${region} (task queue routing bug)`);
      return { region, ...(await probe()) };
    },

    /** Probe, then (when it answered) the Region's inventory from ListSecrets pages. */
    async surveyRegion(input: { region: string }): Promise<RegionSurvey> {
      if (input.region !== region) throw new Error(`surveyRegion for ${input.region} reached the worker of ${region} (task queue routing bug)`);
      const p = await probe();
      if (!p.reachable) return { region, ...p };
      try {
        return { region, ...p, inventory: await inventory.listInventory({ region }) };
      } catch (err) {
        return { region, reachable: false, latencyMs: p.latencyMs, error: errorText(err) };
      }
    },
  };
}

export type MonitorActivities = ReturnType<typeof createMonitorActivities>;
