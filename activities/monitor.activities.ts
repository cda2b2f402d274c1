/**
 * The monitor's and recover's probes. `probeRegion` is one cheap call (ListSecrets, one entry)
 * timed for latency; `surveyRegion` adds the Region's inventory (`listInventory`: one ListSecrets
 * page per 100 secrets), so a cycle costs ⌈N/100⌉ + 1 list calls per Region — within 2 × ⌈N/100⌉.
 * A Region that does not answer is data here, not an error: both return `reachable: false`. One
 * that answers with an error (denied, throttled, rejected: `classifyAwsError`) is reachable with
 * a `problem`: never an outage (DESIGN invariant 9).
 */
import { SURVEY_PAGES, type RegionSurvey } from '../domain/health.js';
import type { RegionClients } from './clients.js';
import { classifyAwsError, describeAwsError } from './aws-errors.js';
import { createInventoryActivities } from './inventory.activities.js';

function errorText(err: unknown): string {
  // An ActivityFailure/ApplicationFailure from listInventory already names the Region and the AWS error.
  const info = describeAwsError(err);
  return info.code && !info.message.includes(info.code) ? `${info.name}: ${info.message} (${info.code})` : `${info.name}: ${info.message}`;
}

type Probe = Omit<RegionSurvey, 'region' | 'inventory'>;

/** A failed call as the probe reports it: unreachable, or answered with a problem. */
function failedProbe(err: unknown, latencyMs: number): Probe {
  const kind = classifyAwsError(err);
  return kind === 'unreachable' ? { reachable: false, latencyMs, error: errorText(err) } : { reachable: true, latencyMs, error: errorText(err), problem: kind };
}

export function createMonitorActivities(clients: RegionClients) {
  const { region, secretsManager } = clients;
  const inventory = createInventoryActivities(clients);

  async function probe(): Promise<Probe> {
    const started = performance.now();
    try {
      await secretsManager.listSecrets({ MaxResults: 1 });
      return { reachable: true, latencyMs: Math.round(performance.now() - started) };
    } catch (err) {
      return failedProbe(err, Math.round(performance.now() - started));
    }
  }

  return {
    /** Reachability and latency of the Region (one ListSecrets call of one entry). */
    async probeRegion(input: { region: string }): Promise<Omit<RegionSurvey, 'inventory'>> {
      if (input.region !== region) throw new Error(`probeRegion for ${input.region} reached the worker of ${region} (task queue routing bug)`);
      return { region, ...(await probe()) };
    },

    /**
     * Probe, then (when it answered) the Region's inventory from ListSecrets pages: at most `maxPages`
     * (default SURVEY_PAGES), with `inventory.nextToken` when there is more (the monitor reads the rest
     * through `listInventory`, so no result outgrows a payload on a large fleet).
     */
    async surveyRegion(input: { region: string; maxPages?: number }): Promise<RegionSurvey> {
      if (input.region !== region) throw new Error(`surveyRegion for ${input.region} reached the worker of ${region} (task queue routing bug)`);
      const p = await probe();
      if (!p.reachable || p.problem) return { region, ...p };
      try {
        return { region, ...p, inventory: await inventory.listInventory({ region, maxPages: input.maxPages ?? SURVEY_PAGES }) };
      } catch (err) {
        return { region, ...failedProbe(err, p.latencyMs ?? 0) };
      }
    },
  };
}

export type MonitorActivities = ReturnType<typeof createMonitorActivities>;
