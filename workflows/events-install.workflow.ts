/**
 * events install|uninstall: the same idempotent activity in every plan Region at once (a rule in
 * the impaired Region may not fire, so each Region gets its own). A Region that fails is reported
 * with its error; the others are still done. The API key never enters this workflow.
 */
import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors.js';
import type { EventsInstallActivities } from '../activities/events-install.activities.js';
import { EventsInstallInput, RECEIVER_API_KEY_HEADER, receiverEndpoint, type EventsInstallReport, type RegionInstallResult } from '../domain/events-install.js';
import { planRegions } from '../domain/plan.js';
import { regionActivities } from './activity-options.js';
import { failureText } from './setup-support.js';

const OPTIONS: ActivityOptions = {
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
};

export async function eventsInstallWorkflow(raw: EventsInstallInput): Promise<EventsInstallReport> {
  const input = EventsInstallInput.parse(raw);
  const { plan } = input;
  const regions: RegionInstallResult[] = await Promise.all(
    planRegions(plan).map(async (region): Promise<RegionInstallResult> => {
      const acts = regionActivities<EventsInstallActivities>(region, input.taskQueuePrefix, OPTIONS);
      try {
        if (input.action === 'uninstall') return await acts.uninstallEventRules({ region, planName: plan.name });
        return await acts.installEventRules({
          region,
          planName: plan.name,
          alarms: plan.health.alarms,
          receiverUrl: input.receiverUrl!,
          apiKeyFingerprint: input.apiKeyFingerprint,
          roleArn: input.roleArn,
        });
      } catch (err) {
        return { region, created: [], updated: [], unchanged: [], removed: [], error: failureText(err).message };
      }
    }),
  );
  return {
    plan: plan.name,
    action: input.action,
    endpoint: input.receiverUrl ? receiverEndpoint(input.receiverUrl, plan.name) : undefined,
    apiKeyHeader: RECEIVER_API_KEY_HEADER,
    regions,
  };
}
